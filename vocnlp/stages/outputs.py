"""Write the run folder atomically: everything goes to a temporary sibling folder, then one rename.

A run killed midway therefore leaves the previous outputs untouched. CSV files are UTF-8 with BOM
(Excel on Japanese Windows opens them correctly) and, like the XLSX, neutralise spreadsheet
formulas: a text cell starting with = + - @ (or a tab / CR) gets a leading apostrophe.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _is_formula(v) -> bool:
    if not (isinstance(v, str) and v.startswith(FORMULA_START)):
        return False
    try:
        float(v)
        return False  # "-3" is a number, not a formula
    except ValueError:
        return True


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Prefix text cells that a spreadsheet would run as a formula. Numeric columns stay numbers. Each column's
    distinct values are checked once (a million rows of a few channels are a few checks); a column without such a
    cell is passed through as it is, and the frame is copied only when a cell changes."""
    out = df
    for c in df.columns:
        col = df[c]
        if not (col.dtype == object or pd.api.types.is_string_dtype(col)):
            continue
        try:
            codes, uniques = pd.factorize(col)
            bad = np.fromiter((_is_formula(v) for v in uniques), dtype=bool, count=len(uniques))
            rows = np.flatnonzero(bad[codes] & (codes >= 0)) if bad.any() else codes[:0]
        except TypeError:  # unhashable cells (lists): checked one by one
            rows = np.flatnonzero(np.fromiter((_is_formula(v) for v in col), dtype=bool, count=len(col)))
        if len(rows):
            if out is df:
                out = df.copy()
            values = out[c].to_numpy(dtype=object).copy()
            values[rows] = ["'" + v for v in values[rows]]
            out[c] = pd.Series(values, index=out.index, dtype=object if col.dtype == object else col.dtype)
    return out


CHUNK_ROWS = 100_000  # rows converted at a time when writing the large tables (bounds the copies)


def write_csv(df: pd.DataFrame, path: Path, chunk_rows: int = CHUNK_ROWS) -> None:
    """UTF-8 with BOM, formulas neutralised; written ``chunk_rows`` at a time, so the neutralised copy and
    pandas' text conversion never hold more than one chunk of a large table (same bytes as one call)."""
    if len(df) <= chunk_rows:
        neutralise_formulas(df).to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")
        return
    write_csv_chunks((df.iloc[start:start + chunk_rows] for start in range(0, len(df), chunk_rows)), path)


def write_parquet(df: pd.DataFrame, path: Path, chunk_rows: int = CHUNK_ROWS) -> None:
    """``df.to_parquet(path, index=False)``, converted to Arrow ``chunk_rows`` at a time (one row group each)
    so that a large table is never held twice in memory; a table of one chunk is written exactly as pandas
    writes it."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if len(df) <= chunk_rows:
        df.to_parquet(path, index=False)
        return
    schema = pa.Schema.from_pandas(df, preserve_index=False)  # from every row: a chunk of all-empty cells keeps its type
    with pq.ParquetWriter(path, schema, compression="snappy") as w:
        for start in range(0, len(df), chunk_rows):
            part = df.iloc[start:start + chunk_rows]
            w.write_table(pa.Table.from_pandas(part, schema=schema, preserve_index=False))


def write_csv_chunks(chunks, path: Path, parquet_path: Path | None = None, schema=None) -> None:
    """``write_csv`` of a table given as consecutive chunks (DataFrames with the same columns): the same bytes as
    writing them concatenated, without ever holding the whole table. With ``parquet_path`` each chunk is also
    written there, built once for both files: one row group per chunk, every chunk converted with ``schema`` (the
    whole table's: a chunk whose cells in a column are all empty keeps that column's type)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    with open(path, "w", encoding="utf-8-sig", newline="") as f, \
            (pq.ParquetWriter(parquet_path, schema, compression="snappy") if parquet_path else
             contextlib.nullcontext()) as w:
        for k, chunk in enumerate(chunks):
            neutralise_formulas(chunk).to_csv(f, index=False, header=k == 0, lineterminator="\n")
            if w is not None:
                w.write_table(pa.Table.from_pandas(chunk, schema=schema, preserve_index=False))


def write_xlsx(sheets: dict[str, pd.DataFrame], path: Path) -> None:
    with pd.ExcelWriter(path, engine="xlsxwriter", engine_kwargs={"options": {"strings_to_formulas": False,
                                                                               "strings_to_urls": False}}) as xw:
        for name, df in sheets.items():
            neutralise_formulas(df).to_excel(xw, sheet_name=name[:31], index=False)
            ws = xw.sheets[name[:31]]
            ws.freeze_panes(1, 0)
            for k, c in enumerate(df.columns):
                width = min(60, max(8, int(df[c].map(lambda v: len(str(v))).quantile(0.9)) if len(df) else 8, len(str(c)) + 2))
                ws.set_column(k, k, width)


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, (Path,)):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o)}")


def write_json(obj, path: Path) -> None:
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=2, default=_json_default), encoding="utf-8")


class AtomicRunDir:
    """``with AtomicRunDir(out) as tmp: write into tmp`` - on success tmp replaces out in one rename."""

    def __init__(self, target: Path):
        self.target = Path(target)

    STALE_S = 3600  # leftovers of a run killed while writing (older than this) are removed

    def __enter__(self) -> Path:
        self.target.parent.mkdir(parents=True, exist_ok=True)
        now = time.time()
        for p in self.target.parent.glob(f".{self.target.name}.*-*"):
            if (".tmp-" in p.name or ".old-" in p.name) and now - p.stat().st_mtime > self.STALE_S:
                shutil.rmtree(p, ignore_errors=True)
        if self.target.exists() and not self.target.is_dir():
            from ..errors import InputError

            raise InputError(f"--output '{self.target}' is a file, not a folder.", fix="pass a folder path for the run.")
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.tmp-", dir=self.target.parent))
        os.chmod(self.tmp, 0o755)  # mkdtemp makes it private; a run folder is shared with its readers
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            return
        old = None
        if self.target.exists():
            old = self.target.parent / f".{self.target.name}.old-{os.getpid()}"
            if old.exists():
                shutil.rmtree(old)
            os.replace(self.target, old)
        os.replace(self.tmp, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
