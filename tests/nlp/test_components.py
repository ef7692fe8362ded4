"""vocnlp as spaCy components: vocnlp.load() and the registered factories."""

from __future__ import annotations

from pathlib import Path

import pytest

from vocnlp.config import SegmentConfig
from vocnlp.japanese import analyse, split
from vocnlp.nlp import (
    components,  # noqa: F401  (registers the factories)
    make_nlp,
)
from vocnlp.text import normalize

ROOT = Path(__file__).resolve().parents[2]


def test_factories_are_registered():
    nlp = make_nlp()
    for name in ("vocnlp_segmenter", "vocnlp_embedder", "vocnlp_classifier", "vocnlp_sentiment", "vocnlp_codes"):
        assert nlp.has_factory(name), name


def test_sentiment_component_lexicon_sets_doc_segment_and_evidence_spans(tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("sentiment: {method: lexicon}\n", encoding="utf-8")
    nlp = make_nlp(normalize=True)
    nlp.add_pipe("vocnlp_segmenter")
    nlp.add_pipe("vocnlp_sentiment", config={"config": str(cfg)})
    doc = nlp("配送は早かったが、梱包が雑で箱が潰れていました")
    assert doc._.sentiment.label == "negative" and doc._.sentiment.score < 0
    segs = doc.spans["segments"]
    assert [s.text for s in segs] == ["配送は早かったが、", "梱包が雑で箱が潰れていました"]
    assert segs[0]._.sentiment.label == "positive" and segs[1]._.sentiment.label == "negative"
    evidence = {s.text: (s.label_, s._.weight) for s in doc.spans["sentiment_evidence"]}
    assert evidence["雑"][0] == "negative" and evidence["雑"][1] < 0
    assert "雑" in doc._.sentiment_evidence
    docs = list(nlp.pipe(["店員さんがとても親切でした", "最悪でした"], batch_size=1))
    assert [d._.sentiment.label for d in docs] == ["positive", "negative"]


def test_sentiment_component_without_segmenter_says_what_to_add(tmp_path):
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text("sentiment: {method: lexicon}\n", encoding="utf-8")
    nlp = make_nlp()
    nlp.add_pipe("vocnlp_sentiment", config={"config": str(cfg)})
    with pytest.raises(ValueError, match="vocnlp_segmenter"):
        nlp("最悪")


@pytest.mark.slow
def test_load_analyses_one_comment_and_a_batch_with_the_default_models(tmp_path):
    import vocnlp

    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(f"codes: {{rules: {ROOT / 'configs' / 'codes.example.yaml'}}}\n", encoding="utf-8")
    nlp = vocnlp.load(cfg)
    assert nlp.pipe_names == ["vocnlp_segmenter", "vocnlp_embedder", "vocnlp_classifier", "vocnlp_sentiment",
                              "vocnlp_codes"]
    text = "アプリを更新したら会員バーコードが表示されず、レジで使えませんでした。最悪です"
    doc = nlp(text)
    assert doc.text == normalize(text)
    assert doc._.sentiment.label == "negative"
    assert set(doc._.cx_dimensions) <= {"SENSE", "FEEL", "THINK", "ACT", "RELATE"}
    assert doc._.journey_stage in {"認知", "興味", "検討", "購入", "使用", "推奨"} and 0 < doc._.journey_confidence <= 1
    assert doc._.codes == ["アプリ・ログイン"]
    assert [s.text for s in doc.spans["segments"]] == split(doc.text, analyse(doc.text), SegmentConfig())
    docs = list(nlp.pipe(["店員さんがとても親切で、また来たいです", text]))
    assert docs[0]._.sentiment.label == "positive" and docs[1]._.sentiment == doc._.sentiment
    assert docs[1]._.journey_stage == doc._.journey_stage
