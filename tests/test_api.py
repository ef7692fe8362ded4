"""The Python API (vocnlp.analyze), the topic cache, and what importing vocnlp costs."""

import json
import re
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

import vocnlp
from vocnlp.config import RunConfig, load_config
from vocnlp.errors import InputError
from vocnlp.pipeline import run_pipeline

from .conftest import ROOT, SAMPLE_DIR, SHARED_CHECK

UNTRAINED = {"classify": {"cx_dimension": {"method": "prototype"}, "journey_stage": {"method": "prototype"}},
             "sentiment": {"method": "lexicon"}}  # trained models refuse the fake embedder's vectors


def config(tmp_path, **sections) -> dict:
    return {**UNTRAINED, "embed": {"cache_dir": str(tmp_path / "cache")}, "history": {"path": str(tmp_path / "hist")},
            **sections}


def week(n: int | None = None, name: str = "midori_2026-W46.csv") -> pd.DataFrame:
    df = pd.read_csv(SAMPLE_DIR / name, dtype=str, keep_default_na=False)
    return df.head(n) if n else df


def readme_python_block(section: str) -> str:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    part = text.split(f"## {section}", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```python\n(.*?)```", part, re.S).group(1)


def test_readme_example_runs(tmp_path, use_fake_embedder):
    """The README's example, unchanged, on a small week (a local config picks the untrained methods)."""
    (tmp_path / "data" / "sample").mkdir(parents=True)
    week(80).to_csv(tmp_path / "data" / "sample" / "midori_2026-W46.csv", index=False)
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "default.yaml").write_text(
        "classify:\n  cx_dimension: {method: prototype}\n  journey_stage: {method: prototype}\n"
        "sentiment:\n  method: lexicon\n", encoding="utf-8")
    scope: dict = {}
    exec(readme_python_block("Python API"), scope)  # noqa: S102 - our own README
    result = scope["result"]
    assert isinstance(result, vocnlp.Analysis) and len(result.items) == 80
    assert (tmp_path / "runs" / "W46" / "report.html").exists()
    assert "<html" in scope["html"][:500]


def test_analyze_returns_what_the_run_folder_holds(tmp_path, use_fake_embedder):
    result = vocnlp.analyze(week(90), config(tmp_path), period="2026-W46")
    for name in ("items", "segments", "topics", "issues"):
        assert isinstance(getattr(result, name), pd.DataFrame)
    assert len(result.items) == 90 and result.items["id"].tolist() == week(90)["id"].tolist()
    assert result.manifest["input"]["name"] == "DataFrame" and result.manifest["input"]["format"] == "dataframe"
    assert result.manifest["history"]["stored"] and result.manifest["history"]["period"] == "2026-W46"
    out = result.save(tmp_path / "run")
    assert out == result.output_dir == tmp_path / "run"
    on_disk = pd.read_csv(out / "items.csv", dtype=str, keep_default_na=False)
    assert on_disk["id"].tolist() == result.items["id"].tolist()
    assert on_disk["topic_id"].astype(int).tolist() == result.items["topic_id"].tolist()
    assert pd.read_csv(out / "topics.csv")["topic_id"].tolist() == result.topics["topic_id"].tolist()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["counts"] == result.manifest["counts"] and "outputs" in result.timings
    import time

    t = time.perf_counter()
    result.save(tmp_path / "run2")  # a second copy: the manifest records its outputs time, not the sum of both
    assert result.timings["outputs"] <= time.perf_counter() - t and result.output_dir == tmp_path / "run2"
    assert "お客様の声" in result.report_html() and "お客様の声" in (out / "report.html").read_text(encoding="utf-8")
    if SHARED_CHECK.exists():
        csv = tmp_path / "w.csv"
        week(90).to_csv(csv, index=False)
        check = subprocess.run([sys.executable, str(SHARED_CHECK), str(out), str(csv)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


def test_a_frame_and_its_file_give_the_same_analysis(tmp_path, use_fake_embedder):
    frame = week(70)
    before = frame.copy()
    csv = tmp_path / "export.csv"
    frame.to_csv(csv, index=False)
    cfg = config(tmp_path, history={"enabled": False})
    from_frame = vocnlp.analyze(frame, cfg)
    from_file = vocnlp.analyze(csv, load_config(None, {"history.enabled": False, "embed.cache_dir": str(tmp_path / "c2"),
                                                       "classify.cx_dimension.method": "prototype",
                                                       "classify.journey_stage.method": "prototype",
                                                       "sentiment.method": "lexicon"}))
    pd.testing.assert_frame_equal(from_frame.items, from_file.items)
    pd.testing.assert_frame_equal(from_frame.issues, from_file.issues)
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is untouched
    assert from_file.manifest["input"]["name"] == "export.csv"


def test_analyze_config_forms_and_bad_arguments(tmp_path, use_fake_embedder):
    yaml = tmp_path / "c.yaml"
    yaml.write_text("history:\n  enabled: false\nclassify:\n  cx_dimension: {method: prototype}\n"
                    "  journey_stage: {method: prototype}\nsentiment: {method: lexicon}\n", encoding="utf-8")
    for cfg in (yaml, str(yaml), load_config(yaml), config(tmp_path, history={"enabled": False})):
        res = vocnlp.analyze(week(35), cfg)
        assert res.manifest["config"]["history"]["enabled"] is False and len(res.items) == 35
    assert isinstance(res.config, RunConfig)
    with pytest.raises(InputError, match="DataFrame or the path"):
        vocnlp.analyze(["配送が遅い"], config(tmp_path))
    with pytest.raises(InputError, match="period"):
        vocnlp.analyze(week(35), config(tmp_path), period="last week")
    from vocnlp.errors import ConfigError

    with pytest.raises(ConfigError, match="max_topic"):
        vocnlp.analyze(week(35), {"topics": {"max_topic": 3}})


# -- the topic cache -------------------------------------------------------------------------------


def test_rerun_reuses_fitted_topics_and_gives_the_same_bytes(tmp_path, use_fake_embedder, monkeypatch):
    cfg = load_config(None, {"embed.cache_dir": str(tmp_path / "cache"), "history.enabled": False,
                             "classify.cx_dimension.method": "prototype", "classify.journey_stage.method": "prototype",
                             "sentiment.method": "lexicon"})
    data = SAMPLE_DIR / "midori_2026-W45.csv"
    first = run_pipeline(data, tmp_path / "a", cfg)
    import vocnlp.pipeline as pipeline

    def must_not_fit(*a, **k):
        raise AssertionError("topics were fitted again")

    monkeypatch.setattr(pipeline.topics, "fit_topics", must_not_fit)
    second = run_pipeline(data, tmp_path / "b", cfg)
    assert not first.manifest["topics"]["from_cache"] and second.manifest["topics"]["from_cache"]
    for f in ("items.csv", "topics.csv", "issues.csv", "segments.csv"):
        assert (tmp_path / "a" / f).read_bytes() == (tmp_path / "b" / f).read_bytes(), f
    assert second.manifest["models"]["topics"] == first.manifest["models"]["topics"]
    cfg.topics.max_topics = 12  # another topic configuration: fitted again
    with pytest.raises(AssertionError, match="fitted again"):
        run_pipeline(data, tmp_path / "c", cfg)


def test_topic_cache_follows_the_history_state(tmp_path, use_fake_embedder, monkeypatch):
    """Re-running the latest period hits; the same week from another history state does not."""
    cfg = load_config(None, {"embed.cache_dir": str(tmp_path / "cache"), "history.path": str(tmp_path / "h1"),
                             "classify.cx_dimension.method": "prototype", "classify.journey_stage.method": "prototype",
                             "sentiment.method": "lexicon"})
    w44, w45 = SAMPLE_DIR / "midori_2026-W44.csv", SAMPLE_DIR / "midori_2026-W45.csv"
    run_pipeline(w44, tmp_path / "44", cfg)
    first = run_pipeline(w45, tmp_path / "45", cfg)
    again = run_pipeline(w45, tmp_path / "45b", cfg)
    assert not first.manifest["topics"]["from_cache"] and again.manifest["topics"]["from_cache"]
    assert first.items.topic_id.tolist() == again.items.topic_id.tolist()
    assert again.manifest["history"] == {**first.manifest["history"], "path": again.manifest["history"]["path"]}
    import duckdb

    db = duckdb.connect(str(tmp_path / "h1" / "history.duckdb"), read_only=True)
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 2  # replaced, not added
    born = db.execute("SELECT topic_id FROM topics WHERE first_period = '2026-W45' ORDER BY topic_id").fetchall()
    assert [r[0] for r in born] == first.manifest["history"]["new_topics"]
    db.close()
    # the same week, same cache, but as the first period of a new history: tracked from nothing, not reused
    cfg.history.path = str(tmp_path / "h2")
    fresh = run_pipeline(w45, tmp_path / "45c", cfg)
    assert not fresh.manifest["topics"]["from_cache"]
    assert fresh.manifest["models"]["topics"]["mode"] == "first period"
    assert first.manifest["models"]["topics"]["mode"] == "tracked"


def test_damaged_cache_entry_is_a_miss(tmp_path, use_fake_embedder):
    cfg = config(tmp_path, history={"enabled": False})
    vocnlp.analyze(week(60), cfg)
    entries = list((tmp_path / "cache" / "topics").glob("*.npz"))
    assert len(entries) == 1
    entries[0].write_bytes(b"not an npz")
    again = vocnlp.analyze(week(60), cfg)
    assert not again.manifest["topics"]["from_cache"] and again.manifest["topics"]["n_topics"] >= 1
    assert vocnlp.analyze(week(60), cfg).manifest["topics"]["from_cache"]  # rewritten


def test_cache_round_trip_keeps_a_tracked_result():
    from vocnlp.config import TopicsConfig
    from vocnlp.stages.tracking import track_topics
    from vocnlp.topic_cache import TopicCache

    rng = np.random.RandomState(1)
    d = 16
    base = np.eye(d, dtype=np.float32)
    registry = pd.DataFrame({"topic_id": [0, 1], "topic_label": ["A", "B"], "keywords": ["", ""],
                             "first_period": ["p1", "p1"], "merged_into": [np.nan, np.nan],
                             "centroid": [base[0], base[3]], "threshold": [0.5, 0.5]})
    X = np.vstack([base[k] + 0.05 * rng.randn(d) for k in [0] * 30 + [3] * 30 + [8] * 40]).astype(np.float32)
    words = ["配送", "遅延", "梱包", "店員", "接客", "アプリ"]
    tokens = [[words[i % 6], words[(i * 5) % 6]] for i in range(len(X))]
    cfg = TopicsConfig(min_docs_for_clustering=10, assign_floor=0.8, merge_threshold=0.9)
    res = track_topics(X, tokens, cfg, registry, next_id=2, reference_mean=np.zeros(d, np.float32),
                       previous=X[:50] + 0.01)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        cache = TopicCache(tmp)
        cache.put("k", res)
        back = cache.get("k")
    assert type(back) is type(res)
    np.testing.assert_array_equal(back.assignments, res.assignments)
    pd.testing.assert_frame_equal(back.table, res.table)
    pd.testing.assert_frame_equal(back.new_topics.drop(columns="centroid"), res.new_topics.drop(columns="centroid"))
    for a, b in zip(back.new_topics.centroid, res.new_topics.centroid):
        np.testing.assert_array_equal(a, b)
    assert back.centroids.keys() == res.centroids.keys() and back.state.keys() == res.state.keys()
    for k in res.state:
        np.testing.assert_array_equal(back.state[k][0], res.state[k][0])
        assert back.state[k][1] == res.state[k][1]
    assert back.merged == res.merged and back.split_from == res.split_from and back.params == res.params
    np.testing.assert_array_equal(back.reference_mean, res.reference_mean)
    assert [w.as_dict() for w in back.warnings] == [w.as_dict() for w in res.warnings]


# -- start-up ---------------------------------------------------------------------------------------

HEAVY = ("bertopic", "torch", "sentence_transformers", "sklearn", "umap", "transformers", "numba", "ray")


def _loaded_after(code: str) -> list[str]:
    probe = (f"import sys, json\nsys.path.insert(0, {str(ROOT)!r})\n{code}\n"
             f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_and_help_load_no_heavy_library():
    assert _loaded_after("import vocnlp; vocnlp.__version__") == []
    assert _loaded_after("from typer.testing import CliRunner\nfrom vocnlp.cli.main import app\n"
                         "r = CliRunner()\nassert r.invoke(app, ['--help']).exit_code == 0\n"
                         "assert r.invoke(app, ['run', '--help']).exit_code == 0") == []
    assert _loaded_after("import vocnlp; vocnlp.analyze; import vocnlp.pipeline") == []


def test_cached_rerun_loads_no_topic_library(tmp_path):
    """A fresh process re-running unchanged input neither imports BERTopic nor scikit-learn."""
    csv = tmp_path / "w.csv"
    week(60).to_csv(csv, index=False)
    code = ("from tests.conftest import FakeEmbedder\nimport vocnlp.pipeline as p\n"
            "p.create_embedder = lambda c: FakeEmbedder()\n"
            f"r = p.analyze({str(csv)!r}, {config(tmp_path, history={'enabled': False})!r})\n"
            "print(r.manifest['topics']['from_cache'])")
    first = subprocess.run([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r})\n{code}"],
                           capture_output=True, text=True, cwd=ROOT, check=True)
    assert first.stdout.split()[0] == "False"
    assert _loaded_after(code) == []
