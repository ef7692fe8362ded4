"""CX dimension (multi-label) and journey stage (single label) for every analysed row.

The stage uses one interface, ``vocnlp.models.base.TextClassifier`` (scores, then labels from the
scores); which model that is (label prototypes or a trained model folder) is decided in
``vocnlp.models.registry`` from the config.

A stage prior (``classify.journey_stage.prior``) re-weights the stage probabilities to the label mix the
run's comments are expected to have. A trained model is fitted with balanced class weights, so its
probabilities are those of a world where every stage is equally likely; real streams are mostly 使用, and
without the prior the rare stages are over-predicted (on real survey answers 検討 came out 6.5x as often as
it was true). Bayes' rule gives the correction: p(stage | text) under the prior is proportional to
p(stage | text) under equal stages times the prior's share. The same applies to a prototype model.

CX dimensions per segment (``classify.cx_dimension.per_segment``): a long comment touches several subjects,
and a dimension said in one clause is diluted in the whole comment's vector. For a comment with two or
more segments each segment is embedded (through the run's cache) and scored, and the item's probability of
a dimension is the mean of the item's own and its highest segment's; the tuned thresholds then decide.

A CX prior (``classify.cx_dimension.prior``, label -> expected share of comments) moves each dimension's
probability from the dev mix its threshold was tuned on to that share (off by default: README, real text).

Requires: the embedding matrix of the analysed rows (in row order); S.SEGMENTS for per-segment scoring.
Adds: S.CX_DIMENSIONS, cx_<LABEL> per label, S.JOURNEY_STAGE, S.JOURNEY_CONFIDENCE.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from .. import schema as S
from ..errors import ConfigError
from ..models.base import TextClassifier


def prior_weights(classes: list[str], prior: dict[str, float] | None) -> np.ndarray | None:
    """The configured label mix as weights in the model's class order (None: no prior)."""
    if not prior:
        return None
    unknown = sorted(set(prior) - set(classes))
    if set(prior) != set(classes):
        raise ConfigError(f"classify.journey_stage.prior must give a share for each of {classes}"
                          + (f"; {unknown} are not stages of the label set." if unknown else "."),
                          fix="list every stage of the label set with a share above 0, or set prior: null.")
    w = np.array([float(prior[c]) for c in classes])
    return w / w.sum()


def apply_prior(P: np.ndarray, weights: np.ndarray | None) -> np.ndarray:
    """Re-weight single-label probabilities (fitted for equally likely labels) to a label mix, renormalised."""
    if weights is None or not len(P):
        return P
    Q = P * weights[None, :]
    return Q / np.clip(Q.sum(axis=1, keepdims=True), 1e-12, None)


def dev_prevalence(model: TextClassifier) -> np.ndarray | None:
    """Each label's share of the dev rows a trained multi-label model's thresholds were tuned on."""
    dev = getattr(model, "metadata_", {}).get("metrics", {}).get("dev", {})
    per, n = dev.get("per_label", {}), dev.get("n")
    if not n or any(c not in per for c in model.classes_):
        return None
    return np.array([per[c]["support"] / n for c in model.classes_], dtype=float)


def shift_prevalence(P: np.ndarray, model: TextClassifier, prior: dict[str, float] | None) -> np.ndarray:
    """Multi-label: move each label's probability from the dev mix its threshold was tuned on to the configured
    share (a label missing from ``prior`` keeps its probability): logit p + logit(share) - logit(dev share)."""
    if not prior or not len(P):
        return P
    unknown = sorted(set(prior) - set(model.classes_))
    ref = dev_prevalence(model)
    if unknown or ref is None or any(v >= 1 for v in prior.values()):
        raise ConfigError("classify.cx_dimension.prior needs a trained model with dev metrics and a share below 1 "
                          f"for labels of {list(model.classes_)}" + (f"; {unknown} are not." if unknown else "."),
                          fix="give each label's expected share of comments (0 < share < 1), or set prior: null.")
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    shift = np.array([logit(prior[c]) - logit(r) if c in prior else 0.0 for c, r in zip(model.classes_, ref)])
    return 1 / (1 + np.exp(-(logit(np.clip(P, 1e-6, 1 - 1e-6)) + shift[None, :])))


def with_segments(P: np.ndarray, segments: list[list[str]], model: TextClassifier,
                  seg_embed: Callable[[list[str]], np.ndarray]) -> np.ndarray:
    """Multi-label item probabilities averaged with the highest segment's, for items with two or more segments."""
    rows = [i for i, segs in enumerate(segments) if len(segs) > 1]
    flat = [s.strip() for i in rows for s in segments[i]]
    if not flat:
        return P
    Q = model.predict_proba(flat, seg_embed(flat))
    out, k = P.copy(), 0
    for i in rows:
        m = len(segments[i])
        out[i] = (P[i] + Q[k:k + m].max(axis=0)) / 2
        k += m
    return out


def run(df: pd.DataFrame, ok_mask: np.ndarray, X: np.ndarray, cx_model: TextClassifier,
        stage_model: TextClassifier, stage_prior: dict[str, float] | None = None,
        seg_embed: Callable[[list[str]], np.ndarray] | None = None, cx_prior: dict[str, float] | None = None,
        seg_rows: np.ndarray | None = None) -> pd.DataFrame:
    """``seg_embed`` (texts -> vectors, the run's embedder and cache) turns on per-segment CX scoring; ``seg_rows``
    (a mask over the analysed rows) limits it to those rows."""
    S.require(df, [S.TEXT_NORM], "classify", {S.TEXT_NORM: "clean"})
    texts = df.loc[ok_mask, S.TEXT_NORM].tolist()
    n = len(df)
    out: dict[str, object] = {}
    p_cx = cx_model.predict_proba(texts, X) if len(X) else np.zeros((0, len(cx_model.classes_)))
    if seg_embed is not None and len(X):
        S.require(df, [S.SEGMENTS], "classify", {S.SEGMENTS: "segment"})
        segs = df.loc[ok_mask, S.SEGMENTS].tolist()
        if seg_rows is not None:
            segs = [s if keep else [] for s, keep in zip(segs, seg_rows)]
        p_cx = with_segments(p_cx, segs, cx_model, seg_embed)
    p_cx = shift_prevalence(p_cx, cx_model, cx_prior)
    dims = np.full(n, "", dtype=object)
    dims[ok_mask] = ["|".join(labels) for labels in cx_model.predict_from_proba(p_cx)]
    out[S.CX_DIMENSIONS] = dims
    for k, label in enumerate(cx_model.classes_):
        col = np.full(n, np.nan)
        col[ok_mask] = np.round(p_cx[:, k], 4)
        out[S.cx_column(label)] = col
    p_st = stage_model.predict_proba(texts, X) if len(X) else np.zeros((0, len(stage_model.classes_)))
    p_st = apply_prior(p_st, prior_weights(list(stage_model.classes_), stage_prior))
    stage = np.full(n, "", dtype=object)
    conf = np.full(n, np.nan)
    if len(X):
        chosen = stage_model.predict_from_proba(p_st)
        best = np.array([stage_model.classes_.index(c) for c in chosen])
        stage[ok_mask] = chosen
        conf[ok_mask] = np.round(p_st[np.arange(len(best)), best], 4)
    out[S.JOURNEY_STAGE] = stage
    out[S.JOURNEY_CONFIDENCE] = conf
    return df.assign(**out)
