"""Which input column holds what: the free text, the id, the date and the score, by name and by content.

Real exports name their columns freely (レビュー本文, ご意見・ご要望（自由記述）, 受付内容), so a whole-name list
misses most of them. The free text is the column of strings with the longest typical length that reads as
prose rather than ids, dates, versions, numbers or categories; a partial name match (本文, コメント, 意見 ...)
helps, but never makes an id or a date column the text. Ids, dates and scores are found by a name hint
and checked by content (unique, parseable as dates, numbers on a small scale).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass

import pandas as pd

from .config import InputConfig
from .dates import date_share, parse_date
from .errors import InputError

DEFAULT_TEXT_COLUMN = "text"
TEXT_HINTS = ("本文", "コメント", "意見", "感想", "レビュー", "自由記述", "内容", "要望", "回答", "comment", "review",
              "feedback", "text", "body", "message")
ID_HINTS = ("id", "番号", "no", "no.", "#", "コード")
DATE_HINTS = ("date", "time", "日", "created", "timestamp", "posted")
SCORE_EXACT = ("nps", "NPS", "csat", "CSAT", "stars", "rating", "score", "評価", "満足度", "NPS点数", "推奨度")
SCORE_HINTS = ("評価", "星", "満足度", "nps", "推奨度", "rating", "star", "score", "csat", "点数")
SAMPLE = 2000  # cells looked at per column
MIN_PROSE_SHARE = 0.6
CATEGORY_MIN_ROWS = 20  # below this, a repeated value says nothing about a column being a category
CATEGORY_DISTINCT = 0.3
CATEGORY_MAX_LEN = 12  # categories are short (iOS, 30代, 苦情); a long text that repeats is still prose

_LETTER = re.compile(r"[A-Za-z\u3040-\u30ff\u3400-\u9fff]")
_NUMBER = re.compile(r"^[+-]?[\d,]*\.?\d+%?$")
_VERSION = re.compile(r"^v?\d+(\.\d+)+[a-z]?$", re.I)
_IDLIKE = re.compile(r"^(?=.*\d)[A-Za-z0-9_\-:#./]+$")
_URL_MAIL = re.compile(r"^(https?://\S+|\S+@\S+\.\S+)$")


def column_key(name: str) -> str:
    return "".join(unicodedata.normalize("NFKC", str(name)).split()).casefold()


def shown(columns: list[str]) -> str:
    out = ", ".join(repr(c) for c in columns[:30])
    return out + (f" (and {len(columns) - 30} more)" if len(columns) > 30 else "")


def _is_prose(value: str) -> bool:
    s = unicodedata.normalize("NFKC", value).strip()
    if not _LETTER.search(s):
        return False
    return not (_NUMBER.match(s) or _VERSION.match(s) or _IDLIKE.match(s) or _URL_MAIL.match(s)
                or parse_date(s) is not None)


@dataclass
class Profile:
    name: str
    fill: float  # share of non-empty cells
    typical_len: float  # median length of the non-empty cells
    prose: float  # share of the non-empty cells that read as prose
    distinct: float  # distinct / non-empty
    n_filled: int

    @property
    def categorical(self) -> bool:
        return (self.n_filled >= CATEGORY_MIN_ROWS and self.distinct < CATEGORY_DISTINCT
                and self.typical_len < CATEGORY_MAX_LEN)


def profile(name: str, values: pd.Series) -> Profile:
    cells = values.head(SAMPLE).astype(str)
    filled = cells[cells.str.strip() != ""]
    if not len(filled):
        return Profile(name, 0.0, 0.0, 0.0, 0.0, 0)
    uniq = pd.unique(filled)
    prose_of = {v: _is_prose(v) for v in uniq}
    return Profile(name, len(filled) / max(1, len(cells)), float(filled.str.len().median()),
                   float(filled.map(prose_of).mean()), len(uniq) / len(filled), len(filled))


def _hinted(name: str, hints: tuple[str, ...]) -> bool:
    key = column_key(name)
    return any(h in key for h in hints)


def choose_text_column(frame: pd.DataFrame, cfg: InputConfig, header_hint: bool = False) -> tuple[str, str]:
    """Returns (column, how): how is 'named' (the configured name), 'name' (a name match) or 'content'.

    A name the user chose (anything but the default ``text``) is never replaced by a guess: a typo in
    --text-column stops the run with the columns listed instead of analysing another column.
    """
    columns = [str(c) for c in frame.columns]
    if cfg.text_column in columns:
        return cfg.text_column, "named"
    same = [c for c in columns if column_key(c) == column_key(cfg.text_column)]  # 'Text', 'ｔｅｘｔ', 'コメント '
    if len(same) == 1:
        return same[0], "name"
    if cfg.text_column != DEFAULT_TEXT_COLUMN:
        close = difflib.get_close_matches(cfg.text_column, columns, n=1, cutoff=0.5)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        raise InputError(f"text column {cfg.text_column!r} not found{hint}; the columns are: {shown(columns)}.",
                         fix="pass --text-column with one of these names, exactly as written.")
    exact = {column_key(c) for c in cfg.text_column_candidates}
    best, best_score = None, 0.0
    profiles = {c: profile(c, frame[c]) for c in columns}
    for c, p in profiles.items():
        if p.prose < MIN_PROSE_SHARE or p.categorical:
            continue
        score = p.typical_len * p.fill ** 0.5 * (1.5 if _hinted(c, TEXT_HINTS) else 1.0) * (
            1.2 if column_key(c) in exact else 1.0)
        if score > best_score:
            best, best_score = c, score
    if best is not None:
        return best, "content"
    for cand in cfg.text_column_candidates:  # no column reads as prose (emoji only, one-word answers): by name
        hit = [c for c in columns if column_key(c) == column_key(cand)]
        if hit:
            return hit[0], "name"
    hit = [c for c in columns if _hinted(c, TEXT_HINTS) and profiles[c].prose >= MIN_PROSE_SHARE]  # never an id
    if hit:
        return hit[0], "name"
    where = " (if the column names are not on the first row, set input.header_row)" if header_hint else ""
    raise InputError(f"no text column '{cfg.text_column}' and no likely free-text column among: {shown(columns)}{where}.",
                     fix="pass --text-column NAME (or set input.text_column in the config).")


def choose_id_column(frame: pd.DataFrame, cfg: InputConfig, text_column: str) -> str | None:
    """The configured id column, else a column named like an id (レビューID, 受付番号, No) whose cells are all
    filled, unique and not prose; None = rows are numbered from 1."""
    if not cfg.id_column:
        return None
    columns = [str(c) for c in frame.columns]
    if cfg.id_column in columns:
        return cfg.id_column
    same = [c for c in columns if column_key(c) == column_key(cfg.id_column)]  # 'ID', 'Id', 'ｉｄ' for id
    if len(same) == 1:
        return same[0]
    if cfg.id_column != "id":
        raise InputError(f"id column '{cfg.id_column}' not found; columns are: {shown(columns)}.",
                         fix="pass --id-column with one of them, or leave it out to number the rows.")
    for c in columns:
        key = column_key(c)
        if c == text_column or not (key.endswith("id") or key in ID_HINTS or any(h in key for h in ("番号", "コード"))):
            continue
        values = frame[c].astype(str).str.strip()
        if len(values) and (values != "").all() and values.is_unique and profile(c, values).prose < 0.5:
            return c
    return None


def choose_date_column(frame: pd.DataFrame, cfg: InputConfig, exclude: set[str]) -> tuple[str | None, bool]:
    """(column, read Excel serials). Auto: a column where at least 80% of the filled cells are dates; one named
    like a date (投稿日, 回答日時, 受付日, 作成日, 日付, date) first, and only those may hold Excel serial numbers."""
    if cfg.date_column is None or cfg.date_column == "":
        return None, False
    columns = [str(c) for c in frame.columns]
    if cfg.date_column != "auto":
        same = [c for c in columns if c == cfg.date_column or column_key(c) == column_key(cfg.date_column)]
        if not same:
            raise InputError(f"date column '{cfg.date_column}' not found; columns are: {shown(columns)}.",
                             fix="set input.date_column to one of them, or to auto.")
        return same[0], True
    found = []
    for i, c in enumerate(columns):
        if c in exclude:
            continue
        hinted = _hinted(c, DATE_HINTS)
        share = date_share(frame[c].head(SAMPLE), serials=hinted)
        if share >= 0.8:
            found.append((not hinted, -share, i, c))
    if not found:
        return None, False
    best = min(found)
    return best[3], not best[0]


def choose_score_column(frame: pd.DataFrame, requested: str | None, exclude: set[str] = frozenset()) -> str | None:
    """The score column for drivers: ``requested`` by name, or auto: a column named like a score (評価, 星,
    満足度, NPS, 推奨度, rating …) whose filled cells are numbers between 0 and 10."""
    if requested in (None, "", "none"):
        return None
    columns = [str(c) for c in frame.columns]
    if requested != "auto":
        return requested if requested in columns else None
    ordered = [c for c in SCORE_EXACT if c in columns] + [c for c in columns if _hinted(c, SCORE_HINTS)]
    for c in ordered:
        if c in exclude:
            continue
        cells = frame[c].astype(str).str.strip()
        filled = cells[cells != ""]
        nums = pd.to_numeric(filled.map(lambda v: unicodedata.normalize("NFKC", v)), errors="coerce")
        if len(filled) and nums.notna().mean() >= 0.8 and nums.dropna().between(0, 10).all():
            return c
    return None
