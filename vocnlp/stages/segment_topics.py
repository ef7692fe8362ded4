"""Segment-level topics: a long comment about three subjects counts for three topics.

The item-level topics (``topics`` / ``tracking``) give every comment one topic, so a subject raised inside
long reviews (mould in an otherwise happy hotel review, a rude check-in) never adds up. Here each long
comment (at least ``min_item_chars``) is cut into *subject units*: its sentence/clause segments (the
``segment`` stage), consecutive ones merged until a unit has at least ``min_unit_chars`` characters, since
a clause such as 「ご確認をお願いいたします。」 carries no subject. A unit's vector is the length-weighted mean of
its segments' vectors (:func:`unit_vectors`): the per-text stage (vocnlp/engines/texts.py) embeds a long comment's
segments once, on the engine's workers and through the embedding cache, and per-segment sentiment reuses them.
Units are assigned to the item-level topics, not re-clustered: a unit takes its closest topic when it is as
close as that topic's own typical members (the ``percentile``-th member similarity, never below ``floor``,
in the centred space tracking uses), else it stays with the comment's primary topic. Short comments (most
comments in a typical week) are one unit: the comment, with no extra embedding.

The result, per analysed comment: ``topic_ids`` (primary first, pipe-joined in items.csv), the topic of each
segment (segments.csv), and the *mentions* table, one row per (comment, topic it mentions), with that
mention's sentiment (the comment's own when it has one topic; else the mean of the segment scores of the
units about that topic) and quote (the comment, or the units about the topic). Counts, shares, negative
shares, the issue ranking and the week-over-week tests are computed over the mentions, with the number of
analysed comments as the denominator: a topic's share is the share of comments that mention it.

Requires: S.SEGMENTS, S.TEXT_NORM, S.STATUS, S.TOPIC_ID, S.SENTIMENT_* (sentiment), the segments table and
the analysed rows' embeddings. Adds: S.TOPIC_IDS on df, ``topic_id`` on the segments table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import SegmentTopicsConfig
from .sentiment import label_for
from .topics import l2_normalize


@dataclass
class SegmentTopicResult:
    mentions: pd.DataFrame  # one row per (analysed item, topic): id, text, topic_id, sentiment, closeness, primary
    topic_ids: list[list[int]]  # per analysed item, primary first
    segment_topics: list[list[int]]  # per analysed item, the topic of each of its segments
    params: dict = field(default_factory=dict)


def subject_units(segments: list[str], min_chars: int) -> list[list[int]]:
    """Consecutive segment indices grouped so that each group has at least ``min_chars`` characters (a short
    last group joins the one before). Joined in order, the groups give every segment exactly once."""
    groups: list[list[int]] = []
    current: list[int] = []
    size = 0
    for k, s in enumerate(segments):
        current.append(k)
        size += len(s.strip())
        if size >= min_chars:
            groups.append(current)
            current, size = [], 0
    if current:
        if groups:
            groups[-1].extend(current)
        else:
            groups.append(current)
    return groups


def unit_groups(text: str, segments: list[str], cfg: SegmentTopicsConfig) -> list[list[int]]:
    """A comment's subject units when it is cut into several ([] when it counts as one: too short, one unit, or
    segment topics off). The per-text stage and :func:`assign_segments` both decide with this."""
    if not cfg.enabled or len(text) < cfg.min_item_chars:
        return []
    groups = subject_units(segments, cfg.min_unit_chars)
    return groups if len(groups) > 1 else []


def segment_weights(segments: list[str]) -> np.ndarray:
    """Each segment's weight in a pooled vector: its length (stripped), at least 1."""
    return np.array([max(1, len(s.strip())) for s in segments], dtype=np.float32)


def pool(vectors: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """The weighted mean of segment vectors, unit length (the vector of the text they make up together)."""
    v = (vectors * weights[:, None]).sum(axis=0) / max(float(weights.sum()), 1e-9)
    return (v / max(float(np.linalg.norm(v)), 1e-9)).astype(np.float32)


def unit_vectors(segments: list[str], groups: list[list[int]], seg_vectors: np.ndarray) -> np.ndarray:
    """One vector per subject unit: the length-weighted mean of its segments' vectors (``seg_vectors``, one per
    segment, in order). (n_units, dim)."""
    w = segment_weights(segments)
    dim = seg_vectors.shape[1] if seg_vectors.ndim == 2 else 384
    if not groups:
        return np.zeros((0, dim), dtype=np.float32)
    return np.vstack([pool(seg_vectors[g], w[g]) for g in groups])


def _topic_space(X: np.ndarray, assign: np.ndarray, mu: np.ndarray, percentile: float, floor: float,
                 w: np.ndarray | None = None):
    """Topic centroids and member thresholds in the centred space: (ids, C, thresholds). With weights (distinct
    texts), the centroids count each text once per comment; the thresholds are over the distinct members."""
    normed = l2_normalize(X - mu)
    ids = np.array(sorted(t for t in set(assign.tolist()) if t >= 0), dtype=int)
    if not len(ids):
        return ids, np.zeros((0, X.shape[1]), dtype=np.float32), np.zeros(0)
    C = l2_normalize(np.vstack([normed[assign == t].mean(axis=0) if w is None else
                                np.average(normed[assign == t], axis=0, weights=w[assign == t]) for t in ids]))
    thr = np.array([max(floor, float(np.percentile(normed[assign == t] @ C[k], percentile))) for k, t in enumerate(ids)])
    return ids, C, thr


def assign_segments(df: pd.DataFrame, X: np.ndarray, cfg: SegmentTopicsConfig, band: float,
                    embed: Callable[[list[str]], np.ndarray] | None = None, reference_mean: np.ndarray | None = None,
                    raw_centroids: dict[int, np.ndarray] | None = None,
                    units_of: list[np.ndarray] | None = None, weights: np.ndarray | None = None) -> SegmentTopicResult:
    """``df``: the analysed rows (S.ID, S.TEXT, S.TEXT_NORM, S.SEGMENTS, S.TOPIC_ID, S.SENTIMENT_*, "_seg_scores"),
    ``X`` their embeddings. ``units_of``: each row's unit vectors as the per-text stage computed them
    (:func:`unit_vectors`; empty for a comment of one unit); without them the long comments' segments are
    embedded here with ``embed``. ``raw_centroids`` (the topic result's, in the raw normalised space) give each
    mention's closeness, which picks representative comments and quotes. ``weights``: the rows are distinct
    texts (one row each), standing for that many comments; :func:`topic_ids_for_rows` and
    :func:`segment_topics_for_rows` then give every comment its text's topic ids and segment topics."""
    n = len(df)
    assign = df[S.TOPIC_ID].to_numpy(dtype=int)
    segs = df[S.SEGMENTS].tolist()
    norm_texts = df[S.TEXT_NORM].tolist()
    mu = reference_mean if reference_mean is not None else (
        (X.mean(axis=0) if weights is None else np.average(X, axis=0, weights=weights)) if n else None)
    dim = X.shape[1] if n else 384
    units: list[list[list[int]]] = []
    for text, s in zip(norm_texts, segs):
        groups = unit_groups(text, s, cfg)
        units.append(groups or [list(range(len(s)))])
    split = [i for i, g in enumerate(units) if len(g) > 1]
    if units_of is None and split:  # not computed by the per-text stage: embed the segments here
        flat = [segs[i][k].strip() for i in split for k in range(len(segs[i]))]
        V = embed(flat)
        units_of, at = [np.zeros((0, dim), dtype=np.float32)] * n, 0
        for i in split:
            units_of[i] = unit_vectors(segs[i], units[i], V[at : at + len(segs[i])])
            at += len(segs[i])
    E = np.vstack([units_of[i] for i in split]).astype(np.float32) if split else np.zeros((0, dim), dtype=np.float32)
    if len(E) != sum(len(units[i]) for i in split):
        raise ValueError("unit vectors do not match the comments' subject units")
    ids, C, thr = _topic_space(X, assign, mu, cfg.percentile, cfg.floor, weights) if n else \
        (np.zeros(0, int), None, None)
    U = l2_normalize(E - mu) if len(E) else E
    unit_topic = np.full(len(E), -1, dtype=int)
    if len(E) and len(ids):
        sims = U @ C.T
        best = sims.argmax(axis=1)
        ok = sims[np.arange(len(E)), best] >= thr[best]
        unit_topic[ok] = ids[best[ok]]
    raw_units = l2_normalize(E) if len(E) else E
    raw_items = l2_normalize(X) if n else X
    cents = raw_centroids or {}

    def close(v: np.ndarray, t: int) -> float:
        return float(v @ cents[t]) if t in cents else 0.0

    rows, topic_ids, seg_topics = [], [], []
    pos = 0
    scores_of = df["_seg_scores"].tolist()
    for i, groups in enumerate(units):
        primary = int(assign[i])
        if len(groups) == 1:
            topic_ids.append([primary])
            seg_topics.append([primary] * len(segs[i]))
            rows.append((i, primary, float(df[S.SENTIMENT_SCORE].iat[i]), df[S.SENTIMENT_LABEL].iat[i],
                         df[S.TEXT].iat[i], close(raw_items[i], primary), True))
            continue
        per_seg = [primary] * len(segs[i])
        by_topic: dict[int, list[int]] = {primary: []}
        unit_rows = range(pos, pos + len(groups))
        for g, u in zip(groups, unit_rows):
            t = int(unit_topic[u]) if unit_topic[u] >= 0 else primary
            for k in g:
                per_seg[k] = t
            by_topic.setdefault(t, []).append(u)
        pos += len(groups)
        others = [t for t in by_topic if t != primary and t >= 0][: max(0, cfg.max_topics_per_item - 1)]
        for k, t in enumerate(per_seg):
            if t != primary and t not in others:
                per_seg[k] = primary
        keep = [primary, *others]
        topic_ids.append(keep)
        seg_topics.append(per_seg)
        if len(keep) == 1:
            rows.append((i, primary, float(df[S.SENTIMENT_SCORE].iat[i]), df[S.SENTIMENT_LABEL].iat[i],
                         df[S.TEXT].iat[i], close(raw_items[i], primary), True))
            continue
        seg_scores = scores_of[i]
        for t in keep:
            ks = [k for k, tk in enumerate(per_seg) if tk == t]
            score = float(np.mean([seg_scores[k] for k in ks])) if ks else float(df[S.SENTIMENT_SCORE].iat[i])
            quote = "".join(segs[i][k] for k in ks).strip() if t != primary else df[S.TEXT].iat[i]
            us = [u for u in by_topic.get(t, [])]
            closeness = max([close(raw_units[u], t) for u in us], default=close(raw_items[i], t))
            rows.append((i, t, round(score, 4), label_for(score, band), quote, closeness, t == primary))
    mentions = pd.DataFrame(rows, columns=["_item", S.TOPIC_ID, S.SENTIMENT_SCORE, S.SENTIMENT_LABEL, S.TEXT,
                                           "_close", "_primary"])
    mentions.insert(0, S.ID, df[S.ID].to_numpy()[mentions["_item"].to_numpy(dtype=int)] if len(mentions) else [])
    mentions[S.STATUS] = S.STATUS_OK
    if S.SENTIMENT_EVIDENCE in df.columns and len(mentions):
        mentions[S.SENTIMENT_EVIDENCE] = np.where(mentions["_primary"],
                                                  df[S.SENTIMENT_EVIDENCE].to_numpy()[mentions["_item"].to_numpy(int)], "")
    multi = sum(1 for t in topic_ids if len(t) > 1)
    params = {"split_items": len(split), "units": len(E),
              "units_assigned": int((unit_topic >= 0).sum()), "items_with_several_topics": multi,
              "mentions": len(mentions)}
    return SegmentTopicResult(mentions, topic_ids, seg_topics, params)


def topic_ids_for_rows(res: SegmentTopicResult, text_of: np.ndarray, ok_mask: np.ndarray) -> pd.Series:
    """items.csv's ``topic_ids`` for every row (\"\" for rows not analysed), from ``res`` computed per distinct text:
    each text's ids joined once and gathered (in Arrow, no string per row)."""
    per_text = pd.Series([join_ids(t) for t in res.topic_ids] + [""], dtype="str")
    at = np.full(len(ok_mask), len(res.topic_ids), dtype=np.int64)
    at[ok_mask] = text_of
    return per_text.take(at).reset_index(drop=True)


def segment_topics_for_rows(res: SegmentTopicResult, text_of: np.ndarray) -> np.ndarray:
    """The topic of every analysed comment's segments, in comment order (the segments table's), from ``res``
    computed per distinct text."""
    counts = np.array([len(t) for t in res.segment_topics], dtype=np.int64)
    flat = np.fromiter((t for ts in res.segment_topics for t in ts), dtype=np.int64, count=int(counts.sum()))
    starts = np.cumsum(counts) - counts
    k = counts[text_of]
    total = int(k.sum())
    return flat[np.repeat(starts[text_of], k) + (np.arange(total) - np.repeat(np.cumsum(k) - k, k))] if total else \
        flat[:0]


def join_ids(ids: list[int]) -> str:
    return "|".join(str(t) for t in ids)


__all__ = ["SegmentTopicResult", "assign_segments", "join_ids", "pool", "segment_topics_for_rows",
           "segment_weights", "subject_units", "topic_ids_for_rows", "unit_groups", "unit_vectors"]
