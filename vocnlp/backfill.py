"""Backfill: split one export (a year of reviews) by its date column and run each period in order into the history.

``vocnlp run year.xlsx --output runs/ --split month`` writes ``runs/<period>/`` (a normal run folder) for
each period in time order, the slice each was run on (``runs/inputs/``, with ``source_row``: the row in the
original file), ``runs/undated/`` for the rows without a usable date (analysed, never stored in the history,
never dropped) and ``runs/backfill.csv`` / ``backfill.json``: per period its rows, topics, the topics born in
it and the emerging issues, i.e. what changed across the periods.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from . import schema as S
from .config import RunConfig
from .errors import InputError
from .history import HistoryStore
from .periods import KINDS, dates_of, label_dates
from .stages import ingest, outputs

SOURCE_ROW = "source_row"


@dataclass
class Split:
    """An export cut into periods: each slice keeps the input columns plus ``source_row``."""

    ing: ingest.IngestResult
    slices: dict[str, pd.DataFrame]
    undated: pd.DataFrame


@dataclass
class BackfillResult:
    output_dir: Path
    kind: str
    summary: pd.DataFrame  # one row per period (and one for the undated rows)
    undated_rows: int
    warnings: list[dict] = field(default_factory=list)


def split_input(path: Path, cfg: RunConfig, kind: str) -> Split:
    """Read the export once and cut it by the period of its date column."""
    if kind not in KINDS:
        raise InputError(f"--split '{kind}' is not one of {', '.join(KINDS)}.", fix="pass --split week, month or quarter.")
    ing = ingest.read_input(path, cfg.input)
    dates = dates_of(ing)
    if dates is None or not dates.notna().any():
        raise InputError(f"'{path.name}' has no date column to split by (columns: {', '.join(map(repr, ing.frame.columns[:20]))}).",
                         fix="set input.date_column to the column holding each comment's date, or run without --split.")
    frame = ing.frame.drop(columns=[S.ROW]).assign(**{SOURCE_ROW: (ing.frame[S.ROW] + 1).astype(str)})
    labels = label_dates(dates, kind)
    slices = {str(p): frame[labels == p].reset_index(drop=True) for p in sorted(labels.dropna().unique())}
    return Split(ing, slices, frame[labels.isna()].reset_index(drop=True))


def _slice_config(cfg: RunConfig, ing: ingest.IngestResult, kind: str) -> RunConfig:
    """The columns chosen on the whole file, fixed for every slice (a slice must not choose differently)."""
    out = cfg.model_copy(deep=True)
    out.input.text_column = ing.text_column
    out.input.id_column = ing.id_column or SOURCE_ROW
    out.input.date_column = ing.date_column
    out.input.header_row = None
    out.input.sheet = None
    out.input.encoding = "auto"
    out.history.period = kind
    return out


def _refuse_overlap(cfg: RunConfig, first: str) -> None:
    if not cfg.history.enabled:
        return
    store = HistoryStore(Path(cfg.history.path))  # relative to the current folder, as a run opens it
    try:
        store.require_kind(first)
        stored = [p for p in store.periods() if p >= first]
    finally:
        store.close()
    if stored:
        raise InputError(f"the history already holds period(s) {stored[0]} … {stored[-1]} that this backfill would run "
                         "again out of order.",
                         fix=f"run `vocnlp history drop --from {first}` first, or set history.path to a new folder.")


def _summary_row(period: str, result) -> dict:
    m = result.manifest
    h = m.get("history") or {}
    labels = dict(zip(result.topics[S.TOPIC_ID], result.topics[S.TOPIC_LABEL])) if len(result.topics) else {}
    top = result.issues[S.TOPIC_LABEL].iloc[0] if len(result.issues) else ""
    return {"period": period, "rows": m["counts"]["read"], "analysed": m["counts"]["analysed"],
            "topics": m["topics"]["n_topics"],
            "new_topics": " | ".join(labels.get(t, str(t)) for t in h.get("new_topics", [])),
            "emerging": " | ".join(labels.get(t, str(t)) for t in h.get("emerging_topics", [])),
            "top_issue": top, "output": str(result.output_dir)}


def backfill(input_path: Path | str, output_dir: Path | str, cfg: RunConfig, kind: str,
             run: Callable | None = None, on_period: Callable[[str, int, int], None] | None = None) -> BackfillResult:
    """Run every period of ``input_path`` in time order (see the module docstring)."""
    from .pipeline import run_pipeline

    run = run or run_pipeline
    input_path, output_dir = Path(input_path), Path(output_dir)
    split = split_input(input_path, cfg, kind)
    periods = list(split.slices)
    _refuse_overlap(cfg, periods[0])
    slice_cfg = _slice_config(cfg, split.ing, kind)
    inputs = output_dir / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    rows, warnings = [], [w.as_dict() for w in split.ing.warnings]
    for i, period in enumerate(periods, 1):
        if on_period:
            on_period(period, i, len(periods))
        path = inputs / f"{input_path.stem}_{period}.csv"
        split.slices[period].to_csv(path, index=False, encoding="utf-8")  # an input: texts exactly as read
        rows.append(_summary_row(period, run(path, output_dir / period, slice_cfg, period=period)))
    if len(split.undated):
        path = inputs / f"{input_path.stem}_undated.csv"
        split.undated.to_csv(path, index=False, encoding="utf-8")
        undated_cfg = slice_cfg.model_copy(deep=True)
        undated_cfg.history.enabled = False
        rows.append(_summary_row("undated", run(path, output_dir / "undated", undated_cfg)))
        warnings.append({"code": "W304", "message": f"{len(split.undated)} row(s) have no usable date in "
                                                    f"'{split.ing.date_column}'; they were analysed in "
                                                    f"{output_dir / 'undated'} and not stored in the history."})
    summary = pd.DataFrame(rows)
    outputs.write_csv(summary, output_dir / "backfill.csv")
    (output_dir / "backfill.json").write_text(json.dumps(
        {"input": str(input_path), "split": kind, "date_column": split.ing.date_column,
         "text_column": split.ing.text_column, "periods": rows, "undated_rows": len(split.undated),
         "warnings": warnings}, ensure_ascii=False, indent=2), encoding="utf-8")
    return BackfillResult(output_dir, kind, summary, len(split.undated), warnings)
