"""Read an export (CSV / TSV / XLSX / JSONL / Parquet) into a frame of strings, keeping every row.

Encodings: UTF-8, UTF-8 with BOM and CP932 (Excel on Japanese Windows) are detected without the
user saying which; anything else goes through charset-normalizer. Every problem that stops a run
raises ``InputError`` with a one-line message and the fix.
"""

from __future__ import annotations

import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .. import schema as S
from ..config import InputConfig
from ..errors import InputError, RunWarning

SUPPORTED = {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl",
             ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}
MAX_FIELD = 50_000_000


@dataclass
class IngestResult:
    frame: pd.DataFrame  # input columns as strings + S.ROW
    text_column: str
    id_column: str | None
    file_format: str
    encoding: str | None
    sha256: str
    sheet: str | None = None
    warnings: list[RunWarning] = field(default_factory=list)
    renamed_columns: dict[str, str] = field(default_factory=dict)


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def decode_bytes(raw: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Return (text, encoding used). Tries UTF-8 (with/without BOM), CP932, then charset-normalizer."""
    if encoding != "auto":
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as err:
            raise InputError(
                f"the file cannot be decoded as {encoding} ({err.__class__.__name__}).",
                fix="remove input.encoding from the config (auto-detect) or set the right one, e.g. cp932.",
            ) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        return raw[3:].decode("utf-8", errors="strict"), "utf-8-sig"
    for enc in ("utf-8", "cp932"):
        try:
            return raw.decode(enc), enc
        except UnicodeDecodeError:
            continue
    from charset_normalizer import from_bytes

    best = from_bytes(raw[:2_000_000]).best()
    if best is None or best.encoding is None:
        raise InputError(
            "the file is not text in any known encoding (binary data?).",
            fix="export the data as CSV (UTF-8) or XLSX and try again.",
        )
    return raw.decode(best.encoding, errors="replace"), best.encoding


def _looks_binary(raw: bytes) -> bool:
    head = raw[:8192]
    if not head:
        return False
    if b"\x00" in head and not (head.startswith(b"\xff\xfe") or head.startswith(b"\xfe\xff")):
        return True
    ctrl = sum(1 for b in head if b < 9 or (13 < b < 32))
    return ctrl / len(head) > 0.05


def _read_delimited(path: Path, sep: str, cfg: InputConfig) -> tuple[pd.DataFrame, str]:
    raw = path.read_bytes()
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text, enc = raw.decode("utf-16"), "utf-16"
    else:
        if _looks_binary(raw):
            raise InputError(f"'{path.name}' looks like binary data, not a {sep == ',' and 'CSV' or 'TSV'} file.",
                             fix="export the data as CSV (UTF-8) or XLSX and try again.")
        text, enc = decode_bytes(raw, cfg.encoding)
    if not text.strip():
        raise InputError(f"'{path.name}' is empty.", fix="export the week's comments again; the file has no header and no rows.")
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_filter=False,
                         engine="c", skip_blank_lines=True)
    except pd.errors.ParserError as err:
        raise InputError(f"'{path.name}' is not a well-formed {'CSV' if sep == ',' else 'TSV'} file: {str(err).strip()}.",
                         fix="check quoting in the export (a text with a line break must be quoted).") from None
    return df, enc


def _read_xlsx(path: Path, cfg: InputConfig) -> tuple[pd.DataFrame, str | None, list[RunWarning]]:
    warnings: list[RunWarning] = []
    try:
        sheets = pd.read_excel(path, sheet_name=None if cfg.sheet is None else cfg.sheet, dtype=str,
                               keep_default_na=False, engine="openpyxl")
    except ValueError as err:
        raise InputError(f"cannot read sheet {cfg.sheet!r} of '{path.name}': {err}.",
                         fix="set input.sheet to an existing sheet name or index, or leave it empty.") from None
    except Exception as err:  # zipfile.BadZipFile, openpyxl errors, ...
        raise InputError(f"'{path.name}' is not a readable XLSX file ({err.__class__.__name__}).",
                         fix="open it in Excel and save it again as .xlsx, or export CSV.") from None
    if isinstance(sheets, pd.DataFrame):
        return sheets, str(cfg.sheet), warnings
    names = list(sheets)
    wanted = {cfg.text_column, *cfg.text_column_candidates}
    chosen = next((n for n in names if wanted & {str(c).strip() for c in sheets[n].columns}), None)
    if chosen is None:
        chosen = next((n for n in names if len(sheets[n])), names[0])
    if len(names) > 1:
        warnings.append(RunWarning("W101", f"the workbook has {len(names)} sheets {names}; read sheet '{chosen}'. "
                                           "Set input.sheet to choose another."))
    return sheets[chosen], chosen, warnings


def _read_json(path: Path, lines: bool, cfg: InputConfig) -> tuple[pd.DataFrame, str]:
    text, enc = decode_bytes(path.read_bytes(), cfg.encoding)
    if not text.strip():
        raise InputError(f"'{path.name}' is empty.", fix="export the week's comments again.")
    try:
        if lines:
            records = [json.loads(line) for line in text.splitlines() if line.strip()]
        else:
            records = json.loads(text)
            if isinstance(records, dict):
                records = next((v for v in records.values() if isinstance(v, list)), [records])
    except json.JSONDecodeError as err:
        raise InputError(f"'{path.name}' is not valid JSON{' Lines' if lines else ''} (line {err.lineno}: {err.msg}).",
                         fix="each line must be one JSON object, e.g. {\"id\": 1, \"text\": \"...\"}.") from None
    if not all(isinstance(r, dict) for r in records):
        raise InputError(f"'{path.name}' must hold JSON objects, one per comment.", fix="write one object per line.")
    df = pd.DataFrame.from_records(records)
    return df, enc


def _to_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Every input column as text ('' for missing), so values pass through unchanged."""
    out = {}
    for c in df.columns:
        col = df[c]
        if col.dtype == object or str(col.dtype).startswith("string"):
            out[c] = col.map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else str(v))
        else:
            out[c] = col.astype(object).map(lambda v: "" if v is None or (isinstance(v, float) and v != v) else
                                            (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v)))
    return pd.DataFrame(out, index=df.index)


def find_text_column(columns: list[str], cfg: InputConfig) -> tuple[str, bool]:
    """The configured text column, else the first likely free-text column. Returns (name, guessed)."""
    if cfg.text_column in columns:
        return cfg.text_column, False
    normalized = {str(c).strip().lower(): c for c in columns}
    for cand in cfg.text_column_candidates:
        if cand.lower() in normalized:
            return normalized[cand.lower()], True
    for c in columns:  # 「ご意見・ご要望（自由記述）」 and the like
        if any(k in str(c) for k in ("自由記述", "コメント", "ご意見", "ご要望", "感想", "comment", "feedback")):
            return c, True
    shown = ", ".join(repr(c) for c in columns[:30])
    raise InputError(f"no text column '{cfg.text_column}' and no likely free-text column among: {shown}.",
                     fix="pass --text-column NAME (or set input.text_column in the config).")


def read_input(path: Path | str, cfg: InputConfig) -> IngestResult:
    path = Path(path)
    if not path.exists():
        raise InputError(f"input file '{path}' does not exist.", fix="check the path (relative paths start from the current folder).")
    if path.is_dir():
        raise InputError(f"'{path}' is a folder, not a file.", fix="pass one export file, e.g. data/sample/midori_2026-W44.csv.")
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        raise InputError(f"unsupported file type '{path.suffix or '(none)'}' for '{path.name}'.",
                         fix="use .csv, .tsv, .xlsx, .jsonl or .parquet.")
    if path.stat().st_size == 0:
        raise InputError(f"'{path.name}' is empty (0 bytes).", fix="export the week's comments again.")
    warnings: list[RunWarning] = []
    enc: str | None = None
    sheet = None
    if kind in ("csv", "tsv"):
        df, enc = _read_delimited(path, "," if kind == "csv" else "\t", cfg)
    elif kind == "xlsx":
        df, sheet, warnings = _read_xlsx(path, cfg)
    elif kind in ("jsonl", "json"):
        df, enc = _read_json(path, kind == "jsonl", cfg)
    else:
        try:
            df = pd.read_parquet(path)
        except Exception as err:
            raise InputError(f"'{path.name}' is not a readable Parquet file ({err.__class__.__name__}).",
                             fix="write it again with pandas.DataFrame.to_parquet or export CSV.") from None
    df.columns = [str(c).strip() if str(c).strip() else f"column_{i + 1}" for i, c in enumerate(df.columns)]
    if df.columns.duplicated().any():
        seen: dict[str, int] = {}
        cols = []
        for c in df.columns:
            seen[c] = seen.get(c, 0) + 1
            cols.append(c if seen[c] == 1 else f"{c}_{seen[c]}")
        df.columns = cols
        warnings.append(RunWarning("W102", "duplicate column names were numbered (name_2, name_3 ...)."))
    if len(df.columns) == 0:
        raise InputError(f"'{path.name}' has no columns.", fix="export the data with a header row.")
    text_col, guessed = find_text_column(list(df.columns), cfg)
    if guessed:
        warnings.append(RunWarning("W103", f"no column '{cfg.text_column}'; using '{text_col}' as the text column. "
                                           "Pass --text-column to choose explicitly."))
    id_col = cfg.id_column if cfg.id_column and cfg.id_column in df.columns else None
    if cfg.id_column and id_col is None and cfg.id_column != "id":
        raise InputError(f"id column '{cfg.id_column}' not found; columns are: {', '.join(map(repr, df.columns[:30]))}.",
                         fix="pass --id-column with one of them, or leave it out to number the rows.")
    df = _to_strings(df).reset_index(drop=True)
    if len(df) == 0:
        warnings.append(RunWarning("W104", "the file has a header but no rows; the outputs are empty."))
    df[S.ROW] = range(len(df))
    if id_col is not None:
        dup = df[id_col].duplicated(keep=False) & (df[id_col] != "")
        if dup.any():
            warnings.append(RunWarning("W105", f"{int(dup.sum())} rows share an id with another row; ids are kept as given "
                                               "(use the 'row' column to tell them apart)."))
    return IngestResult(frame=df, text_column=text_col, id_column=id_col, file_format=kind, encoding=enc,
                        sha256=file_sha256(path), sheet=sheet, warnings=warnings)
