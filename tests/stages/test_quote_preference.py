"""Representative ids and issue quotes prefer the central comments that say the topic's name (its subject noun or
key phrase), then fall back to plain centrality; a label that names nothing (keywords, catch-all) is plain
centrality."""

import numpy as np
import pandas as pd

from vocnlp import schema as S
from vocnlp.config import IssuesConfig
from vocnlp.phrases import Phrase
from vocnlp.stages import topics as T
from vocnlp.stages.insights import rank_issues, topic_table


def _items():
    # topic 0 「チラシ」: c1-c3 are the most central and most negative but about something else; f1, f2 say チラシ
    rows = [("c1", "ログアウトされる", -0.9, 0.9), ("c2", "デスクライトがちらつく", -0.8, 0.8),
            ("c3", "商品写真が暗い", -0.7, 0.7), ("f1", "チラシが届かない", -0.5, 0.2), ("f2", "チラシが見にくい", -0.4, 0.1)]
    df = pd.DataFrame(rows, columns=[S.ID, S.TEXT, S.SENTIMENT_SCORE, "_close"])
    return df.assign(**{S.TOPIC_ID: 0, S.STATUS: S.STATUS_OK, S.SENTIMENT_LABEL: "negative", S.SENTIMENT_EVIDENCE: ""})


TOKENS = [["ログアウト"], ["デスクライト"], ["商品", "写真"], ["チラシ", "届く"], ["チラシ", "見る"]]


def _says(label):
    name = T.label_name(label)
    return np.array([T.says_name(name, toks) for toks in TOKENS])


def test_comments_that_say_the_subject_are_quoted_first_then_the_most_central():
    df = _items()
    table = pd.DataFrame({S.TOPIC_ID: [0], S.TOPIC_LABEL: ["チラシ"], "keywords": ["チラシ"]})
    close, says = df["_close"].to_numpy(), _says("チラシ")
    assert topic_table(df, table, close, says_name=says)["representative_ids"].iat[0] == "f1|f2|c1"
    issue = rank_issues(df, table, close, IssuesConfig(min_items=3, n_quotes=3), says_name=says).iloc[0]
    assert [issue[f"quote_{k}_id"] for k in (1, 2, 3)] == ["f1", "f2", "c1"]
    # without the flags (or for a label naming no subject) the choice is plain centrality, as before
    assert topic_table(df, table, close)["representative_ids"].iat[0] == "c1|c2|c3"
    assert not _says("チラシ・写真").any() and not _says(T.CATCH_ALL).any()


def test_label_names_and_what_says_them():
    assert T.label_name("配送など") == "配送" and T.label_name("配送の遅れ") == "配送の遅れ"
    assert T.label_name("ソファ・配送") == "" and T.label_name(T.CATCH_ALL) == "" and T.label_name("未分類") == ""
    late = Phrase("配送の遅れ", ("配送",), "遅れ")
    assert T.says_name("配送の遅れ", ["配送", "遅れる"], [late]) and T.says_name("配送", ["届く"], [late])
    assert not T.says_name("配送の遅れ", ["配送"], []) and not T.says_name("", ["配送"], [late])


def test_a_known_topic_is_shown_with_nado_when_its_noun_covers_under_a_third_this_week():
    from vocnlp.stages.topics import subject_counts
    from vocnlp.stages.tracking import week_labels

    table = pd.DataFrame({S.TOPIC_ID: [0, 1, 2, 3], S.TOPIC_LABEL: ["サイズ", "駐車場", "配送の遅れ", "接客"]})
    assign = np.array([0, 0, 0, 0, 1, 1, 2, 2, 3, 3])
    tokens = [["サイズ"], ["色"], ["値段"], ["写真"], ["駐車場"], ["狭い"], ["配送"], ["遅い"], ["店員"], ["レジ"]]
    subjects = frozenset({"サイズ", "色", "値段", "写真", "駐車場", "配送", "店員", "レジ", "接客"})
    # サイズ: 1 of 4 (known) -> サイズなど; 駐車場: 1 of 2; a key phrase and a topic new this week stay as named
    counts = subject_counts(assign, tokens, subjects)
    assert week_labels(table, {3}, counts, subjects) == ["サイズなど", "駐車場", "配送の遅れ", "接客"]
    w = np.array([3, 1, 1, 1, 1, 1, 1, 1, 1, 1])  # weighted by comments: サイズ 3 of 6 -> stays
    assert week_labels(table, {3}, subject_counts(assign, tokens, subjects, w), subjects)[0] == "サイズ"
