"""Sentiment per segment and per item: label, score in [-1, 1], and the phrases that drove it.

Requires: S.SEGMENTS (segment), S.STATUS. Adds: S.SENTIMENT_LABEL, S.SENTIMENT_SCORE,
S.SENTIMENT_EVIDENCE per item; returns the segment table (segments.csv) beside it.
"""

from __future__ import annotations

from collections.abc import Callable

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


def aggregate(item_p: np.ndarray, item_label: str, seg_p: np.ndarray, seg_labels: list[str],
              classes: list[str]) -> tuple[np.ndarray, str]:
    """Item probabilities and label from its segments: when the segments the model calls polar all lean the same
    way, the segment leaning furthest (largest |P(positive) - P(negative)|) speaks for the item, so one clear
    「部屋が暑かった」 is not averaged away by a neutral clause; when they disagree (praise and complaint) or none
    is polar, the item-level prediction stands."""
    polar = {lab for lab in seg_labels if lab != "neutral"}
    if len(seg_labels) < 2 or len(polar) != 1:
        return item_p, item_label
    margin = seg_p[:, classes.index("positive")] - seg_p[:, classes.index("negative")]
    k = int(np.abs(margin).argmax())
    return seg_p[k], seg_labels[k]


def _apply_model(df, ok, X, model, cfg, item_scored, labels, scores, evidence, seg_embed=None, seg_rows=None,
                 units=None):
    texts = df.loc[ok, S.TEXT_NORM].tolist()
    P = model.predict_proba(texts, X)
    predicted = model.predict_from_proba(P)
    positions = np.where(ok)[0]
    seg_texts = {}
    if seg_embed is not None:  # segment-level inference: comments with two or more segments that the item-level
        # model is not sure of (a confident item keeps its label, and its segments cost no embedding)
        seg_texts = {pos: [s.strip() for s in df[S.SEGMENTS].iat[pos]] for pos, p in zip(positions, P)
                     if len(df[S.SEGMENTS].iat[pos]) > 1 and p.max() < cfg.per_segment_below}
        for pos in set(seg_texts) & set(units or {}):  # a long comment's subject units stand for its segments
            segs = df[S.SEGMENTS].iat[pos]
            seg_texts[pos] = ["".join(segs[k] for k in g).strip() for g in units[pos]]
    flat = [t for pos in seg_texts for t in seg_texts[pos]]
    seg_P = model.predict_proba(flat, seg_embed(flat)) if flat else np.zeros((0, len(model.classes_)))
    seg_pred = model.predict_from_proba(seg_P) if flat else []
    seg_at, k = {}, 0
    for pos, segs in seg_texts.items():
        seg_at[pos] = slice(k, k + len(segs))
        k += len(segs)
    by_item: dict[int, list[tuple[str, float]]] = {}
    for pos, p, lab in zip(positions, P, predicted):
        if pos in seg_at:
            sl = seg_at[pos]
            by_item[pos] = [model_score(q, model.classes_, cfg.neutral_band, ql) for q, ql in zip(seg_P[sl], seg_pred[sl])]
            if units and pos in units:  # each segment carries its unit's label
                by_item[pos] = [by_item[pos][u] for u, g in enumerate(units[pos]) for _ in g]
            p, lab = aggregate(p, lab, seg_P[sl], seg_pred[sl], model.classes_)
        label, score = model_score(p, model.classes_, cfg.neutral_band, lab)
        labels[pos] = label
        scores[pos] = round(score, 4)
        evidence[pos] = explain(item_scored[pos], label)  # the phrases that agree with the model's label
        if seg_embed is not None and len(df[S.SEGMENTS].iat[pos]) == 1:
            by_item[pos] = [(label, score)]  # one segment: the item's own prediction
    if seg_rows is not None and seg_embed is not None:  # segments.csv carries the model's segment labels
        n_seen: dict[int, int] = {}
        for r in seg_rows:
            pos = r["_pos"]
            i = n_seen[pos] = n_seen.get(pos, -1) + 1
            if pos in by_item:
                r[S.SENTIMENT_LABEL], sc = by_item[pos][i]
                r[S.SENTIMENT_SCORE] = round(sc, 4)
    return labels, scores, evidence


def run(df: pd.DataFrame, cfg: SentimentConfig, lexicon_path, item_model=None, X: np.ndarray | None = None,
        seg_embed: Callable[[list[str]], np.ndarray] | None = None,
        units: dict[int, list[list[int]]] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Lexicon scoring always runs (it gives the explanations); a trained ``item_model`` (issue: trained
    sentiment) overrides the item label and score when configured. With ``seg_embed`` (texts -> vectors, the
    run's embedder and cache) the model also labels each segment of a comment with two or more (segments.csv)
    and the item label comes from them (:func:`aggregate`); without it segments keep the dictionary's labels.
    ``units`` (row position -> its subject units as segment-index groups, segment_topics.embed: units) makes the
    model label those units instead of the segments of a long comment (each segment takes its unit's label)."""
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
                             S.SENTIMENT_SCORE: round(sc.score, 4), "row": int(row) + 1, "_pos": pos})
    if item_model is not None and X is not None and len(X):
        ok = (df[S.STATUS] == S.STATUS_OK).to_numpy()
        labels, scores, evidence = _apply_model(df, ok, X, item_model, cfg, item_scored, labels, scores, evidence,
                                                seg_embed, seg_rows, units)
    for r in seg_rows:
        r.pop("_pos", None)
    segments = pd.DataFrame(seg_rows, columns=[S.ID, S.SEGMENT_NO, S.TEXT, S.SENTIMENT_LABEL, S.SENTIMENT_SCORE, "row"])
    out = df.assign(**{S.SENTIMENT_LABEL: labels, S.SENTIMENT_SCORE: scores, S.SENTIMENT_EVIDENCE: evidence})
    return out, segments
