"""compare_topics: each lineage state and the emerging flag, on hand-made weekly counts."""

import pandas as pd

from vocnlp.config import HistoryConfig, IssuesConfig
from vocnlp.stages.trends import compare_topics


def stats(rows):
    """(topic_id, size, negative) -> the period_stats columns compare_topics reads."""
    df = pd.DataFrame(rows, columns=["topic_id", "size", "negative"])
    return df.assign(share=df["size"] / 1000, negative_share=df["negative"] / df["size"].clip(lower=1), mean_sentiment=0.0)


PREV = stats([(0, 100, 10), (1, 100, 10), (2, 100, 10), (3, 100, 10), (4, 50, 5), (5, 50, 5), (9, 40, 4)])


def test_lineage_states():
    cur = stats([(0, 100, 10), (1, 250, 30), (2, 20, 2), (3, 100, 10), (4, 60, 10), (6, 80, 60), (7, 70, 10)])
    out = compare_topics(cur, 1000, PREV, 1000, baselines={6: 2, 7: 1}, new_ids={6, 7}, hcfg=HistoryConfig(),
                         icfg=IssuesConfig(), merged={5: 4}, split_from={7: 3}).set_index("topic_id")
    assert out.lineage.to_dict() == {0: "continued", 1: "grown", 2: "shrunk", 3: "continued", 4: "continued",
                                     5: "merged", 6: "new", 7: "split", 9: "gone"}
    assert out.at[5, "related_topic"] == 4 and out.at[7, "related_topic"] == 3
    assert out.at[6, "prev_size"] == 2 and bool(out.at[6, "baseline_measured"])  # a new topic's measured baseline


def test_emerging_needs_growth_negativity_and_significance():
    cur = stats([(0, 100, 10), (1, 250, 30), (6, 80, 60), (8, 6, 5)])
    out = compare_topics(cur, 1000, PREV, 1000, baselines={6: 2, 8: 0}, new_ids={6, 8}, hcfg=HistoryConfig(),
                         icfg=IssuesConfig(min_items=10)).set_index("topic_id")
    assert bool(out.at[6, "emerging"])  # new, mostly negative, 40x its baseline
    assert not out.at[1, "emerging"]  # grown, but mostly positive
    assert not out.at[0, "emerging"]  # unchanged
    assert not out.at[8, "emerging"]  # negative and new, but below issues.min_items


def test_a_first_period_has_only_new_topics_and_nothing_emerging():
    cur = stats([(0, 100, 90), (1, 50, 5)])
    out = compare_topics(cur, 150, None, 0, {}, set(), HistoryConfig(), IssuesConfig())
    assert out.lineage.tolist() == ["new", "new"] and not out.emerging.any()
