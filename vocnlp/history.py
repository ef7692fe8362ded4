"""History of runs, one per period (weeks, months or quarters; one kind per history): an embedded DuckDB database plus one Parquet file per period.

No server: the store is a folder (``history.path``, default ``.vocnlp/history``) holding
``history.duckdb`` and ``items/period=<P>.parquet``. The items file holds one row per distinct analysed
text (with its embedding, its labels and ``n_rows``, how many of the period's comments carried it), so a
week of a million comments with a hundred thousand distinct texts stores a hundred thousand embeddings;
files written before ``n_rows`` existed count each row once. Re-running a period replaces it in one
transaction (its items, its topic statistics and the topics born in it), so nothing is duplicated.

Tables
  runs         period, run_at, input_name, input_sha256, n_items, n_analysed, config_hash
  topics       the topic registry: topic_id, topic_label, keywords, first_period, merged_into
  centroids    period, topic_id, centroid (FLOAT[]), threshold: each topic's state after each period,
               so re-running a period starts from exactly the state before it (same input -> same ids)
  meta         key, value (the reference mean that centres the embedding space)
  topic_period period, topic_id, size, share, mean_sentiment, negative_share, lineage, related_topic
  dim_period   period, kind (stage|dimension), name, size, share, mean_sentiment, negative_share
  themes       the theme registry: theme_id, theme_label, keywords, first_period
  topic_themes topic_id, theme_id, first_period: each topic's theme, set once (a known topic keeps its theme)
  theme_period period, theme_id, size, share, mean_sentiment, negative_share: the sums of its sub-topics' rows
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ConfigError, InputError
from .periods import check_same_kind

N_ROWS = "n_rows"  # items file: how many of the period's comments carried this distinct text

SCHEMA = [
    """CREATE TABLE IF NOT EXISTS runs (period VARCHAR PRIMARY KEY, run_at VARCHAR, input_name VARCHAR,
       input_sha256 VARCHAR, n_items INTEGER, n_analysed INTEGER, config_hash VARCHAR, output_dir VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS topics (topic_id INTEGER PRIMARY KEY, topic_label VARCHAR, keywords VARCHAR,
       first_period VARCHAR, merged_into INTEGER)""",
    """CREATE TABLE IF NOT EXISTS centroids (period VARCHAR, topic_id INTEGER, centroid FLOAT[], threshold DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS topic_period (period VARCHAR, topic_id INTEGER, size INTEGER, share DOUBLE,
       mean_sentiment DOUBLE, negative_share DOUBLE, lineage VARCHAR, related_topic INTEGER)""",
    """CREATE TABLE IF NOT EXISTS dim_period (period VARCHAR, kind VARCHAR, name VARCHAR, size INTEGER, share DOUBLE,
       mean_sentiment DOUBLE, negative_share DOUBLE)""",
    """CREATE TABLE IF NOT EXISTS themes (theme_id INTEGER PRIMARY KEY, theme_label VARCHAR, keywords VARCHAR,
       first_period VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS topic_themes (topic_id INTEGER PRIMARY KEY, theme_id INTEGER, first_period VARCHAR)""",
    """CREATE TABLE IF NOT EXISTS theme_period (period VARCHAR, theme_id INTEGER, size INTEGER, share DOUBLE,
       mean_sentiment DOUBLE, negative_share DOUBLE)""",
]


class HistoryStore:
    def __init__(self, folder: Path | str):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        (self.folder / "items").mkdir(exist_ok=True)
        try:
            import duckdb
        except ImportError as err:  # pragma: no cover - a package dependency
            raise ConfigError("duckdb is not installed.", fix="pip install duckdb") from err
        self.db = duckdb.connect(str(self.folder / "history.duckdb"))
        for stmt in SCHEMA:
            self.db.execute(stmt)

    def close(self) -> None:
        self.db.close()

    def require_kind(self, period: str) -> None:
        """One history keeps one kind of period (weeks, months or quarters): refuse another kind."""
        check_same_kind(self.periods(), period)

    def require_embedder(self, embedder: str, period: str) -> None:
        """Topic centroids and the reference mean live in one embedding space: refuse a run whose embedder
        ("backend/model_id") is not the one the stored periods were embedded with (a history written before the
        embedder was recorded is not checked; its next run records it)."""
        row = self.db.execute("SELECT value FROM meta WHERE key = 'embedder'").fetchone()
        others = [p for p in self.periods() if p != period]
        if row and row[0] != embedder and others:
            raise InputError(f"the history in '{self.folder}' holds {len(others)} period(s) embedded with {row[0]!r}; this "
                             f"run embeds with {embedder!r}, whose topics cannot be tracked against them.",
                             fix="run with the history's embed settings, give this embedder its own history "
                                 "(history.path), or pass --no-history.")

    # -- reading -------------------------------------------------------------------------------
    def periods(self) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT period FROM runs ORDER BY period").fetchall()]

    def registry(self, before: str) -> pd.DataFrame:
        """Topics born before ``before``, each with its centroid and threshold as of the last period before it."""
        return self.db.execute("""
            SELECT t.topic_id, t.topic_label, t.keywords, t.first_period, t.merged_into, c.centroid, c.threshold
            FROM topics t JOIN (
                SELECT topic_id, arg_max(centroid, period) AS centroid, arg_max(threshold, period) AS threshold
                FROM centroids WHERE period < ? GROUP BY topic_id) c USING (topic_id)
            WHERE t.first_period < ? ORDER BY t.topic_id""", [before, before]).df()

    def theme_links(self, before: str) -> dict[int, int]:
        """topic -> theme, as set by the periods before ``before``."""
        rows = self.db.execute("SELECT topic_id, theme_id FROM topic_themes WHERE first_period < ?", [before]).fetchall()
        return {int(t): int(th) for t, th in rows}

    def theme_registry(self, before: str) -> pd.DataFrame:
        return self.db.execute("SELECT theme_id, theme_label, keywords, first_period FROM themes WHERE first_period < ? "
                               "ORDER BY theme_id", [before]).df()

    def next_theme_id(self, period: str) -> int:
        """The first free theme id (the same rule as :meth:`next_topic_id`)."""
        if self.later_periods(period):
            row = self.db.execute("SELECT max(theme_id) FROM themes").fetchone()
        else:
            row = self.db.execute("SELECT max(theme_id) FROM themes WHERE first_period <> ?", [period]).fetchone()
        return int(row[0]) + 1 if row and row[0] is not None else 0

    def theme_history(self, before: str | None = None) -> pd.DataFrame:
        return self._rows("theme_period", before, "period, theme_id")

    def reference_mean(self) -> np.ndarray | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'reference_mean'").fetchone()
        return np.asarray(json.loads(row[0]), dtype=np.float32) if row else None

    def previous_items(self, period: str, columns: list[str] | None = None) -> pd.DataFrame | None:
        """The previous period's stored items (one row per distinct text; ``n_rows`` is how many comments
        carried it, 1 in files written before it existed)."""
        prev = self.previous_period(period)
        if prev is None:
            return None
        p = self.folder / "items" / f"period={prev}.parquet"
        if not p.exists():
            return None
        import pyarrow.parquet as pq

        names = pq.read_schema(p).names
        want = None if columns is None else [c for c in columns if c in names]
        items = pd.read_parquet(p, columns=want)
        if N_ROWS not in items.columns:
            items[N_ROWS] = 1
        return items

    def previous_embeddings(self, period: str) -> tuple[np.ndarray, np.ndarray, list[list[str]] | None] | None:
        """The previous period's distinct embeddings (float32, one row per stored item), their row counts and their
        clustering words (None for histories written before the words were stored), from one read of its file."""
        items = self.previous_items(period, ["_embedding", N_ROWS, "_tokens"])
        if items is None or not len(items):
            return None
        tokens = [list(t) for t in items["_tokens"]] if "_tokens" in items.columns else None
        return (np.vstack(items["_embedding"].to_numpy()).astype(np.float32),
                items[N_ROWS].to_numpy(dtype=np.int64), tokens)

    def _rows(self, table: str, before: str | None, order: str) -> pd.DataFrame:
        where, args = ("WHERE period < ?", [before]) if before else ("", [])
        return self.db.execute(f"SELECT * FROM {table} {where} ORDER BY {order}", args).df()

    def topic_history(self, before: str | None = None) -> pd.DataFrame:
        return self._rows("topic_period", before, "period, topic_id")

    def dim_history(self, before: str | None = None) -> pd.DataFrame:
        return self._rows("dim_period", before, "period")

    def previous_period(self, period: str) -> str | None:
        row = self.db.execute("SELECT max(period) FROM runs WHERE period < ?", [period]).fetchone()
        return row[0] if row else None

    def drop_from(self, period: str) -> list[str]:
        """Remove ``period`` and every later one (runs, statistics, topics born then, Parquet files)."""
        gone = [p for p in self.periods() if p >= period]
        db = self.db
        db.execute("BEGIN TRANSACTION")
        try:
            for table in ("runs", "topic_period", "dim_period", "centroids", "theme_period"):
                db.execute(f"DELETE FROM {table} WHERE period >= ?", [period])
            for table in ("topics", "themes", "topic_themes"):
                db.execute(f"DELETE FROM {table} WHERE first_period >= ?", [period])
            db.execute("COMMIT")
        except Exception:
            db.execute("ROLLBACK")
            raise
        for p in gone:
            (self.folder / "items" / f"period={p}.parquet").unlink(missing_ok=True)
        return gone

    def later_periods(self, period: str) -> list[str]:
        return [r[0] for r in self.db.execute("SELECT period FROM runs WHERE period > ? ORDER BY period", [period]).fetchall()]

    def next_topic_id(self, period: str) -> int:
        """The first free id. Re-running the latest period reuses the ids it created (same input -> same ids);
        a period inserted before later ones (a backfill) never reuses an id that a later period holds."""
        if self.later_periods(period):
            row = self.db.execute("SELECT max(topic_id) FROM topics").fetchone()
        else:
            row = self.db.execute("SELECT max(topic_id) FROM topics WHERE first_period <> ?", [period]).fetchone()
        return int(row[0]) + 1 if row and row[0] is not None else 0

    # -- writing -------------------------------------------------------------------------------
    def replace_period(self, period: str, *, run: dict, items: pd.DataFrame, new_topics: pd.DataFrame,
                       state: dict[int, tuple[np.ndarray, float]], reference_mean: np.ndarray | None,
                       topic_stats: pd.DataFrame, dim_stats: pd.DataFrame, merged: dict[int, int] | None = None,
                       themes: dict | None = None, embedder: str | None = None) -> None:
        """Write one period atomically: the Parquet file first (renamed into place), then one DB transaction.
        ``themes``: {"new": DataFrame(theme_id, theme_label, keywords), "links": {topic: theme} made this period,
        "stats": DataFrame(theme_id, size, share, mean_sentiment, negative_share)}."""
        pq = self.folder / "items" / f"period={period}.parquet"
        tmp = pq.with_suffix(".tmp")
        items.to_parquet(tmp, index=False)
        db = self.db
        db.execute("BEGIN TRANSACTION")
        try:
            # a re-run first undoes the merges this period made the last time
            db.execute("UPDATE topics SET merged_into = NULL WHERE merged_into IS NOT NULL AND topic_id IN "
                       "(SELECT topic_id FROM topic_period WHERE period = ? AND lineage = 'merged')", [period])
            db.execute("DELETE FROM runs WHERE period = ?", [period])
            db.execute("DELETE FROM topic_period WHERE period = ?", [period])
            db.execute("DELETE FROM dim_period WHERE period = ?", [period])
            db.execute("DELETE FROM theme_period WHERE period = ?", [period])
            if not self.later_periods(period):  # later periods may still refer to topics born here
                db.execute("DELETE FROM topics WHERE first_period = ?", [period])
                db.execute("DELETE FROM themes WHERE first_period = ?", [period])
                db.execute("DELETE FROM topic_themes WHERE first_period = ?", [period])
            db.execute("DELETE FROM centroids WHERE period = ?", [period])
            if reference_mean is not None and not self.db.execute(
                    "SELECT count(*) FROM runs WHERE period < ?", [period]).fetchone()[0]:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('reference_mean', ?)",
                           [json.dumps([float(x) for x in reference_mean])])
            if embedder:
                db.execute("INSERT OR REPLACE INTO meta VALUES ('embedder', ?)", [embedder])
            db.execute("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", [
                period, run.get("run_at") or datetime.now(timezone.utc).isoformat(timespec="seconds"), run["input_name"],
                run["input_sha256"], run["n_items"], run["n_analysed"], run["config_hash"], run.get("output_dir", "")])
            for r in new_topics.itertuples():
                db.execute("INSERT INTO topics VALUES (?, ?, ?, ?, NULL)", [int(r.topic_id), r.topic_label, r.keywords, period])
            for src, dst in (merged or {}).items():
                db.execute("UPDATE topics SET merged_into = ? WHERE topic_id = ?", [int(dst), int(src)])
            for tid, (c, thr) in state.items():
                db.execute("INSERT INTO centroids VALUES (?, ?, ?, ?)", [period, int(tid), [float(x) for x in c], float(thr)])
            if len(topic_stats):
                db.register("_ts", topic_stats)
                db.execute("INSERT INTO topic_period SELECT ?, topic_id, size, share, mean_sentiment, negative_share, "
                           "lineage, related_topic FROM _ts", [period])
                db.unregister("_ts")
            if themes:
                self._write_themes(period, themes)
            if len(dim_stats):
                db.register("_ds", dim_stats)
                db.execute("INSERT INTO dim_period SELECT ?, kind, name, size, share, mean_sentiment, negative_share "
                           "FROM _ds", [period])
                db.unregister("_ds")
            db.execute("COMMIT")
        except Exception:
            db.execute("ROLLBACK")
            tmp.unlink(missing_ok=True)
            raise
        tmp.replace(pq)

    def _write_themes(self, period: str, themes: dict) -> None:
        """Inside replace_period's transaction: the themes born and topic links made in ``period``, and its
        theme statistics. A link or theme already stored (a backfill's later periods) is left as it is."""
        db = self.db
        for r in themes["new"].itertuples():
            db.execute("INSERT OR IGNORE INTO themes VALUES (?, ?, ?, ?)",
                       [int(r.theme_id), r.theme_label, r.keywords, period])
        for tid, th in themes["links"].items():
            db.execute("INSERT OR IGNORE INTO topic_themes VALUES (?, ?, ?)", [int(tid), int(th), period])
        stats = themes["stats"]
        if len(stats):
            db.register("_th", stats)
            db.execute("INSERT INTO theme_period SELECT ?, theme_id, size, share, mean_sentiment, negative_share "
                       "FROM _th", [period])
            db.unregister("_th")

    def describe(self) -> dict:
        return {"path": str(self.folder), "periods": self.periods(),
                "topics": int(self.db.execute("SELECT count(*) FROM topics").fetchone()[0])}
