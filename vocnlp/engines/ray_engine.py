"""The ray engine: the per-text stages as Ray Data ``map_batches`` over an actor pool.

Each actor builds :class:`TextModels` once and analyses one batch (a block of distinct texts) per call. The pool
has a fixed size (``engine.num_workers``, at most the batches and the cluster's CPUs), no batch is handed out until
every actor is up (``engine.start_timeout_s``, else E600), and an actor gets its next batch when it has finished
one, so every actor does batches however late it starts (tested). Blocks
carry their texts' positions, so the results are put back in text order whatever order the actors finish in, and
the answers are the local engine's (tested byte for byte). A dead actor is restarted and its batch retried
(``engine.max_retries``), so a worker killed mid-run loses nothing (tested). Each batch also says which node and
process analysed it and their CPU seconds: the manifest's ``engine.by_worker`` shows how the work was distributed
(benchmarks/bench_ray_cluster.py and a slow test: two raylets, both do batches). Ray is imported here only.

Cluster: ``engine.address`` (or ``RAY_ADDRESS``); with neither, a Ray is started in this process with
``engine.num_workers`` CPUs and shut down at the end; a Ray already initialised in this process is used as is.
Every node needs vocnlp (same version) installed; the embedding cache (``embed.cache_dir``) is per node.
"""

from __future__ import annotations

import gc
import json
import logging
import os
import signal
import socket
import time
from pathlib import Path

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import RunConfig
from ..errors import BackendUnavailable, EngineError
from .texts import EMBEDDING, UNITS, TextModels, TextResults, analyse_texts

POS = "_pos"  # a text's position in the run's list of distinct texts
WORKER = "_worker"  # on a batch's first row: JSON {node, pid} of the actor that analysed it (the rest: "")
KILL_ONCE_ENV = "VOCNLP_RAY_KILL_ONCE"  # tests: "MARKER_FILE:POS": the actor given text POS kills itself once
SLOW_START_ENV = "VOCNLP_RAY_SLOW_START"  # tests: "MARKER_FILE:SECONDS": the first actor to start sleeps that long
# in its constructor, as an actor on a slow or busy node would (both read on the driver, handed to the actors)


def import_ray():
    try:
        import ray
        import ray.data  # noqa: F401
    except ImportError as err:
        raise BackendUnavailable("engine 'ray' needs Ray, which is not installed.",
                                 fix='pip install "vocnlp[ray]", or run with --engine local.') from err
    return ray


def _reachable(address: str, timeout: float = 5.0) -> None:
    """Fail fast (not after Ray's long connection retries) when nothing listens at host:port."""
    if address in ("auto", "local"):
        return
    hostport = address.split("://", 1)[-1].rstrip("/")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        return  # a form Ray understands and we do not parse: let ray.init judge it
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as err:
        raise EngineError(f"cannot reach the Ray cluster at {address} ({err.strerror or err}).",
                          fix="start it (ray start --head), correct engine.address / RAY_ADDRESS, or run with "
                              "--engine local.") from None


def connect(ray, cfg: RunConfig) -> bool:
    """Join the configured cluster or start a local Ray; True when this call started it (and must shut it down)."""
    if ray.is_initialized():
        return False
    address = cfg.engine.address or os.environ.get("RAY_ADDRESS")
    quiet = {"logging_level": logging.WARNING, "log_to_driver": False, "configure_logging": True}
    if address:
        _reachable(address)
        try:
            ray.init(address=address, **quiet)
        except Exception as err:  # noqa: BLE001 - Ray raises many kinds for an unusable cluster
            raise EngineError(f"cannot connect to the Ray cluster at {address} ({type(err).__name__}: "
                              f"{str(err).splitlines()[0] if str(err) else ''}).",
                              fix="check engine.address / RAY_ADDRESS and that the cluster runs the same Ray and "
                                  "Python versions, or run with --engine local.") from None
    else:
        ray.init(num_cpus=cfg.engine.num_workers, include_dashboard=False, **quiet)
    return True


class TextActor:
    """One Ray actor: loads the models once, then analyses one block of distinct texts per call."""

    def __init__(self, cfg: RunConfig):
        import ray

        self.models = TextModels(cfg)
        self.node = ray.get_runtime_context().get_node_id()
        _slow_start_if_asked()

    def __call__(self, batch):
        """Arrow in, Arrow out (Ray's own pandas conversions differ between Ray and pandas versions)."""
        import pyarrow as pa

        positions = batch.column(POS).to_numpy()
        _kill_once_if_asked(positions)
        cpu, wall = time.process_time(), time.perf_counter()
        out = analyse_texts(batch.column(S.TEXT_NORM).to_pylist(), self.models)
        out[POS] = positions
        done = {"node": self.node, "pid": os.getpid(), "cpu_s": time.process_time() - cpu,
                "wall_s": time.perf_counter() - wall}  # CPU seconds: this actor's threads (Ray gives it num_cpus)
        out[WORKER] = [json.dumps(done)] + [""] * (len(out) - 1) if len(out) else []
        return pa.Table.from_pandas(out, preserve_index=False)


def _kill_once_if_asked(positions: np.ndarray) -> None:
    """The failure test's hook: kill this worker process (as an OOM killer or a lost node would) the first time a
    batch holding the chosen text arrives; the marker file makes it happen once."""
    spec = os.environ.get(KILL_ONCE_ENV)
    if not spec:
        return
    marker, _, pos = spec.rpartition(":")
    if int(pos) in set(positions.tolist()) and not Path(marker).exists():
        Path(marker).write_text(str(os.getpid()))
        os.kill(os.getpid(), signal.SIGKILL)


def _slow_start_if_asked() -> None:
    """The pool test's hook: one actor (the first to create the marker) comes up SECONDS later than the others."""
    spec = os.environ.get(SLOW_START_ENV)
    if not spec:
        return
    marker, _, seconds = spec.rpartition(":")
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    time.sleep(float(seconds))


def _plain(value):
    """Arrow gives list cells back as numpy arrays: make them the lists analyse_texts returned."""
    return value.tolist() if isinstance(value, np.ndarray) else value


class RayEngine:
    kind = "ray"

    def __init__(self, cfg: RunConfig, models: TextModels):
        self.cfg = cfg
        self.models = models  # for an input with nothing to analyse: no cluster needed
        self.resources: dict = {}
        self.actors = 0  # the size of the actor pool of the last run
        self.workers: list[dict] = []  # per actor that did batches: node id, pid, batches, texts, CPU and wall seconds

    def map(self, texts: list[str], progress=None) -> TextResults:
        if not texts:
            return TextResults.from_batches([analyse_texts([], self.models)])
        ray = import_ray()
        started = connect(ray, self.cfg)
        try:
            self.resources = {k: v for k, v in ray.cluster_resources().items() if k in ("CPU", "GPU", "memory")}
            self.resources["nodes"] = len([n for n in ray.nodes() if n.get("Alive")])
            parts = self._run(ray, texts, progress)
        finally:
            if started:
                ray.shutdown()
        per_text = pd.concat([p.to_pandas() for p in parts], ignore_index=True).sort_values(POS, kind="stable")
        if not np.array_equal(per_text[POS].to_numpy(), np.arange(len(texts))):  # nothing lost, nothing twice
            raise EngineError(f"the ray engine returned {len(per_text)} results for {len(texts)} texts.",
                              fix="this is a bug; run with --engine local and report it.")
        self.workers = _who_did_what(per_text)
        per_text = per_text.drop(columns=[POS, WORKER]).reset_index(drop=True)
        for c in per_text.columns:
            if per_text[c].dtype == object and c not in (EMBEDDING, UNITS):  # vectors: the float32 arrays the
                # local engine has too (as Python lists of floats they took ~8x the memory: 100,000 texts' segment
                # vectors were the driver's peak)
                per_text[c] = [_plain(v) for v in per_text[c]]
        res = TextResults.from_batches([per_text])
        res.batches = len(parts)
        return res

    def _run(self, ray, texts: list[str], progress) -> list[pd.DataFrame]:
        ecfg = self.cfg.engine
        import pyarrow as pa

        size = _block_size(len(texts), ecfg.batch_size, ecfg.num_workers)
        blocks = [pa.table({POS: np.arange(s, min(s + size, len(texts))), S.TEXT_NORM: texts[s : s + size]})
                  for s in range(0, len(texts), size)]  # one block per batch: the unit the actors share
        self.actors = _pool_size(ecfg.num_workers, len(blocks), self.resources.get("CPU"))
        _dispatch_when_the_pool_is_up(ray, ecfg.start_timeout_s)
        hook = {k: os.environ[k] for k in (KILL_ONCE_ENV, SLOW_START_ENV) if os.environ.get(k)}
        ds = ray.data.from_arrow(blocks).map_batches(
            TextActor, fn_constructor_args=(self.cfg,), batch_size=None, batch_format="pyarrow",
            concurrency=self.actors, num_cpus=1,  # a fixed pool (min = max): Ray Data starts all of it at once
            max_restarts=ecfg.max_retries, max_task_retries=ecfg.max_retries,
            runtime_env={"env_vars": hook} if hook else None)
        parts, done, timed_out = [], 0, False
        try:
            for batch in ds.iter_batches(batch_size=None, batch_format="pyarrow"):
                parts.append(batch)
                done += batch.num_rows
                if progress:
                    progress(done, len(texts))
        except ray.exceptions.GetTimeoutError:  # the pool's wait (the only ray.get with a timeout here)
            timed_out = True
        except Exception as err:  # noqa: BLE001 - a stage's own error arrives wrapped by Ray
            lines = [line.strip() for line in str(err).splitlines() if line.strip()]
            raise EngineError(f"the ray engine failed: {(lines[-1] if lines else type(err).__name__)[:400]}",
                              fix="see the Ray logs (/tmp/ray/session_latest/logs), or run with --engine local.") from err
        if timed_out:  # raised here, outside the handler, so that no traceback keeps the half-started pool (its
            # actor handles) alive: dropping the dataset lets Ray kill the actors and free their CPUs
            del ds
            gc.collect()
            raise EngineError(f"the ray engine's {self.actors} actors did not all start within "
                              f"{ecfg.start_timeout_s} s (each needs 1 CPU and loads the models once; the cluster "
                              f"has {self.resources.get('CPU', 0):g} CPUs).",
                              fix="free CPUs on the cluster, lower engine.num_workers, raise "
                                  "engine.start_timeout_s, or run with --engine local.")
        return parts

    def describe(self) -> dict:
        return {"kind": self.kind, "batch_size": self.cfg.engine.batch_size, "workers": self.cfg.engine.num_workers,
                "address": self.cfg.engine.address or os.environ.get("RAY_ADDRESS") or "local", **self.resources,
                "actors": self.actors,
                "cpu_s": round(sum(w["cpu_s"] for w in self.workers), 3), "by_worker": self.workers}


def _dispatch_when_the_pool_is_up(ray, timeout_s: int) -> None:
    """Ray Data's settings for this process's datasets (a dataset copies them when it is created) so that every
    actor of the pool analyses batches, whatever the order in which they come up:

    - ``wait_for_min_actors_s``: the operator's start blocks until the whole fixed pool is running (each actor has
      loaded its models). By default (-1, Ray >= 2.46, ray-project/ray#52754 and #60124) dispatch starts as soon as
      one actor is up, and with few batches the first actor up took them all before the second one started.
    - ``actor_locality_enabled = False``: a batch goes to the actor with the fewest batches in flight, not to the
      actor on the node holding the batch (the driver's node: on a two-node cluster that is always the same one).
    - ``max_tasks_in_flight_per_actor = 1``: an actor is given its next batch when it has finished one (a batch is
      seconds of work, the hand-over milliseconds), so a slower node is not left with queued batches while another
      node idles.
    """
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True
    ctx.execution_options.actor_locality_enabled = False
    ctx.max_tasks_in_flight_per_actor = 1
    ctx.wait_for_min_actors_s = timeout_s
    ctx.enable_progress_bars = False
    ctx.print_on_execution_start = False
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    # its check that an autoscaling pool can grow warns about every pool with one batch in flight per actor; ours
    # has a fixed size, so there is nothing to grow
    logging.getLogger("ray.data._internal.execution.autoscaler.default_autoscaler").setLevel(logging.ERROR)


def _pool_size(workers: int, blocks: int, cluster_cpus: float | None) -> int:
    """Actors in the pool: engine.num_workers, but no more than there are batches, nor than the cluster's CPUs
    (each actor takes 1 CPU; a pool that cannot be placed would wait for engine.start_timeout_s, then fail)."""
    n = min(workers, blocks)
    if cluster_cpus:
        n = min(n, max(1, int(cluster_cpus)))
    return max(1, n)


def _block_size(n: int, batch_size: int, workers: int) -> int:
    """Texts per block: at most batch_size, and a number of blocks that is a multiple of the workers, so that no
    actor is left with one more full batch than the others (3 batches on 2 actors take 2 batches' time)."""
    blocks = -(-n // batch_size)
    blocks = -(-blocks // workers) * workers
    return max(1, -(-n // blocks))


def _who_did_what(per_text: pd.DataFrame) -> list[dict]:
    """The manifest's record of the distribution: per actor (node id, pid) the batches and texts it analysed."""
    starts = np.flatnonzero(per_text[WORKER].to_numpy() != "")
    ends = np.append(starts[1:], len(per_text))  # a batch's rows are consecutive (sorted by position, in blocks)
    seen: dict[tuple, dict] = {}
    for s, e in zip(starts, ends):
        w = json.loads(per_text[WORKER].iat[s])
        d = seen.setdefault((w["node"], w["pid"]), {"node": w["node"], "pid": w["pid"], "batches": 0, "texts": 0,
                                                    "cpu_s": 0.0, "wall_s": 0.0})
        d["batches"] += 1
        d["texts"] += int(e - s)
        d["cpu_s"] += w["cpu_s"]
        d["wall_s"] += w["wall_s"]
    for d in seen.values():
        d["cpu_s"], d["wall_s"] = round(d["cpu_s"], 3), round(d["wall_s"], 3)
    return sorted(seen.values(), key=lambda d: (d["node"], d["pid"]))
