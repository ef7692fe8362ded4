"""rank_issues: priority is a topic's share of the week's negative weight; quotes are negative, typical, unique."""

import numpy as np
import pandas as pd
import pytest

from vocnlp import schema as S
from vocnlp.config import IssuesConfig
from vocnlp.stages.insights import rank_issues


def frame(rows):
    """(id, topic_id, sentiment_score, text, status)"""
    df = pd.DataFrame(rows, columns=[S.ID, S.TOPIC_ID, S.SENTIMENT_SCORE, S.TEXT, S.STATUS])
    label = np.where(df[S.SENTIMENT_SCORE] <= -0.15, "negative", np.where(df[S.SENTIMENT_SCORE] >= 0.15, "positive", "neutral"))
    return df.assign(**{S.SENTIMENT_LABEL: label, S.SENTIMENT_EVIDENCE: "遅い(-0.5)"})


TOPICS = pd.DataFrame({S.TOPIC_ID: [0, 1, 2, -1], S.TOPIC_LABEL: ["配送", "接客", "アプリ", "未分類"],
                       "keywords": ["配送、遅延", "店員", "アプリ", ""]})


def test_priority_ranking_and_quotes():
    rows = [("a1", 0, -0.8, "配送が遅い", "ok"), ("a2", 0, -0.6, "配送が遅い", "ok"), ("a3", 0, -0.4, "届かない", "ok"),
            ("a4", 0, 0.5, "早かった", "ok"),
            ("b1", 1, -0.2, "少し無愛想", "ok"), ("b2", 1, 0.6, "親切", "ok"), ("b3", 1, 0.7, "丁寧", "ok"),
            ("c1", 2, 0.5, "便利", "ok"), ("c2", 2, 0.4, "使いやすい", "ok"), ("c3", 2, 0.3, "見やすい", "ok"),
            ("d1", -1, -0.9, "最悪", "ok"), ("e1", 0, np.nan, "", "empty")]
    df = frame(rows)
    ok = df[S.STATUS] == S.STATUS_OK
    closeness = np.where(df.loc[ok, S.ID] == "a2", 0.9, 0.1)  # a2 is the most typical of topic 0
    issues = rank_issues(df, TOPICS, closeness, IssuesConfig(min_items=3, n_quotes=2))
    assert issues[S.TOPIC_ID].tolist() == [0, 1]  # 2 has no negative comment, -1 is not a topic
    assert issues["rank"].tolist() == [1, 2]
    total_negative_weight = 0.8 + 0.6 + 0.4 + 0.2 + 0.9
    first = issues.iloc[0]
    assert first["priority"] == pytest.approx(round(100 * 1.8 / total_negative_weight, 2))
    assert first["n_items"] == 4 and first["n_negative"] == 3 and first["negative_share"] == 0.75
    # quotes: a2 (typical) before a1 (more negative), and the same text is never quoted twice
    assert first["quote_1_id"] == "a2" and first["quote_2_id"] == "a3"
    assert first["quote_1"] == "配送が遅い" and first["quote_1_why"] == "遅い(-0.5)"


def test_small_topics_are_not_issues_and_no_issues_keeps_the_columns():
    df = frame([("a1", 0, -0.8, "配送が遅い", "ok"), ("a2", 0, -0.6, "届かない", "ok")])
    issues = rank_issues(df, TOPICS, np.zeros(2), IssuesConfig(min_items=3, n_quotes=2))
    assert issues.empty and {"rank", "priority", "quote_2_id"} <= set(issues.columns)
