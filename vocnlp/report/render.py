"""Build the report's view model from the run's tables and render the Jinja2 template (autoescaped)."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from .. import __version__
from .. import schema as S

STATUS_JA = {S.STATUS_EMPTY: "空欄", S.STATUS_NO_CONTENT: "記号のみ", S.STATUS_TOO_SHORT: "短すぎ",
             S.STATUS_NON_ANSWER: "「特になし」等", S.STATUS_DUPLICATE: "重複"}


def _num(v, default=0.0) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return default
    return default if np.isnan(f) else f


def render_report(*, title: str, input_name: str, items: pd.DataFrame, topics: pd.DataFrame, issues: pd.DataFrame,
                  heat: pd.DataFrame, counts: dict, warnings: list[dict], top_issues: int, masked: bool,
                  n_quotes: int) -> str:
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
        issue_rows.append({**{k: i[k] for k in ("rank", S.TOPIC_LABEL, "n_items", "negative_share", "mean_sentiment", "priority")},
                           "keywords": i.get("keywords", ""), "quotes": quotes})
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
    return template.render(
        title=title, input_name=input_name, created=datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        version=__version__, counts=counts, sent=sent, topics=topic_rows, topics_n=sum(1 for t in topic_rows if t["topic_id"] >= 0),
        issues=issue_rows, heat=heat_view, stages=stages, warnings=warnings, status_ja=STATUS_JA, masked=masked,
    )
