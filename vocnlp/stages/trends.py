"""What changed since last week: lineage, week-over-week tests, emerging issues, score drivers.

Statistics
  * share of a topic (or journey stage / CX dimension) this period vs the previous one: two-proportion
    z-test; negative share: the same test on negative comments; a change counts only when p < alpha.
  * a topic born this period has no stored past, so its baseline is measured: the previous period's
    comments are checked against the new topic's centroid with the same rule that assigns comments to
    known topics. A genuinely new problem has a baseline near zero; a cluster that only looks new
    (comments that were spread over other topics last week) has a comparable baseline and is not flagged.
  * drivers: for a score column (NPS 0-10, CSAT, stars), the score with and without each topic's comments;
    ``score_impact`` = score without the topic - overall score (positive = the topic pulls the score down).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import DriversConfig, HistoryConfig, IssuesConfig

if TYPE_CHECKING:  # tracking imports this module
    from .tracking import TrackResult


def two_proportion_p(x1: int, n1: int, x2: int, n2: int) -> float:
    """Two-sided p-value that x1/n1 and x2/n2 differ (pooled z-test)."""
    if n1 == 0 or n2 == 0:
        return 1.0
    p = (x1 + x2) / (n1 + n2)
    if p in (0.0, 1.0):
        return 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(p * (1 - p) * (1 / n1 + 1 / n2))
    return float(math.erfc(abs(z) / math.sqrt(2)))


def period_stats(df: pd.DataFrame, key: str, explode_pipe: bool = False, n_items: int | None = None,
                 weights: np.ndarray | None = None) -> pd.DataFrame:
    """``n_items``: the denominator of ``share`` when ``df`` holds several rows per comment (segment mentions).
    ``weights``: the comments each row stands for (one row per distinct text): sizes and counts are the sums of
    the weights, the mean sentiment the weighted mean (the per-comment numbers, in another summation order)."""
    ok = (df[S.STATUS] == S.STATUS_OK).to_numpy()
    frame = df.loc[ok, [key, S.SENTIMENT_SCORE, S.SENTIMENT_LABEL]]  # not every column
    w = None if weights is None else np.asarray(weights, dtype=np.int64)[ok]
    n = max(1, n_items if n_items is not None else len(frame) if w is None else int(w.sum()))
    if w is not None:
        frame = frame.assign(_w=w, _ws=w * frame[S.SENTIMENT_SCORE].to_numpy(dtype=float),
                             _wn=w * (frame[S.SENTIMENT_LABEL] == "negative").to_numpy())
    if explode_pipe:
        parts: dict = {}  # split once per distinct value; its rows share the list (a million rows, a few values)

        def split(v):
            got = parts.get(v)
            if got is None:
                got = parts[v] = [x for x in str(v).split("|") if x] or ["なし"]
            return got

        frame[key] = frame[key].map(split)
        frame = frame.explode(key)
    g = frame.groupby(key, sort=True)
    if w is not None:
        size = g["_w"].sum()
        out = pd.DataFrame({"size": size, "mean_sentiment": g["_ws"].sum() / size, "negative": g["_wn"].sum()})
    else:
        out = pd.DataFrame({"size": g.size(), "mean_sentiment": g[S.SENTIMENT_SCORE].mean(),
                            "negative": g[S.SENTIMENT_LABEL].apply(lambda s: int((s == "negative").sum()))})
    out["share"] = out["size"] / n
    out["negative_share"] = out["negative"] / out["size"]
    return out.reset_index().rename(columns={key: "name"})


def benjamini_hochberg(pvalues: list[float]) -> list[float]:
    """q-values: the false-discovery-rate-adjusted p-values of one period's tests."""
    m = len(pvalues)
    if not m:
        return []
    order = sorted(range(m), key=lambda i: pvalues[i])
    q = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, pvalues[i] * m / rank)
        q[i] = min(1.0, running)
    return q


def compare_topics(current: pd.DataFrame, n_now: int, previous: pd.DataFrame | None, n_prev: int,
                   baselines: dict[int, int], new_ids: set[int], hcfg: HistoryConfig, icfg: IssuesConfig,
                   merged: dict[int, int] | None = None, split_from: dict[int, int] | None = None) -> pd.DataFrame:
    """current/previous: topic_id, size, negative, share, negative_share, mean_sentiment."""
    prev = previous.set_index("topic_id") if previous is not None and len(previous) else pd.DataFrame()
    rows = []
    ids = sorted(set(current.topic_id) | (set(prev.index[prev["size"] > 0]) if len(prev) else set()))
    for tid in ids:
        if tid < 0:
            continue
        cur = current[current.topic_id == tid]
        size = int(cur["size"].iloc[0]) if len(cur) else 0
        neg = int(cur["negative"].iloc[0]) if len(cur) else 0
        if tid in prev.index:
            p_size, p_neg = int(prev.at[tid, "size"]), int(round(prev.at[tid, "negative_share"] * prev.at[tid, "size"]))
        else:
            p_size, p_neg = int(baselines.get(tid, 0)), None
        share, p_share = size / max(1, n_now), p_size / max(1, n_prev)
        p_val = two_proportion_p(size, n_now, p_size, n_prev) if n_prev else 1.0
        neg_share = neg / size if size else 0.0
        p_negshare = p_neg / p_size if p_neg is not None and p_size else None
        p_neg_val = two_proportion_p(neg, size, p_neg, p_size) if p_neg is not None and size and p_size else 1.0
        related = None
        if n_prev == 0:
            lineage = "new"
        elif tid in (merged or {}):
            lineage, related = "merged", merged[tid]
        elif size == 0:
            lineage = "gone"
        elif tid in new_ids and tid in (split_from or {}):
            lineage, related = "split", split_from[tid]
        elif tid in new_ids:
            lineage = "new"
        elif p_val < hcfg.alpha and share > p_share:
            lineage = "grown"
        elif p_val < hcfg.alpha and share < p_share:
            lineage = "shrunk"
        else:
            lineage = "continued"
        rows.append({S.TOPIC_ID: tid, "lineage": lineage, "related_topic": related, "size": size, "prev_size": p_size, "share": round(share, 4),
                     "prev_share": round(p_share, 4), "share_change": round(share - p_share, 4), "p_share": round(p_val, 4),
                     "negative_share": round(neg_share, 4),
                     "prev_negative_share": None if p_negshare is None else round(p_negshare, 4),
                     "p_negative": round(p_neg_val, 4), "baseline_measured": tid in new_ids and n_prev > 0})
    out = pd.DataFrame(rows)
    if "related_topic" in out.columns:
        out["related_topic"] = out["related_topic"].astype("Int64")
    if out.empty:
        return out.assign(q_share=[], q_negative=[], emerging=[])
    # every topic is tested twice each week: control the false discovery rate over all of them
    q = benjamini_hochberg(out.p_share.tolist() + out.p_negative.tolist())
    out["q_share"], out["q_negative"] = [round(v, 4) for v in q[: len(out)]], [round(v, 4) for v in q[len(out):]]
    growth = np.where(out.prev_share > 0, out.share / out.prev_share.replace(0, np.nan), np.inf)
    more_negative = (out.negative_share - out.prev_negative_share.astype(float).fillna(1.0)) >= 0.2
    out["emerging"] = bool(n_prev) & (out["size"] >= icfg.min_items) & (out.negative_share >= hcfg.emerging_negative_share) & (
        ((growth >= hcfg.min_growth) & (out.q_share < hcfg.alpha)) | (more_negative & (out.q_negative < hcfg.alpha)))
    return out


def topic_changes(df: pd.DataFrame, tracked: TrackResult, previous: pd.DataFrame | None, n_prev: int,
                  hcfg: HistoryConfig, icfg: IssuesConfig, n_items: int | None = None,
                  weights: np.ndarray | None = None) -> pd.DataFrame:
    """This period's topics against the previous period's statistics (``compare_topics``; new topics against
    the baselines tracking measured on last period's comments), with a ``trend`` note each. ``df`` may be the
    segment-level mentions, with ``n_items`` analysed comments (a share is then the share of comments that
    mention the topic)."""
    current = period_stats(df, S.TOPIC_ID, n_items=n_items, weights=weights).rename(columns={"name": S.TOPIC_ID})
    new = tracked.new_topics
    new_ids = set(new[S.TOPIC_ID].astype(int))
    baselines = dict(zip(new[S.TOPIC_ID].astype(int), new["baseline"].astype(int))) if n_prev else {}
    ok = (df[S.STATUS] == S.STATUS_OK).to_numpy()
    n_now = n_items if n_items is not None else int(ok.sum()) if weights is None else int(np.asarray(weights)[ok].sum())
    changes = compare_topics(current, n_now, previous, n_prev, baselines, new_ids, hcfg, icfg, tracked.merged,
                             tracked.split_from)
    if len(changes):
        changes["trend"] = changes.apply(trend_note, axis=1)
    else:
        changes = changes.assign(trend=pd.Series(dtype=str))
    return changes


def trend_note(r) -> str:
    """One Japanese line for the report: 「新規」「前週比 +6.1pt（p=0.003）」."""
    if r["lineage"] == "new" and not r.get("baseline_measured"):
        return "初回"
    if r["lineage"] == "gone":
        return "今週は該当なし"
    if r["lineage"] == "merged":
        return f"トピック {int(r['related_topic'])} に統合"
    if r["lineage"] in ("new", "split"):
        origin = f"（トピック {int(r['related_topic'])} から分岐）" if r["lineage"] == "split" else ""
        return (f"新しいトピック{origin}・構成比 {100 * r['share']:.1f}%（前週のコメントに同じ基準を当てると "
                f"{100 * r['prev_share']:.1f}%、q={r['q_share']:.3f}）")
    parts = []
    pts = 100 * r["share_change"]
    parts.append(f"構成比 {100 * r['prev_share']:.1f}% → {100 * r['share']:.1f}%（{pts:+.1f}pt, q={r['q_share']:.3f}）")
    if r.get("prev_negative_share") is not None and not pd.isna(r.get("prev_negative_share")):
        parts.append(f"ネガティブ率 {100 * r['prev_negative_share']:.0f}% → {100 * r['negative_share']:.0f}%")
    return "・".join(parts)


def score_value(scores: pd.Series, nps: bool) -> float:
    s = scores.dropna()
    if not len(s):
        return float("nan")
    if nps:
        return float(100 * ((s >= 9).mean() - (s <= 6).mean()))
    return float(s.mean())


def drivers(df: pd.DataFrame, column: str, cfg: DriversConfig) -> tuple[pd.DataFrame, dict]:
    ok = df.loc[df[S.STATUS] == S.STATUS_OK, [S.TOPIC_ID, column]]  # only what it reads: not a copy of every column
    scores = pd.to_numeric(ok[column], errors="coerce")
    valid = scores.dropna()
    nps = cfg.nps_scale if cfg.nps_scale != "auto" else bool(len(valid) and valid.between(0, 10).all()
                                                                and (valid == valid.round()).all() and valid.max() > 5)
    overall = score_value(scores, nps)
    rows = []
    for tid in sorted(set(ok[S.TOPIC_ID]) - {-1}):
        inside = ok[S.TOPIC_ID] == tid
        rows.append({S.TOPIC_ID: int(tid), "score_n": int(scores[inside].notna().sum()),
                     "topic_score": round(score_value(scores[inside], nps), 2),
                     "score_impact": round(score_value(scores[~inside], nps) - overall, 2)})
    info = {"column": column, "kind": "NPS" if nps else "mean", "overall": round(overall, 2), "n": int(valid.size)}
    return pd.DataFrame(rows, columns=[S.TOPIC_ID, "score_n", "topic_score", "score_impact"]), info
