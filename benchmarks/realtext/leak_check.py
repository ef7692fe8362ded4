"""Check training items we wrote against the real evaluation text: nothing may be copied or paraphrased.

    python benchmarks/realtext/leak_check.py data/train/FILE.csv [...] [--threshold 0.35] [--drop]

For every item (column ``text``) it finds the most similar real text in ``.realtext/`` (every source
parquet, character-trigram Jaccard over whitespace-free text, via an inverted index) and lists the items
at or above the threshold with their nearest real text's source and id (never the real text itself, so
the output can be pasted into a note). ``--drop`` rewrites each file without those items.
Exit status 1 when any item is at or above the threshold and ``--drop`` was not given.

0.35 is the threshold the sentiment-data audit used: at it, the pairs found were near-verbatim real
answers (「電車の本数が少ない」) or close paraphrases; below ~0.25 pairs share only common phrases.
Items shorter than ``--min-chars`` (15) are not flagged: at that length a real answer and ours can be
the same stock phrase by chance (「特にありません。満足しています」), which copies nothing.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / ".realtext"


def trigrams(text: str) -> set[str]:
    t = re.sub(r"\s+", "", str(text))
    if len(t) < 3:
        return {t} if t else set()
    return {t[i:i + 3] for i in range(len(t) - 2)}


def load_real() -> tuple[list[set[str]], list[str]]:
    files = sorted(p for p in REAL.glob("*.parquet") if not p.name.startswith("topics_"))
    if not files:
        sys.exit("error: no .realtext/*.parquet. Fix: run benchmarks/realtext/build.py first")
    grams, names = [], []
    for p in files:
        frame = pd.read_parquet(p, columns=["doc_id", "text"])
        for doc_id, text in zip(frame.doc_id, frame.text):
            grams.append(trigrams(text))
            names.append(f"{p.stem}:{doc_id}")
    return grams, names


def nearest(items: list[str], real: list[set[str]]) -> list[tuple[float, int]]:
    index: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(real):
        for x in g:
            index[x].append(i)
    out = []
    for text in items:
        g = trigrams(text)
        counts: dict[int, int] = defaultdict(int)
        for x in g:
            for j in index.get(x, ()):
                counts[j] += 1
        best, arg = 0.0, -1
        for j, c in counts.items():
            jac = c / (len(g) + len(real[j]) - c)
            if jac > best:
                best, arg = jac, j
        out.append((best, arg))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="+", type=Path)
    ap.add_argument("--threshold", type=float, default=0.35)
    ap.add_argument("--min-chars", type=int, default=15, help="shorter items are reported but never flagged")
    ap.add_argument("--drop", action="store_true", help="rewrite the files without the flagged items")
    args = ap.parse_args(argv)
    real, names = load_real()
    flagged_total = 0
    for path in args.files:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        near = nearest(frame.text.tolist(), real)
        long = [len(re.sub(r"\s+", "", t)) >= args.min_chars for t in frame.text]
        mask = [s >= args.threshold and ok for (s, _), ok in zip(near, long)]
        flagged = [(frame.id.iloc[i] if "id" in frame else i, s, names[j]) for i, (s, j) in enumerate(near) if mask[i]]
        flagged_total += len(flagged)
        scores = sorted(s for s, _ in near)
        print(f"{path}: {len(frame)} items, max Jaccard {scores[-1]:.2f}, "
              f"median {scores[len(scores) // 2]:.2f}, >= {args.threshold}: {len(flagged)}")
        for item_id, s, name in flagged:
            print(f"  {item_id}\t{s:.2f}\tnearest {name}")
        if args.drop and flagged:
            frame[[not m for m in mask]].to_csv(path, index=False)
            print(f"  dropped {len(flagged)}; {path} rewritten")
    return 1 if flagged_total and not args.drop else 0


if __name__ == "__main__":
    raise SystemExit(main())
