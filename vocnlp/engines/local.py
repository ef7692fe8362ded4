"""The local engine: the per-text stages batch after batch in this process (the default; no Ray)."""

from __future__ import annotations

import time

from ..config import RunConfig
from .texts import TextModels, TextResults, analyse_texts


class LocalEngine:
    kind = "local"

    def __init__(self, cfg: RunConfig, models: TextModels):
        self.batch_size = cfg.engine.batch_size
        self.models = models
        self.cpu_s = 0.0  # CPU seconds of this process (all its threads) in the per-text stages

    def map(self, texts: list[str], progress=None) -> TextResults:
        """Batches bound the memory the spaCy Docs take; the models stay loaded across them."""
        batches, n = [], len(texts)
        cpu = time.process_time()
        for start in range(0, n, self.batch_size):
            batch = texts[start : start + self.batch_size]
            within = None
            if progress:  # distinct texts done, advanced as the batch's embedding progresses (its slow part)
                def within(d: int, t: int, start: int = start, size: int = len(batch)) -> None:
                    progress(start + (round(size * d / t) if t else 0), n)
            batches.append(analyse_texts(batch, self.models, within))
            if progress:
                progress(start + len(batch), n)
        res = TextResults.from_batches(batches or [analyse_texts([], self.models)])
        self.cpu_s = time.process_time() - cpu
        return res

    def describe(self) -> dict:
        return {"kind": self.kind, "batch_size": self.batch_size, "workers": 1, "cpu_s": round(self.cpu_s, 3)}
