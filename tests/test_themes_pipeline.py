"""Themes end to end over three sample weeks with a history: counts, stability, sums, the contract, the report."""

import subprocess
import sys

import duckdb
import pandas as pd
import pytest

from vocnlp.config import load_config
from vocnlp.pipeline import run_pipeline

from .conftest import ROOT, SAMPLE_DIR, SHARED_CHECK

WEEKS = ["2026-W44", "2026-W45", "2026-W46"]
# beside the main checkout (../shared), or beside the worktrees' folder (a worktree in ../wt/NAME)
CHECK = next((p for p in (SHARED_CHECK, ROOT.parents[1] / "shared" / "tools" / "check_run.py") if p.exists()), None)


def _cfg(tmp_path, **over):
    return load_config(None, {"embed.cache_dir": str(tmp_path / "cache"), "history.path": str(tmp_path / "hist"),
                              "classify.cx_dimension.method": "prototype", "classify.journey_stage.method": "prototype",
                              "sentiment.method": "lexicon", **over})


@pytest.fixture
def weeks(tmp_path, use_fake_embedder):
    cfg = _cfg(tmp_path)
    return {w: run_pipeline(SAMPLE_DIR / f"midori_{w}.csv", tmp_path / w, cfg) for w in WEEKS}


def test_themes_over_weeks(tmp_path, weeks):
    parents = {}
    for w, res in weeks.items():
        out = tmp_path / w
        topics = pd.read_csv(out / "topics.csv")
        themes = pd.read_csv(out / "themes.csv")
        n_topics = int((topics.topic_id >= 0).sum())
        # a count a product owner scans: 5-10 when there are enough topics (at most half as many as topics)
        assert min(5, n_topics // 2) <= len(themes) <= 10, (n_topics, len(themes))
        assert res.manifest["themes"]["n_themes"] == len(themes)
        # parent_id: every topic in a theme of themes.csv, the no-topic row in none
        assert set(topics.loc[topics.topic_id >= 0, "parent_id"]) <= set(themes.theme_id)
        assert (topics.loc[topics.topic_id == -1, "parent_id"] == -1).all()
        for _, th in themes.iterrows():
            subs = topics[topics.parent_id == th.theme_id]
            assert th["size"] == subs["size"].sum() and sorted(str(th.topic_ids).split("|")) == sorted(
                subs.topic_id.astype(str))
        issues = pd.read_csv(out / "issues.csv")
        by_topic = dict(zip(topics.topic_id, topics.parent_id))
        assert (issues.theme_id == issues.topic_id.map(by_topic)).all()  # the theme beside each issue
        assert "themes" in pd.ExcelFile(out / "issues.xlsx").sheet_names
        html = (out / "report.html").read_text(encoding="utf-8")
        assert html.count('<details class="theme">') == len(themes)
        if CHECK is not None:
            check = subprocess.run([sys.executable, str(CHECK), str(out), str(SAMPLE_DIR / f"midori_{w}.csv")],
                                   capture_output=True, text=True)
            assert check.returncode == 0, check.stdout
        parents[w] = by_topic
    # stable week to week: a topic keeps its theme
    for a, b in zip(WEEKS, WEEKS[1:]):
        both = (set(parents[a]) & set(parents[b])) - {-1}
        assert both and all(parents[a][t] == parents[b][t] for t in both)
    # a theme's trend is the sum of its sub-topics' (history tables)
    db = duckdb.connect(str(tmp_path / "hist" / "history.duckdb"), read_only=True)
    summed = db.execute("""SELECT tp.period, tt.theme_id, sum(tp.size), sum(tp.share) FROM topic_period tp
                           JOIN topic_themes tt USING (topic_id) WHERE tp.topic_id >= 0
                           GROUP BY ALL ORDER BY ALL""").fetchall()
    stored = db.execute("SELECT period, theme_id, size, share FROM theme_period ORDER BY ALL").fetchall()
    assert [r[:3] for r in summed] == [r[:3] for r in stored]
    assert all(abs(a[3] - b[3]) < 1e-9 for a, b in zip(summed, stored))
    assert db.execute("SELECT count(DISTINCT period) FROM theme_period").fetchone()[0] == 3
    w46 = pd.read_csv(tmp_path / "2026-W46" / "themes.csv")
    prev = dict(stored_row[1:4:2] for stored_row in stored if stored_row[0] == "2026-W45")
    assert w46.prev_share.round(4).tolist() == [round(prev.get(t, 0.0), 4) for t in w46.theme_id]
    assert (w46.share_change.round(4) == (w46.share - w46.prev_share).round(4)).all()
    html = (tmp_path / "2026-W46" / "report.html").read_text(encoding="utf-8")
    assert "<strong>" + pd.read_csv(tmp_path / "2026-W46" / "themes.csv").theme_label[0] + "</strong>" in html


def test_rerun_keeps_themes_and_themes_can_be_turned_off(tmp_path, use_fake_embedder):
    cfg = _cfg(tmp_path)
    run_pipeline(SAMPLE_DIR / "midori_2026-W44.csv", tmp_path / "a", cfg)
    run_pipeline(SAMPLE_DIR / "midori_2026-W44.csv", tmp_path / "b", cfg)  # the same period again: replaced
    a, b = (pd.read_csv(tmp_path / x / "themes.csv") for x in "ab")
    assert a.equals(b)
    db = duckdb.connect(str(tmp_path / "hist" / "history.duckdb"), read_only=True)
    assert db.execute("SELECT count(*) FROM themes").fetchone()[0] == len(a)
    db.close()
    off = run_pipeline(SAMPLE_DIR / "midori_2026-W44.csv", tmp_path / "off",
                       _cfg(tmp_path, **{"themes.enabled": False, "history.enabled": False}))
    assert not (tmp_path / "off" / "themes.csv").exists() and "parent_id" not in off.topics.columns
    assert off.manifest["themes"] is None


@pytest.mark.slow
def test_a_clearly_new_subject_starts_its_own_theme_with_the_real_model(tmp_path):
    """W44, then W45 as it is, then W45 again with 30 comments about an in-store café, a subject the store's
    feedback never had (our own comments): they start a theme of their own, nothing else about the themes changes,
    every known topic keeps its theme and every known theme its label."""
    from benchmarks.themes_new_subject import new_subject

    r = new_subject(tmp_path / "cache", tmp_path, "cafe")
    assert r["W45_with_new_subject"]["themes"]["far_threshold"] is not None
    best = max(r["born"], key=lambda b: b["about_new_subject"])
    assert best["purity"] >= 0.8 and best["recall"] >= 0.6, r["born"]
    assert best["label"] and "カフェ" in best["label"]
    # the other themes born in the week are those W45 alone gives (W45's packaging topic, docs/topics_eval.md)
    others = sorted(b["label"] for b in r["born"] if b is not best)
    assert others == sorted(r["W45"]["theme_labels"][str(d["theme_id"])] for d in r["W45"]["themes"]["new_themes"])
    assert all(b["about_new_subject"] == 0 for b in r["born"] if b is not best)
    assert r["known_topics_kept_their_theme"] and r["known_theme_labels_kept"]
