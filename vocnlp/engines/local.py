"""The local engine: the per-text stages batch after batch in this process (the default; no Ray)."""

from __future__ import annotations

from ..config import RunConfig
from .texts import TextModels, TextResults, analyse_texts


class LocalEngine:
    kind = "local"

    def __init__(self, cfg: RunConfig, models: TextModels):
        self.batch_size = cfg.engine.batch_size
        self.models = models

    def map(self, texts: list[str], progress=None) -> TextResults:
        """Batches bound the memory the spaCy Docs take; the models stay loaded across them."""
        batches = []
        for start in range(0, len(texts), self.batch_size):
            batches.append(analyse_texts(texts[start : start + self.batch_size], self.models))
            if progress:
                progress(min(start + self.batch_size, len(texts)), len(texts))
        return TextResults.from_batches(batches or [analyse_texts([], self.models)])

    def describe(self) -> dict:
        return {"kind": self.kind, "batch_size": self.batch_size, "workers": 1}
