from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "data" / "sample"
SHARED_CHECK = ROOT.parent / "shared" / "tools" / "check_run.py"


class FakeEmbedder:
    """Deterministic bag-of-characters vectors: similar texts get similar vectors, no model needed."""

    name = "fake"
    model_id = "fake-64"

    def __init__(self, dim: int = 64):
        self.dim = dim
        self.calls = 0

    def embed(self, texts):
        self.calls += 1
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for ch in t:
                h = int(hashlib.md5(ch.encode()).hexdigest(), 16)
                out[i, h % self.dim] += 1.0
            out[i] += 1e-3
        return out / np.linalg.norm(out, axis=1, keepdims=True)


@pytest.fixture(autouse=True)
def _work_in_tmp(tmp_path, monkeypatch):
    """Runs write .cache/ and .vocnlp/history relative to the current folder: keep them out of the repo."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fake_embedder():
    return FakeEmbedder()


@pytest.fixture
def sample_week() -> Path:
    return SAMPLE_DIR / "midori_2026-W44.csv"


@pytest.fixture
def small_csv(tmp_path, sample_week) -> Path:
    """The first 60 rows of a real sample week (keeps end-to-end tests fast)."""
    df = pd.read_csv(sample_week, dtype=str, keep_default_na=False).head(60)
    path = tmp_path / "small.csv"
    df.to_csv(path, index=False)
    return path


@pytest.fixture
def use_fake_embedder(monkeypatch, fake_embedder):
    """Route the pipeline's embedder to the fake one (unit tests of everything but the model)."""
    import vocnlp.pipeline as pipeline

    monkeypatch.setattr(pipeline, "create_embedder", lambda cfg: fake_embedder)
    return fake_embedder
