"""Engines: how the per-text stages are mapped over a run's distinct texts.

The per-text stages (tokenize, segment, codes, embed, classify, sentiment) are one function over a batch of
distinct normalised texts, :func:`vocnlp.engines.texts.analyse_texts`, with the models loaded once per process
(:class:`vocnlp.engines.texts.TextModels`). An engine maps it over batches and returns :class:`TextResults`:

- ``local`` (default): batch after batch in this process; needs nothing beyond vocnlp.
- ``ray``: Ray Data ``map_batches`` over an actor pool (each actor loads the models once), on the cluster at
  ``engine.address`` / ``RAY_ADDRESS``, else on a Ray started here with ``engine.num_workers`` CPUs. Ray is
  imported only when this engine is chosen (``pip install "vocnlp[ray]"``).

Topics, insights, history and outputs stay on the driver; the answers do not depend on the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ..config import RunConfig
from .texts import TextModels, TextResults

Progress = Callable[[int, int], None]


class Engine(Protocol):
    kind: str

    def map(self, texts: list[str], progress: Progress | None = None) -> TextResults:
        """The per-text stages' results for ``texts`` (distinct), in their order."""
        ...

    def describe(self) -> dict: ...


def create_engine(cfg: RunConfig, models: TextModels) -> Engine:
    """The engine ``cfg.engine.kind`` names; ``models`` are this process's (the local engine's, and the ray engine's
    for an input with nothing to analyse)."""
    if cfg.engine.kind == "ray":
        from .ray_engine import RayEngine

        return RayEngine(cfg, models)
    from .local import LocalEngine

    return LocalEngine(cfg, models)


__all__ = ["Engine", "TextModels", "TextResults", "create_engine"]
