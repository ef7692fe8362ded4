"""Sentiment per segment and per item: label, score in [-1, 1], and the phrases that drove it.

Requires: S.SEGMENTS (segment), S.STATUS. Adds: S.SENTIMENT_LABEL, S.SENTIMENT_SCORE,
S.SENTIMENT_EVIDENCE per item; returns the segment table (segments.csv) beside it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import SentimentConfig
from ..japanese import analyse
from ..models.lexicon import Scored, combine, load_lexicon, score_segment


def label_for(score: float, band: float) -> str:
    if score <= -band:
        return "negative"
    if score >= band:
        return "positive"
    return "neutral"


def explain(scored: Scored, label: str, k: int = 3) -> str:
    """The phrases that pushed the item towards its label, strongest first: 「雑(-0.6)」."""
    sign = -1 if label == "negative" else 1 if label == "positive" else 0
    ev = [(p, v) for p, v in scored.evidence if v and (sign == 0 or np.sign(v) == sign)]
    ev.sort(key=lambda e: -abs(e[1]))
    seen, parts = set(), []
    for p, v in ev:
        p = p.strip()
        if p and p not in seen:
            seen.add(p)
            parts.append(f"{p}({v:+.1f})")
        if len(parts) == k:
            break
    return " / ".join(parts)


def model_score(p: np.ndarray, classes: list[str], band: float, label: str | None = None) -> tuple[str, float]:
    """Label = the model's label (most probable class unless it abstains to neutral); score = P(positive) -
    P(negative), kept on the label's side of the neutral band."""
    label = label or classes[int(p.argmax())]
    margin = float(p[classes.index("positive")] - p[classes.index("negative")])
    if label == "negative":
        return label, min(-band, margin)
    if label == "positive":
        return label, max(band, margin)
    return label, margin * band


def _apply_model(df, ok, X, model, cfg, item_scored, labels, scores, evidence):
    texts = df.loc[ok, S.TEXT_NORM].tolist()
    P = model.predict_proba(texts, X)
    predicted = model.predict_from_proba(P)
    positions = np.where(ok)[0]
    for pos, p, lab in zip(positions, P, predicted):
        label, score = model_score(p, model.classes_, cfg.neutral_band, lab)
        labels[pos] = label
        scores[pos] = round(score, 4)
        evidence[pos] = explain(item_scored[pos], label)  # the phrases that agree with the model's label
    return labels, scores, evidence


def run(df: pd.DataFrame, cfg: SentimentConfig, lexicon_path, item_model=None, X: np.ndarray | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lexicon scoring always runs (it gives the explanations); a trained ``item_model`` (issue: trained
    sentiment) overrides the item label and score when configured."""
    S.require(df, [S.SEGMENTS, S.STATUS], "sentiment", {S.SEGMENTS: "segment"})
    lex = load_lexicon(str(lexicon_path))
    n = len(df)
    labels = np.full(n, "", dtype=object)
    scores = np.full(n, np.nan)
    evidence = np.full(n, "", dtype=object)
    seg_rows = []
    item_scored: dict[int, Scored] = {}
    ids = df[S.ID].tolist() if S.ID in df.columns else list(range(1, n + 1))
    for pos, (segs, status, row) in enumerate(zip(df[S.SEGMENTS], df[S.STATUS], df[S.ROW])):
        if status != S.STATUS_OK:
            continue
        scored = [score_segment(s, analyse(s), lex) for s in segs]
        item = combine(scored, segs)
        item_scored[pos] = item
        labels[pos] = label_for(item.score, cfg.neutral_band)
        scores[pos] = round(item.score, 4)
        evidence[pos] = explain(item, labels[pos])
        for k, (s, sc) in enumerate(zip(segs, scored), 1):
            seg_rows.append({S.ID: ids[pos], S.SEGMENT_NO: k, S.TEXT: s.strip(),
                             S.SENTIMENT_LABEL: label_for(sc.score, cfg.neutral_band),
                             S.SENTIMENT_SCORE: round(sc.score, 4), "row": int(row) + 1})
    if item_model is not None and X is not None and len(X):
        ok = (df[S.STATUS] == S.STATUS_OK).to_numpy()
        labels, scores, evidence = _apply_model(df, ok, X, item_model, cfg, item_scored, labels, scores, evidence)
    segments = pd.DataFrame(seg_rows, columns=[S.ID, S.SEGMENT_NO, S.TEXT, S.SENTIMENT_LABEL, S.SENTIMENT_SCORE, "row"])
    out = df.assign(**{S.SENTIMENT_LABEL: labels, S.SENTIMENT_SCORE: scores, S.SENTIMENT_EVIDENCE: evidence})
    return out, segments
