"""Alphanumeric product and service names keep their surface form as one word: in tokens, keywords and labels."""

import pandas as pd
import pytest

from vocnlp.config import TokenizeConfig, load_config, resolve_resource
from vocnlp.japanese import analyse, content_words, load_stopwords
from vocnlp.pipeline import run_pipeline
from vocnlp.stages.topics import join_tokens, readable_word, split_tokens


def _words(text):
    cfg = TokenizeConfig()
    return content_words(analyse(text), tuple(cfg.pos), load_stopwords(str(resolve_resource(cfg.stopwords))),
                         latin_names=True)


@pytest.mark.parametrize("text,name", [("Wi-Fiがつながらない", "Wi-Fi"), ("iPhoneで開けない", "iPhone"),
                                       ("PayPayで払えない", "PayPay"), ("au PAYが使えない", "au PAY"),
                                       ("LINEで連絡が来ない", "LINE"), ("USB-Cの充電が遅い", "USB-C"),
                                       ("iPhone 15 Proで落ちる", "iPhone 15 Pro"), ("ｉＰｈｏｎｅ", None)])
def test_names_are_one_word_as_written(text, name):
    words = _words(text)
    if name:
        assert name in words, words
        assert not any(w in ("ハイ", "スポット", "Wi", "Fi", "PAY", "au") for w in words)


def test_on_by_default_and_optional():
    cfg = TokenizeConfig()
    stop = load_stopwords(str(resolve_resource(cfg.stopwords)))
    assert cfg.latin_names
    assert "Wi-Fi" in content_words(analyse("Wi-Fiがつながらない"), tuple(cfg.pos), stop, latin_names=cfg.latin_names)
    assert "Wi-Fi" not in content_words(analyse("Wi-Fiがつながらない"), tuple(cfg.pos), stop)


def test_plain_english_and_interjections_are_not_topic_words():
    assert _words("OKです") == [] and _words("the app is slow") == []


def test_a_name_with_a_space_survives_the_vectorizer():
    doc = join_tokens(["au PAY", "使える"])
    assert split_tokens(doc) == ["au PAY", "使える"]
    assert readable_word("Wi-Fi") and readable_word("au PAY") and not readable_word("app")


def test_topic_labels_and_keywords_keep_names(tmp_path, use_fake_embedder):
    texts = ["Wi-Fiにつなぐと落ちる", "Wi-Fi環境だとWi-Fiが切れる", "自宅のWi-Fiで動かない", "au PAYで払えない",
             "au PAYが使えず困った", "au PAYに対応してほしい", "配送が遅い", "配送の連絡がない", "配送日が変わった",
             "店員の対応が良い", "店員さんが親切", "店員が丁寧だった"] * 4
    p = tmp_path / "names.csv"
    pd.DataFrame({"text": texts}).to_csv(p, index=False)
    cfg = load_config(None, {"embed.cache_dir": str(tmp_path / "c"), "classify.cx_dimension.method": "prototype",
                             "classify.journey_stage.method": "prototype", "sentiment.method": "lexicon",
                             "history.enabled": False, "tokenize.latin_names": True})
    res = run_pipeline(p, tmp_path / "o", cfg)
    keywords = " | ".join(res.topics["keywords"].astype(str)) + " | " + " | ".join(res.topics["topic_label"].astype(str))
    assert "Wi-Fi" in keywords and "au PAY" in keywords, keywords
    assert "ハイ" not in keywords and "auPAY" not in keywords


def test_names_label_topics_but_stay_out_of_the_clustering_vectors():
    from vocnlp import schema as S
    from vocnlp.config import TokenizeConfig as TC
    from vocnlp.stages import tokenize

    df = pd.DataFrame({S.TEXT_NORM: ["Wi-Fiがつながらない", "店員さんが親切"], S.STATUS: [S.STATUS_OK, S.STATUS_OK]})
    cfg = TC()
    out = tokenize.run(df, cfg, resolve_resource(cfg.stopwords))
    assert "Wi-Fi" in out[S.TOKENS][0]
    assert "Wi-Fi" not in out[S.VECTOR_TOKENS][0]
    assert out[S.VECTOR_TOKENS][1] == out[S.TOKENS][1]
