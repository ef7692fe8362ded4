"""Topic coherence (issue 12): the measure, the labels it gives, the issue order, and the opt-in re-split."""

from __future__ import annotations

import numpy as np
import pandas as pd

from vocnlp import schema as S
from vocnlp.config import IssuesConfig, TopicsConfig
from vocnlp.phrases import Phrase
from vocnlp.stages import insights
from vocnlp.stages import topics as T


def test_coherence_is_the_share_of_comments_using_the_subject_noun():
    tokens = [["駐車場", "狭い"], ["駐車場", "満車"], ["駐車場"], ["トイレ", "汚い"],  # topic 0: 3 of 4
              ["マットレス"], ["トイレ"], ["通路"], ["クーポン"]]  # topic 1: 4 subjects, 1 each
    topics = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    subjects = T.subject_nouns(tokens, frozenset({"駐車場", "トイレ", "マットレス", "通路", "クーポン"}))
    coh = T.topic_coherence(topics, tokens, subjects)
    assert coh[0] == (0.75, "駐車場")
    assert coh[1][0] == 0.25 and coh[1][0] < T.COHERENT_SHARE
    # weights count comments: the one トイレ comment of topic 1 said 5 times makes it that topic's subject
    w = np.array([1, 1, 1, 1, 1, 5, 1, 1])
    assert T.topic_coherence(topics, tokens, subjects, w)[1] == (0.625, "トイレ")


def test_words_said_as_predicates_and_formulas_are_not_subjects():
    tokens = [["便利", "アプリ"], ["便利"], ["旨案内", "返品"], ["詫び"]]
    phrases = [[Phrase("アプリが便利", ("アプリ",), "便利")], [], [], []]
    subjects = T.subject_nouns(tokens, frozenset({"便利", "アプリ", "旨案内", "返品", "詫び"}), phrases)
    assert subjects == {"アプリ", "返品"}


def test_scattered_topics_are_listed_after_topics_about_one_subject():
    items = pd.DataFrame({S.ID: [str(i) for i in range(8)], S.TEXT: ["x"] * 8, S.STATUS: S.STATUS_OK,
                          S.TOPIC_ID: [0, 0, 0, 0, 1, 1, 1, 1], S.SENTIMENT_SCORE: [-0.9] * 4 + [-0.3] * 4,
                          S.SENTIMENT_EVIDENCE: ""})
    table = pd.DataFrame({S.TOPIC_ID: [0, 1], S.TOPIC_LABEL: ["セルフレジなど", "駐車場"], "keywords": ["", ""]})
    issues = insights.rank_issues(items, table, np.zeros(8), IssuesConfig())
    assert issues[S.TOPIC_LABEL].tolist() == ["駐車場", "セルフレジなど"]  # though セルフレジなど weighs more
    assert T.is_scattered(T.CATCH_ALL) and T.is_scattered("配送など") and not T.is_scattered("など")


def _mixed_corpus(seed: int = 0):
    """60 comments in three subjects, each said with its noun; the 'embedding' is one register for all."""
    rs = np.random.RandomState(seed)
    subjects = ["駐車場", "トイレ", "クーポン"]
    tokens, X = [], []
    for i in range(60):
        s = subjects[i % 3]
        tokens.append([s, ["狭い", "汚い", "古い", "高い"][rs.randint(4)], f"語{rs.randint(30)}"])
        X.append(rs.normal(size=16) * 0.01 + 1.0)
    return tokens, np.asarray(X, dtype=np.float32)


def test_resplit_breaks_a_grab_bag_into_its_subjects_and_loses_nothing():
    tokens, X = _mixed_corpus()
    topics = np.zeros(60, dtype=int)  # one topic holding three subjects
    subjects = T.subject_nouns(tokens, frozenset({"駐車場", "トイレ", "クーポン"}))
    cfg = TopicsConfig(resplit_incoherent=True)
    out, info = T.resplit_incoherent(topics, tokens, tokens, subjects, X, 5, cfg)
    assert (out >= 0).all()  # every comment keeps a topic
    coh = T.topic_coherence(out, tokens, subjects)
    assert {noun for share, noun in coh.values() if share >= T.COHERENT_SHARE} == {"駐車場", "トイレ", "クーポン"}
    assert info["incoherent"] == 1 and info["catch_all_comments"] <= 0.1 * 60
    # a coherent topic is left alone
    same, info = T.resplit_incoherent(np.array([0] * 20 + [1] * 20 + [2] * 20), [[s[0]] for s in sorted(tokens)],
                                      tokens, subjects, X, 5, cfg)
    assert info == {}


def _coherence_columns_match(res, tokens, subjects):
    coh = T.topic_coherence(res.assignments, tokens, subjects)
    assert list(res.table.columns[-2:]) == ["coherence", "subject"]
    for tid, share, noun in zip(res.table[S.TOPIC_ID], res.table["coherence"], res.table["subject"]):
        want = coh.get(int(tid), (np.nan, ""))
        assert (share == want[0] or np.isnan(share) and np.isnan(want[0])) and noun == want[1], (tid, share, noun)


def test_fitted_and_tracked_tables_carry_each_topics_coherence_and_subject(tmp_path):
    from vocnlp.stages.tracking import track_topics
    from vocnlp.topic_cache import TopicCache

    tokens, X = _mixed_corpus()
    nouns = frozenset({"駐車場", "トイレ", "クーポン"})
    subjects = T.subject_nouns(tokens, nouns)
    cfg = TopicsConfig(min_docs_for_clustering=10)
    fitted = T.fit_topics(X, tokens, cfg, nouns)
    _coherence_columns_match(fitted, tokens, subjects)
    # one known topic named トイレ takes every comment (one register); two トイレ comments fewer: its noun covers
    # 18 of 58 this week, under a third, so the table shows it as トイレなど (the registry keeps トイレ)
    keep = [i for i in range(60) if i not in (1, 4)]
    tokens, X = [tokens[i] for i in keep], X[keep]
    centre = T.l2_normalize(X.mean(axis=0, keepdims=True))[0]
    registry = pd.DataFrame({S.TOPIC_ID: [0], S.TOPIC_LABEL: ["トイレ"], "keywords": [""], "first_period": ["p1"],
                             "merged_into": [np.nan], "centroid": [centre], "threshold": [0.5]})
    tracked = track_topics(X, tokens, cfg, registry, next_id=1, reference_mean=np.zeros(X.shape[1], np.float32),
                           nouns=nouns)
    assert (tracked.assignments == 0).all()
    _coherence_columns_match(tracked, tokens, subjects)
    assert tracked.table[S.TOPIC_LABEL].tolist() == ["トイレなど"]
    assert tracked.table["subject"].tolist() == ["クーポン"] and tracked.table["coherence"].tolist() == [0.3448]
    cache = TopicCache(tmp_path)  # the columns survive the topic cache
    for key, res in (("fitted", fitted), ("tracked", tracked)):
        cache.put(key, res)
        pd.testing.assert_frame_equal(cache.get(key).table, res.table)
