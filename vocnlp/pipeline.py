"""The batch run: wires the stages in order, times them, and writes the run folder.

``run_pipeline`` is the one function the CLI calls; notebooks and tests call it too.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from . import schema as S
from .backends import create_embedder
from .backends.cache import EmbeddingCache, embed_texts
from .columns import choose_score_column
from .config import RunConfig
from .errors import InputError, RunWarning
from .history import HistoryStore
from .models.registry import build_sentiment_model, build_task_model
from .periods import choose_for_run, parse_period
from .report.render import ReportData, render_report
from .stages import (
    classify,
    clean,
    ingest,
    insights,
    outputs,
    segment,
    sentiment,
    tokenize,
    topics,
    tracking,
    trends,
)

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]

CONTRACT = [S.ID, S.TEXT, S.STATUS, S.TOPIC_ID, S.TOPIC_LABEL, S.CX_DIMENSIONS]
AFTER_CX = [S.JOURNEY_STAGE, S.JOURNEY_CONFIDENCE, S.SENTIMENT_LABEL, S.SENTIMENT_SCORE, S.SENTIMENT_EVIDENCE, "row"]


@dataclass
class RunResult:
    output_dir: Path
    manifest: dict
    issues: pd.DataFrame
    topics: pd.DataFrame
    items: pd.DataFrame
    timings: dict[str, float] = field(default_factory=dict)


class _Timer:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - t0, 4)


def _items_frame(df: pd.DataFrame, ing: ingest.IngestResult, cx_labels: list[str]) -> pd.DataFrame:
    """The items table in the contract's column order, input columns passed through after it."""
    ids = df[ing.id_column].astype(str) if ing.id_column else (df[S.ROW] + 1).astype(str)
    items = pd.DataFrame({S.ID: ids.values, S.TEXT: df[S.TEXT].values, S.STATUS: df[S.STATUS].values})
    items[S.TOPIC_ID] = df[S.TOPIC_ID].astype(int).values
    items[S.TOPIC_LABEL] = df[S.TOPIC_LABEL].values
    items[S.CX_DIMENSIONS] = df[S.CX_DIMENSIONS].values
    for lab in cx_labels:
        items[S.cx_column(lab)] = df[S.cx_column(lab)].values
    for c in AFTER_CX:
        items[c] = (df[S.ROW] + 1).values if c == "row" else df[c].values
    passthrough = [c for c in ing.frame.columns if c != S.ROW]
    for c in passthrough:
        values = df[S.TEXT].values if c == ing.text_column else df[c].values  # the text column carries masked text
        name = c
        if name in items.columns:
            if (c == S.TEXT and c == ing.text_column) or (c == S.ID and c == ing.id_column):
                continue  # the same column as the contract's
            name = f"input_{c}"
        items[name] = values
    return items


def run_pipeline(input_path: Path | str, output_dir: Path | str, cfg: RunConfig, progress: Progress | None = None,
                 period: str | None = None) -> RunResult:
    input_path, output_dir = Path(input_path), Path(output_dir)
    period = parse_period(period) if period else None
    timer = _Timer()
    started = datetime.now(timezone.utc)
    warn: list = []

    def report(stage: str, done: int = 0, total: int = 0) -> None:
        if progress:
            progress(stage, done, total)

    report("ingest")
    with timer.stage("ingest"):
        ing = ingest.read_input(input_path, cfg.input)
        warn += ing.warnings
    report("clean")
    with timer.stage("clean"):
        df, pii = clean.run(ing.frame, ing.text_column, cfg.clean, cfg.privacy)
        df[S.ID] = df[ing.id_column].astype(str) if ing.id_column else (df[S.ROW] + 1).astype(str)
    with timer.stage("tokenize"):
        df = tokenize.run(df, cfg.tokenize, cfg.resolve(cfg.tokenize.stopwords))
    with timer.stage("segment"):
        df = segment.run(df, cfg.segment)

    period = choose_for_run(period, input_path, ing, cfg.history.period, warn)
    store, prev_emb = _open_history(cfg, period, warn)

    ok_mask = (df[S.STATUS] == S.STATUS_OK).to_numpy()
    ok_texts = df.loc[ok_mask, S.TEXT_NORM].tolist()
    with timer.stage("embed"):
        embedder = create_embedder(cfg.embed)
        cache = EmbeddingCache(cfg.embed.cache_dir, embedder.name, embedder.model_id) if cfg.embed.cache_dir else None

        def embed(texts: list[str], stage: str = "embed") -> np.ndarray:
            return embed_texts(texts, embedder, cache, cfg.embed.batch_size, lambda d, t: report(stage, d, t))

        X, embed_stats = embed(ok_texts)
    report("topics")
    with timer.stage("topics"):
        ok_tokens = df.loc[ok_mask, S.TOKENS].tolist()
        nouns = tokenize.noun_words(ok_tokens, df.loc[ok_mask, tokenize.MORPHS].tolist())
        if store is not None:
            periods = store.periods()
            tr = tracking.track_topics(X, ok_tokens, cfg.topics, store.registry(period), store.next_topic_id(period),
                                       store.reference_mean() if periods and periods[0] < period else None,
                                       nouns, previous=prev_emb)
        else:
            tr = topics.fit_topics(X, ok_tokens, cfg.topics, nouns)
        warn += tr.warnings
        topic_ids = np.full(len(df), -1, dtype=int)
        topic_ids[ok_mask] = tr.assignments
        labels_by_id = dict(zip(tr.table[S.TOPIC_ID], tr.table[S.TOPIC_LABEL]))
        df[S.TOPIC_ID] = topic_ids
        df[S.TOPIC_LABEL] = [labels_by_id.get(t, "") if ok else "" for t, ok in zip(topic_ids, ok_mask)]
        normed = X / np.clip(np.linalg.norm(X, axis=1, keepdims=True), 1e-9, None) if len(X) else X
        closeness = np.array([float(normed[i] @ tr.centroids[t]) if t in tr.centroids else 0.0
                              for i, t in enumerate(tr.assignments)])
    report("classify")
    with timer.stage("classify"):
        label_embed = lambda texts: embed(texts, "labels")[0]  # noqa: E731
        embedder_id = f"{embedder.name}/{embedder.model_id}"
        cx_model, cx_set, cx_info = build_task_model("cx_dimension", cfg.classify.cx_dimension, cfg, label_embed, embedder_id)
        st_model, st_set, st_info = build_task_model("journey_stage", cfg.classify.journey_stage, cfg, label_embed,
                                                     embedder_id)
        df = classify.run(df, ok_mask, X, cx_model, st_model)
    report("sentiment")
    with timer.stage("sentiment"):
        sent_model, sent_info = build_sentiment_model(cfg, embedder_id)
        df, segments = sentiment.run(df, cfg.sentiment, cfg.resolve(cfg.sentiment.lexicon), sent_model, X)
    report("insights")
    with timer.stage("insights"):
        topic_tab = insights.topic_table(df, tr.table, closeness)
        issues = insights.rank_issues(df, topic_tab, closeness, cfg.issues)
        heat = insights.stage_by_dimension(df, cx_set.names, st_set.names)
        score_col = choose_score_column(ing.frame, cfg.drivers.score_column, {ing.text_column})
        driver_info = None
        if score_col:
            impact, driver_info = trends.drivers(df, score_col, cfg.drivers)
            topic_tab = topic_tab.merge(impact, on=S.TOPIC_ID, how="left")
            issues = issues.merge(impact, on=S.TOPIC_ID, how="left") if len(issues) else issues
            if len(issues):
                issues["impact_rank"] = issues["score_impact"].rank(ascending=False, method="min").astype("Int64")
        history_info: dict = {"period": period, "stored": False}
        trend_tables = None
        if store is not None:
            n_prev = 0 if prev_emb is None else len(prev_emb)
            changes, trend_tables, history_info = _history_step(store, period, df, ok_mask, X, tr, n_prev, cfg,
                                                                 input_path, ing.sha256, output_dir)
            topic_tab = topic_tab.merge(changes.drop(columns=["size", "share", "negative_share"]), on=S.TOPIC_ID, how="left")
            if len(issues):
                issues = issues.merge(changes[[S.TOPIC_ID, "lineage", "share_change", "p_share", "emerging", "trend"]],
                                      on=S.TOPIC_ID, how="left")
                issues["emerging"] = issues["emerging"].fillna(False).astype(bool)
                issues = pd.concat([issues[issues.emerging], issues[~issues.emerging]]).reset_index(drop=True)
                issues["rank"] = range(1, len(issues) + 1)
        items = _items_frame(df, ing, cx_set.names)

    statuses = Counter(df[S.STATUS])
    counts = {"read": len(df), "analysed": int(statuses.get(S.STATUS_OK, 0)),
              "skipped": {k: int(v) for k, v in sorted(statuses.items()) if k != S.STATUS_OK},
              "skipped_total": int(len(df) - statuses.get(S.STATUS_OK, 0)),
              "segments": len(segments), "pii_masked": dict(pii)}
    if cache:
        cache.close()
    if store is not None:
        store.close()
    report("outputs")
    with timer.stage("outputs"):
        manifest = {
            "vocnlp_version": __version__,
            "created_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "input": {"path": str(input_path), "name": input_path.name, "sha256": ing.sha256, "format": ing.file_format,
                      "encoding": ing.encoding, "sheet": ing.sheet, "text_column": ing.text_column,
                      "text_column_guessed": ing.text_column != cfg.input.text_column, "id_column": ing.id_column,
                      **ing.describe()},
            "config": cfg.as_dict(),
            "config_hash": cfg.hash(),
            "models": {"embedder": {"backend": embedder.name, "model_id": embedder.model_id},
                       "cx_dimension": cx_info, "journey_stage": st_info,
                       "sentiment": sent_info,
                       "topics": tr.params},
            "counts": counts,
            "embedding": embed_stats,
            "topics": {"n_topics": int((tr.table[S.TOPIC_ID] >= 0).sum()) if len(tr.table) else 0,
                       "outlier_share": round(float((tr.assignments == -1).mean()), 4) if len(tr.assignments) else 0.0},
            "history": history_info,
            "drivers": driver_info,
            "warnings": [w.as_dict() for w in warn],
            "timings_s": {},
        }
        html = render_report(ReportData(input_path.name, items, topic_tab, issues, heat, counts, manifest["warnings"],
                                        period, history_info, driver_info, trend_tables), cfg)
        with outputs.AtomicRunDir(output_dir) as tmp:
            outputs.write_csv(items, tmp / "items.csv")
            items.to_parquet(tmp / "items.parquet", index=False)
            outputs.write_csv(segments, tmp / "segments.csv")
            outputs.write_csv(topic_tab, tmp / "topics.csv")
            outputs.write_csv(issues, tmp / "issues.csv")
            outputs.write_xlsx({"issues": issues, "topics": topic_tab}, tmp / "issues.xlsx")
            (tmp / "report.html").write_text(html, encoding="utf-8")
            manifest["timings_s"] = dict(timer.timings)
            outputs.write_json(manifest, tmp / "manifest.json")
    manifest["timings_s"] = dict(timer.timings)
    return RunResult(output_dir, manifest, issues, topic_tab, items, dict(timer.timings))


def _open_history(cfg: RunConfig, period: str | None, warn: list) -> tuple[HistoryStore | None, np.ndarray | None]:
    """The history store for this period and last period's embeddings; refuses a re-run that would renumber
    topics later periods use. Runs before embedding, so a refused run costs nothing."""
    if not cfg.history.enabled:
        return None, None
    if not period:
        warn.append(RunWarning("W301", "no period for this run (none given, none in the file name or a date column); "
                                       "history and period-over-period changes are skipped. Pass --period with the "
                                       "week (YYYY-Www), month (YYYY-MM) or quarter (YYYY-Qn) the comments cover."))
        return None, None
    store = HistoryStore(cfg.resolve_path(cfg.history.path))
    store.require_kind(period)
    later = store.later_periods(period)
    if later and period in store.periods():
        store.close()
        raise InputError(f"period {period} is already stored and later periods {later} build on it; re-running it "
                         "would renumber topics they use.",
                         fix=f"run `vocnlp history drop --from {period}` and re-run the weeks in order, or pass "
                             "--no-history.")
    if later:
        warn.append(RunWarning("W302", f"later periods {later} are already stored; they were compared with the "
                                       f"earlier state of {period}. Re-run them to refresh."))
    prev_items = store.previous_items(period)
    prev_emb = (np.vstack(prev_items["_embedding"].to_numpy()).astype(np.float32)
                if prev_items is not None and len(prev_items) else None)
    return store, prev_emb


def _history_step(store: HistoryStore, period: str, df: pd.DataFrame, ok_mask: np.ndarray, X: np.ndarray,
                  tr: tracking.TrackResult, n_prev: int, cfg: RunConfig, input_path: Path, sha: str, output_dir: Path):
    """Compare with the previous period, then replace this period in the store (one transaction)."""
    prev_period = store.previous_period(period)
    hist = store.topic_history(before=period)
    prev_stats = hist[hist.period == prev_period] if prev_period else None
    cur = trends.period_stats(df, S.TOPIC_ID).rename(columns={"name": S.TOPIC_ID})
    new_ids = set(tr.new_topics[S.TOPIC_ID].astype(int))
    baselines = dict(zip(tr.new_topics[S.TOPIC_ID].astype(int), tr.new_topics["baseline"].astype(int))) if n_prev else {}
    n_now = int(ok_mask.sum())
    changes = trends.compare_topics(cur, n_now, prev_stats, n_prev, baselines, new_ids, cfg.history, cfg.issues,
                                    tr.merged, tr.split_from)
    if len(changes):
        changes["trend"] = changes.apply(trends.trend_note, axis=1)
    else:
        changes = changes.assign(trend=pd.Series(dtype=str))
    dims = pd.concat([trends.period_stats(df, S.JOURNEY_STAGE).assign(kind="stage"),
                      trends.period_stats(df, S.CX_DIMENSIONS, explode_pipe=True).assign(kind="dimension")])
    ok = df[ok_mask]
    keep = [c for c in (S.ID, S.TEXT, S.TOPIC_ID, S.SENTIMENT_SCORE, S.SENTIMENT_LABEL, S.JOURNEY_STAGE, S.CX_DIMENSIONS)
            if c in ok.columns]
    items = ok[keep].copy()
    items["_embedding"] = [row.astype(np.float32) for row in X]
    topic_stats = changes[[S.TOPIC_ID, "size", "share", "negative_share", "lineage", "related_topic"]].merge(
        cur[[S.TOPIC_ID, "mean_sentiment"]], on=S.TOPIC_ID, how="left") if len(changes) else pd.DataFrame(
        columns=[S.TOPIC_ID, "size", "share", "negative_share", "lineage", "related_topic", "mean_sentiment"])
    store.replace_period(period, run={"input_name": input_path.name, "input_sha256": sha, "n_items": len(df),
                                      "n_analysed": n_now, "config_hash": cfg.hash(), "output_dir": str(output_dir)},
                         items=items, new_topics=tr.new_topics, state=tr.state, reference_mean=tr.reference_mean,
                         topic_stats=topic_stats, dim_stats=dims.drop(columns=["negative"]), merged=tr.merged)
    trend_tables = {"topics": store.topic_history(), "dims": store.dim_history(), "periods": store.periods()}
    info = {"period": period, "stored": True, "path": str(store.folder), "previous_period": prev_period,
            "alpha": cfg.history.alpha,
            "periods": trend_tables["periods"], "new_topics": sorted(new_ids),
            "emerging_topics": changes.loc[changes.emerging, S.TOPIC_ID].astype(int).tolist() if len(changes) else [],
            "assigned_to_known_topics": tr.params.get("assigned_to_known_topics", 0) + tr.params.get("joined_known_after_clustering", 0)}
    return changes, trend_tables, info
