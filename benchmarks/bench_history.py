"""Does weekly run time grow with the history? Times one week's run with a short and a long history.

    python benchmarks/bench_history.py [--pad 40]

Embeddings are cached after a warm-up, so the timings are the pipeline minus the model: topics
(matching against the history), insights (comparisons, drivers), history writes and outputs.
The history is padded with --pad earlier periods (the sample weeks re-run under older period names).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

from vocnlp.config import load_config
from vocnlp.pipeline import run_pipeline

ROOT = Path(__file__).resolve().parents[1]
WEEKS = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]


def timed(path: Path, out: Path, cfg, period: str) -> float:
    t = time.perf_counter()
    run_pipeline(path, out, cfg, period=period)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pad", type=int, default=40)
    args = ap.parse_args()
    sample = ROOT / "data" / "sample"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cfg = load_config(ROOT / "configs" / "default.yaml", {"history.path": str(tmp / "hist"),
                                                              "embed.cache_dir": str(tmp / "cache")})
        for w in WEEKS:  # warm-up: imports and the embedding cache
            run_pipeline(sample / f"midori_{w}.csv", tmp / "warm", load_config(
                ROOT / "configs" / "default.yaml", {"history.enabled": False, "embed.cache_dir": str(tmp / "cache")}))
        for w in WEEKS[:3]:
            run_pipeline(sample / f"midori_{w}.csv", tmp / "o", cfg, period=w)
        short = min(timed(sample / "midori_2026-W47.csv", tmp / "o", cfg, "2026-W47") for _ in range(3))
        # a long history: the same weeks again under earlier period names
        for k in range(args.pad):
            w = WEEKS[k % 3]
            run_pipeline(sample / f"midori_{w}.csv", tmp / "o", cfg, period=f"2025-W{k + 1:02d}")
        long = min(timed(sample / "midori_2026-W47.csv", tmp / "o", cfg, "2026-W47") for _ in range(3))
        # a bigger week: four weeks in one file
        big = tmp / "big.csv"
        pd.concat([pd.read_csv(sample / f"midori_{w}.csv", dtype=str, keep_default_na=False) for w in WEEKS]).to_csv(big, index=False)
        bigger = min(timed(big, tmp / "o", cfg, "2026-W48") for _ in range(2))
    res = {"history_periods_short": 3, "history_periods_long": 3 + args.pad,
           "week_run_s_short_history": round(short, 2), "week_run_s_long_history": round(long, 2),
           "long_vs_short_history": round(long / short, 2),
           "four_times_bigger_week_vs_one_week": round(bigger / short, 2)}
    print(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
