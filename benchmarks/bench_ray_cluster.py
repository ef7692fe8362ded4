"""A two-node Ray cluster on this machine: is the ray engine's work distributed over the nodes?

    python benchmarks/bench_ray_cluster.py                        # 240 rows / 120 distinct, batches of 30
    python benchmarks/bench_ray_cluster.py --rows 2000 --distinct 1000 --batch-size 250

Starts two raylets on 127.0.0.1 (`ray start --head --num-cpus 1` and `ray start --address 127.0.0.1:PORT
--num-cpus 1`, dashboard off, a small object store, their own temp folder and free ports), runs `vocnlp run
--engine ray` in a fresh process with RAY_ADDRESS pointing at the head (an input from benchmarks/make_load.py,
an empty embedding cache, so both actors embed), then, with the embeddings the actors cached (a copy without the fitted
topics, so topics are fitted again), the local engine on the same input, and compares the output files byte for byte. The run manifest's engine.by_worker says
which node and process analysed how many batches and texts; the check is that both nodes did batches.

The cluster is stopped at the end in every case: the two `ray start --block` processes (each in its own session,
started here) get SIGTERM and stop the processes they started; anything still running from this cluster's own
temp folder is then killed by pid. Never `ray stop`: that stops every Ray on the machine, other users' too.
Writes the result under "ray_cluster_2_nodes" in benchmarks/engines_results.json (unless --no-record).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager, suppress
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "benchmarks" / "engines_results.json"
FILES = ["items.csv", "segments.csv", "topics.csv", "issues.csv"]
OBJECT_STORE = 80 * 1024 * 1024  # Ray's minimum is 75 MiB; a run's blocks are a few MB


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ray_cli() -> str:
    here = Path(sys.executable).with_name("ray")
    found = str(here) if here.exists() else shutil.which("ray")
    if not found:
        raise RuntimeError("the `ray` command is not installed (pip install \"vocnlp[ray]\")")
    return found


def _wait_for_nodes(address: str, n: int, timeout: float, procs: list[subprocess.Popen], work: Path) -> None:
    """Until the cluster at ``address`` has ``n`` live nodes (checked from a throwaway driver process); fails at
    once, with the log's end, when a `ray start` exits (a Ray driver would retry a dead address for minutes)."""
    probe = ("import ray, sys, time\n"
             f"ray.init(address={address!r}, logging_level='ERROR', log_to_driver=False)\n"
             f"end = time.time() + {timeout}\n"
             f"while len([x for x in ray.nodes() if x['Alive']]) < {n} and time.time() < end: time.sleep(0.5)\n"
             f"sys.exit(0 if len([x for x in ray.nodes() if x['Alive']]) >= {n} else 1)\n")
    r = subprocess.Popen([sys.executable, "-c", probe], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    end = time.time() + timeout + 60
    while r.poll() is None:
        dead = [(i, p) for i, p in enumerate(procs) if p.poll() is not None]
        if dead or time.time() > end:
            r.kill()
            r.wait()
            logs = " | ".join((work / name).read_text()[-600:] for name in ("head.log", "worker.log")
                              if (work / name).exists())
            raise RuntimeError(f"`ray start` exited ({dead[0][1].returncode}): {logs}" if dead
                               else f"the cluster did not reach {n} nodes in {timeout:.0f} s")
        time.sleep(0.5)
    if r.returncode:
        raise RuntimeError(f"the cluster did not reach {n} nodes: {r.stderr.read().strip()[-500:]}")


def _ours(temp: Path) -> list[int]:
    """Processes of this cluster that are still running: those whose command line names its temp folder."""
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if str(temp) in (d / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace"):
                    pids.append(int(d.name))
            except OSError:
                continue
    return [p for p in pids if p != os.getpid()]


def _stop(procs: list[subprocess.Popen], temp: Path) -> dict:
    """SIGTERM to each `ray start --block` (it stops its raylet, GCS and workers), then SIGKILL to what is left."""
    for p in reversed(procs):  # the worker node first, then the head
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in reversed(procs):
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
    for p in procs:  # the process groups we created
        with suppress(ProcessLookupError):
            os.killpg(p.pid, signal.SIGKILL)
    left = []
    for _ in range(20):
        left = _ours(temp)
        if not left:
            break
        for pid in left:
            with suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.5)
    return {"left_running": len(_ours(temp))}


@contextmanager
def two_node_cluster(work: Path, timeout: float = 120.0):
    """Yields the head's address (127.0.0.1:PORT) of a running two-node cluster (1 CPU each); stops it after."""
    ray = ray_cli()
    temp = Path(tempfile.mkdtemp(prefix="vrc", dir="/tmp"))  # short: Ray's socket paths must stay < 108 characters
    port = free_port()
    address = f"127.0.0.1:{port}"
    common = ["--block", "--node-ip-address", "127.0.0.1", "--num-cpus", "1", "--num-gpus", "0",
              "--object-store-memory", str(OBJECT_STORE), "--disable-usage-stats"]
    head = [ray, "start", "--head", "--port", str(port), "--include-dashboard", "false", "--temp-dir", str(temp),
            "--dashboard-agent-listen-port", str(free_port()), *common]
    worker = [ray, "start", "--address", address, "--dashboard-agent-listen-port", str(free_port()), *common]
    env = {**os.environ, "RAY_USAGE_STATS_ENABLED": "0"}
    env.pop("RAY_ADDRESS", None)
    procs: list[subprocess.Popen] = []
    stopped: dict = {}
    try:
        with open(work / "head.log", "w") as log:
            procs.append(subprocess.Popen(head, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True))
        _wait_for_nodes(address, 1, timeout, procs, work)
        with open(work / "worker.log", "w") as log:
            procs.append(subprocess.Popen(worker, stdout=log, stderr=subprocess.STDOUT, env=env,
                                          start_new_session=True))
        _wait_for_nodes(address, 2, timeout, procs, work)
        yield address, stopped
    finally:
        stopped.update(_stop(procs, temp))
        shutil.rmtree(temp, ignore_errors=True)


def vocnlp_run(input_path: Path, out: Path, conf: Path, env: dict) -> tuple[dict, float]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "vocnlp.cli.main", "run", str(input_path), "-o", str(out), "-c",
                        str(conf), "--no-history", "-q"], env=env, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"vocnlp run failed ({r.returncode}): {r.stderr.strip()[-1500:]}")
    return json.loads((out / "manifest.json").read_text()), time.perf_counter() - t0


def run_on_two_nodes(work: Path, rows: int = 240, distinct: int = 120, batch_size: int = 30, seed: int = 0,
                     compare_local: bool = True) -> dict:
    """The two-node run (and the local run to compare with); what the test and the benchmark check."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import make_load

    work.mkdir(parents=True, exist_ok=True)
    data = work / "load.csv"
    make_load.write(make_load.build(rows, distinct, seed), data)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    result: dict = {"rows": rows, "distinct_requested": distinct, "batch_size": batch_size}
    t0 = time.perf_counter()
    with two_node_cluster(work) as (address, stopped):
        result["cluster_start_s"] = round(time.perf_counter() - t0, 1)
        conf = work / "ray.yaml"
        conf.write_text(f"embed: {{cache_dir: {work / 'cache'}}}\n"
                        f"engine: {{kind: ray, num_workers: 2, batch_size: {batch_size}}}\n", encoding="utf-8")
        m, wall = vocnlp_run(data, work / "ray_run", conf, {**env, "RAY_ADDRESS": address})
        e = m["engine"]
        result.update({"address": address, "ray_run_wall_s": round(wall, 1), "nodes": e.get("nodes"),
                       "cpus": e.get("CPU"), "distinct_texts": e["distinct_texts"], "batches": e["batches"],
                       "by_worker": e.get("by_worker", []), "stage_seconds": e.get("stage_seconds"),
                       "counts": m["counts"], "embedded": m["embedding"].get("embedded"),
                       "pooled": m["embedding"].get("pooled", 0)})
    result["cluster_stopped"] = stopped
    nodes_used = {w["node"] for w in result["by_worker"]}
    result["nodes_that_did_batches"] = len(nodes_used)
    result["texts_by_node"] = {n[:12]: sum(w["texts"] for w in result["by_worker"] if w["node"] == n)
                               for n in sorted(nodes_used)}
    if compare_local:  # the same input on the local engine, with the embeddings the actors cached (not the topics:
        # the local run fits them again)
        shutil.copytree(work / "cache", work / "cache_local", ignore=shutil.ignore_patterns("topics"))
        conf = work / "local.yaml"
        conf.write_text(f"embed: {{cache_dir: {work / 'cache_local'}}}\nengine: {{kind: local}}\n", encoding="utf-8")
        _, wall = vocnlp_run(data, work / "local_run", conf, env)
        result["local_run_wall_s_cached_embeddings"] = round(wall, 1)
        result["byte_identical_to_local"] = {f: (work / "ray_run" / f).read_bytes() == (work / "local_run" / f)
                                             .read_bytes() for f in FILES}
    result["total_s"] = round(time.perf_counter() - t0, 1)
    return result


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=240)
    p.add_argument("--distinct", type=int, default=120)
    p.add_argument("--batch-size", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-local", action="store_true", help="skip the local run and the byte comparison")
    p.add_argument("--no-record", action="store_true", help="do not write benchmarks/engines_results.json")
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as d:
        res = run_on_two_nodes(Path(d), args.rows, args.distinct, args.batch_size, args.seed, not args.no_local)
    res["load_average_1m_at_end"] = os.getloadavg()[0]
    print(json.dumps(res, ensure_ascii=False, indent=1))
    ok = (res["nodes_that_did_batches"] == 2 and res["cluster_stopped"].get("left_running") == 0
          and all(res.get("byte_identical_to_local", {}).values()))
    if not args.no_record:
        old = json.loads(OUT.read_text()) if OUT.exists() else {}
        old["ray_cluster_2_nodes"] = res
        OUT.write_text(json.dumps(old, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
