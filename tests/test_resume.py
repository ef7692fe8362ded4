"""A run killed midway (SIGKILL, no clean-up) leaves the last outputs and the history intact; the next
run reuses the embeddings the killed one had cached and finishes."""

import json
import os
import signal
import subprocess
import sys
import time

import duckdb
import pandas as pd
import pytest

from .conftest import SAMPLE_DIR


@pytest.mark.slow
def test_kill_midway_then_resume(tmp_path):
    week = SAMPLE_DIR / "midori_2026-W45.csv"
    small = tmp_path / "midori_2026-W45.csv"  # same period, first 40 rows: a quick first run
    pd.read_csv(week, dtype=str, keep_default_na=False).head(40).to_csv(small, index=False)
    out = tmp_path / "run"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    first = subprocess.run([sys.executable, "-m", "vocnlp.cli.main", "run", str(small), "--output", str(out), "-q"],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    before = (out / "items.csv").read_bytes()

    proc = subprocess.Popen([sys.executable, "-m", "vocnlp.cli.main", "run", str(week), "--output", str(out), "-q"],
                            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cache = tmp_path / ".cache" / "vocnlp"
    deadline = time.time() + 120

    def cached() -> int:
        dbs = list(cache.glob("*.sqlite"))
        if not dbs:
            return 0
        import sqlite3

        try:
            return sqlite3.connect(dbs[0]).execute("SELECT count(*) FROM emb").fetchone()[0]
        except sqlite3.Error:
            return 0

    while time.time() < deadline and cached() < 150:  # kill while the week is being embedded
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (out / "items.csv").read_bytes() == before  # the previous outputs are untouched
    db = duckdb.connect(str(tmp_path / ".vocnlp" / "history" / "history.duckdb"), read_only=True)
    assert db.execute("SELECT n_items FROM runs WHERE period = '2026-W45'").fetchone()[0] == 40  # consistent
    db.close()

    done = subprocess.run([sys.executable, "-m", "vocnlp.cli.main", "run", str(week), "--output", str(out), "-q"],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    emb = manifest["embedding"]  # the killed run's work was kept (comments, and long comments' segments)
    assert emb["cache_hits"] + emb["segment_cache_hits"] >= 150
    assert manifest["counts"]["read"] == 330
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".run.tmp")]
