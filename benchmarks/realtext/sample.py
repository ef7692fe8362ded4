"""Draw (or rebuild) the stratified labelling sample of real comments.

EVALUATION ONLY. Reads ``.realtext/<source>.parquet`` (made by build.py) and
writes ``.realtext/label_sample.csv`` with columns uid, source, register, text,
rating.  The list of uids (ids only, no text) is kept in
``benchmarks/realtext/sample_uids.txt`` so the same sample can be rebuilt.

    python benchmarks/realtext/sample.py            # rebuild from sample_uids.txt if it exists
    python benchmarks/realtext/sample.py --redraw   # draw a new sample and rewrite sample_uids.txt

Strata: source (equal shares, no source above 35 %), length (short < 40 chars,
medium 40-149, long 150-600; texts over 600 chars and under 4 chars are skipped),
and, where a source has ratings, rating level (equal shares per level, so low
ratings are over-represented relative to the raw data).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
UIDS = HERE / "sample_uids.txt"

TARGET = 660
MAX_SHARE = 0.35
LENGTHS = [("short", 4, 39, 0.40), ("medium", 40, 149, 0.35), ("long", 150, 600, 0.25)]


def load(data: Path) -> pd.DataFrame:
    meta_path = data / "sources.json"
    if not meta_path.exists():
        sys.exit(f"error: {meta_path} missing; run benchmarks/realtext/build.py first")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))["sources"]
    frames = []
    for name, m in meta.items():
        df = pd.read_parquet(data / f"{name}.parquet")
        df["register"] = m["register"]
        frames.append(df)
    df = pd.concat(frames, ignore_index=True)
    df["uid"] = df["source"] + ":" + df["doc_id"]
    df["nchar"] = df["text"].str.len()
    return df


def split_quota(total: int, avail: dict, weights: dict | None = None) -> dict:
    """Split ``total`` over keys in proportion to weights, bounded by availability."""
    keys = list(avail)
    w = {k: (weights[k] if weights else 1.0) for k in keys}
    quota = {k: 0 for k in keys}
    left = total
    while left > 0:
        open_keys = [k for k in keys if quota[k] < avail[k]]
        if not open_keys:
            break
        ws = sum(w[k] for k in open_keys)
        give = {k: int(np.floor(left * w[k] / ws)) for k in open_keys}
        if sum(give.values()) == 0:  # hand out the remainder one by one, heaviest first
            for k in sorted(open_keys, key=lambda k: -w[k])[:left]:
                give[k] = 1
        for k in open_keys:
            add = min(give[k], avail[k] - quota[k])
            quota[k] += add
            left -= add
    return quota


def draw(df: pd.DataFrame, target: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    pool = df[(df["nchar"] >= 4) & (df["nchar"] <= 600)].copy()
    pool["lenbin"] = ""
    for name, lo, hi, _ in LENGTHS:
        pool.loc[pool["nchar"].between(lo, hi), "lenbin"] = name
    sources = sorted(pool["source"].unique())
    cap = int(np.floor(MAX_SHARE * target))
    per_src = split_quota(target, {s: min(cap, int((pool["source"] == s).sum())) for s in sources})
    picked = []
    for s in sources:
        sp = pool[pool["source"] == s]
        lq = split_quota(per_src[s], {n: int((sp["lenbin"] == n).sum()) for n, *_ in LENGTHS},
                         {n: w for n, _, _, w in LENGTHS})
        for lb, q in lq.items():
            if q == 0:
                continue
            cell = sp[sp["lenbin"] == lb]
            if cell["rating"].notna().any():
                levels = cell["rating"].fillna(-1).astype(float)
                rq = split_quota(q, {r: int((levels == r).sum()) for r in sorted(levels.unique())})
                for r, k in rq.items():
                    if k:
                        idx = cell.index[levels == r]
                        picked.extend(rng.choice(idx, size=k, replace=False).tolist())
            else:
                picked.extend(rng.choice(cell.index, size=q, replace=False).tolist())
    out = pool.loc[picked]
    return out.sample(frac=1.0, random_state=seed)  # shuffle so labellers see mixed sources


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data", default=str(REPO / ".realtext"))
    ap.add_argument("--target", type=int, default=TARGET)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--redraw", action="store_true", help="draw a new sample and overwrite sample_uids.txt")
    args = ap.parse_args(argv)
    data = Path(args.data)
    df = load(data)

    if UIDS.exists() and not args.redraw:
        uids = [u.strip() for u in UIDS.read_text(encoding="utf-8").splitlines()
                if u.strip() and not u.startswith("#")]
        by_uid = df.drop_duplicates("uid").set_index("uid")
        missing = [u for u in uids if u not in by_uid.index]
        if missing:
            print(f"warning: {len(missing)} of {len(uids)} uids not found in {data} "
                  f"(different mirror snapshot or cap?); first: {missing[0]}", file=sys.stderr)
        sample = by_uid.loc[[u for u in uids if u in by_uid.index]].reset_index()
    else:
        sample = draw(df, args.target, args.seed)
        UIDS.write_text("# uids of .realtext/label_sample.csv (source:doc_id); ids only, no text\n"
                        + "\n".join(sample["uid"]) + "\n", encoding="utf-8")

    cols = ["uid", "source", "register", "text", "rating"]
    sample[cols].to_csv(data / "label_sample.csv", index=False, encoding="utf-8")
    nb = pd.cut(sample["nchar"], [0, 39, 149, 600], labels=["short", "medium", "long"])
    print(f"{len(sample)} rows -> {data / 'label_sample.csv'}")
    print(pd.crosstab(sample["source"], nb, margins=True).to_string())
    print("rating:", sample["rating"].value_counts(dropna=False).sort_index().to_dict())
    return 0


if __name__ == "__main__":
    sys.exit(main())
