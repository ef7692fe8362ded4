"""The ray engine on a real local Ray (num_cpus=2, started here and shut down at the end): the local engine's
answers byte for byte, and a worker killed mid-run is restarted, its batch retried, and nothing is lost; and
(slow) on a two-node cluster of `ray start` raylets on 127.0.0.1, where both nodes analyse batches."""

import logging
import os
import shutil
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SAMPLE_DIR
from vocnlp.config import load_config
from vocnlp.engines.ray_engine import KILL_ONCE_ENV, SLOW_START_ENV, _pool_size
from vocnlp.errors import EngineError
from vocnlp.pipeline import run_pipeline

ray = pytest.importorskip("ray", reason='Ray is not installed (pip install "vocnlp[ray]"): the ray engine is optional')

WEEK = SAMPLE_DIR / "midori_2026-W44.csv"
FILES = ["items.csv", "segments.csv", "topics.csv", "issues.csv"]


def cfg(cache: Path, kind: str):
    # batches of 64 distinct texts: the week's ~300 are 5 batches, shared by the two actors
    return load_config(None, {"embed.cache_dir": str(cache), "history.enabled": False, "engine.kind": kind,
                              "engine.batch_size": 64, "engine.num_workers": 2})


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def local_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("local")
    res = run_pipeline(WEEK, out / "run", cfg(out / "cache", "local"))
    assert res.manifest["engine"]["kind"] == "local"
    return out


def test_ray_engine_gives_the_local_engines_bytes(tmp_path, cluster, local_run):
    res = run_pipeline(WEEK, tmp_path / "run", cfg(tmp_path / "cache", "ray"))  # a cold cache: the actors embed
    e = res.manifest["engine"]
    assert e["kind"] == "ray" and e["CPU"] == 2 and e["actors"] == 2
    assert e["batches"] >= -(-e["distinct_texts"] // 64) > 2
    assert e["batches"] % 2 == 0  # a multiple of the workers: neither actor is left with an extra batch
    assert sum(w["texts"] for w in e["by_worker"]) == e["distinct_texts"]
    assert sum(w["batches"] for w in e["by_worker"]) == e["batches"] and len(e["by_worker"]) == 2
    emb = res.manifest["embedding"]  # long comments: their segments embedded on the actors, their vector pooled
    assert emb["embedded"] + emb["pooled"] == e["distinct_texts"] and emb["segments_embedded"] > 0
    for f in FILES:
        assert (tmp_path / "run" / f).read_bytes() == (local_run / "run" / f).read_bytes(), f
    assert ray.is_initialized()  # a Ray the caller started is left running


def test_a_killed_worker_is_retried_and_nothing_is_lost(tmp_path, cluster, local_run, monkeypatch):
    marker = tmp_path / "killed"
    monkeypatch.setenv(KILL_ONCE_ENV, f"{marker}:130")  # the actor given the batch with text 130 dies once
    res = run_pipeline(WEEK, tmp_path / "run", cfg(local_run / "cache", "ray"))
    assert marker.exists() and int(marker.read_text()) != os.getpid()  # a worker process was killed
    assert res.manifest["counts"]["read"] == res.manifest["counts"]["analysed"] + res.manifest["counts"]["skipped_total"]
    for f in FILES:
        assert (tmp_path / "run" / f).read_bytes() == (local_run / "run" / f).read_bytes(), f


def test_no_batch_is_handed_out_before_every_actor_is_up(tmp_path, cluster, local_run, monkeypatch):
    """One actor comes up 10 s after the other, and the batches are quick (the embeddings are cached): before the
    pool waited for every actor, the first one up analysed all the batches before the second had started."""
    monkeypatch.setenv(SLOW_START_ENV, f"{tmp_path / 'slow'}:10")
    res = run_pipeline(WEEK, tmp_path / "run", cfg(local_run / "cache", "ray"))
    e = res.manifest["engine"]
    assert (tmp_path / "slow").exists() and e["actors"] == 2
    assert len(e["by_worker"]) == 2 and all(w["batches"] >= 1 for w in e["by_worker"]), e["by_worker"]
    assert sum(w["texts"] for w in e["by_worker"]) == e["distinct_texts"]
    for f in FILES:
        assert (tmp_path / "run" / f).read_bytes() == (local_run / "run" / f).read_bytes(), f


def test_an_actor_that_does_not_start_in_time_is_E600(tmp_path, cluster, local_run, monkeypatch):
    monkeypatch.setenv(SLOW_START_ENV, f"{tmp_path / 'slow'}:10")
    # Ray Data logs the timeout's traceback; pytest's log capture would keep that record, its frames and so the
    # pool's actor handles until the test ends (a CLI run's handlers write it and let go)
    monkeypatch.setattr(logging.getLogger("ray.data.exceptions"), "disabled", True)
    c = cfg(local_run / "cache", "ray")
    c.engine.start_timeout_s = 2
    with pytest.raises(EngineError, match="did not all start within 2 s") as err:
        run_pipeline(WEEK, tmp_path / "run", c)
    assert err.value.code == "E600"
    for _ in range(240):  # the pool's actors are let go (Ray ends the late one when its start has finished, 10 s
        # plus loading the models, slow at a high load): their CPUs are free again for the next run
        if ray.available_resources().get("CPU") == 2:
            break
        time.sleep(0.5)
    assert ray.available_resources().get("CPU") == 2


def test_the_pool_is_no_larger_than_the_batches_or_the_cluster():
    assert _pool_size(4, 10, 8.0) == 4 and _pool_size(4, 3, 8.0) == 3 and _pool_size(4, 10, 2.0) == 2
    assert _pool_size(2, 1, None) == 1 and _pool_size(2, 6, 0.5) == 1


@pytest.mark.slow
def test_two_nodes_both_do_batches_and_give_the_local_engines_bytes(tmp_path):
    """benchmarks/bench_ray_cluster.py: two raylets (1 CPU each) started with `ray start`, `vocnlp run --engine ray`
    with RAY_ADDRESS at the head, then the local engine; 1.5 minutes at load 11 on the shared 2-core machine."""
    if not shutil.which("ray") and not Path(sys.executable).with_name("ray").exists():
        pytest.skip("the `ray` command is not installed")
    from benchmarks.bench_ray_cluster import run_on_two_nodes

    res = run_on_two_nodes(tmp_path, rows=80, distinct=40, batch_size=10)
    assert res["nodes"] == 2 and res["cpus"] == 2 and res["batches"] == 4
    # no batch is handed out before both actors are up, then each gets a batch as it finishes one: both nodes work
    assert res["nodes_that_did_batches"] == 2 and all(n >= 10 for n in res["texts_by_node"].values()), res
    # every distinct text analysed once: embedded whole, or (long comments) embedded as its segments and pooled
    assert sum(res["texts_by_node"].values()) == res["distinct_texts"] == res["embedded"] + res["pooled"] == 40
    assert res["counts"]["read"] == 80 == res["counts"]["analysed"] + res["counts"]["skipped_total"]
    assert all(res["byte_identical_to_local"].values()), res["byte_identical_to_local"]
    assert res["cluster_stopped"]["left_running"] == 0
