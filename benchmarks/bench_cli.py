"""What a user waits for at the command line: start-up, and a first run against a re-run, each in a fresh process.

    python benchmarks/bench_cli.py [--out benchmarks/results.json] [--no-weekly]

Everything runs in a new empty folder (empty embedding cache, topic cache and history), with the
`vocnlp` command of the current environment and the default configuration:
  * `vocnlp --help` and `python -c "import vocnlp"`: the median of 5;
  * the four sample weeks in one file (1,320 comments): `vocnlp run` twice, the second run re-running
    the same period (it replaces it in the history; embeddings and fitted topics come from the caches);
  * weekly (unless --no-weekly, in another empty folder): W44, W45, W46, W47 in order, then W47 again.
Machines here are shared, so the results are ratios; the load average is recorded beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
WEEKS = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]


def vocnlp_command() -> list[str]:
    script = Path(sys.executable).parent / "vocnlp"
    return [str(script)] if script.exists() else [sys.executable, "-m", "vocnlp.cli.main"]


def timed(cmd: list[str], cwd: Path) -> float:
    t = time.perf_counter()
    subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - t


def manifest(run: Path) -> dict:
    return json.loads((run / "manifest.json").read_text(encoding="utf-8"))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=None, help="add the results to this JSON file (key 'cli')")
    ap.add_argument("--no-weekly", action="store_true", help="skip the week-by-week measurement")
    args = ap.parse_args()
    vocnlp = vocnlp_command()
    load_before = os.getloadavg()[0]
    res: dict = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        res["help_s"] = round(statistics.median(timed([*vocnlp, "--help"], tmp) for _ in range(5)), 3)
        res["import_vocnlp_s"] = round(statistics.median(
            timed([sys.executable, "-c", "import vocnlp"], tmp) for _ in range(5)), 3)

        one = tmp / "one"
        one.mkdir()
        frame = pd.concat([pd.read_csv(ROOT / "data" / "sample" / f"midori_{w}.csv", dtype=str, keep_default_na=False)
                           for w in WEEKS], ignore_index=True)
        frame.to_csv(one / "four_weeks.csv", index=False)
        first = timed([*vocnlp, "run", "four_weeks.csv", "--output", "run1", "--quiet"], one)
        second = timed([*vocnlp, "run", "four_weeks.csv", "--output", "run2", "--quiet"], one)
        m1, m2 = manifest(one / "run1"), manifest(one / "run2")
        same = all((one / "run1" / f).read_bytes() == (one / "run2" / f).read_bytes()
                   for f in ("items.csv", "topics.csv", "issues.csv", "segments.csv"))
        res["four_weeks_one_file"] = {
            "rows": len(frame), "first_run_s": round(first, 2), "second_run_s": round(second, 2),
            "second_run_speedup": round(first / second, 1), "outputs_identical": same,
            "second_run_topics_from_cache": m2["topics"]["from_cache"], "second_run_embedded": m2["embedding"]["embedded"],
            "stage_seconds_first_run": m1["timings_s"], "stage_seconds_second_run": m2["timings_s"],
        }
        shutil.rmtree(one)

        if not args.no_weekly:
            weekly = tmp / "weekly"
            weekly.mkdir()
            for w in WEEKS:
                shutil.copy(ROOT / "data" / "sample" / f"midori_{w}.csv", weekly)
            times = {w: round(timed([*vocnlp, "run", f"midori_{w}.csv", "--output", w, "--quiet"], weekly), 2)
                     for w in WEEKS}
            again = timed([*vocnlp, "run", f"midori_{WEEKS[-1]}.csv", "--output", "again", "--quiet"], weekly)
            same = all((weekly / WEEKS[-1] / f).read_bytes() == (weekly / "again" / f).read_bytes()
                       for f in ("items.csv", "topics.csv", "issues.csv"))
            res["weekly"] = {"first_runs_s": times, "latest_week_again_s": round(again, 2),
                             "latest_week_speedup": round(times[WEEKS[-1]] / again, 1), "outputs_identical": same,
                             "again_topics_from_cache": manifest(weekly / "again")["topics"]["from_cache"]}
    res["load_average_before_after"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    res["cpus"] = os.cpu_count()
    print(json.dumps(res, indent=2, ensure_ascii=False))
    if args.out:
        data = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
        data["cli"] = res
        args.out.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
