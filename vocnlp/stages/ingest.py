"""Read an export (CSV / TSV / XLSX / JSONL / Parquet) into a frame of strings, keeping every row.

Encodings: UTF-8, UTF-8 with BOM, UTF-16 with BOM, CP932 (Excel on Japanese Windows) and EUC-JP are
detected without the user saying which. A legacy encoding is only accepted when the decoded text reads
as Japanese (kana, common kanji, Japanese punctuation); anything else - Latin-1, a file that mixes
encodings, a file cut in the middle of a character - stops the run with an error that says how to
fix it, because a wrong guess would put mojibake into every output without anyone noticing
(docs/hardening.md). Every problem that stops a run raises ``InputError`` with a one-line message and
the fix.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from ..columns import choose_date_column, choose_id_column, choose_text_column
from ..config import InputConfig
from ..errors import InputError, RunWarning

SUPPORTED = {".csv": "csv", ".tsv": "tsv", ".txt": "tsv", ".xlsx": "xlsx", ".xlsm": "xlsx", ".jsonl": "jsonl",
             ".ndjson": "jsonl", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}
MAX_FIELD = 50_000_000
LEGACY_ENCODINGS = ("cp932", "euc_jp")  # tried in this order when the bytes are not UTF-8
PLAUSIBLE_JAPANESE = 0.6  # share of "ordinary Japanese" characters a legacy decoding needs (see _japanese_score)
_SCORE_CHARS = 1_000_000  # characters looked at when scoring a decoding


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
    text_column_how: str = "named"  # named | name (a name match) | content (chosen by what the cells hold)
    date_column: str | None = None
    date_serials: bool = False  # the date column may hold Excel serial numbers
    header_row: int = 1  # 1-based row of the column names
    control_rows: list[int] = field(default_factory=list)  # 1-based data rows whose control characters were removed

    def describe(self) -> dict:
        """What the manifest records about the columns chosen and the rows repaired."""
        return {"text_column_chosen_by": self.text_column_how, "date_column": self.date_column,
                "header_row": self.header_row, "rows_with_control_characters": len(self.control_rows)}


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# -- encodings -----------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _ordinary_japanese() -> frozenset[str]:
    """JIS X 0208 rows 1-47: punctuation and symbols, full-width letters, kana, Greek/Cyrillic, the NEC
    specials (①, ㈱, ㌔) and the 2,965 level-1 kanji. Everyday Japanese is almost entirely made of these;
    bytes of another encoding read as CP932/EUC-JP land in level-2 kanji, extension and user-defined
    areas and half-width katakana instead."""
    chars: set[str] = set()
    for lead in range(0x81, 0x99):  # CP932 0x8140..0x9872
        for trail in (*range(0x40, 0x7F), *range(0x80, 0xFD)):
            if (lead << 8 | trail) <= 0x9872:
                with contextlib.suppress(UnicodeDecodeError):
                    chars.add(bytes((lead, trail)).decode("cp932"))
    for lead in range(0xA1, 0xD0):  # EUC-JP rows 1-47 (maps a few symbols, e.g. 〜, differently)
        for trail in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(bytes((lead, trail)).decode("euc_jp"))
    return frozenset(chars)


def _japanese_score(text: str) -> float:
    """Share of the non-ASCII characters that are ordinary Japanese (half-width katakana count half)."""
    common = _ordinary_japanese()
    good = total = 0.0
    for ch in text[:_SCORE_CHARS]:
        if ch < "\x80":
            continue
        total += 1
        if ch in common:
            good += 1
        elif "\uff61" <= ch <= "\uff9f":  # half-width katakana: real in old exports, and typical of mojibake
            good += 0.5
    return good / total if total else 1.0


def _line_of(raw: bytes, pos: int) -> int:
    return raw.count(b"\n", 0, pos) + 1


def _guess_encoding(raw: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes

        best = from_bytes(raw[:200_000]).best()
    except Exception:  # pragma: no cover - a hint only
        return None
    return best.encoding if best is not None and best.encoding else None


def decode_bytes(raw: bytes, encoding: str = "auto") -> tuple[str, str]:
    """Return (text, encoding used). UTF-8 (with/without BOM), UTF-16 with BOM, then CP932 or EUC-JP
    when the result reads as Japanese; otherwise ``InputError`` naming the likely encoding."""
    if encoding != "auto":
        try:
            return raw.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError) as err:
            where = f" at line {_line_of(raw, err.start)}" if isinstance(err, UnicodeDecodeError) else ""
            raise InputError(
                f"the file cannot be decoded as {encoding}{where} ({err.__class__.__name__}).",
                fix="remove input.encoding from the config (auto-detect) or set the right one, e.g. cp932.",
            ) from None
    if raw.startswith(b"\xef\xbb\xbf"):
        try:
            return raw[3:].decode("utf-8"), "utf-8-sig"
        except UnicodeDecodeError as err:
            raise InputError(
                f"the file starts with a UTF-8 byte-order mark but has bytes that are not UTF-8 at line "
                f"{_line_of(raw, err.start + 3)} (mixed encodings, or a file cut off mid-character).",
                fix="export the data again as CSV UTF-8, or fix that line.",
            ) from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise InputError("the file starts with a UTF-16 byte-order mark but is not valid UTF-16.",
                             fix="export the data again as CSV UTF-8 or XLSX.") from None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError as err:
        not_utf8_at = err.start
    scored = []
    for enc in LEGACY_ENCODINGS:
        try:
            text = raw.decode(enc)
        except UnicodeDecodeError:
            continue
        scored.append((_japanese_score(text), -LEGACY_ENCODINGS.index(enc), enc, text))
    if scored:
        score, _, enc, text = max(scored)
        if score >= PLAUSIBLE_JAPANESE:
            return text, enc
    line = _line_of(raw, not_utf8_at)
    if _mostly_utf8(raw):
        raise InputError(
            f"the file is UTF-8 except for bytes on line {line} (a line pasted from another encoding, or a file "
            "cut off mid-character).",
            fix=f"fix line {line}, or export the whole file again as CSV UTF-8.",
        )
    tried = " or ".join(e.upper().replace("_", "-") for e in LEGACY_ENCODINGS)
    how = "gives garbled text" if scored else "fails"
    guess = _guess_encoding(raw)
    if guess and guess.replace("-", "_").lower() in _JAPANESE_CODECS:
        example = f"input.encoding: {guess}"
    else:  # charset-normalizer's guesses among Western code pages are often wrong (cp1250 for Latin-1)
        example = "input.encoding (e.g. latin-1 or cp1252)"
    raise InputError(
        f"cannot tell the file's encoding: it is not UTF-8 (first bad byte on line {line}) and reading it as "
        f"{tried} {how}.",
        fix=f"save it as UTF-8 (Excel: 'CSV UTF-8'), or set {example} in a --config file if you know the encoding.",
    )


_JAPANESE_CODECS = {"cp932", "shift_jis", "shift_jis_2004", "shift_jisx0213", "euc_jp", "euc_jis_2004", "euc_jisx0213",
                    "iso2022_jp", "iso2022_jp_1", "iso2022_jp_2", "iso2022_jp_2004", "iso2022_jp_3", "iso2022_jp_ext"}


def _mostly_utf8(raw: bytes) -> bool:
    """Valid UTF-8 multi-byte text with a few bad bytes (a pasted CP932 line, a truncated file)."""
    text = raw.decode("utf-8", errors="replace")
    bad = text.count("\ufffd")
    multibyte = sum(1 for ch in text[:_SCORE_CHARS] if ch >= "\x80" and ch != "\ufffd")
    return multibyte >= 1 and bad <= max(2, multibyte // 20)


_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0", b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\x1f\x8b", b"PAR1")
# C0 controls other than tab and line breaks, and DEL: a stray one inside a comment (old CRM exports write NUL)
# is removed from that row, which is counted; a file full of them is binary
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_CONTROL_MARK = "\ufdd0"  # a Unicode noncharacter: marks where control characters were, through the CSV parser


def _looks_binary(raw: bytes) -> bool:
    """A binary file (archive, image, workbook, UTF-16 without BOM) rather than text with a few stray controls."""
    head = raw[:8192]
    if not head:
        return False
    if head.startswith(_MAGIC):
        return True
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    ctrl = sum(1 for b in head if b < 9 or (13 < b < 32) or b == 127)
    return ctrl / len(head) > 0.05 or head.count(0) > max(8, len(head) // 100)


def _remove_marks(df: pd.DataFrame) -> tuple[pd.DataFrame, list[int]]:
    """Remove control characters (marked before parsing) from every cell; the 1-based rows that held any."""
    hit = pd.Series(False, index=df.index)
    out = {}
    for c in df.columns:
        col = df[c].astype(str)
        has = col.str.contains(_CONTROL_MARK, regex=False)
        if has.any():
            hit |= has
            col = col.str.replace(_CONTROL_MARK, "", regex=False)
        out[str(c).replace(_CONTROL_MARK, "")] = col
    return pd.DataFrame(out, index=df.index), [int(i) + 1 for i in df.index[hit]]


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as err:
        raise InputError(f"cannot read '{path}' ({err.strerror or err.__class__.__name__}).",
                         fix="check the file's permissions, or copy it to a local folder first.") from None


# -- delimited text ------------------------------------------------------------------------------


def _header_counts(text: str) -> dict[str, int]:
    """Delimiters outside quotes on the first line."""
    counts = {",": 0, "\t": 0}
    quoted = False
    for ch in text[:100_000]:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "\r\n":
            break
        elif not quoted and ch in counts:
            counts[ch] += 1
    return counts


def _sniff_separator(text: str, expected: str) -> str:
    """A TSV saved as .csv (or a CSV saved as .tsv/.txt) is read with the separator its header uses."""
    counts = _header_counts(text)
    other = "\t" if expected == "," else ","
    return other if counts[expected] == 0 and counts[other] > 0 else expected


def _read_delimited(path: Path, sep: str, cfg: InputConfig) -> tuple[pd.DataFrame, str, list[RunWarning], list[int]]:
    warnings: list[RunWarning] = []
    raw = _read_bytes(path)
    name = "CSV" if sep == "," else "TSV"
    if _looks_binary(raw):
        raise InputError(f"'{path.name}' looks like binary data, not a {name} file.",
                         fix="export the data as CSV (UTF-8) or XLSX and try again.")
    text, enc = decode_bytes(raw, cfg.encoding)
    del raw  # the file is held once more as text, then as UTF-8 for the parser: not three times over
    text = text.lstrip("\ufeff")  # a BOM written twice, or inside UTF-16
    if not text.strip():
        raise InputError(f"'{path.name}' is empty.", fix="export the week's comments again; the file has no header and no rows.")
    text = _CONTROL.sub(_CONTROL_MARK, text)
    skipped = text[: len(text) - len(text.lstrip("\r\n"))].count("\n")  # lines before the header
    first, _, rest = text.lstrip("\r\n").partition("\n")
    declared = re.fullmatch(r"sep=([,;\t|])", first.strip("\r"))  # Excel's "sep=;" first line
    if declared:
        text, used = rest, declared.group(1)
        skipped += 1 + len(rest) - len(rest.lstrip("\r\n"))
        if not text.strip():
            raise InputError(f"'{path.name}' has only its 'sep=' line.", fix="export the week's comments again.")
    else:
        used = _sniff_separator(text, sep)
    if cfg.header_row and cfg.header_row > 1:  # a title and notes above the column names
        lines = text.lstrip("\r\n").split("\n")
        if cfg.header_row > len(lines):
            raise InputError(f"input.header_row is {cfg.header_row} but '{path.name}' has {len(lines)} lines.",
                             fix="set input.header_row to the line holding the column names, or remove it.")
        skipped += cfg.header_row - 1
        text = "\n".join(lines[cfg.header_row - 1:])
    if used != sep and not declared:
        found = "tab" if used == "\t" else "comma"
        warnings.append(RunWarning("W106", f"'{path.name}' is {found}-separated although its name says "
                                           f"{name}; it was read as {'TSV' if used == chr(9) else 'CSV'}."))
    sep = used
    # blank lines inside the file are rows (an empty comment in a one-column export); blank lines
    # before the header and after the last row are not
    text = text.strip("\r\n") + "\n"
    marked = _CONTROL_MARK in text
    utf8 = text.encode("utf-8")
    del text
    try:
        # header=None: the header is read as a row, so a row with more fields than the header is an error
        # (with header=0 pandas silently turns the first column into the index and shifts every column)
        # bytes, not io.StringIO: pandas re-encodes a text buffer chunk by chunk and keeps the overflow of
        # multi-byte characters, which made reading quadratic (38 s for 1,000,000 Japanese rows, 3.7 s for 300,000)
        grid = pd.read_csv(io.BytesIO(utf8), sep=sep, header=None, dtype=str, encoding="utf-8",
                           keep_default_na=False, na_filter=False, engine="c", skip_blank_lines=False, index_col=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, csv.Error, ValueError, OverflowError) as err:
        detail = " ".join(str(err).split()).rstrip(".").replace("Error tokenizing data. C error: ", "")
        detail = re.sub(r"line (\d+)", lambda m: f"line {int(m.group(1)) + skipped}", detail)
        if "Expected" in detail and "fields" in detail:
            detail += " (more fields than the header: a separator inside a text that is not quoted?)"
        kind = {",": "CSV", "\t": "TSV"}.get(sep, f"'{sep}'-separated")
        raise InputError(f"'{path.name}' is not a well-formed {kind} file: {detail}.",
                         fix="quote texts that hold the separator, a quote or a line break, and export again "
                             "(or, if a title sits above the column names, set input.header_row).") from None
    del utf8
    header = ["" if v is None else str(v) for v in grid.iloc[0].tolist()] if len(grid) else []
    df = grid.iloc[1:].reset_index(drop=True)
    df.columns = header
    df, control_rows = _remove_marks(df) if marked else (df, [])
    if control_rows:
        shown_rows = ", ".join(str(r) for r in control_rows[:10]) + (" …" if len(control_rows) > 10 else "")
        warnings.append(RunWarning("W109", f"{len(control_rows)} row(s) held control characters (NUL and the like, "
                                           f"from a damaged export) that were removed: row {shown_rows}; the rest of "
                                           "each row is analysed."))
    return df, enc, warnings, control_rows


# -- XLSX ----------------------------------------------------------------------------------------


def _read_xlsx(path: Path, cfg: InputConfig) -> tuple[pd.DataFrame, str | None, list[RunWarning], int]:
    warnings: list[RunWarning] = []
    try:
        sheets = pd.read_excel(path, sheet_name=None if cfg.sheet is None else cfg.sheet, dtype=str, header=None,
                               keep_default_na=False, engine="openpyxl")
    except ValueError as err:
        if cfg.sheet is None:
            raise InputError(f"'{path.name}' is not a readable XLSX file ({' '.join(str(err).split())}).",
                             fix="open it in Excel and save it again as .xlsx, or export CSV.") from None
        raise InputError(f"cannot read sheet {cfg.sheet!r} of '{path.name}': {' '.join(str(err).split())}.",
                         fix="set input.sheet to an existing sheet name or index, or leave it empty.") from None
    except MemoryError:
        raise
    except Exception as err:  # zipfile.BadZipFile, openpyxl errors, ...
        raise InputError(f"'{path.name}' is not a readable XLSX file ({err.__class__.__name__}).",
                         fix="open it in Excel and save it again as .xlsx, or export CSV.") from None
    if isinstance(sheets, pd.DataFrame):
        frame, row = _with_header(sheets, cfg, path)
        return frame, str(cfg.sheet), warnings + _header_warning(row, cfg), row
    names = list(sheets)
    if not names:
        raise InputError(f"'{path.name}' has no sheets.", fix="open it in Excel and save it again, or export CSV.")
    framed = {n: _with_header(sheets[n], cfg, path) for n in names}
    sheets = {n: f for n, (f, _) in framed.items()}
    columns = {n: [str(c).strip() for c in sheets[n].columns] for n in names}
    chosen = next((n for n in names if cfg.text_column in columns[n]), None)  # the named column
    if chosen is None:  # else the longest sheet where a text column can be found (a README sheet has prose too)
        found = []
        for n in names:
            try:
                choose_text_column(sheets[n], cfg)
            except InputError:
                continue
            found.append(n)
        chosen = max(found, key=lambda n: len(sheets[n])) if found else None
    if chosen is None:
        chosen = next((n for n in names if len(sheets[n])), names[0])
    if len(names) > 1:
        warnings.append(RunWarning("W101", f"the workbook has {len(names)} sheets {names}; read sheet '{chosen}'. "
                                           "Set input.sheet to choose another."))
    row = framed[chosen][1]
    return sheets[chosen], str(chosen), warnings + _header_warning(row, cfg), row


def _header_row(grid: pd.DataFrame) -> int:
    """0-based row of the column names: the first of the top 20 rows that fills at least 60% of the widest
    of them (a survey tool's title row and the blank row under it fill one cell or none)."""
    top = grid.head(20).astype(str).apply(lambda col: col.str.strip() != "")
    filled = top.sum(axis=1)
    if not len(filled) or filled.max() == 0:
        return 0
    need = max(1.0, 0.6 * filled.max()) if filled.max() > 1 else 1.0
    return int(next(i for i, n in enumerate(filled.tolist()) if n >= need))


def _with_header(grid: pd.DataFrame, cfg: InputConfig, path: Path) -> tuple[pd.DataFrame, int]:
    """The sheet with its column names taken from the header row (input.header_row, else found)."""
    if cfg.header_row:
        if cfg.header_row > len(grid):
            raise InputError(f"input.header_row is {cfg.header_row} but the sheet of '{path.name}' has {len(grid)} rows.",
                             fix="set input.header_row to the row holding the column names, or remove it.")
        at = cfg.header_row - 1
    else:
        at = _header_row(grid)
    header = ["" if v is None or (isinstance(v, float) and v != v) else str(v) for v in grid.iloc[at].tolist()] if len(grid) else []
    frame = grid.iloc[at + 1:].reset_index(drop=True)
    frame.columns = header
    while len(frame.columns) and header and header[-1] == "" and (frame.iloc[:, -1].astype(str).str.strip() == "").all():
        frame = frame.iloc[:, :-1]  # an empty column right of the table (the title row was wider)
        header = header[:-1]
    return frame, at + 1


def _header_warning(row: int, cfg: InputConfig) -> list[RunWarning]:
    if row == 1 or cfg.header_row:
        return []
    return [RunWarning("W108", f"the column names were found on row {row} (the rows above hold a title or nothing); "
                               f"set input.header_row to choose another row.")]


# -- JSON ----------------------------------------------------------------------------------------


def _json_error(path: Path, lines: bool, lineno: int, msg: str) -> InputError:
    if lines:
        return InputError(f"'{path.name}' is not valid JSON Lines: line {lineno} is broken ({msg}).",
                          fix=f"repair or remove line {lineno}; each line must be one JSON object, "
                              "e.g. {\"id\": 1, \"text\": \"...\"}.")
    return InputError(f"'{path.name}' is not valid JSON (line {lineno}: {msg}).",
                      fix="write a list of objects, e.g. [{\"id\": 1, \"text\": \"...\"}], or one object per line (.jsonl).")


def _read_json(path: Path, lines: bool, cfg: InputConfig) -> tuple[pd.DataFrame, str]:
    raw = _read_bytes(path)
    if _looks_binary(raw):
        raise InputError(f"'{path.name}' looks like binary data, not JSON.",
                         fix="export the data as JSON Lines (UTF-8), CSV or XLSX and try again.")
    text, enc = decode_bytes(raw, cfg.encoding)
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise InputError(f"'{path.name}' is empty.", fix="export the week's comments again.")
    records: list = []
    if lines and not text.lstrip().startswith("["):
        for lineno, line in enumerate(text.split("\n"), 1):
            if not line.strip():
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as err:
                raise _json_error(path, True, lineno, f"{err.msg}: column {err.colno}") from None
            except RecursionError:
                raise _json_error(path, True, lineno, "nested too deeply") from None
            if not isinstance(rec, dict):
                raise InputError(f"'{path.name}' line {lineno} is a JSON {type(rec).__name__}, not an object.",
                                 fix="write one object per line, e.g. {\"id\": 1, \"text\": \"...\"}.")
            records.append(rec)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise _json_error(path, False, err.lineno, err.msg) from None
        except RecursionError:
            raise _json_error(path, False, 1, "nested too deeply") from None
        if isinstance(data, dict):
            data = next((v for v in data.values() if isinstance(v, list)), [data])
        if not isinstance(data, list):
            raise InputError(f"'{path.name}' holds a JSON {type(data).__name__}, not comments.",
                             fix="write a list of objects, e.g. [{\"id\": 1, \"text\": \"...\"}].")
        bad = next((i for i, r in enumerate(data) if not isinstance(r, dict)), None)
        if bad is not None:
            raise InputError(f"'{path.name}' must hold JSON objects, one per comment (item {bad + 1} is not).",
                             fix="write one object per comment, e.g. {\"id\": 1, \"text\": \"...\"}.")
        records = data
    records = [{_valid_text(str(k)): _valid_text(v) if isinstance(v, str) else v for k, v in r.items()} for r in records]
    df = pd.DataFrame.from_records(records) if records else pd.DataFrame()
    return df, enc


_SURROGATE = re.compile("[\ud800-\udfff]")


def _valid_text(s: str) -> str:
    """JSON escapes can spell lone surrogates (\\ud800), which no output can be written with: replace them."""
    if _SURROGATE.search(s) is None:
        return s
    return s.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


# -- common --------------------------------------------------------------------------------------


def _cell(v) -> str:
    """One input value as text: '' for missing, integers without '.0', objects as JSON, and lone
    surrogates (possible in JSON escapes) replaced so every output can be written as UTF-8."""
    if v is None:
        return ""
    if isinstance(v, float):
        if v != v:
            return ""
        return str(int(v)) if v.is_integer() else str(v)
    if isinstance(v, (dict, list)):
        v = json.dumps(v, ensure_ascii=False)
    elif not isinstance(v, str):
        try:
            if pd.isna(v):
                return ""
        except (TypeError, ValueError):
            pass
        v = str(v)
    return _valid_text(v)


def _to_strings(df: pd.DataFrame) -> pd.DataFrame:
    """Every input column as text ('' for missing), so values pass through unchanged. A typed column (strings
    from Parquet or CSV, numbers, dates) is converted once per distinct value and its rows share that value's
    string object: a million rows of a few channels or of a tenth distinct comments hold a few strings, not a
    million (an object column of mixed Python values is converted cell by cell: True and 1 are equal keys)."""
    out = {}
    for c in df.columns:
        col = df[c]
        if pd.api.types.is_string_dtype(col.dtype) and not col.isna().any() and col.dtype != object:
            out[c] = _shared_strings(col, None)
        elif col.dtype != object:
            out[c] = _shared_strings(col, _cell)
        else:
            out[c] = col.astype(object).map(_cell)
    return pd.DataFrame(out, index=df.index)


def _shared_strings(col: pd.Series, convert) -> pd.Series:
    """``col.astype(object)`` with one string object per distinct value, or ``col.astype(object).map(convert)``
    converting each distinct value once (the same values and dtype as those calls)."""
    codes, uniques = pd.factorize(col, use_na_sentinel=False)
    values = np.asarray(uniques, dtype=object)
    if convert is None:
        return pd.Series(values[codes], index=col.index, dtype=object)
    values = np.array([convert(v) for v in values], dtype=object)
    return pd.Series(values[codes], index=col.index)  # the dtype map would infer ("str")


# columns the stages add to the frame: an input column with one of these names would be overwritten
RESERVED_COLUMNS = frozenset({S.ROW, S.TEXT_RAW, S.TEXT_NORM, S.PII_COUNT, S.SEGMENTS, S.TOKENS, S.IS_DUPLICATE,
                              S.DOCS, S.VECTOR_TOKENS, S.PREDICATES, S.PHRASES, "_morphs"})


def _unique_columns(names: list) -> tuple[list[str], dict[str, str], bool]:
    """Stripped, non-empty, unique column names that do not clash with internal ones.
    Returns (names, {reserved name: new name}, whether duplicates were numbered)."""
    wanted = [str(c).strip() or f"column_{i + 1}" for i, c in enumerate(names)]
    taken = set(wanted)
    used: set[str] = set()
    out, renamed, dups = [], {}, False
    for c in wanted:
        reserved = c in RESERVED_COLUMNS
        new = f"input{c}" if reserved else c
        if new in used or (reserved and new in taken):
            dups = dups or not reserved
            k = 2
            while f"{new}_{k}" in used or f"{new}_{k}" in taken:
                k += 1
            new = f"{new}_{k}"
        if reserved:
            renamed[c] = new
        used.add(new)
        out.append(new)
    return out, renamed, dups


def read_input(path: Path | str, cfg: InputConfig) -> IngestResult:
    path = Path(path)
    if not path.exists():
        raise InputError(f"input file '{path}' does not exist.", fix="check the path (relative paths start from the current folder).")
    if path.is_dir():
        raise InputError(f"'{path}' is a folder, not a file.", fix="pass one export file, e.g. data/sample/midori_2026-W44.csv.")
    kind = SUPPORTED.get(path.suffix.lower())
    if kind is None:
        hint = " (old Excel format)" if path.suffix.lower() == ".xls" else ""
        raise InputError(f"unsupported file type '{path.suffix or '(none)'}'{hint} for '{path.name}'.",
                         fix="save it as .csv, .tsv, .xlsx, .jsonl or .parquet.")
    if path.stat().st_size == 0:
        raise InputError(f"'{path.name}' is empty (0 bytes).", fix="export the week's comments again.")
    warnings: list[RunWarning] = []
    enc: str | None = None
    sheet = None
    header_row = cfg.header_row or 1
    control_rows: list[int] = []
    if kind in ("csv", "tsv"):
        df, enc, warnings, control_rows = _read_delimited(path, "," if kind == "csv" else "\t", cfg)
    elif kind == "xlsx":
        df, sheet, warnings, header_row = _read_xlsx(path, cfg)
    elif kind in ("jsonl", "json"):
        df, enc = _read_json(path, kind == "jsonl", cfg)
    else:
        try:
            df = pd.read_parquet(path)
        except MemoryError:
            raise
        except Exception as err:
            raise InputError(f"'{path.name}' is not a readable Parquet file ({err.__class__.__name__}).",
                             fix="write it again with pandas.DataFrame.to_parquet or export CSV.") from None
    cols = _columns(df, cfg, path.name, warnings, header_hint=kind in ("xlsx", "csv", "tsv") and not cfg.header_row)
    return IngestResult(frame=cols.frame, text_column=cols.text_column, id_column=cols.id_column, file_format=kind,
                        encoding=enc, sha256=file_sha256(path), sheet=sheet, warnings=warnings,
                        renamed_columns=cols.renamed, text_column_how=cols.how, date_column=cols.date_column,
                        date_serials=cols.date_serials, header_row=header_row, control_rows=control_rows)


def read_frame(frame: pd.DataFrame, cfg: InputConfig, name: str = "DataFrame") -> IngestResult:
    """A DataFrame (from a notebook) read like a file: the same column choices, every value as text, every
    row kept. The caller's frame is not changed; ``sha256`` is over its values as text."""
    warnings: list[RunWarning] = []
    cols = _columns(frame.copy(), cfg, name, warnings, header_hint=False)
    digest = hashlib.sha256(json.dumps(list(cols.frame.columns), ensure_ascii=False).encode())
    digest.update(cols.frame.drop(columns=[S.ROW]).to_csv(index=False).encode("utf-8", "surrogatepass"))
    return IngestResult(frame=cols.frame, text_column=cols.text_column, id_column=cols.id_column,
                        file_format="dataframe", encoding=None, sha256=digest.hexdigest(), warnings=warnings,
                        renamed_columns=cols.renamed, text_column_how=cols.how, date_column=cols.date_column,
                        date_serials=cols.date_serials)


@dataclass
class _Columns:
    frame: pd.DataFrame
    text_column: str
    how: str
    id_column: str | None
    date_column: str | None
    date_serials: bool
    renamed: dict[str, str]


def _columns(df: pd.DataFrame, cfg: InputConfig, name: str, warnings: list[RunWarning], header_hint: bool) -> _Columns:
    """Unique column names, every value as text, the text / id / date columns and the row numbers, for a file
    and a DataFrame alike; appends to ``warnings``."""
    columns, renamed, dups = _unique_columns(list(df.columns))
    df.columns = columns
    if dups:
        warnings.append(RunWarning("W102", "duplicate column names were numbered (name_2, name_3 ...)."))
    if renamed:
        warnings.append(RunWarning("W107", "input columns named like vocnlp's internal columns were renamed: "
                                           + ", ".join(f"'{a}' -> '{b}'" for a, b in renamed.items()) + "."))
    if len(df.columns) == 0:
        raise InputError(f"'{name}' has no columns.", fix="export the data with a header row.")
    df = _to_strings(df).reset_index(drop=True)
    text_col, how = choose_text_column(df, cfg, header_hint=header_hint)
    if how != "named":
        warnings.append(RunWarning("W103", f"no column '{cfg.text_column}'; using '{text_col}' as the text column "
                                           f"(chosen by its {'content' if how == 'content' else 'name'}). "
                                           "Pass --text-column to choose explicitly."))
    id_col = choose_id_column(df, cfg, text_col)
    date_col, serials = choose_date_column(df, cfg, {text_col} | ({id_col} if id_col else set()))
    if len(df) == 0:
        warnings.append(RunWarning("W104", "the file has a header but no rows; the outputs are empty."))
    df[S.ROW] = range(len(df))
    if id_col is not None:
        dup = df[id_col].duplicated(keep=False) & (df[id_col] != "")
        if dup.any():
            warnings.append(RunWarning("W105", f"{int(dup.sum())} rows share an id with another row; ids are kept as given "
                                               "(use the 'row' column to tell them apart)."))
    return _Columns(df, text_col, how, id_col, date_col, serials, renamed)
