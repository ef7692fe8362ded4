"""Build a large input for the scale measurements in docs/hardening.md.

The four sample weeks (data/sample/midori_2026-W44..W47.csv, 1,320 rows, 1,294 distinct texts) are
repeated, in order, until N rows; ids get a suffix so they stay unique (W44-0001~3 is the fourth copy of
W44-0001). Every column is kept. Only 1,294 texts are distinct whatever N is, so the embedding cache and
de-duplication make the embedding stage cheap on such a file: the numbers measure everything else.

    python benchmarks/hardening_make_big_input.py 100000 /tmp/big_100000.csv
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def build(n_rows: int) -> pd.DataFrame:
    weeks = sorted((ROOT / "data" / "sample").glob("midori_2026-W*.csv"))
    base = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in weeks], ignore_index=True)
    copies = -(-n_rows // len(base))
    big = pd.concat([base] * copies, ignore_index=True).head(n_rows)
    copy_no = (pd.Series(range(len(big))) // len(base)).astype(str)
    big["id"] = big["id"].where(copy_no == "0", big["id"] + "~" + copy_no)
    return big


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("rows", type=int, help="number of rows to write")
    ap.add_argument("out", type=Path, help="CSV file to write (UTF-8)")
    args = ap.parse_args(argv)
    big = build(args.rows)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    big.to_csv(args.out, index=False)
    print(f"{args.out}: {len(big)} rows, {big['text'].nunique()} distinct texts, "
          f"{args.out.stat().st_size / 1e6:.1f} MB", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
