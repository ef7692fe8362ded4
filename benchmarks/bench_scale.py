"""Rows per second, wall time and peak memory of `vocnlp run` on large weeks, one fresh process per size.

    python benchmarks/bench_scale.py --rows 50000 100000 200000 --distinct 1000
    python benchmarks/bench_scale.py --rows 1000000 --distinct 100000 --engine local --label 1m

For each size, benchmarks/make_load.py builds the input (N rows, D distinct comments; kept in
--workdir and reused), then `vocnlp run` runs in a subprocess with the default configuration except
for the embedding cache (--cache, shared between sizes and kept between invocations: with few distinct
texts the embedding is cached and cheap, so the numbers measure everything per row) and a fresh
history per run (the run stores its period, as a weekly run does; --no-history skips it). The peak
resident memory is that of the whole process tree (the CLI and anything it starts), read from
/proc every 0.1 s; the kernel's own peak (ru_maxrss of the largest child) is recorded beside it.
`--engine` is passed to `vocnlp run` when its --help lists that option.

Results go to benchmarks/scale_results.json (--out), keyed by --label: per size the rows/s, wall
time, peak RSS, the manifest's stage timings, and a least-squares line peak_MB = a + b * rows, with
its slope per 100k rows and the peak it extrapolates to at 1,000,000 rows. The machine's load
average is recorded: the speeds are only comparable as ratios on the same machine.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.make_load import build, write  # noqa: E402

PERIOD = "2026-W48"
PAGE = os.sysconf("SC_PAGE_SIZE")


def vocnlp_command() -> list[str]:
    script = Path(sys.executable).parent / "vocnlp"
    return [str(script)] if script.exists() else [sys.executable, "-m", "vocnlp.cli.main"]


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):
            kids += [int(k) for k in (task / "children").read_text().split()]
    return kids


def tree_rss(pid: int) -> int:
    """Resident bytes of ``pid`` and all its descendants (0 once it is gone)."""
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        try:
            total += int(Path(f"/proc/{p}/statm").read_text().split()[1]) * PAGE
        except (OSError, IndexError, ValueError):
            continue
        todo += _children(p)
    return total


class PeakSampler(threading.Thread):
    """Polls the process tree's RSS until stopped; ``peak`` is the largest sum seen."""

    def __init__(self, pid: int, every_s: float = 0.1) -> None:
        super().__init__(daemon=True)
        self.pid, self.every_s, self.peak = pid, every_s, 0
        self.timeline: list[tuple[float, int]] = []  # (seconds, peak bytes within that second)
        self._stop_evt = threading.Event()

    def run(self) -> None:
        t0 = time.perf_counter()
        while not self._stop_evt.is_set():
            rss = tree_rss(self.pid)
            self.peak = max(self.peak, rss)
            sec = time.perf_counter() - t0
            if self.timeline and sec - self.timeline[-1][0] < 1.0:
                self.timeline[-1] = (self.timeline[-1][0], max(self.timeline[-1][1], rss))
            else:
                self.timeline.append((sec, rss))
            self._stop_evt.wait(self.every_s)

    def stop(self) -> int:
        self._stop_evt.set()
        self.join()
        return self.peak


def cli_has_engine() -> bool:
    out = subprocess.run([*vocnlp_command(), "run", "--help"], capture_output=True, text=True, env=_env())
    return "--engine" in out.stdout


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    env.pop("VOCNLP_PROGRESS", None)
    return env


def bench_config(workdir: Path, cache: Path, history: Path, embed_backend: str | None = None) -> Path:
    """The default configuration with the shared embedding cache and this run's history folder (and, for load
    tests only, the stand-in embedder ``hashed_loadtest``)."""
    cfg = yaml.safe_load((ROOT / "configs" / "default.yaml").read_text(encoding="utf-8"))
    cfg.setdefault("embed", {})["cache_dir"] = str(cache)
    if embed_backend:
        cfg["embed"]["backend"] = embed_backend
    cfg.setdefault("history", {})["path"] = str(history)
    path = workdir / f"config_{history.name}.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def run_once(input_path: Path, workdir: Path, cache: Path, engine: str | None, history: bool,
             timeout_s: float | None, embed_backend: str | None = None) -> dict:
    name = input_path.stem
    out = workdir / f"run_{name}"
    hist = workdir / f"history_{name}"
    subprocess.run(["rm", "-rf", str(out), str(hist)], check=True)
    cmd = [*vocnlp_command(), "run", str(input_path), "--output", str(out), "--config",
           str(bench_config(workdir, cache, hist, embed_backend)), "-q"]
    cmd += ["--period", PERIOD] if history else ["--no-history"]
    if engine:
        cmd += ["--engine", engine]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=workdir, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    sampler = PeakSampler(proc.pid)
    sampler.start()
    try:
        stdout, stderr = proc.communicate(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        stdout, stderr = proc.communicate()
    wall = time.perf_counter() - t0
    peak = sampler.stop()
    if proc.returncode != 0:
        raise SystemExit(f"vocnlp run failed ({proc.returncode}): {stderr.strip()[-2000:]}")
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    rows = manifest["counts"]["read"]
    return {"rows": rows, "analysed": manifest["counts"]["analysed"], "distinct_texts": manifest["embedding"]["unique"],
            "embedded_now": manifest["embedding"]["embedded"], "wall_s": round(wall, 1),
            "rows_per_s": round(rows / wall, 1), "peak_rss_mb": round(peak / 2**20, 1),
            "ru_maxrss_children_mb": round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1),
            "stage_s": manifest.get("timings_s", {}), "history": history, "engine": engine or "default",
            "embedder": manifest["models"]["embedder"]["backend"],
            "peak_rss_mb_by_stage": _peak_by_stage(sampler.timeline, manifest.get("timings_s", {}), wall),
            "command": " ".join(cmd[len(vocnlp_command()):])}


def _peak_by_stage(timeline: list[tuple[float, int]], stage_s: dict[str, float], wall: float) -> dict[str, float]:
    """The peak RSS within each stage, placing the manifest's stage times (in order) at the end of the run,
    after the start-up (imports) that the manifest does not time; approximate to a second."""
    start = max(0.0, wall - sum(stage_s.values()))
    spans, t = {"startup": (0.0, start)}, start
    for name, secs in stage_s.items():
        spans[name] = (t, t + secs)
        t += secs
    out = {}
    for name, (a, b) in spans.items():
        inside = [rss for sec, rss in timeline if a - 1.0 <= sec <= b + 1.0]
        if inside:
            out[name] = round(max(inside) / 2**20, 1)
    return out


def fit_line(runs: list[dict]) -> dict | None:
    """peak_MB = a + b * rows over the runs (least squares), and what it says at 1M rows."""
    if len({r["rows"] for r in runs}) < 2:
        return None
    x = np.array([r["rows"] for r in runs], float)
    y = np.array([r["peak_rss_mb"] for r in runs], float)
    b, a = np.polyfit(x, y, 1)
    return {"intercept_mb": round(float(a), 1), "mb_per_100k_rows": round(float(b) * 1e5, 1),
            "extrapolated_1m_rows_mb": round(float(a + b * 1e6), 1)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[50_000, 100_000, 200_000])
    ap.add_argument("--distinct", type=int, default=1000, help="distinct comments per file (default 1000: "
                                                               "embedding stays cached and cheap)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--format", choices=["parquet", "csv"], default="parquet")
    ap.add_argument("--engine", default=None, help="passed to `vocnlp run --engine` when the CLI has it")
    ap.add_argument("--embed-backend", default=None, help="e.g. hashed_loadtest: the load-test stand-in for the "
                                                          "embedding model (labelled in the results)")
    ap.add_argument("--no-history", dest="history", action="store_false", help="run with --no-history")
    ap.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "vocnlp_bench_scale")
    ap.add_argument("--cache", type=Path, default=None, help="embedding cache (default WORKDIR/cache)")
    ap.add_argument("--label", default="default", help="key of this series in the results file")
    ap.add_argument("--timeout", type=float, default=None, help="seconds per run before it is killed")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "scale_results.json")
    args = ap.parse_args(argv)
    args.workdir.mkdir(parents=True, exist_ok=True)
    cache = (args.cache or args.workdir / "cache").resolve()
    engine = args.engine
    if engine and not cli_has_engine():
        print(f"note: this vocnlp has no --engine option; running without --engine {engine}", file=sys.stderr)
        engine = None
    runs = []
    for n in args.rows:
        path = args.workdir / f"load_{n}_{args.distinct}_s{args.seed}.{args.format}"
        if not path.exists():
            write(build(n, min(args.distinct, n), args.seed, PERIOD), path)
        r = run_once(path, args.workdir, cache, engine, args.history, args.timeout, args.embed_backend)
        r["load_avg_1m"] = round(os.getloadavg()[0], 2)
        runs.append(r)
        print(f"{n:>9} rows ({r['distinct_texts']} distinct, {r['embedded_now']} embedded now): {r['wall_s']:.1f}s, "
              f"{r['rows_per_s']:.0f} rows/s, peak RSS {r['peak_rss_mb']:.0f} MB", file=sys.stderr)
        line = fit_line(runs)
        _save(args, runs, line)  # after every size: a long series stopped midway keeps what it measured
    if line:
        print(f"peak RSS = {line['intercept_mb']:.0f} MB + {line['mb_per_100k_rows']:.0f} MB per 100k rows -> "
              f"{line['extrapolated_1m_rows_mb']:.0f} MB at 1M rows", file=sys.stderr)
    return 0


def _save(args, runs: list[dict], line: dict | None) -> None:
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    results[args.label] = {"runs": runs, "peak_rss_line": line, "format": args.format, "seed": args.seed,
                           "measured_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                           "cpus": os.cpu_count()}
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
