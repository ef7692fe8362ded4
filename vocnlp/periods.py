"""Periods a run is stored under: an ISO week (2026-W47), a month (2026-11) or a quarter (2026-Q4).

Within one kind the period strings sort in time order, which is all the history needs (previous period,
later periods); a history therefore keeps one kind (:func:`check_same_kind`). A run's period comes from
``--period``, else from the file name (midori_2026-W46.csv, export_2024-Q3.xlsx, survey_2024-07.csv),
else from the date column: the period of ``history.period``'s kind most rows fall in. When the rows span
several periods the run says so (W303) and names ``--split``, which runs each period in turn
(:mod:`vocnlp.backfill`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import InputError, RunWarning

KINDS = ("week", "month", "quarter")
KIND_JA = {"week": "週次", "month": "月次", "quarter": "四半期", None: "期間"}
_FULL = {"week": re.compile(r"(\d{4})-W(\d{1,2})", re.I), "month": re.compile(r"(\d{4})-(\d{1,2})"),
         "quarter": re.compile(r"(\d{4})-Q([1-4])", re.I)}
# in a file name: a week or a quarter anywhere, a month only when no day follows (export_2026-11-20 is a day)
_IN_NAME = {"week": re.compile(r"(?<!\d)(\d{4})-W(\d{2})(?!\d)", re.I), "quarter": re.compile(r"(?<!\d)(\d{4})-Q([1-4])(?!\d)", re.I),
            "month": re.compile(r"(?<!\d)(\d{4})-(\d{2})(?![\d-])")}
FORMATS = "a week (2026-W47), a month (2026-11) or a quarter (2026-Q4)"


def _format(kind: str, year: int, n: int) -> str:
    return {"week": f"{year}-W{n:02d}", "month": f"{year}-{n:02d}", "quarter": f"{year}-Q{n}"}[kind]


def _valid(kind: str, n: int) -> bool:
    return {"week": 1 <= n <= 53, "month": 1 <= n <= 12, "quarter": 1 <= n <= 4}[kind]


def period_kind(period: str | None) -> str | None:
    """'week', 'month' or 'quarter' for a well-formed period string, else None."""
    if not period:
        return None
    for kind, rx in _FULL.items():
        m = rx.fullmatch(period.strip())
        if m and _valid(kind, int(m.group(2))):
            return kind
    return None


def parse_period(text: str) -> str:
    """A period as given on the command line, normalised (2026-w7 -> 2026-W07); InputError if it is none."""
    for kind, rx in _FULL.items():
        m = rx.fullmatch(text.strip())
        if m and _valid(kind, int(m.group(2))):
            return _format(kind, int(m.group(1)), int(m.group(2)))
    raise InputError(f"period '{text}' is not {FORMATS}.", fix="pass --period like 2026-W47, 2026-11 or 2026-Q4.")


def from_file_name(name: str) -> str | None:
    for kind, rx in _IN_NAME.items():
        m = rx.search(name)
        if m and _valid(kind, int(m.group(2))):
            return _format(kind, int(m.group(1)), int(m.group(2)))
    return None


def label_dates(dates: pd.Series, kind: str) -> pd.Series:
    """The period of each date (None where the date is missing)."""
    out = pd.Series([None] * len(dates), index=dates.index, dtype=object)
    ok = dates.notna()
    if not ok.any():
        return out
    d = dates[ok]
    if kind == "week":
        iso = d.dt.isocalendar()
        labels = iso["year"].astype(int).astype(str) + "-W" + iso["week"].astype(int).astype(str).str.zfill(2)
    elif kind == "month":
        labels = d.dt.strftime("%Y-%m")
    elif kind == "quarter":
        labels = d.dt.year.astype(str) + "-Q" + d.dt.quarter.astype(str)
    else:  # pragma: no cover - the config allows only KINDS
        raise ValueError(kind)
    out[ok] = labels.values
    return out


@dataclass
class PeriodChoice:
    period: str | None
    source: str  # "given" | "file name" | "date column 'X'" | "none"
    warnings: list[RunWarning] = field(default_factory=list)


def choose_period(given: str | None, input_path: Path, dates: pd.Series | None, kind: str,
                  date_column: str | None = None) -> PeriodChoice:
    """The period a run is stored under (see the module docstring)."""
    if given:
        return PeriodChoice(parse_period(given), "given")
    named = from_file_name(input_path.name)
    if named:
        return PeriodChoice(named, "file name")
    if dates is None or not dates.notna().any():
        return PeriodChoice(None, "none")
    labels = label_dates(dates, kind).dropna()
    counts = labels.value_counts()
    chosen = str(counts.index[0])
    warnings = []
    if len(counts) > 1:
        first, last = min(counts.index), max(counts.index)
        warnings.append(RunWarning(
            "W303", f"the dates in '{date_column}' span {len(counts)} {kind}s ({first} … {last}); the run is stored as "
                    f"{chosen}, the {kind} most rows fall in ({int(counts.iloc[0])} of {len(labels)}). To analyse each "
                    f"{kind} on its own run `vocnlp run FILE --output DIR --split {kind}`; for one period over the whole "
                    "file set history.period to a longer kind or pass --period."))
    return PeriodChoice(chosen, f"date column '{date_column}'", warnings)


def check_same_kind(stored: list[str], period: str) -> None:
    """A history keeps one kind of period: weeks and months do not sort into one time line."""
    kinds = {period_kind(p) for p in stored}
    kind = period_kind(period)
    if stored and kind not in kinds:
        have = next(iter(kinds)) or "other"
        raise InputError(
            f"the history holds {have} periods ({stored[0]} … {stored[-1]}) and this run's period {period} is a "
            f"{kind or 'different kind'}; one history keeps one kind of period.",
            fix=f"pass a {have} with --period (or set history.period: {have}), or set history.path to a separate "
                f"folder for {kind or 'these'} runs.")


def dates_of(ing) -> pd.Series | None:
    """The ingest result's date column as datetimes (None without one)."""
    if not getattr(ing, "date_column", None):
        return None
    from .dates import parse_dates

    return parse_dates(ing.frame[ing.date_column], serials=ing.date_serials)


def choose_for_run(given: str | None, input_path: Path, ing, kind: str, warn: list) -> str | None:
    """The pipeline's one call: the run's period, its warnings appended to ``warn``."""
    choice = choose_period(given, input_path, dates_of(ing), kind, ing.date_column)
    warn += choice.warnings
    return choice.period
