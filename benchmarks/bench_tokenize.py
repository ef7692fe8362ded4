"""Time the tokenize + segment stages on the four sample weeks (1,320 rows), in a fresh process.

    python benchmarks/bench_tokenize.py [--repeats 5]

Each repeat clears the per-process morphology cache (``japanese.analyse``), so every repeat is what a
run's first pass costs; the tagger / spaCy pipeline is built once before timing (a one-time start-up,
reported on its own). Prints the median and best CPU seconds (``time.process_time``: on a shared, loaded
machine wall time varies 2x from run to run, this process's CPU time much less) of tokenize, segment and
both, as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    import pandas as pd

    from vocnlp import japanese
    from vocnlp import schema as S
    from vocnlp.config import load_config
    from vocnlp.stages import clean, ingest, segment, tokenize

    cfg = load_config(ROOT / "configs" / "default.yaml")
    frames = []
    for f in sorted((ROOT / "data" / "sample").glob("midori_*.csv")):
        ing = ingest.read_input(f, cfg.input)
        frames.append(clean.run(ing.frame, ing.text_column, cfg.clean, cfg.privacy)[0])
    df = pd.concat(frames, ignore_index=True)
    df[S.ID] = (df.index + 1).astype(str)
    stop = cfg.resolve(cfg.tokenize.stopwords)

    t0 = time.process_time()
    japanese.get_tagger()
    warm = tokenize.run(df.head(3), cfg.tokenize, stop)  # builds whatever the stage builds once
    segment.run(warm, cfg.segment)
    startup = time.process_time() - t0

    tok, seg = [], []
    for _ in range(args.repeats):
        japanese.analyse.cache_clear()
        if hasattr(japanese, "_features"):  # the per-morpheme feature cache, where there is one
            japanese._features.cache_clear()
        t0 = time.process_time()
        out = tokenize.run(df, cfg.tokenize, stop)
        t1 = time.process_time()
        segment.run(out, cfg.segment)
        t2 = time.process_time()
        tok.append(t1 - t0)
        seg.append(t2 - t1)
    both = [a + b for a, b in zip(tok, seg)]
    print(json.dumps({"rows": len(df), "startup_s": round(startup, 3),
                      "tokenize_median_s": round(statistics.median(tok), 4), "tokenize_best_s": round(min(tok), 4),
                      "segment_median_s": round(statistics.median(seg), 4), "segment_best_s": round(min(seg), 4),
                      "tokenize+segment_median_s": round(statistics.median(both), 4)}, indent=1))


if __name__ == "__main__":
    main()
