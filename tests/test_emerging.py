"""Emerging sub-topics: a new subject that a known broad topic would absorb is split off and flagged.

The construction of benchmarks/emerging_eval.py: weeks drawn without overlap from one pool of real comments,
comments about one subject at 1 % of weeks 1-2 and 10 % from week 3. On our own comments (data/train) in CI,
and on the real corpora in .realtext/ where that folder exists (it is never committed)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from benchmarks.emerging_eval import (
    OWN,
    REALTEXT,
    SCENARIOS,
    build_weeks,
    evaluate,
    measure,
    read_texts,
    run_weeks,
)
from vocnlp.config import TopicsConfig
from vocnlp.stages.tracking import track_topics

WORDS = {"A": ["配送", "遅延", "到着"], "B": ["店員", "接客", "態度"], "C": ["アプリ", "ログイン", "画面"],
         "new": ["配送", "置き配", "盗難"]}


def synthetic_week(rng, counts: dict[str, int], d: int = 32):
    """Comments around four directions: A, B, C (known topics) and a new subject close to A (it would join A)."""
    base = np.eye(d, dtype=np.float32)
    direction = {"A": base[0], "B": base[1], "C": base[2], "new": 0.8 * base[0] + 0.6 * base[3]}
    X, tokens, kind = [], [], []
    for k, c in counts.items():
        for _ in range(c):
            X.append(direction[k] + 0.12 * rng.randn(d))
            tokens.append(list(rng.choice(WORDS[k], size=2, replace=False)))
            kind.append(k)
    return np.asarray(X, dtype=np.float32), tokens, np.array(kind)


def registry(d: int = 32) -> pd.DataFrame:
    base = np.eye(d, dtype=np.float32)
    return pd.DataFrame({"topic_id": [0, 1, 2], "topic_label": ["配送・遅延", "店員・接客", "アプリ・ログイン"],
                         "keywords": ["", "", ""], "first_period": ["p1"] * 3, "merged_into": [np.nan] * 3,
                         "centroid": [base[0], base[1], base[2]], "threshold": [0.3, 0.3, 0.3]})


CFG = TopicsConfig(min_docs_for_clustering=10, assign_floor=0.3)


def track(week, prev):
    X, tokens, _ = week
    P, prev_tokens, _ = prev
    return track_topics(X, tokens, CFG, registry(), next_id=3, reference_mean=np.zeros(X.shape[1], np.float32),
                        previous=P, vector_tokens=tokens, previous_tokens=prev_tokens)


def test_a_new_subject_inside_a_known_topic_is_split_off():
    rng = np.random.RandomState(0)
    prev = synthetic_week(rng, {"A": 120, "B": 120, "C": 120, "new": 4})
    now = synthetic_week(rng, {"A": 120, "B": 120, "C": 120, "new": 40})
    # without the sub-topic check the new subject is absorbed by A: the known topic that takes it
    absorbed = track_topics(now[0], now[1], CFG.model_copy(update={"emerging_subtopics": False}), registry(), 3,
                            np.zeros(32, np.float32), previous=prev[0], vector_tokens=now[1], previous_tokens=prev[1])
    assert (absorbed.assignments[now[2] == "new"] == 0).mean() > 0.9
    res = track(now, prev)
    split = res.params["emerging_subtopics"]
    assert len(split) == 1 and split[0]["parent"] == 0 and split[0]["q"] < 0.05
    gid = split[0]["topic_id"]
    members = res.assignments == gid
    assert (now[2][members] == "new").mean() >= 0.9  # about the subject
    assert members[now[2] == "new"].mean() >= 0.8  # and most of the subject
    assert res.split_from[gid] == 0  # lineage: split from the broad topic
    new = res.new_topics.set_index("topic_id").loc[gid]
    assert 0 < new["baseline"] <= 10  # last week's comments in the same group of the tree: the measured baseline
    assert any(w in new["topic_label"] for w in ("置き配", "盗難"))  # labelled by its own words
    assert gid in res.state  # tracked from next week on


def test_stable_weeks_split_nothing():
    rng = np.random.RandomState(1)
    prev = synthetic_week(rng, {"A": 120, "B": 120, "C": 120, "new": 4})
    now = synthetic_week(rng, {"A": 120, "B": 120, "C": 120, "new": 4})
    res = track(now, prev)
    assert res.params["emerging_subtopics"] == [] and res.params["subtopics_tested"] > 10
    assert set(res.assignments) <= {0, 1, 2}


def test_without_last_weeks_words_both_weeks_use_the_embeddings_alone():
    rng = np.random.RandomState(2)
    prev = synthetic_week(rng, {"A": 120, "B": 120, "C": 120, "new": 4})
    now = synthetic_week(rng, {"A": 120, "B": 120, "C": 120, "new": 40})
    X, tokens, kind = now
    res = track_topics(X, tokens, CFG, registry(), 3, np.zeros(32, np.float32), previous=prev[0], vector_tokens=tokens,
                       previous_tokens=None)  # a history written before the words were stored
    split = res.params["emerging_subtopics"]
    assert len(split) == 1 and (kind[res.assignments == split[0]["topic_id"]] == "new").mean() >= 0.9


def test_week_construction_draws_without_overlap():
    texts = pd.Series([f"駐車場が狭い{i}" for i in range(60)] + [f"景色がよい{i}" for i in range(1600)])
    weeks = build_weeks(texts, "駐車場", n_week=400, base=4, raised=40, n_weeks=3)
    assert [int(w.about.sum()) for w in weeks] == [4, 4, 40] and all(len(w) == 400 for w in weeks)
    assert len(set(pd.concat(weeks).text)) == 1200
    with pytest.raises(ValueError, match="not enough"):
        build_weeks(texts, "駐車場", n_week=400, base=4, raised=40, n_weeks=4)


@pytest.mark.slow
def test_a_subject_raised_tenfold_in_our_own_comments_is_flagged_in_week_3(tmp_path):
    """Our own comments (data/train, several registers and domains), reservations (予約) at 1 % of weeks 1-2 and
    10 % of week 3, through the whole pipeline with the real model."""
    weeks = build_weeks(read_texts(OWN.source), OWN.subject, OWN.n_week, OWN.base, OWN.raised, OWN.n_weeks, OWN.seed)
    r = measure(weeks, run_weeks(weeks, tmp_path))
    assert r["week3_flagged_subject"], r["weeks"][2]
    best = r["week3_best"]
    assert best["purity"] >= 0.5 and best["recall"] >= 0.5
    assert r["false_alarms_stable"] <= 1
    assert r["continuity_w1_w2"] >= 0.85


@pytest.mark.slow
@pytest.mark.skipif(not REALTEXT.exists(), reason=".realtext/ not built (benchmarks/realtext/README.md)")
@pytest.mark.parametrize("name", [s.name for s in SCENARIOS if "none" not in s.name][:2])
def test_real_subjects_raised_tenfold_are_flagged_in_week_3(name):
    r = evaluate(next(s for s in SCENARIOS if s.name == name))
    assert r["week3_flagged_subject"], r["weeks"][2]
    assert r["false_alarms_stable"] <= 1
    assert r["continuity_w1_w2"] >= 0.85
