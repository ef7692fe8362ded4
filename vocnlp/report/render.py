"""Build the report's view model from the run's tables and render the Jinja2 template (autoescaped)."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from .. import __version__
from .. import schema as S
from ..text import clip

STATUS_JA = {S.STATUS_EMPTY: "空欄", S.STATUS_NO_CONTENT: "記号のみ", S.STATUS_TOO_SHORT: "短すぎ",
             S.STATUS_NON_ANSWER: "「特になし」等"}


def _num(v, default=0.0) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return default
    return default if np.isnan(f) else f


LINEAGE_JA = {"new": "新規", "continued": "継続", "grown": "増加", "shrunk": "減少", "gone": "消滅", "merged": "統合",
              "split": "分岐"}


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


def _trend_view(trend_tables: dict | None, topic_ids: list[int], labels: dict[int, str], stages: list[str]) -> dict | None:
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
    for name in stages:  # the run's journey-stage label set, in its order
        d = dims[(dims.kind == "stage") & (dims.name == name)].set_index("period")
        if not len(d):
            continue
        shares = [float(d.at[p, "share"]) if p in d.index else 0.0 for p in periods]
        means = [float(d.at[p, "mean_sentiment"]) if p in d.index else 0.0 for p in periods]
        stage_rows.append({"label": name, "share_svg": sparkline(shares), "shares": " → ".join(f"{100 * v:.0f}%" for v in shares),
                           "means": " → ".join(f"{v:+.2f}" for v in means)})
    return {"periods": periods, "topics": rows, "stages": stage_rows}


def render_report(*, title: str, input_name: str, items: pd.DataFrame, topics: pd.DataFrame, issues: pd.DataFrame,
                  heat: pd.DataFrame, counts: dict, warnings: list[dict], top_issues: int, masked: bool,
                  n_quotes: int, period: str | None = None, history: dict | None = None, drivers: dict | None = None,
                  trend_tables: dict | None = None, codes: pd.DataFrame | None = None) -> str:
    env = Environment(loader=PackageLoader("vocnlp", "report"), autoescape=select_autoescape(["html", "j2"]))
    template = env.get_template("report.html.j2")
    ok = items[items[S.STATUS] == S.STATUS_OK]
    n_ok = max(1, len(ok))
    sent = {lab: float((ok[S.SENTIMENT_LABEL] == lab).sum()) / n_ok for lab in S.SENTIMENT_LABELS}
    biggest = max([1, *topics["size"].tolist()]) if len(topics) else 1
    topic_rows = []
    for _, t in topics.iterrows():
        neg, pos = _num(t.get("negative_share")), _num(t.get("positive_share"))
        topic_rows.append({"topic_id": int(t[S.TOPIC_ID]), "topic_label": t[S.TOPIC_LABEL], "keywords": t.get("keywords", ""),
                           "size": int(t["size"]), "width": 100.0 * t["size"] / biggest, "negative_share": neg,
                           "positive_share": pos, "neutral_share": max(0.0, 1 - neg - pos),
                           "mean_sentiment": _num(t.get("mean_sentiment"))})
    issue_rows = []
    for _, i in issues.head(top_issues).iterrows():
        quotes = [{"text": i.get(f"quote_{k}", ""), "id": i.get(f"quote_{k}_id", ""), "why": i.get(f"quote_{k}_why", "")}
                  for k in range(1, n_quotes + 1) if str(i.get(f"quote_{k}", "") or "")]
        issue_rows.append({**{k: i[k] for k in ("rank", S.TOPIC_ID, S.TOPIC_LABEL, "n_items", "negative_share", "mean_sentiment",
                                                "priority")},
                           "keywords": i.get("keywords", ""), "quotes": quotes,
                           "emerging": bool(i.get("emerging", False)) if not pd.isna(i.get("emerging", False)) else False,
                           "lineage": LINEAGE_JA.get(str(i.get("lineage", "")), ""),
                           "trend": i.get("trend", "") if isinstance(i.get("trend", ""), str) else "",
                           "impact": None if pd.isna(i.get("score_impact", np.nan)) else float(i.get("score_impact"))})
    peak = max(1, int(heat.values.max())) if heat.size else 1
    heat_view = {"columns": list(heat.columns),
                 "rows": [{"stage": st, "cells": [{"n": int(v), "alpha": 0.08 + 0.8 * int(v) / peak if v else 0.0}
                                                  for v in heat.loc[st].tolist()], "total": int(heat.loc[st].sum())}
                          for st in heat.index]}
    stages = []
    for st in heat.index:
        m = ok[ok[S.JOURNEY_STAGE] == st]
        if len(m):
            stages.append({"stage": st, "n": len(m), "neg": float((m[S.SENTIMENT_LABEL] == "negative").mean()),
                           "neu": float((m[S.SENTIMENT_LABEL] == "neutral").mean()),
                           "pos": float((m[S.SENTIMENT_LABEL] == "positive").mean()),
                           "mean": float(m[S.SENTIMENT_SCORE].mean())})
    labels = {int(t[S.TOPIC_ID]): t[S.TOPIC_LABEL] for _, t in topics.iterrows()}
    emerging = [r for r in issue_rows if r["emerging"]]
    movers = []
    if "lineage" in topics.columns:
        for _, t in topics.iterrows():
            significant = _num(t.get("q_share"), 1.0) < (history or {}).get("alpha", 0.05)
            if t.get("lineage") in ("grown", "shrunk", "new") and significant and int(t[S.TOPIC_ID]) >= 0 \
                    and isinstance(t.get("trend"), str):
                movers.append({"label": t[S.TOPIC_LABEL], "lineage": LINEAGE_JA.get(t["lineage"], ""), "trend": t["trend"],
                               "change": _num(t.get("share_change"))})
        movers.sort(key=lambda m: -abs(m["change"]))
    ids_for_trends = [r[S.TOPIC_ID] for r in issue_rows[:8]]
    drill = []
    for t in topic_rows:
        if t["topic_id"] < 0:
            continue
        members = ok[ok[S.TOPIC_ID] == t["topic_id"]].sort_values(S.SENTIMENT_SCORE)
        examples = [{"id": r[S.ID], "text": clip(r[S.TEXT], 160), "label": r[S.SENTIMENT_LABEL], "score": _num(r[S.SENTIMENT_SCORE])}
                    for _, r in pd.concat([members.head(4), members.tail(2)]).drop_duplicates(S.ID).iterrows()]
        row = topics[topics[S.TOPIC_ID] == t["topic_id"]].iloc[0]
        drill.append({**t, "lineage": LINEAGE_JA.get(str(row.get("lineage", "")), ""),
                      "trend": row.get("trend", "") if isinstance(row.get("trend", ""), str) else "", "examples": examples,
                      "stages": members[S.JOURNEY_STAGE].value_counts().head(3).to_dict()})
    return template.render(
        period=period, history=history, drivers=drivers, emerging=emerging, movers=movers[:6], drill=drill,
        trends=_trend_view(trend_tables, ids_for_trends, labels, list(heat.index)),
        title=title, input_name=input_name, created=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__, counts=counts, sent=sent, topics=topic_rows, topics_n=sum(1 for t in topic_rows if t["topic_id"] >= 0),
        issues=issue_rows, heat=heat_view, stages=stages, warnings=warnings, status_ja=STATUS_JA, masked=masked,
        codes=None if codes is None else codes.replace({np.nan: None}).to_dict("records"),  # the analyst codes (codes.csv)
    )
