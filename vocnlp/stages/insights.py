"""Topic statistics and the ranked issue list.

Priority = the topic's share (in %) of the week's *negative weight*, where an item's negative weight is
``max(0, -sentiment_score)``: a topic ranks high when many comments in it are negative and when they
are strongly negative, so volume and strength both count. Quotes are the most negative comments that
are also close to the topic's centre (typical of it, not outliers), without repeats; when the topic is named by
a subject noun or a key phrase, the comments that say it come first (a topic 「チラシ」 is quoted on flyers, not on
its most negative comment about something else), then the others.

Requires: S.TOPIC_ID, S.SENTIMENT_SCORE, S.SENTIMENT_LABEL, S.STATUS, S.TEXT.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from itertools import islice

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import IssuesConfig
from ..text import clip
from .topics import is_scattered
from .trends import benjamini_hochberg, two_proportion_p

# topics.csv: the share of a topic's comments that use its subject noun, and that noun (topics.topic_coherence)
COHERENCE_COLUMNS = ["coherence", "subject"]

QUOTE_CHARS = 200


def _quote(text: str) -> str:
    return clip(text, QUOTE_CHARS)


def _analysed(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The analysed rows, only the columns a table needs (the frame also carries morphology and segments, which
    would be copied again for every topic)."""
    return df.loc[df[S.STATUS] == S.STATUS_OK, [c for c in columns if c in df.columns]]


def _on_name(ok: pd.DataFrame, says_name: np.ndarray | None) -> pd.DataFrame:
    """``ok`` with ``_says``: whether the row says its topic's name (pipeline: topics.says_name), aligned like the
    closeness; all False when unknown, so the choice is plain centrality."""
    return ok.assign(_says=np.zeros(len(ok), dtype=bool) if says_name is None else np.asarray(says_name, dtype=bool))


Expand = Callable[[np.ndarray], pd.DataFrame]  # rows of a per-text frame -> their comments (see in_comment_order)


def _weighted(df: pd.DataFrame, columns: list[str], closeness: np.ndarray, weights: np.ndarray | None) -> pd.DataFrame:
    """The analysed rows' ``columns`` with ``_close``, and with ``weights``: ``_w`` (the comments a row stands for)
    and ``_pos`` (its position in ``df``, what ``expand`` takes)."""
    mask = (df[S.STATUS] == S.STATUS_OK).to_numpy()
    ok = df.loc[mask, [c for c in columns if c in df.columns]].assign(_close=closeness)
    if weights is not None:
        ok = ok.assign(_w=np.asarray(weights, dtype=np.int64)[mask], _pos=np.flatnonzero(mask))
    return ok


def _key(values) -> tuple:
    return tuple("nan" if isinstance(v, float) and v != v else v for v in values)


def in_comment_order(members: pd.DataFrame, keys: list[str], expand: Expand) -> Iterator[tuple[int, object, object]]:
    """The comments of ``members`` (rows of a per-text frame, ``_pos`` their positions) in the order a stable sort
    of the comments themselves by ``keys`` (descending) gives: key values in descending order, the comments
    with equal values in input order. Yields (position, comment id, comment text) lazily, so taking the first
    few expands only the texts with the highest keys."""
    ordered = members.sort_values(keys, ascending=False, kind="stable")
    vals, pos = ordered[keys].to_numpy(), ordered["_pos"].to_numpy()
    start = 0
    while start < len(ordered):
        end, k = start + 1, _key(vals[start])
        while end < len(ordered) and _key(vals[end]) == k:
            end += 1
        rows = expand(pos[start:end])
        yield from zip(rows["_pos"].tolist(), rows[S.ID].tolist(), rows[S.TEXT].tolist())
        start = end


def _mean(values: pd.Series, weights: np.ndarray | None) -> float:
    """The mean over the comments (rounded as the tables show it): of the rows, or weighted by their comments."""
    if not len(values):
        return np.nan
    if weights is None:
        return round(float(values.mean()), 4)
    return round(float((weights * values.to_numpy(dtype=float)).sum() / weights.sum()), 4)


def topic_table(df: pd.DataFrame, topics: pd.DataFrame, closeness: np.ndarray, n_repr: int = 3,
                n_items: int | None = None, says_name: np.ndarray | None = None,
                weights: np.ndarray | None = None, expand: Expand | None = None) -> pd.DataFrame:
    """topics.csv: size, share, sentiment and representative ids per topic. ``df`` may be the segment-level
    mentions (one row per comment and topic it mentions, stages/segment_topics.py); ``n_items`` (the analysed
    comments) is then the denominator of ``share``. Representative ids: the most central comments that say the
    topic's name (its subject noun or key phrase, ``says_name`` per row), then the most central others.

    With ``weights``, ``df`` has one row per distinct text (or text and topic) standing for that many comments,
    and ``expand`` gives a row's comments: every number is the one the comments would give (sizes and counts
    exactly; means are weighted means), and the representative ids are the same comments."""
    ok = _weighted(df, [S.ID, S.TOPIC_ID, S.SENTIMENT_SCORE, S.SENTIMENT_LABEL, "_primary", S.STATUS], closeness,
                   weights)
    ok = _on_name(ok, says_name)
    w = ok["_w"] if weights is not None else None
    total = max(1, n_items if n_items is not None else len(ok) if w is None else int(w.sum()))
    rows = []
    for _, t in topics.iterrows():
        members = ok[ok[S.TOPIC_ID] == t[S.TOPIC_ID]]
        if w is None:
            rep = members.sort_values(["_says", "_close"], ascending=False, kind="stable")[S.ID].astype(str) \
                .head(n_repr).tolist()
            size, mw = len(members), None
        else:
            rep = [str(i) for _, i, _ in islice(in_comment_order(members, ["_says", "_close"], expand), n_repr)]
            size, mw = int(members["_w"].sum()), members["_w"].to_numpy()
        rows.append({
            S.TOPIC_ID: int(t[S.TOPIC_ID]), S.TOPIC_LABEL: t[S.TOPIC_LABEL], "keywords": t["keywords"],
            "size": size, "share": round(size / total, 4),
            "mean_sentiment": _mean(members[S.SENTIMENT_SCORE], mw),
            "negative_share": _mean(members[S.SENTIMENT_LABEL] == "negative", mw),
            "positive_share": _mean(members[S.SENTIMENT_LABEL] == "positive", mw),
            "representative_ids": "|".join(rep),
        })
        if "_primary" in members.columns:  # mentions: how many of them have it as their primary topic
            rows[-1]["n_primary"] = int(members["_primary"].sum() if w is None
                                        else members.loc[members["_primary"].astype(bool), "_w"].sum())
        for c in COHERENCE_COLUMNS:
            if c in topics.columns:
                rows[-1][c] = t[c]
    cols = [S.TOPIC_ID, S.TOPIC_LABEL, "keywords", "size", "share", "mean_sentiment", "negative_share", "positive_share",
            "representative_ids"] + (["n_primary"] if "_primary" in ok.columns else []) \
        + [c for c in COHERENCE_COLUMNS if c in topics.columns]
    return pd.DataFrame(rows, columns=cols)


def rank_issues(df: pd.DataFrame, topics: pd.DataFrame, closeness: np.ndarray, cfg: IssuesConfig,
                says_name: np.ndarray | None = None, weights: np.ndarray | None = None,
                expand: Expand | None = None) -> pd.DataFrame:
    """``df``: the analysed items, or the segment-level mentions (then a long comment counts for every topic it
    mentions, and its quote for a topic is the part about that topic). ``says_name`` (per row, aligned like the
    closeness): whether the comment says its topic's name; such comments are quoted first. ``weights`` and
    ``expand``: ``df`` has one row per distinct text (and topic), as in :func:`topic_table`."""
    ok = _weighted(df, [S.ID, S.TEXT, S.TOPIC_ID, S.SENTIMENT_SCORE, S.SENTIMENT_EVIDENCE, S.STATUS], closeness, weights)
    ok = _on_name(ok, says_name)
    ok = ok.assign(_neg=np.clip(-ok[S.SENTIMENT_SCORE].astype(float), 0, None))
    weighted = weights is not None
    if weighted:
        ok = ok.assign(_wneg=ok["_w"] * ok["_neg"])
    total_neg = float(ok["_wneg" if weighted else "_neg"].sum()) or 1.0
    evidence = ok[S.SENTIMENT_EVIDENCE] if S.SENTIMENT_EVIDENCE in ok.columns else None
    if evidence is not None and weighted:
        evidence = pd.Series(evidence.to_numpy(), index=ok["_pos"].to_numpy())
    rows = []
    for _, t in topics.iterrows():
        tid = int(t[S.TOPIC_ID])
        if tid < 0:
            continue
        members = ok[ok[S.TOPIC_ID] == tid]
        n_members = int(members["_w"].sum()) if weighted else len(members)
        if n_members < cfg.min_items:
            continue
        neg = members[members[S.SENTIMENT_SCORE] <= cfg.negative_threshold]
        if neg.empty:
            continue
        pick = neg.assign(_rank=neg["_neg"] * (0.5 + neg["_close"].clip(lower=0)))
        if weighted:  # every comment of the texts, in the order the comments themselves would sort
            candidates = ((str(i), text, evidence.get(p, "") if evidence is not None else "")
                          for p, i, text in in_comment_order(pick, ["_says", "_rank"], expand))
        else:
            pick = pick.sort_values(["_says", "_rank"], ascending=False, kind="stable")
            candidates = ((str(r[S.ID]), r[S.TEXT], r.get(S.SENTIMENT_EVIDENCE, "")) for _, r in pick.iterrows())
        quotes, seen = [], set()
        for qid, text, why in candidates:
            q = _quote(text)
            if q in seen:
                continue
            seen.add(q)
            quotes.append((qid, q, why))
            if len(quotes) == cfg.n_quotes:
                break
        n_neg = int(neg["_w"].sum()) if weighted else len(neg)
        neg_weight = float(members["_wneg" if weighted else "_neg"].sum())
        row = {
            S.TOPIC_ID: tid, S.TOPIC_LABEL: t[S.TOPIC_LABEL], "n_items": n_members, "n_negative": n_neg,
            "negative_share": round(n_neg / n_members, 4),
            "mean_sentiment": _mean(members[S.SENTIMENT_SCORE], members["_w"].to_numpy() if weighted else None),
            "priority": round(100 * neg_weight / total_neg, 2),
            "keywords": t.get("keywords", ""),
        }
        for k in range(cfg.n_quotes):
            qid, q, why = quotes[k] if k < len(quotes) else ("", "", "")
            row[f"quote_{k + 1}"] = q
            row[f"quote_{k + 1}_id"] = qid
            row[f"quote_{k + 1}_why"] = why
        rows.append(row)
    issues = pd.DataFrame(rows)
    if issues.empty:
        cols = ["rank", S.TOPIC_ID, S.TOPIC_LABEL, "n_items", "n_negative", "negative_share", "mean_sentiment", "priority",
                "keywords"] + [f"quote_{k + 1}{s}" for k in range(cfg.n_quotes) for s in ("", "_id", "_why")]
        return pd.DataFrame(columns=cols)
    # topics named as about scattered subjects (the catch-all, and 「Xなど」: a topic whose subject noun covered less
    # than COHERENT_SHARE of its comments when it was named) are listed after every topic about one subject
    issues["_catch"] = issues[S.TOPIC_LABEL].astype(str).map(is_scattered)
    issues = issues.sort_values(["_catch", "priority", "negative_share"], ascending=[True, False, False]) \
        .drop(columns="_catch").reset_index(drop=True)
    issues.insert(0, "rank", range(1, len(issues) + 1))
    return issues


def with_drivers(topic_tab: pd.DataFrame, issues: pd.DataFrame, impact: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each topic's ``score_impact`` (trends.drivers) on both tables; issues also get ``impact_rank``."""
    topic_tab = topic_tab.merge(impact, on=S.TOPIC_ID, how="left")
    if len(issues):
        issues = issues.merge(impact, on=S.TOPIC_ID, how="left")
        issues["impact_rank"] = issues["score_impact"].rank(ascending=False, method="min").astype("Int64")
    return topic_tab, issues


def with_changes(topic_tab: pd.DataFrame, issues: pd.DataFrame, changes: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The week-over-week columns (trends.topic_changes) on both tables. Emerging issues lead the list: a
    new problem is what a team must see first, whatever its share of this week's negative weight."""
    topic_tab = topic_tab.merge(changes.drop(columns=["size", "share", "negative_share"]), on=S.TOPIC_ID, how="left")
    if len(issues):
        issues = issues.merge(changes[[S.TOPIC_ID, "lineage", "share_change", "p_share", "emerging", "trend"]],
                              on=S.TOPIC_ID, how="left")
        issues["emerging"] = issues["emerging"].fillna(False).astype(bool)
        issues = pd.concat([issues[issues.emerging], issues[~issues.emerging]]).reset_index(drop=True)
        issues["rank"] = range(1, len(issues) + 1)
    return topic_tab, issues


def stage_by_dimension(df: pd.DataFrame, dimension_labels: list[str], stage_labels: list[str],
                       weights: np.ndarray | None = None) -> pd.DataFrame:
    """Counts of analysed comments per journey stage (rows) and CX dimension (columns), plus 'なし'. ``weights``:
    the comments each row stands for (one row per distinct text)."""
    ok_mask = (df[S.STATUS] == S.STATUS_OK).to_numpy()
    ok = df.loc[ok_mask, [S.JOURNEY_STAGE, S.CX_DIMENSIONS]]
    w = np.ones(len(ok), dtype=np.int64) if weights is None else np.asarray(weights, dtype=np.int64)[ok_mask]
    cols = [*dimension_labels, "なし"]
    counts: Counter[tuple[str, str]] = Counter()
    for stage, dims, n in zip(ok[S.JOURNEY_STAGE], ok[S.CX_DIMENSIONS], w.tolist()):
        for d in [d for d in str(dims).split("|") if d] or ["なし"]:
            counts[(stage, d)] += n
    return pd.DataFrame([[counts[(st, d)] for d in cols] for st in stage_labels], index=stage_labels, columns=cols)


CODE_COLUMNS = ["code", "description", "count", "share", "negative_share", "mean_sentiment", "example_ids",
                "previous_count", "previous_share", "share_change", "q_share", "trend"]


def code_table(df: pd.DataFrame, rules, previous_codes: list[str] | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """codes.csv: per analyst code, how many analysed comments it tags (``share`` of the analysed ones),
    the negative share and mean sentiment among them, the most negative examples, and the trend against
    last period (the same rules applied to last period's stored comments): share change in points and a
    two-proportion test, Benjamini-Hochberg corrected over the codes; ``trend`` is ↑ / ↓ when q < alpha.

    Requires: S.CODES, S.STATUS, S.SENTIMENT_LABEL, S.SENTIMENT_SCORE, S.ID.
    """
    if rules is None:
        return pd.DataFrame(columns=CODE_COLUMNS)
    ok = df[df[S.STATUS] == S.STATUS_OK]
    n = len(ok)
    tagged = ok[S.CODES].map(lambda v: set(str(v).split("|")) - {""})
    prev = Counter(c for v in (previous_codes or []) for c in str(v).split("|") if c)
    n_prev = len(previous_codes) if previous_codes is not None else 0
    rows = []
    for code in rules.codes:
        m = ok[tagged.map(lambda s, name=code.name: name in s)]
        worst = m.sort_values(S.SENTIMENT_SCORE)[S.ID].astype(str).head(3).tolist()
        row = {"code": code.name, "description": code.description, "count": len(m),
               "share": round(len(m) / n, 4) if n else 0.0,
               "negative_share": round(float((m[S.SENTIMENT_LABEL] == "negative").mean()), 4) if len(m) else np.nan,
               "mean_sentiment": round(float(m[S.SENTIMENT_SCORE].mean()), 4) if len(m) else np.nan,
               "example_ids": "|".join(worst)}
        if n_prev and n:
            row["previous_count"] = prev[code.name]
            row["previous_share"] = round(prev[code.name] / n_prev, 4)
            row["share_change"] = round(row["share"] - row["previous_share"], 4)
            row["_p"] = two_proportion_p(len(m), n, prev[code.name], n_prev)
        rows.append(row)
    out = pd.DataFrame(rows)
    if n_prev and n and len(out):
        out["q_share"] = np.round(benjamini_hochberg(out.pop("_p").tolist()), 4)
        out["trend"] = [("↑" if ch > 0 else "↓") if q < alpha else "→" for ch, q in zip(out.share_change, out.q_share)]
    return out.reindex(columns=CODE_COLUMNS)
