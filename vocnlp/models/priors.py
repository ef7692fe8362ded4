"""Correct a classifier's decisions for the label mix of the batch it is applied to.

A model trained on one label mix (our training data has every journey stage at about 11-18 %)
over-predicts the rare stages on a week whose comments are mostly 使用 (about four in five in real
review and survey streams). Saerens, Latinne & Decaestecker (2002, "Adjusting the outputs of a
classifier to new a priori probabilities") estimate the new priors from the unlabelled batch by EM
and re-weight the posteriors accordingly; nothing is labelled and nothing is retrained.

The correction only applies when the batch is large enough for the estimate to mean something
(``min_items``); below that the posteriors are returned unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PriorShift:
    applied: bool
    train_prior: list[float]
    batch_prior: list[float]
    iterations: int

    def as_dict(self, classes: list[str]) -> dict:
        return {"applied": self.applied, "iterations": self.iterations,
                "train_prior": dict(zip(classes, (round(p, 4) for p in self.train_prior))),
                "batch_prior": dict(zip(classes, (round(p, 4) for p in self.batch_prior)))}


def em_prior_shift(P: np.ndarray, train_prior: np.ndarray, max_iter: int = 200, tol: float = 1e-6,
                   floor: float = 1e-3) -> tuple[np.ndarray, np.ndarray, int]:
    """Single-label EM. ``P`` (n, k) are posteriors under ``train_prior`` (k,). Returns the adjusted
    posteriors, the estimated batch prior and the number of iterations."""
    pt = np.clip(np.asarray(train_prior, dtype=float), floor, None)
    pt = pt / pt.sum()
    prior = pt.copy()
    W = P
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        W = P * (prior / pt)
        W = W / np.clip(W.sum(axis=1, keepdims=True), 1e-12, None)
        new = np.clip(W.mean(axis=0), floor, None)
        new = new / new.sum()
        done = np.abs(new - prior).max() < tol
        prior = new
        if done:
            break
    W = P * (prior / pt)
    return W / np.clip(W.sum(axis=1, keepdims=True), 1e-12, None), prior, it


def shift_single_label(P: np.ndarray, train_prior: np.ndarray, min_items: int) -> tuple[np.ndarray, PriorShift]:
    if len(P) < min_items:
        return P, PriorShift(False, list(map(float, train_prior)), list(map(float, train_prior)), 0)
    W, prior, it = em_prior_shift(P, train_prior)
    return W, PriorShift(True, list(map(float, train_prior)), list(map(float, prior)), it)


def shift_multi_label(P: np.ndarray, train_prevalence: np.ndarray, min_items: int) -> tuple[np.ndarray, PriorShift]:
    """Multi-label: each label is its own two-class problem (present / absent) with its own prevalence."""
    if len(P) < min_items:
        return P, PriorShift(False, list(map(float, train_prevalence)), list(map(float, train_prevalence)), 0)
    out = np.empty_like(P)
    batch, iters = [], 0
    for j, p in enumerate(train_prevalence):
        two = np.column_stack([1 - P[:, j], P[:, j]])
        W, prior, it = em_prior_shift(two, np.array([1 - p, p]))
        out[:, j] = W[:, 1]
        batch.append(float(prior[1]))
        iters = max(iters, it)
    return out, PriorShift(True, list(map(float, train_prevalence)), batch, iters)


def training_prior(metadata: dict, classes: list[str]) -> np.ndarray | None:
    """The label mix a model was trained on: ``class_prior`` when training recorded it, else the label
    supports of its dev split (a hash-chosen 20 % of the same data, so the same mix)."""
    if "class_prior" in metadata:
        return np.array([metadata["class_prior"][c] for c in classes], dtype=float)
    dev = metadata.get("metrics", {}).get("dev", {})
    per = dev.get("per_label", {})
    n = dev.get("n")
    if not per or not n or any(c not in per for c in classes):
        return None
    return np.array([per[c]["support"] / n for c in classes], dtype=float)
