"""Peak memory of what a run does per row after the models: writing the run folder and storing the history.

    python benchmarks/bench_outputs_memory.py RUN_DIR --rows 200000 1000000 [--out FILE]

End-to-end runs of a million rows take hours on a loaded 2-core machine, most of it in the per-text
stages; this isolates the rest. The items and segments of a real run folder (RUN_DIR, e.g. a sample week's) are tiled to N rows (ids made
unique; every ten copies share their texts, so a tenth of the rows are distinct, as in the 1M-row /
100k-distinct target), and each measurement runs in a fresh
process that builds the tables, then records its resident memory before and at the peak of:

* ``save``: ``Analysis.save`` (items.csv, items.parquet, segments.csv, the report, issues.xlsx);
* ``history``: the items the history stores for the period (``pipeline._period_items``, one 384-d
  float32 embedding per analysed row given) written to Parquet as ``HistoryStore.replace_period`` does.

Run it with the code to compare first on PYTHONPATH; the results (MB above the tables, per 100k rows)
go to --out under --label.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, sys, tempfile, time
from pathlib import Path
import numpy as np, pandas as pd
run_dir, n, what = Path(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
from vocnlp import pipeline
from vocnlp.config import load_config
from vocnlp.stages import insights

def tile(df, n, id_col="id"):
    reps = -(-n // len(df))
    out = pd.concat([df] * reps, ignore_index=True).head(n)
    k = (np.arange(len(out)) // len(df)).astype(str)
    out[id_col] = out[id_col].astype(str).where(k == "0", out[id_col].astype(str) + "~" + k)
    if "text" in out.columns and "status" in out.columns:  # ten copies share a text: a tenth of the rows distinct
        g = (np.arange(len(out)) // len(df)) // 10
        keep = (g == 0) | (out["status"] != "ok").to_numpy()
        out["text"] = out["text"].where(keep, out["text"] + " #" + g.astype(str))
    return out

items = tile(pd.read_parquet(run_dir / "items.parquet"), n)
seg = pd.read_csv(run_dir / "segments.csv", dtype={"id": str}, keep_default_na=False, encoding="utf-8-sig")
segments = tile(seg, int(n * len(seg) / max(1, len(pd.read_parquet(run_dir / "items.parquet", columns=["id"])))))
topics = pd.read_csv(run_dir / "topics.csv", encoding="utf-8-sig")
issues = pd.read_csv(run_dir / "issues.csv", encoding="utf-8-sig", keep_default_na=False)
manifest = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
cfg = load_config(None)
ok = (items["status"] == "ok").to_numpy()
X = None
if what == "history":
    X = np.random.default_rng(0).standard_normal((int(ok.sum()), 384), dtype=np.float32)
import gc; gc.collect()
def status_kb(key):
    line = next(l for l in Path("/proc/self/status").read_text().splitlines() if l.startswith(key + ":"))
    return int(line.split()[1])
Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM) to the current RSS: building the tables
before = status_kb("VmRSS")                    # is not part of what is measured
t0 = time.perf_counter()
tmp = Path(tempfile.mkdtemp())
if what == "save":
    heat = insights.stage_by_dimension(items, ["SENSE", "FEEL", "THINK", "ACT", "RELATE"],
                                       ["認知", "興味", "検討", "購入", "使用", "推奨"])
    a = pipeline.Analysis(items=items, segments=segments, topics=topics, issues=issues, manifest=manifest, config=cfg,
                          heat=heat)
    a.save(tmp / "run")
    size = sum(p.stat().st_size for p in (tmp / "run").iterdir())
else:
    stored = pipeline._period_items(items.rename(columns={}), ok, X)
    stored.to_parquet(tmp / "items.parquet", index=False)
    size = (tmp / "items.parquet").stat().st_size
peak = status_kb("VmHWM")
print(json.dumps({"rows": n, "what": what, "tables_mb": round(before / 1024, 1),
                  "peak_above_tables_mb": round((peak - before) / 1024, 1),
                  "peak_mb": round(peak / 1024, 1), "seconds": round(time.perf_counter() - t0, 1),
                  "bytes_written_mb": round(size / 2**20, 1)}))
"""


def measure(run_dir: Path, n: int, what: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(run_dir), str(n), what], capture_output=True, text=True,
                         env=os.environ.copy())
    if out.returncode != 0:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run_dir", type=Path)
    ap.add_argument("--rows", type=int, nargs="+", default=[200_000])
    ap.add_argument("--what", nargs="+", default=["save", "history"], choices=["save", "history"])
    ap.add_argument("--label", default="current")
    ap.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "vocnlp_outputs_memory.json")
    args = ap.parse_args(argv)
    rows = []
    for n in args.rows:
        for what in args.what:
            r = measure(args.run_dir, n, what)
            rows.append(r)
            print(json.dumps(r), file=sys.stderr)
    res = json.loads(args.out.read_text()) if args.out.exists() else {}
    res[args.label] = {"runs": rows, "measured_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       "self_maxrss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}
    args.out.write_text(json.dumps(res, ensure_ascii=False, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
