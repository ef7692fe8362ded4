"""Zero-training classifier: similarity of each comment to its labels' descriptions and examples.

The first working method, and the fallback for a company's new taxonomy before anyone has labelled
data: each label's prototype is the mean embedding of its description and examples; a softmax
over cosine similarities (temperature ``tau``) gives per-label scores.
"""

from __future__ import annotations

import numpy as np

from ..labels import LabelSet


class PrototypeClassifier:
    """scikit-learn style: ``fit`` takes the label set and an embed function, ``predict_proba`` embeddings.
    Implements ``vocnlp.models.base.TextClassifier`` (``texts`` are accepted and ignored)."""

    def __init__(self, tau: float = 0.02, threshold: float = 0.5):
        self.tau = tau
        self.threshold = threshold

    def fit(self, label_set: LabelSet, embed) -> PrototypeClassifier:
        texts, owners = [], []
        for k, lab in enumerate(label_set.labels):
            for t in (lab.description, *lab.examples):
                if t:
                    texts.append(t)
                    owners.append(k)
        vecs = embed(texts)
        protos = np.vstack([vecs[np.array(owners) == k].mean(axis=0) for k in range(len(label_set.labels))])
        self.prototypes_ = protos / np.linalg.norm(protos, axis=1, keepdims=True)
        self.classes_ = label_set.names
        self.multi_label_ = label_set.multi_label
        self.thresholds_ = np.full(len(self.classes_), self.threshold)
        return self

    def predict_proba(self, texts: list[str] | None, X: np.ndarray) -> np.ndarray:
        sims = X @ self.prototypes_.T
        z = (sims - sims.max(axis=1, keepdims=True)) / self.tau
        p = np.exp(z)
        p /= p.sum(axis=1, keepdims=True)
        if self.multi_label_:
            # relative scores: 1.0 for the best label, the others by their ratio to it
            p = p / p.max(axis=1, keepdims=True)
        return p

    def predict_from_proba(self, P: np.ndarray) -> list:
        if self.multi_label_:
            return [[c for c, v, t in zip(self.classes_, row, self.thresholds_) if v >= t] for row in P]
        return [self.classes_[i] for i in P.argmax(axis=1)]

    def predict(self, texts: list[str] | None, X: np.ndarray) -> list:
        return self.predict_from_proba(self.predict_proba(texts, X))
