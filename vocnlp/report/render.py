"""Build the report's view model from the run's tables and render the Jinja2 template (autoescaped).

One language per report (``report.language``: ja by default, or en); the words are in :mod:`.words`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from .. import __version__
from .. import schema as S
from ..config import RunConfig
from ..stages.themes import is_mixed
from ..text import clip
from .words import title_for, trend_text, words_for


def _num(v, default=0.0) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return default
    return default if np.isnan(f) else f


def sparkline(values: list[float], width: int = 120, height: int = 28, color: str = "#4c6ef5") -> str:
    """A tiny inline SVG line (no scripts, no external files)."""
    vals = [0.0 if v is None or (isinstance(v, float) and np.isnan(v)) else float(v) for v in values]
    if not vals:
        return ""
    top = max(vals) or 1.0
    step = width / max(1, len(vals) - 1)
    pts = " ".join(f"{i * step:.1f},{height - 3 - (height - 6) * v / top:.1f}" for i, v in enumerate(vals))
    last_x, last_y = (len(vals) - 1) * step, height - 3 - (height - 6) * vals[-1] / top
    return (f'<svg width="{width}" height="{height}" viewBox="0 0 {width} {height}" role="img">'
            f'<polyline fill="none" stroke="{color}" stroke-width="2" points="{pts}"/>'
            f'<circle cx="{last_x:.1f}" cy="{last_y:.1f}" r="2.5" fill="{color}"/></svg>')


def _trend_view(trend_tables: dict | None, topic_ids: list[int], labels: dict[int, str],
                stage_names: list[str]) -> dict | None:
    if not trend_tables or len(trend_tables.get("periods", [])) < 2:
        return None
    periods = trend_tables["periods"]
    th = trend_tables["topics"]
    rows = []
    for tid in topic_ids:
        t = th[th.topic_id == tid].set_index("period")
        shares = [float(t.at[p, "share"]) if p in t.index else 0.0 for p in periods]
        negs = [float(t.at[p, "negative_share"]) if p in t.index and not pd.isna(t.at[p, "negative_share"]) else 0.0
                for p in periods]
        rows.append({"topic_id": tid, "label": labels.get(tid, ""), "share_svg": sparkline(shares),
                     "neg_svg": sparkline(negs, color="#d6455d"),
                     "shares": " → ".join(f"{100 * v:.0f}%" for v in shares)})
    dims = trend_tables["dims"]
    stage_rows = []
    for name in stage_names:  # the label set's stages, so a company's own taxonomy keeps this view
        d = dims[(dims.kind == "stage") & (dims.name == name)].set_index("period")
        if not len(d):
            continue
        shares = [float(d.at[p, "share"]) if p in d.index else 0.0 for p in periods]
        means = [float(d.at[p, "mean_sentiment"]) if p in d.index else 0.0 for p in periods]
        stage_rows.append({"label": name, "share_svg": sparkline(shares), "shares": " → ".join(f"{100 * v:.0f}%" for v in shares),
                           "means": " → ".join(f"{v:+.2f}" for v in means)})
    return {"periods": periods, "topics": rows, "stages": stage_rows}


@dataclass
class ReportData:
    """What one run hands the report: its tables and what the history and drivers found."""

    input_name: str
    items: pd.DataFrame
    topics: pd.DataFrame
    issues: pd.DataFrame
    heat: pd.DataFrame  # journey stage x CX dimension counts
    counts: dict
    warnings: list[dict]
    period: str | None = None
    history: dict | None = None
    drivers: dict | None = None
    trend_tables: dict | None = None
    codes: pd.DataFrame | None = None  # the analyst codes' table (codes.csv), when a rules file is configured
    themes: pd.DataFrame | None = None  # themes.csv; topics carry parent_id
    segments: pd.DataFrame | None = None  # segments.csv (with each segment's topic_id): quotes of secondary mentions


def _topic_rows(topics: pd.DataFrame) -> list[dict]:
    biggest = max([1, *topics["size"].tolist()]) if len(topics) else 1
    rows = []
    for _, t in topics.iterrows():
        neg, pos = _num(t.get("negative_share")), _num(t.get("positive_share"))
        rows.append({"topic_id": int(t[S.TOPIC_ID]), "topic_label": t[S.TOPIC_LABEL], "keywords": t.get("keywords", ""),
                     "parent_id": int(_num(t.get("parent_id"), -1)), "theme_label": t.get("theme_label", ""),
                     "size": int(t["size"]), "width": 100.0 * t["size"] / biggest, "negative_share": neg,
                     "positive_share": pos, "neutral_share": max(0.0, 1 - neg - pos),
                     "mean_sentiment": _num(t.get("mean_sentiment"))})
    return rows


def _trends_by_topic(topics: pd.DataFrame, words: dict) -> dict[int, str]:
    """Each topic's change since the previous period, written in the report's language."""
    if "lineage" not in topics.columns:
        return {}
    return {int(t[S.TOPIC_ID]): trend_text(t, words) for _, t in topics.iterrows()}


def _issue_rows(issues: pd.DataFrame, top: int, n_quotes: int, lineage: dict[str, str],
                trend: dict[int, str]) -> list[dict]:
    rows = []
    for _, i in issues.head(top).iterrows():
        quotes = [{"text": i.get(f"quote_{k}", ""), "id": i.get(f"quote_{k}_id", ""), "why": i.get(f"quote_{k}_why", "")}
                  for k in range(1, n_quotes + 1) if str(i.get(f"quote_{k}", "") or "")]
        emerging = i.get("emerging", False)
        rows.append({**{k: i[k] for k in ("rank", S.TOPIC_ID, S.TOPIC_LABEL, "n_items", "negative_share", "mean_sentiment",
                                          "priority")},
                     "keywords": i.get("keywords", ""), "quotes": quotes,
                     "theme_label": "" if pd.isna(i.get("theme_label", "")) else str(i.get("theme_label", "")),
                     "emerging": bool(emerging) if not pd.isna(emerging) else False,
                     "lineage": lineage.get(str(i.get("lineage", "")), ""), "trend": trend.get(int(i[S.TOPIC_ID]), ""),
                     "impact": None if pd.isna(i.get("score_impact", np.nan)) else float(i.get("score_impact"))})
    return rows


def _mixed_badges(topic_rows: list[dict], words: dict, n: int = 2) -> dict[str, str]:
    """A mixed theme's badge text (its label is its largest sub-topic's subject with 「など」, no word its comments
    share): the label with its biggest sub-topics' labels, so that a topic's badge does not read as its subject
    (「テーマ: 店員さんなど（店員さん・毛布、駐車場・家具）」 on the parking topic)."""
    subs: dict[str, list[dict]] = {}
    for t in topic_rows:
        if t["parent_id"] >= 0 and is_mixed(str(t["theme_label"] or "")):
            subs.setdefault(str(t["theme_label"]), []).append(t)
    out = {}
    for label, rows in subs.items():
        rows = sorted(rows, key=lambda t: (-t["size"], t["topic_id"]))
        text = words["sep"].join(str(t["topic_label"]) for t in rows[:n])
        if len(rows) > n:
            text += words["more_topics"].replace("{n}", str(len(rows) - n))
        out[label] = f"{label}{words['open']}{text}{words['close']}"
    return out


def _theme_groups(themes: pd.DataFrame | None, topic_rows: list[dict]) -> list[dict]:
    """The topic list as themes, biggest first, each with its sub-topics (the no-topic row comes after, alone)."""
    if themes is None or not len(themes):
        return []
    biggest = max([1, *themes["size"].tolist()])
    groups = []
    for _, th in themes.iterrows():
        neg, pos = _num(th.get("negative_share")), _num(th.get("positive_share"))
        subs = [t for t in topic_rows if t["parent_id"] == int(th["theme_id"])]
        groups.append({"theme_id": int(th["theme_id"]), "label": th["theme_label"], "keywords": th.get("keywords", ""),
                       "size": int(th["size"]), "share": _num(th.get("share")), "n_topics": len(subs),
                       "width": 100.0 * th["size"] / biggest, "negative_share": neg, "positive_share": pos,
                       "neutral_share": max(0.0, 1 - neg - pos), "mean_sentiment": _num(th.get("mean_sentiment")),
                       "change": None if pd.isna(th.get("share_change", np.nan)) else float(th["share_change"]),
                       "topics": subs, "mixed": is_mixed(str(th["theme_label"]))})
    return groups


def _theme_trends(trend_tables: dict, themes: pd.DataFrame | None) -> list[dict]:
    """Per theme: its share per period (the sum of its sub-topics' shares, as stored in the history)."""
    th = trend_tables.get("themes")
    if th is None or themes is None or not len(th):
        return []
    periods = trend_tables["periods"]
    rows = []
    for _, theme in themes.iterrows():
        t = th[th.theme_id == int(theme["theme_id"])].set_index("period")
        shares = [float(t.at[p, "share"]) if p in t.index else 0.0 for p in periods]
        negs = [float(t.at[p, "negative_share"]) if p in t.index and not pd.isna(t.at[p, "negative_share"]) else 0.0
                for p in periods]
        rows.append({"label": theme["theme_label"], "share_svg": sparkline(shares), "neg_svg": sparkline(negs, color="#d6455d"),
                     "shares": " → ".join(f"{100 * v:.0f}%" for v in shares)})
    return rows


def _heat_view(heat: pd.DataFrame) -> dict:
    peak = max(1, int(heat.values.max())) if heat.size else 1
    return {"columns": list(heat.columns),
            "rows": [{"stage": st, "cells": [{"n": int(v), "alpha": 0.08 + 0.8 * int(v) / peak if v else 0.0}
                                             for v in heat.loc[st].tolist()], "total": int(heat.loc[st].sum())}
                     for st in heat.index]}


WEIGHT = "_n"  # in the report's items: the comments a row stands for (a run hands one row per distinct text)


def _weights(df: pd.DataFrame) -> np.ndarray:
    """Each row's comments: its WEIGHT, or 1 per row."""
    return df[WEIGHT].to_numpy(dtype=np.int64) if WEIGHT in df.columns else np.ones(len(df), dtype=np.int64)


def _share(mask: pd.Series, w: np.ndarray) -> float:
    """The comments' share where ``mask`` holds (rows weighted by their comments)."""
    return float((mask.to_numpy(dtype=bool) * w).sum() / w.sum())


def _weighted_mean(values: pd.Series, w: np.ndarray) -> float:
    v = values.to_numpy(dtype=float)
    has = ~np.isnan(v)
    return float((v[has] * w[has]).sum() / w[has].sum()) if has.any() else float("nan")


def _counts(values: pd.Series, w: np.ndarray) -> pd.Series:
    """``value_counts`` of the comments: each row's value counted once per comment it stands for."""
    return values.repeat(w).value_counts()


def _stage_rows(ok: pd.DataFrame, stage_names: list[str]) -> list[dict]:
    rows = []
    for st in stage_names:
        m = ok[ok[S.JOURNEY_STAGE] == st]
        if len(m):
            w = _weights(m)
            rows.append({"stage": st, "n": int(w.sum()), "neg": _share(m[S.SENTIMENT_LABEL] == "negative", w),
                         "neu": _share(m[S.SENTIMENT_LABEL] == "neutral", w),
                         "pos": _share(m[S.SENTIMENT_LABEL] == "positive", w),
                         "mean": _weighted_mean(m[S.SENTIMENT_SCORE], w)})
    return rows


def _movers(topics: pd.DataFrame, alpha: float, lineage: dict[str, str], trend: dict[int, str]) -> list[dict]:
    """Topics whose share changed significantly (q below alpha), largest change first."""
    if "lineage" not in topics.columns:
        return []
    movers = []
    for _, t in topics.iterrows():
        significant = _num(t.get("q_share"), 1.0) < alpha
        if t.get("lineage") in ("grown", "shrunk", "new") and significant and int(t[S.TOPIC_ID]) >= 0 \
                and trend.get(int(t[S.TOPIC_ID])):
            movers.append({"label": t[S.TOPIC_LABEL], "lineage": lineage.get(t["lineage"], ""),
                           "trend": trend[int(t[S.TOPIC_ID])],
                           "change": _num(t.get("share_change"))})
    return sorted(movers, key=lambda m: -abs(m["change"]))


MENTION_QUOTES = 4  # secondary mentions quoted per topic in the drill-down (3 most negative, the most positive)


def _mentions(ok: pd.DataFrame, segments: pd.DataFrame | None) -> pd.DataFrame:
    """The secondary mentions: one row per (comment, topic) where the comment's ``topic_ids`` name a topic other
    than its primary one, with the comment's segments about that topic joined in order (``quote``) and their mean
    sentiment; the whole comment when the segments table has no topics. Columns: id, topic, quote, score, primary,
    stage, and WEIGHT (the comments the row stands for)."""
    cols = [S.ID, "topic", "quote", "score", "primary", "stage", WEIGHT]
    if S.TOPIC_IDS not in ok.columns or not len(ok):
        return pd.DataFrame(columns=cols)
    multi = ok[ok[S.TOPIC_IDS].astype(str).str.contains("|", regex=False)]
    if not len(multi):
        return pd.DataFrame(columns=cols)
    pairs = multi[[S.ID, S.TOPIC_ID, S.TEXT, S.JOURNEY_STAGE, S.SENTIMENT_SCORE]].assign(
        **{WEIGHT: _weights(multi)}, topic=multi[S.TOPIC_IDS].astype(str).str.split("|").str[1:]).explode("topic")
    pairs["topic"] = pairs["topic"].astype(int)
    pairs = pairs[pairs["topic"] != pairs[S.TOPIC_ID]]
    quotes = pd.DataFrame(columns=[S.ID, "topic", "quote", "seg_score"])
    if segments is not None and len(segments) and S.TOPIC_ID in segments.columns:
        seg = segments[segments[S.ID].isin(set(pairs[S.ID])) & (segments[S.TOPIC_ID] >= 0)]
        seg = seg.sort_values([S.ID, S.SEGMENT_NO])
        if len(seg):
            g = seg.groupby([S.ID, S.TOPIC_ID], sort=False)
            quotes = pd.DataFrame({"quote": g[S.TEXT].agg(lambda x: "".join(str(v) for v in x)),
                                   "seg_score": g[S.SENTIMENT_SCORE].mean()}).reset_index()
            quotes = quotes.rename(columns={S.TOPIC_ID: "topic"})
    out = pairs.merge(quotes, on=[S.ID, "topic"], how="left")
    out["quote"] = out["quote"].fillna(out[S.TEXT])
    out["score"] = out["seg_score"].fillna(out[S.SENTIMENT_SCORE])
    out = out.rename(columns={S.TOPIC_ID: "primary", S.JOURNEY_STAGE: "stage"})
    return out[cols]


def _drill(topic_rows: list[dict], ok: pd.DataFrame, topics: pd.DataFrame, words: dict,
           trend: dict[int, str], segments: pd.DataFrame | None = None) -> list[dict]:
    """Per topic: its most negative and most positive comments, the comments about another subject that mention
    it (the segment that does, marked as a mention), and its main journey stages over both, so the comments
    behind its count (topics.csv ``size``: every comment that mentions it) are all represented."""
    labels = {t["topic_id"]: t["topic_label"] for t in topic_rows}
    mentions = _mentions(ok, segments)
    by_topic = dict(iter(mentions.groupby("topic"))) if len(mentions) else {}
    out = []
    for t in topic_rows:
        if t["topic_id"] < 0:
            continue
        members = ok[ok[S.TOPIC_ID] == t["topic_id"]].sort_values(S.SENTIMENT_SCORE)
        examples = [{"id": r[S.ID], "text": clip(r[S.TEXT], 160), "label": words.get(r[S.SENTIMENT_LABEL], r[S.SENTIMENT_LABEL]),
                     "score": _num(r[S.SENTIMENT_SCORE])}
                    for _, r in pd.concat([members.head(4), members.tail(2)]).drop_duplicates(S.ID).iterrows()]
        m = by_topic.get(t["topic_id"], mentions.iloc[:0]).sort_values("score")
        picked = pd.concat([m.head(MENTION_QUOTES - 1), m.tail(1)]).drop_duplicates(S.ID) if len(m) else m
        quoted = [{"id": r[S.ID], "text": clip(str(r["quote"]), 160), "score": _num(r["score"]),
                   "of": words["mention_of"].replace("{label}", str(labels.get(int(r["primary"]), r["primary"])))}
                  for _, r in picked.iterrows()]
        stages = _counts(pd.concat([members[S.JOURNEY_STAGE], m["stage"]]),
                         np.concatenate([_weights(members), _weights(m)])).head(3).to_dict()
        row = topics[topics[S.TOPIC_ID] == t["topic_id"]].iloc[0]
        out.append({**t, "lineage": words["lineage"].get(str(row.get("lineage", "")), ""),
                    "trend": trend.get(t["topic_id"], ""), "examples": examples, "n_primary": int(_weights(members).sum()),
                    "n_mentions": int(_weights(m).sum()), "mentions": quoted, "stages": stages})
    return out


def _driver_name(drivers: dict | None, words: dict) -> str:
    if not drivers:
        return ""
    what = "NPS" if drivers.get("kind") == "NPS" else words["mean_of"].replace("{column}", str(drivers.get("column", "")))
    return words["impact_on"].replace("{what}", what)


def _thousands(v) -> str:
    """A count as the report prints it, thousands separated (1,000,000; 330 stays 330)."""
    try:
        return f"{int(v):,}"
    except (TypeError, ValueError):
        return str(v)


REPORT_COLUMNS = [S.ID, S.TEXT, S.TOPIC_ID, S.JOURNEY_STAGE, S.SENTIMENT_LABEL, S.SENTIMENT_SCORE]


def render_report(data: ReportData, cfg: RunConfig) -> str:
    """The self-contained HTML report, in ``report.language``, titled after the period's kind."""
    env = Environment(loader=PackageLoader("vocnlp", "report"), autoescape=select_autoescape(["html", "j2"]))
    env.filters["num"] = _thousands
    words = words_for(cfg.report.language, data.period)
    # only the columns the report reads: a copy of every column of a million items would double the run's memory
    cols = REPORT_COLUMNS + [c for c in (S.TOPIC_IDS, WEIGHT) if c in data.items.columns]
    ok = data.items.loc[data.items[S.STATUS] == S.STATUS_OK, cols]
    w_ok = _weights(ok)
    stage_names = list(data.heat.index)
    topic_rows = _topic_rows(data.topics)
    trend = _trends_by_topic(data.topics, words)
    issue_rows = _issue_rows(data.issues, cfg.report.top_issues, cfg.issues.n_quotes, words["lineage"], trend)
    labels = {int(t[S.TOPIC_ID]): t[S.TOPIC_LABEL] for _, t in data.topics.iterrows()}
    trends = _trend_view(data.trend_tables, [r[S.TOPIC_ID] for r in issue_rows[:8]], labels, stage_names)
    if trends is not None:
        trends["themes"] = _theme_trends(data.trend_tables, data.themes)
    groups = _theme_groups(data.themes, topic_rows)
    badges = _mixed_badges(topic_rows, words)  # a mixed theme's badge lists its sub-topics
    for r in issue_rows:
        r["theme_badge"] = badges.get(r["theme_label"], r["theme_label"])
    return env.get_template("report.html.j2").render(
        t=words, title=title_for(cfg.report.title, words), period=data.period, history=data.history,
        drivers=data.drivers, impact_name=_driver_name(data.drivers, words),
        emerging=[r for r in issue_rows if r["emerging"]],
        movers=_movers(data.topics, (data.history or {}).get("alpha", 0.05), words["lineage"], trend)[:6],
        drill=_drill(topic_rows, ok, data.topics, words, trend, data.segments),
        trends=trends, themes=groups, unthemed=[t for t in topic_rows if t["parent_id"] < 0] if groups else topic_rows,
        input_name=data.input_name, created=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__, counts=data.counts,
        sent={lab: _share(ok[S.SENTIMENT_LABEL] == lab, w_ok) if len(ok) else 0.0 for lab in S.SENTIMENT_LABELS},
        topics=topic_rows, topics_n=sum(1 for t in topic_rows if t["topic_id"] >= 0), issues=issue_rows,
        heat=_heat_view(data.heat), stages=_stage_rows(ok, stage_names), warnings=data.warnings,
        masked=cfg.privacy.mask_pii,
        codes=None if data.codes is None else data.codes.replace({np.nan: None}).to_dict("records"),
    )
