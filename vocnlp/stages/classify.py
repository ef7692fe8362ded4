"""CX dimension (multi-label) and journey stage (single label) for every analysed row.

The stage uses one interface, ``vocnlp.models.base.TextClassifier`` (scores, then labels from the
scores); which model that is (label prototypes or a trained model folder) is decided in
``vocnlp.models.registry`` from the config.

Requires: the embedding matrix of the analysed rows (in row order).
Adds: S.CX_DIMENSIONS, cx_<LABEL> per label, S.JOURNEY_STAGE, S.JOURNEY_CONFIDENCE.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from ..models.base import TextClassifier


def run(df: pd.DataFrame, ok_mask: np.ndarray, X: np.ndarray, cx_model: TextClassifier,
        stage_model: TextClassifier) -> pd.DataFrame:
    S.require(df, [S.TEXT_NORM], "classify", {S.TEXT_NORM: "clean"})
    texts = df.loc[ok_mask, S.TEXT_NORM].tolist()
    n = len(df)
    out: dict[str, object] = {}
    p_cx = cx_model.predict_proba(texts, X) if len(X) else np.zeros((0, len(cx_model.classes_)))
    dims = np.full(n, "", dtype=object)
    dims[ok_mask] = ["|".join(labels) for labels in cx_model.predict_from_proba(p_cx)]
    out[S.CX_DIMENSIONS] = dims
    for k, label in enumerate(cx_model.classes_):
        col = np.full(n, np.nan)
        col[ok_mask] = np.round(p_cx[:, k], 4)
        out[S.cx_column(label)] = col
    p_st = stage_model.predict_proba(texts, X) if len(X) else np.zeros((0, len(stage_model.classes_)))
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
