"""The run's progress bars: rows (or texts) per second and the time left on a counted stage."""

from __future__ import annotations

import io

from rich.console import Console

from vocnlp.cli.main import progress_bars

FAKE_CONFIG = """\
classify:
  cx_dimension: {{method: prototype, labels: "builtin:labels/cx_dimension.yaml"}}
  journey_stage: {{method: prototype, labels: "builtin:labels/journey_stage.yaml"}}
sentiment: {{method: lexicon}}
embed: {{cache_dir: "{cache}"}}
"""


class _Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


def _render(bar, console) -> str:
    console.print(bar.make_tasks_table(bar.tasks))
    return console.file.getvalue()


def test_embedding_bar_shows_texts_per_second_and_time_left():
    clock = _Clock()
    console = Console(file=io.StringIO(), force_terminal=False, width=160, color_system=None)
    bar, progress = progress_bars(console, get_time=clock)
    progress("embed", 0, 1000)
    for k in range(1, 5):  # 100 texts a second for 4 s: 600 left -> 6 s
        clock.t = float(k)
        progress("embed", 100 * k, 1000)
    text = _render(bar, console)
    assert "embedding comments" in text
    assert "400/1000" in text
    assert "100 texts/s" in text
    assert "0:00:06" in text  # time remaining


def test_row_stages_count_rows_and_uncounted_stages_show_no_rate():
    clock = _Clock()
    console = Console(file=io.StringIO(), force_terminal=False, width=160, color_system=None)
    bar, progress = progress_bars(console, get_time=clock)
    progress("tokenize", 0, 0)  # a stage that reports no counts: a spinner-like bar, no rate
    progress("classify", 0, 50_000)
    for k in (1, 2):  # 12,500 rows a second: 25,000 left -> 2 s
        clock.t = float(k)
        progress("classify", 12_500 * k, 50_000)
    lines = _render(bar, console).splitlines()
    tok = next(line for line in lines if line.startswith("tokenize"))
    cls = next(line for line in lines if line.startswith("classify"))
    assert "/s" not in tok
    assert "12,500 rows/s" in cls
    assert "0:00:02" in cls


def test_cli_reports_text_progress_and_quiet_shows_none(tmp_path, small_csv, monkeypatch, use_fake_embedder):
    from typer.testing import CliRunner

    import vocnlp.cli.main as cli

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("VOCNLP_PROGRESS", "1")  # bars although stderr is not a terminal
    calls: list[tuple[str, int, int]] = []
    real = cli.progress_bars

    def recording(console, get_time=None):
        bar, progress = real(console, get_time)

        def spy(stage, done, total):
            calls.append((stage, done, total))
            progress(stage, done, total)

        return bar, spy

    monkeypatch.setattr(cli, "progress_bars", recording)
    cfg = tmp_path / "config.yaml"  # prototype classifiers and the lexicon: the shipped models need the real embedder
    cfg.write_text(FAKE_CONFIG.format(cache=(tmp_path / "cache").as_posix()), encoding="utf-8")
    args = ["--config", str(cfg), "--no-history"]
    runner = CliRunner()
    out = runner.invoke(cli.app, ["run", str(small_csv), "--output", str(tmp_path / "run"), *args])
    assert out.exit_code == 0, (out.output, out.stderr if out.stderr_bytes else "", repr(out.exception))
    embed = [c for c in calls if c[0] == "texts"]  # the per-text stages, counted in distinct texts
    assert embed and embed[-1][1] == embed[-1][2] > 0  # counted to the end: a rate and a time left to show
    calls.clear()
    quiet = runner.invoke(cli.app, ["run", str(small_csv), "--output", str(tmp_path / "run2"), *args, "-q"])
    assert quiet.exit_code == 0 and quiet.output == ""
    assert calls == []
