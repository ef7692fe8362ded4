"""Segment-level topics: a long comment about several subjects counts for each of them."""

import numpy as np
import pandas as pd
import pytest

from vocnlp import schema as S
from vocnlp.config import SegmentTopicsConfig, load_config
from vocnlp.pipeline import run_pipeline
from vocnlp.stages.insights import topic_table
from vocnlp.stages.segment_topics import assign_segments, subject_units

from ..conftest import SHARED_CHECK


def test_subject_units_cover_every_segment_once_and_are_long_enough():
    segs = ["配送は早かったが、", "梱包が雑でした。", "ご確認を。", "部屋にカビがありました。", "以上"]
    groups = subject_units(segs, 8)
    assert [k for g in groups for k in g] == list(range(len(segs)))
    assert all(sum(len(segs[k]) for k in g) >= 8 for g in groups)
    assert subject_units(["短い"], 20) == [[0]]  # one short segment: one unit


# three subjects as directions in a toy embedding space
AXES = {"カビ": 0, "接客": 1, "朝食": 2}


def _vec(text: str, dim: int = 8) -> np.ndarray:
    v = np.full(dim, 0.05, dtype=np.float32)
    for word, k in AXES.items():
        v[k] += text.count(word)
    v[3 + len(text) % 5] += 0.3  # some noise that is not a subject
    return v / np.linalg.norm(v)


def _frame(texts, segments, topics, scores):
    return pd.DataFrame({S.ID: [str(i) for i in range(len(texts))], S.TEXT: texts, S.TEXT_NORM: texts,
                         S.SEGMENTS: segments, S.TOPIC_ID: topics, S.SENTIMENT_SCORE: [float(np.mean(s)) for s in scores],
                         S.SENTIMENT_LABEL: ["neutral"] * len(texts), "_seg_scores": scores})


def test_a_subject_inside_long_comments_adds_up():
    short = [(f"部屋にカビ{'が' * k}あった", 0) for k in range(6)] + [(f"接客{'が' * k}丁寧", 1) for k in range(6)] + \
            [(f"朝食{'が' * k}美味しい", 2) for k in range(6)]
    long_segs = ["朝食のビュッフェが豪華で朝食が楽しみでした。", "ただ浴室にカビがあり、カビの臭いも気になりました。"]
    texts = [t for t, _ in short] + ["".join(long_segs)] * 1
    segments = [[t] for t, _ in short] + [long_segs]
    topics = [k for _, k in short] + [2]  # the long review's primary topic is breakfast
    scores = [[-0.5]] * 6 + [[0.5]] * 12 + [[0.6, -0.7]]
    df = _frame(texts, segments, topics, scores)
    X = np.vstack([_vec(t) for t in texts])
    embedded = []

    def embed(ts):
        embedded.extend(ts)
        return np.vstack([_vec(t) for t in ts])

    cfg = SegmentTopicsConfig(min_item_chars=40, min_unit_chars=15, floor=0.0, percentile=25)
    res = assign_segments(df, X, cfg, 0.15, embed)
    assert embedded == long_segs  # only the long comment's units are embedded
    assert res.topic_ids[-1] == [2, 0]  # primary first, then the mould mentioned inside it
    assert res.topic_ids[0] == [0] and res.segment_topics[-1] == [2, 0]
    mould = res.mentions[(res.mentions[S.TOPIC_ID] == 0) & (res.mentions[S.ID] == "18")].iloc[0]
    assert mould[S.SENTIMENT_LABEL] == "negative" and "カビ" in mould[S.TEXT] and "ビュッフェ" not in mould[S.TEXT]
    table = topic_table(res.mentions, pd.DataFrame({S.TOPIC_ID: [0, 1, 2], S.TOPIC_LABEL: ["カビ", "接客", "朝食"],
                                                    "keywords": ["", "", ""]}),
                        res.mentions["_close"].to_numpy(), n_items=len(df))
    row = table.set_index(S.TOPIC_ID).loc[0]
    assert row["size"] == 7 and row["n_primary"] == 6 and row["share"] == pytest.approx(round(7 / 19, 4))
    assert table["share"].sum() > 1.0  # shares of comments that mention a topic: one comment, two topics


def test_disabled_keeps_one_topic_per_comment():
    segs = ["朝食のビュッフェが豪華で朝食が楽しみでした。", "ただ浴室にカビがあり、カビの臭いも気になりました。"]
    df = _frame(["".join(segs)] * 3, [segs] * 3, [0, 0, 1], [[0.5, -0.5]] * 3)
    X = np.vstack([_vec(t) for t in df[S.TEXT]])
    res = assign_segments(df, X, SegmentTopicsConfig(enabled=False), 0.15, lambda ts: pytest.fail("embedded"))
    assert res.topic_ids == [[0], [0], [1]] and len(res.mentions) == 3


def test_run_writes_topic_ids_and_segment_topics(tmp_path, sample_week, use_fake_embedder):
    cfg = load_config(None, {"embed.cache_dir": str(tmp_path / "cache"), "history.enabled": False,
                             "classify.cx_dimension.method": "prototype", "classify.journey_stage.method": "prototype",
                             "sentiment.method": "lexicon"})
    res = run_pipeline(sample_week, tmp_path / "out", cfg)
    items = pd.read_csv(tmp_path / "out" / "items.csv", dtype=str, keep_default_na=False)
    ok = items[items.status == "ok"]
    ids = ok.topic_ids.str.split("|")
    assert (ids.str[0] == ok.topic_id).all()  # the primary topic first
    assert (items.loc[items.status != "ok", "topic_ids"] == "").all()
    assert (ids.map(len) > 1).any(), "some long comments mention several topics"
    segs = pd.read_csv(tmp_path / "out" / "segments.csv", dtype=str, keep_default_na=False)
    for item_id, group in segs.groupby("id"):
        assert set(group.topic_id) <= set(ids[ok.id == item_id].iloc[0])  # a segment's topic is one of its comment's
    counts = ids.explode().value_counts()
    topics = res.topics.set_index(S.TOPIC_ID)
    for tid, size in counts.items():
        assert topics.loc[int(tid), "size"] == size  # a topic counts every comment that mentions it
        assert topics.loc[int(tid), "share"] == pytest.approx(round(size / len(ok), 4))
    assert res.manifest["models"]["segment_topics"]["items_with_several_topics"] == int((ids.map(len) > 1).sum())
    if SHARED_CHECK.exists():
        import subprocess
        import sys

        done = subprocess.run([sys.executable, str(SHARED_CHECK), str(tmp_path / "out"), str(sample_week)],
                              capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr


def test_umap_reducer_clusters_the_raw_embedding_not_the_hybrid():
    from vocnlp.config import TopicsConfig
    from vocnlp.stages.topics import clustering_input, document_vectors

    X = np.random.RandomState(0).normal(size=(40, 16)).astype(np.float32)
    tokens = [["配送", "遅い"] if i % 2 else ["店員", "丁寧"] for i in range(40)]
    raw = clustering_input(X, tokens, TopicsConfig(reducer="umap"))
    assert raw.shape == X.shape and np.allclose(np.linalg.norm(raw, axis=1), 1.0)
    assert np.allclose(raw, X / np.linalg.norm(X, axis=1, keepdims=True), atol=1e-6)
    hybrid = clustering_input(X, tokens, TopicsConfig(reducer="pca"))
    assert np.allclose(hybrid, document_vectors(X, tokens, TopicsConfig()))


def test_per_text_result_given_to_every_comment_of_its_text():
    """topic_ids_for_rows / segment_topics_for_rows: a text's topic ids and segment topics gathered to each comment
    of it, in comment order."""
    from vocnlp.stages.segment_topics import SegmentTopicResult, segment_topics_for_rows, topic_ids_for_rows

    res = SegmentTopicResult(pd.DataFrame(), [[3], [1, 2]], [[3], [1, 2]], {})
    text_of = np.array([1, 0, 1])
    ok = np.array([True, False, True, True])
    assert topic_ids_for_rows(res, text_of, ok).tolist() == ["1|2", "", "3", "1|2"]
    assert segment_topics_for_rows(res, text_of).tolist() == [1, 2, 3, 1, 2]
