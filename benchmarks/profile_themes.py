"""CPU seconds of the themes stage and of the outputs (Analysis.save) on a load-test week, in one process.

    python benchmarks/profile_themes.py --rows 300000 --distinct 10000 [--profile themes.prof]

Builds the input with benchmarks/make_load.py (kept in --workdir), runs the pipeline in this process with the
load-test stand-in embedder (embed.backend: hashed_loadtest, cache in --workdir) and no history, and prints the
process CPU seconds (time.process_time) of the themes stage and of the outputs as JSON; --profile writes a
cProfile of the themes stage.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.bench_scale import bench_config  # noqa: E402
from benchmarks.make_load import build, write  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--distinct", type=int, default=10_000)
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "vocnlp_profile_themes")
    ap.add_argument("--profile", type=Path, default=None, help="write a cProfile of the themes stage here")
    args = ap.parse_args(argv)
    from vocnlp import pipeline
    from vocnlp.config import load_config

    args.workdir.mkdir(parents=True, exist_ok=True)
    data = args.workdir / f"load_{args.rows}_{args.distinct}.parquet"
    if not data.exists():
        write(build(args.rows, args.distinct), data)
    cfg = load_config(bench_config(args.workdir, args.workdir / "cache", args.workdir / "history", "hashed_loadtest"))
    cfg = cfg.model_copy(update={"history": cfg.history.model_copy(update={"enabled": False})})
    cpu: dict[str, float] = {}
    prof = cProfile.Profile() if args.profile else None

    def timed(name, step):
        def run(r):
            t0 = time.process_time()
            if prof and name == "themes":
                prof.enable()
            step(r)
            if prof and name == "themes":
                prof.disable()
            cpu[name] = cpu.get(name, 0.0) + time.process_time() - t0
        return run

    pipeline.STAGES[:] = [(n, timed(n, s)) for n, s in pipeline.STAGES]
    save = pipeline.Analysis.save

    def timed_save(self, out):
        t0 = time.process_time()
        save(self, out)
        cpu["outputs"] = time.process_time() - t0

    pipeline.Analysis.save = timed_save
    pipeline.run_pipeline(data, args.workdir / "run", cfg)
    if prof:
        prof.dump_stats(str(args.profile))
    print(json.dumps({"rows": args.rows, "distinct": args.distinct,
                      "cpu_s": {k: round(v, 2) for k, v in cpu.items()}}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
