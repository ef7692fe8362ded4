"""Build a large input for load testing: N rows holding D distinct comments, recombined from our own data.

The comments are made of sentences of the sample weeks (data/sample) and of our labelled data
(data/train): each distinct comment joins 1-3 sentences drawn at random, so it reads like a real
comment (and costs the tokenizer and the embedder what a real one does) without being one of ours.
This is LOAD, never training or evaluation data: the labels of the source rows are not carried over.

Every row gets the sample's other columns (channel, store, product_category, nps) from one sample row
drawn at random, so they vary together as in the sample; ids are L-0000001...; dates fall in the
ISO week --period. The first D rows (after shuffling: D random rows) carry each distinct comment once,
the rest repeat them at random; about --empty-share of the rows are empty (status `empty`).
Deterministic: the same arguments give the same bytes.

    python benchmarks/make_load.py 1000000 /tmp/load_1m.parquet --distinct 100000
    python benchmarks/make_load.py 50000 /tmp/load_50k.csv --distinct 2000 --seed 7
"""

from __future__ import annotations

import argparse
import datetime as dt
import re
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ["id", "date", "channel", "store", "product_category", "nps", "text"]
_SENTENCE_END = re.compile(r"(?<=[。！？!?])|\n+")
SENTENCES_PER_COMMENT = ([1, 2, 3], [0.35, 0.45, 0.20])


def _read(paths: list[Path]) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in paths], ignore_index=True)


def sentence_pool(root: Path = ROOT) -> list[str]:
    """Distinct sentences (4-120 characters) of the sample weeks and the labelled data, in a fixed order."""
    texts = _read(sorted((root / "data" / "sample").glob("*.csv")))["text"].tolist()
    texts += _read(sorted((root / "data" / "train").glob("*.csv")))["text"].tolist()
    seen: dict[str, None] = {}
    for t in texts:
        for s in _SENTENCE_END.split(t):
            s = s.strip()
            if 4 <= len(s) <= 120:
                seen.setdefault(s, None)
    return list(seen)


def _ended(sentence: str) -> str:
    """A sentence followed by another one ends with punctuation."""
    return sentence if sentence[-1] in "。！？!?…" else sentence + "。"


def distinct_comments(n: int, pool: list[str], rng: np.random.Generator) -> list[str]:
    """``n`` different comments of 1-3 pooled sentences each."""
    out: dict[str, None] = {}
    sizes, probs = SENTENCES_PER_COMMENT
    while len(out) < n:
        need = n - len(out)
        k = rng.choice(sizes, size=need + need // 10 + 16, p=probs)
        picks = rng.integers(0, len(pool), size=int(k.sum()))
        pos = 0
        for kk in k:
            out.setdefault("".join(_ended(pool[i]) for i in picks[pos:pos + kk - 1]) + pool[picks[pos + kk - 1]], None)
            pos += kk
            if len(out) == n:
                break
    return list(out)


def _week_days(period: str) -> list[str]:
    year, week = period.split("-W")
    monday = dt.date.fromisocalendar(int(year), int(week), 1)
    return [(monday + dt.timedelta(days=d)).isoformat() for d in range(7)]


def build(n_rows: int, n_distinct: int, seed: int = 0, period: str = "2026-W48", empty_share: float = 0.005,
          root: Path = ROOT) -> pa.Table:
    """The load as an Arrow table with the sample's columns (all strings)."""
    if not 1 <= n_distinct <= n_rows:
        raise ValueError(f"--distinct must be between 1 and the number of rows ({n_rows}), got {n_distinct}")
    rng = np.random.default_rng(seed)
    comments = pa.array(distinct_comments(n_distinct, sentence_pool(root), rng), type=pa.string())
    which = np.concatenate([np.arange(n_distinct), rng.integers(0, n_distinct, n_rows - n_distinct)])
    rng.shuffle(which)
    text = comments.take(pa.array(which))
    n_empty = int(round(empty_share * (n_rows - n_distinct)))  # only repeats are emptied: D stays distinct
    if n_empty:
        first = np.zeros(n_rows, bool)
        first[np.unique(which, return_index=True)[1]] = True  # the first row of each comment keeps it
        repeat_rows = np.flatnonzero(~first)
        empty = rng.choice(repeat_rows, size=min(n_empty, len(repeat_rows)), replace=False)
        mask = np.zeros(n_rows, bool)
        mask[empty] = True
        text = pc.if_else(pa.array(mask), pa.scalar("", pa.string()), text)
    sample = _read(sorted((root / "data" / "sample").glob("*.csv")))
    profile = pa.array(rng.integers(0, len(sample), n_rows))
    days = pa.array(_week_days(period), type=pa.string()).take(pa.array(rng.integers(0, 7, n_rows)))
    ids = pa.array(np.char.add("L-", np.char.zfill(np.arange(1, n_rows + 1).astype(str), 7)), type=pa.string())
    cols = {"id": ids, "date": days}
    for c in ("channel", "store", "product_category", "nps"):
        cols[c] = pa.array(sample[c].tolist(), type=pa.string()).take(profile)
    cols["text"] = text
    return pa.table({c: cols[c] for c in COLUMNS})


def write(table: pa.Table, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.suffix.lower() in (".parquet", ".pq"):
        pq.write_table(table, out, compression="zstd", row_group_size=128 * 1024)
    else:
        pacsv.write_csv(table, out, pacsv.WriteOptions(quoting_style="needed"))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rows", type=int, help="number of rows")
    ap.add_argument("out", type=Path, help="file to write: .csv (UTF-8) or .parquet")
    ap.add_argument("--distinct", type=int, default=None, help="distinct comments (default: rows / 10)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--period", default="2026-W48", help="ISO week the dates fall in (YYYY-Www)")
    ap.add_argument("--empty-share", type=float, default=0.005, help="share of the repeated rows left empty")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    try:
        table = build(args.rows, args.distinct or max(1, args.rows // 10), args.seed, args.period, args.empty_share)
    except ValueError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    write(table, args.out)
    n_distinct = pc.count_distinct(table["text"]).as_py()
    print(f"{args.out}: {table.num_rows} rows, {n_distinct} distinct texts (empty included), "
          f"{args.out.stat().st_size / 1e6:.1f} MB, {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
