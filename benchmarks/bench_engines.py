"""Per-distinct-text cost and local vs ray engine throughput, end to end through `vocnlp run`.

    python benchmarks/bench_engines.py repeat  --distinct 300    # D distinct comments vs the same file with each 10x
    python benchmarks/bench_engines.py engines --distinct 2000   # local vs ray (2 workers): a sample week, D distinct
    python benchmarks/bench_engines.py engines --distinct 4000 --rows 8000 --no-sample-week  # make_load.py input
    python benchmarks/bench_engines.py alternate                 # local, ray, local, ray on a sample week (shared machine)
    python benchmarks/bench_engines.py speed --base /tmp/main_copy  # the default run on a sample week vs a checkout
    python benchmarks/bench_engines.py topics_assign --distinct 1000000  # topics: the rest's assignment, on the driver

Every run is a fresh `vocnlp run --no-history` process with its own empty cache folder (embedding and topic caches
off in effect), so each one embeds everything it analyses. Inputs with D distinct comments are built by
recombining sentences of data/sample (load only, never training data): benchmarks/make_load.py when it exists,
else the small generator below. Quote the ratios; single times on shared machines are noise.
Writes benchmarks/engines_results.json (merged with earlier modes).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample" / "midori_2026-W46.csv"
OUT = ROOT / "benchmarks" / "engines_results.json"


def distinct_comments(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` distinct comments, each 1-3 sentences of the sample weeks, with the sample's other columns."""
    src = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False) for p in sorted(SAMPLE.parent.glob("*.csv"))])
    pool = list(dict.fromkeys(s.strip() for t in src["text"] for s in re.split(r"(?<=[。！？!?])|\n+", t)
                              if 4 <= len(s.strip()) <= 120))
    rng = np.random.default_rng(seed)
    seen: dict[str, None] = {}
    while len(seen) < n:
        k = rng.choice([1, 2, 3], p=[0.35, 0.45, 0.20])
        parts = [pool[i] for i in rng.choice(len(pool), k, replace=False)]
        seen.setdefault("".join(p if p[-1] in "。！？!?" else p + "。" for p in parts), None)
    rows = src.sample(n, replace=True, random_state=seed).reset_index(drop=True)
    rows["text"] = list(seen)
    rows["id"] = [f"L-{i:07d}" for i in range(1, n + 1)]
    return rows


def run(input_path: Path, work: Path, engine: str = "local", workers: int = 2, code: Path = ROOT) -> dict:
    """One `vocnlp run` in a fresh process and cache; wall and CPU seconds (CPU: the vocnlp process only, not Ray's
    workers) and the manifest's per-text map time. ``code``: the checkout whose vocnlp runs."""
    work.mkdir(parents=True, exist_ok=True)
    conf = work / "config.yaml"
    conf.write_text(f"embed: {{cache_dir: {work / 'cache'}}}\n"
                    + (f"engine: {{kind: {engine}, num_workers: {workers}}}\n" if code == ROOT else ""),
                    encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(code)}
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vocnlp.cli.main", "run", str(input_path), "-o", str(work / "run"), "-c",
                    str(conf), "--no-history", "-q"], check=True, cwd=work, env=env)
    wall = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    m = json.loads((work / "run" / "manifest.json").read_text())
    t = m["timings_s"]
    texts = sum(t.get(k, 0.0) for k in ("tokenize", "segment", "codes", "embed", "classify", "sentiment"))
    return {"rows": m["counts"]["read"], "wall_s": round(wall, 2),
            "cpu_s": round(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime, 2),
            "texts_s": round(texts, 2), "topics_s": t.get("topics"), "timings_s": t,
            # seconds the batches spent in the per-text stages, summed over workers: per-core throughput
            "worker_s": round(sum((m.get("engine") or {}).get("stage_seconds", {}).values()), 2),
            "engine": m.get("engine")}


def repeat(args, tmp: Path) -> dict:
    base = distinct_comments(args.distinct, args.seed)
    once, tenx = tmp / "once.csv", tmp / "tenx.csv"
    base.to_csv(once, index=False)
    rep = pd.concat([base.assign(id=base["id"] + f"-{k}") for k in range(10)]).sample(frac=1, random_state=1)
    rep.to_csv(tenx, index=False)
    a = run(once, tmp / "a")
    b = run(tenx, tmp / "b")
    return {"distinct": a, "repeated_10x": b, "ratio_wall": round(b["wall_s"] / a["wall_s"], 3),
            "ratio_cpu": round(b["cpu_s"] / a["cpu_s"], 3)}


def speed(args, tmp: Path) -> dict:
    """The default local engine on a sample week against another checkout (--base, e.g. main before engines)."""
    base = run(SAMPLE, tmp / "base", code=Path(args.base))
    this = run(SAMPLE, tmp / "this")
    return {"base": base, "this": this, "ratio_wall": round(this["wall_s"] / base["wall_s"], 3),
            "ratio_cpu": round(this["cpu_s"] / base["cpu_s"], 3)}


def engines(args, tmp: Path) -> dict:
    big = tmp / "big.csv"
    if args.rows:  # benchmarks/make_load.py: ROWS rows holding D distinct comments
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import make_load

        make_load.write(make_load.build(args.rows, args.distinct, args.seed), big)
    else:
        distinct_comments(args.distinct, args.seed).to_csv(big, index=False)
    out = {}
    inputs = [] if args.no_sample_week else [("sample_week", SAMPLE)]
    inputs.append((f"rows_{args.rows}_distinct_{args.distinct}" if args.rows else f"distinct_{args.distinct}", big))
    for name, path in inputs:
        local = run(path, tmp / f"{name}_local")
        print(name, "local", json.dumps(local), file=sys.stderr, flush=True)
        ray = run(path, tmp / f"{name}_ray", "ray", args.workers)
        print(name, "ray", json.dumps(ray), file=sys.stderr, flush=True)
        out[name] = {"local": local, "ray": ray,
                     "ray_vs_local_throughput_wall": round(local["wall_s"] / ray["wall_s"], 3),
                     "ray_vs_local_throughput_texts": round(local["texts_s"] / ray["texts_s"], 3),
                     "texts_per_worker_s": {k: round(v["engine"]["distinct_texts"] / v["worker_s"], 3)
                                            for k, v in (("local", local), ("ray", ray))}}
    return out


def alternate(args, tmp: Path) -> dict:
    """Local and ray (``--workers``) in alternation, twice, on a sample week (or ``--distinct`` recombined comments
    when --rows is given): on a machine shared with other work the load drifts, so each engine gets both early and
    late slots. CPU: the local process (its whole run) against ray's driver process plus the CPU seconds its actors
    spent in batches (``engine.cpu_s``; Ray's own raylet/GCS processes are not counted)."""
    path = SAMPLE
    if args.rows:
        sys.path.insert(0, str(ROOT / "benchmarks"))
        import make_load

        path = tmp / "load.csv"
        make_load.write(make_load.build(args.rows, args.distinct, args.seed), path)
    runs = []
    for i in range(2):
        for kind in ("local", "ray"):
            load = os.getloadavg()[0]
            r = run(path, tmp / f"{kind}{i}", kind, args.workers)
            cpu = r["cpu_s"] + (r["engine"].get("cpu_s", 0.0) if kind == "ray" else 0.0)
            runs.append({"engine": kind, "round": i, "wall_s": r["wall_s"], "cpu_s": round(cpu, 2),
                         "texts_s": r["texts_s"], "distinct_texts": r["engine"]["distinct_texts"],
                         "batches": r["engine"]["batches"], "load_1m_at_start": round(load, 2),
                         "by_worker": [{k: w[k] for k in ("batches", "texts", "cpu_s")}
                                       for w in r["engine"].get("by_worker", [])]})
            print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    tot = {k: {m: sum(r[m] for r in runs if r["engine"] == k) for m in ("wall_s", "cpu_s", "texts_s")}
           for k in ("local", "ray")}
    return {"input": path.name, "runs": runs,
            "ray_vs_local_throughput_wall": round(tot["local"]["wall_s"] / tot["ray"]["wall_s"], 3),
            "ray_vs_local_throughput_per_cpu_s": round(tot["local"]["cpu_s"] / tot["ray"]["cpu_s"], 3),
            "ray_vs_local_throughput_texts": round(tot["local"]["texts_s"] / tot["ray"]["texts_s"], 3),
            "per_round_wall": [round(runs[2 * i]["wall_s"] / runs[2 * i + 1]["wall_s"], 3) for i in range(2)]}


def topics_assign(args, tmp: Path) -> dict:
    """What giving every comment outside the clustered sample its topic costs on the driver (topics._cluster's
    nearest-centroid step, on clustering vectors of the default's 70 dimensions and 30 topics), against what
    handing those vectors to workers would at least cost (pickling them: Ray's object store copies as much)."""
    import pickle

    from vocnlp.config import TopicsConfig
    from vocnlp.stages import topics

    cfg, rng, out = TopicsConfig(), np.random.default_rng(args.seed), {}
    for n in (100_000, args.distinct):
        centres = rng.standard_normal((cfg.max_topics, 70)).astype(np.float32)
        V = topics.l2_normalize(centres[rng.integers(0, cfg.max_topics, n)]
                                + rng.standard_normal((n, 70)).astype(np.float32))
        fit_idx = np.sort(np.random.RandomState(cfg.seed).choice(n, cfg.max_cluster_docs, replace=False))
        assigned = np.full(n, -1)
        assigned[fit_idx] = rng.integers(0, cfg.max_topics, len(fit_idx))
        c0, t0 = time.process_time(), time.perf_counter()
        topics._assign_rest_to_nearest(assigned, V, fit_idx)
        c1, t1 = time.process_time(), time.perf_counter()
        blob = pickle.dumps(V, protocol=5)
        pickle.loads(blob)
        c2, t2 = time.process_time(), time.perf_counter()
        out[f"rows_{n}"] = {"assign_cpu_s": round(c1 - c0, 3), "assign_wall_s": round(t1 - t0, 3),
                            "ship_vectors_cpu_s": round(c2 - c1, 3), "ship_vectors_wall_s": round(t2 - t1, 3),
                            "vectors_mb": round(V.nbytes / 1e6, 1)}
        print(n, json.dumps(out[f"rows_{n}"]), file=sys.stderr, flush=True)
        del V, blob
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("mode", choices=["repeat", "engines", "alternate", "speed", "topics_assign"])
    p.add_argument("--base", help="speed: the checkout to compare with (a copy of main before this change)")
    p.add_argument("--distinct", type=int, default=300)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--rows", type=int, default=0, help="engines: build the input with make_load.py (ROWS rows)")
    p.add_argument("--no-sample-week", action="store_true", help="engines: only the built input")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        res = {"repeat": repeat, "engines": engines, "alternate": alternate, "speed": speed, "topics_assign": topics_assign}[args.mode](args, Path(d))
    res["load_average_1m_at_end"] = os.getloadavg()[0]
    print(json.dumps(res, ensure_ascii=False, indent=1))
    old = json.loads(OUT.read_text()) if OUT.exists() else {}
    old[f"{args.mode}_{args.distinct}" + (f"_rows_{args.rows}" if args.rows else "")] = res
    OUT.write_text(json.dumps(old, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
