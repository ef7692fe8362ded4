"""The one interface the classify and sentiment stages use, whichever model is configured.

Label prototypes (``prototype.PrototypeClassifier``) and trained models (``trained.LinearTextClassifier``)
both implement it, so a stage never asks which kind it was given.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class TextClassifier(Protocol):
    classes_: list[str]  # label names, in column order of predict_proba
    multi_label_: bool

    def predict_proba(self, texts: list[str], X: np.ndarray) -> np.ndarray:
        """Scores in [0, 1], shape (n, len(classes_)); ``texts`` are the normalised comments, ``X`` their embeddings."""
        ...

    def predict_from_proba(self, P: np.ndarray) -> list:
        """Labels from ``predict_proba``'s scores: a list of label lists (multi-label) or of labels."""
        ...

    def predict(self, texts: list[str], X: np.ndarray) -> list:
        ...
