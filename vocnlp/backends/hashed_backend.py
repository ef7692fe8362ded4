"""A LOAD-TEST stand-in embedder: deterministic hashed character n-gram vectors, no model.

Selectable only with ``embed.backend: hashed_loadtest`` in a config (never the default, never chosen by the
CLI on its own). It exists so that the scale benchmark (benchmarks/bench_scale.py) can run 1,000,000 rows with
100,000 distinct texts on a small machine, where embedding them with the bundled model would take hours: it
measures everything around the embedding (memory, rows/s of the other stages). Its vectors carry some meaning
(texts sharing character bigrams are close), but topics fitted on them are not the product's answers.
The real model's own throughput and constant memory are measured separately (README, Scale).
"""

from __future__ import annotations

import zlib

import numpy as np

DIM = 384  # the bundled model's width, so every matrix downstream has the real model's size


class HashedEmbedder:
    name = "hashed_loadtest"
    load_test = True  # the trained classifiers accept its vectors (same width) without the embedder check

    def __init__(self, dim: int = DIM, ngram: int = 2):
        self.dim, self.ngram = dim, ngram
        self.model_id = f"hashed-char{ngram}gram-{dim}"

    def embed(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            grams = [t[j : j + self.ngram] for j in range(max(1, len(t) - self.ngram + 1))]
            for g in grams:
                h = zlib.crc32(g.encode("utf-8"))
                out[i, h % self.dim] += 1.0 if (h >> 16) & 1 else -1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        return out / norms
