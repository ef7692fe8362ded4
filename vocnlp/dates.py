"""Dates as people write them in Japanese exports.

2024/07/03, 2024-07-03 10:00, 2024-07-03T10:00+09:00, 2024年7月3日(水), 令和6年7月3日, R6.7.3,
全角 digits (ＮＦＫＣ first) and, where the column's name says it holds dates, Excel serial numbers
(45476) and 20240703. A date is taken as written: a time of day and a UTC offset are ignored, so a
comment written on 7月3日 in Tokyo stays on 7月3日 whatever offset the tool wrote.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

import pandas as pd

ERAS = {"令和": 2018, "平成": 1988, "昭和": 1925, "大正": 1911, "R": 2018, "H": 1988, "S": 1925, "T": 1911}
_YMD = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?:日|(?=[\sT(（]|$))")
_ERA = re.compile(r"^(令和|平成|昭和|大正|[RHST])\s*(\d{1,2}|元)\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})(?:日|(?=[\s(（]|$))",
                  re.IGNORECASE)
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^(\d{5})(?:\.\d+)?$")
_EXCEL_EPOCH = date(1899, 12, 30)
_SERIAL_RANGE = (25569, 73051)  # 1970-01-01 .. 2099-12-31: other 5-digit numbers are not dates


def _ymd(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d) if 1900 <= y <= 2100 else None
    except ValueError:
        return None


def parse_date(value: str, serials: bool = False) -> date | None:
    """One cell as a date, or None. ``serials``: also read Excel serial numbers and YYYYMMDD."""
    s = unicodedata.normalize("NFKC", str(value)).strip()
    if not s:
        return None
    m = _YMD.match(s)
    if m:
        return _ymd(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    m = _ERA.match(s)
    if m:
        era = ERAS[m.group(1).upper() if len(m.group(1)) == 1 else m.group(1)]
        year = 1 if m.group(2) == "元" else int(m.group(2))
        return _ymd(era + year, int(m.group(3)), int(m.group(4)))
    if serials:
        m = _SERIAL.match(s)
        if m and _SERIAL_RANGE[0] <= int(m.group(1)) <= _SERIAL_RANGE[1]:
            return _EXCEL_EPOCH + timedelta(days=int(m.group(1)))
        m = _COMPACT.match(s)
        if m:
            return _ymd(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return None


def parse_dates(values: pd.Series, serials: bool = False) -> pd.Series:
    """A column of strings as datetime64 (NaT where a cell is not a date); each distinct value is parsed once."""
    uniques = pd.unique(values.astype(str))
    lookup = {v: parse_date(v, serials) for v in uniques}
    parsed = values.astype(str).map(lookup)
    return pd.to_datetime(parsed, errors="coerce")


def date_share(values: pd.Series, serials: bool = False) -> float:
    """Share of the non-empty cells that read as dates."""
    filled = values[values.astype(str).str.strip() != ""]
    if not len(filled):
        return 0.0
    return float(parse_dates(filled, serials).notna().mean())
