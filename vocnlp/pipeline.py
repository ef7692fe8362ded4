"""The batch run: ``analyze`` runs the stages in order; ``Analysis.save`` writes the run folder.

    result = analyze(data, config=None, period=None)   # a DataFrame or a path; notebooks call this
    result.save("runs/W47")                            # the run folder, atomically (what `vocnlp run` writes)
    run_pipeline(input, output_dir, cfg)               # analyze, then save: the CLI's one call

Every stage is one call with the same signature, ``step(run: _Run) -> None``: it reads what earlier
stages left on the run state and adds its own result (each docstring says what). ``STAGES`` lists them
in order, with the name their time is recorded under in the manifest.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from . import schema as S
from .backends import Embedder, create_embedder, embedder_id
from .backends.cache import EmbeddingCache, embed_texts
from .columns import choose_score_column
from .config import RunConfig, config_from_mapping, load_config
from .engines import TextModels, create_engine
from .engines.texts import (
    SEG_PREFIX,
    FlatSegments,
    TextResults,
    flat_segments,
    join_to_rows,
    segments_for_rows,
)
from .engines.texts import STAGES as TEXT_STAGES
from .errors import InputError, RunWarning
from .history import N_ROWS, HistoryStore
from .japanese import nouns_among
from .labels import LabelSet
from .periods import choose_for_run, parse_period
from .report.render import REPORT_COLUMNS, WEIGHT, ReportData, render_report
from .stages import (
    clean,
    codes,
    ingest,
    insights,
    outputs,
    segment_topics,
    themes,
    tokenize,
    topics,
    tracking,
    trends,
)
from .topic_cache import HistoryState, TopicCache, topic_key
from .versions import runtime_versions

log = logging.getLogger(__name__)
Progress = Callable[[str, int, int], None]

CONTRACT = [S.ID, S.TEXT, S.STATUS, S.TOPIC_ID, S.TOPIC_LABEL, S.CX_DIMENSIONS]
AFTER_CX = [S.JOURNEY_STAGE, S.JOURNEY_CONFIDENCE, S.SENTIMENT_LABEL, S.SENTIMENT_SCORE, S.SENTIMENT_EVIDENCE, S.CODES, "row"]


class _Timer:
    def __init__(self, timings: dict[str, float] | None = None) -> None:
        self.timings: dict[str, float] = dict(timings or {})
        self._running: dict[str, float] = {}

    @contextmanager
    def stage(self, name: str):
        t0 = self._running[name] = time.perf_counter()
        try:
            yield
        finally:
            del self._running[name]
            self.timings[name] = round(self.timings.get(name, 0.0) + time.perf_counter() - t0, 4)

    def so_far(self) -> dict[str, float]:
        """Timings including the stages still running (the manifest is written inside the outputs stage)."""
        now = time.perf_counter()
        return {**self.timings, **{k: round(self.timings.get(k, 0.0) + now - t0, 4) for k, t0 in self._running.items()}}


# -- the result ----------------------------------------------------------------------------------


class Analysis:
    """What ``analyze`` returns: the output tables as DataFrames, the manifest, and the run folder on demand.

    ``items`` (one row per input row, in input order), ``segments``, ``topics`` and ``issues`` hold
    exactly what items.csv, segments.csv, topics.csv and issues.csv contain. A run keeps items and segments
    as its row index into the per-text tables (:class:`RowTables`) and builds each table the first time it is
    read; ``save`` writes a large run's items and segments chunk by chunk without ever building them whole.
    """

    def __init__(self, items: pd.DataFrame | None, segments: pd.DataFrame | None, topics: pd.DataFrame,
                 issues: pd.DataFrame, manifest: dict, config: RunConfig, heat: pd.DataFrame,
                 trend_tables: dict | None = None, codes: pd.DataFrame | None = None,
                 themes: pd.DataFrame | None = None, output_dir: Path | None = None,
                 row_tables: RowTables | None = None) -> None:
        if (items is None or segments is None) and row_tables is None:
            raise ValueError("Analysis needs items and segments, or the row tables they are built from")
        self._items, self._segments, self._row_tables = items, segments, row_tables
        self.topics, self.issues, self.manifest, self.config, self.heat = topics, issues, manifest, config, heat
        self.trend_tables = trend_tables  # the history's per-period tables, for the report's trend charts
        self.codes = codes  # codes.csv: the analyst codes' table, when a rules file is configured
        self.themes = themes  # themes.csv: the themes above the topics (None with themes.enabled off)
        self.output_dir = output_dir  # set by save()

    @property
    def items(self) -> pd.DataFrame:
        """items.csv as a DataFrame (built on first access, then kept)."""
        if self._items is None:
            self._items = self._row_tables.items()
        return self._items

    @property
    def segments(self) -> pd.DataFrame:
        """segments.csv as a DataFrame (built on first access, then kept)."""
        if self._segments is None:
            self._segments = self._row_tables.segments()
        return self._segments

    def _streamed(self) -> bool:
        """Whether save() writes items and segments chunk by chunk: a run larger than one chunk whose tables
        nobody has asked for. A table of one chunk is written whole, exactly as before."""
        rt = self._row_tables
        return rt is not None and self._items is None and rt.n_rows > outputs.CHUNK_ROWS

    @property
    def timings(self) -> dict[str, float]:
        return dict(self.manifest.get("timings_s", {}))

    def report_html(self) -> str:
        """The self-contained report (report.html) as a string."""
        m, cfg = self.manifest, self.config
        if self._row_tables is not None:  # one row per distinct analysed text, and the segments the report quotes
            items, segments = self._row_tables.report_items(), self._row_tables.report_segments()
        else:
            items, segments = self.items, self.segments
        return render_report(ReportData(m["input"]["name"], items, self.topics, self.issues, self.heat, m["counts"],
                                        m["warnings"], m["history"]["period"], m["history"], m["drivers"],
                                        self.trend_tables, self.codes, self.themes, segments), cfg)

    def save(self, output_dir: Path | str) -> Path:
        """Write the run folder (the output contract) atomically: a temporary folder, then one rename."""
        output_dir = Path(output_dir)
        timer = _Timer({k: v for k, v in self.manifest.get("timings_s", {}).items() if k != "outputs"})  # saved twice
        with timer.stage("outputs"):
            html = self.report_html()
            with outputs.AtomicRunDir(output_dir) as tmp:
                if self._streamed():
                    rt = self._row_tables
                    outputs.write_csv_chunks(rt.item_chunks(), tmp / "items.csv", tmp / "items.parquet", rt.items_schema())
                    outputs.write_csv_chunks(rt.segment_chunks(), tmp / "segments.csv")
                else:
                    outputs.write_csv(self.items, tmp / "items.csv")
                    outputs.write_parquet(self.items, tmp / "items.parquet")
                    outputs.write_csv(self.segments, tmp / "segments.csv")
                outputs.write_csv(self.topics, tmp / "topics.csv")
                outputs.write_csv(self.issues, tmp / "issues.csv")
                if self.codes is not None:
                    outputs.write_csv(self.codes, tmp / "codes.csv")
                if self.themes is not None:
                    outputs.write_csv(self.themes, tmp / "themes.csv")
                outputs.write_xlsx({"issues": self.issues, "topics": self.topics,
                                    **({"themes": self.themes} if self.themes is not None else {})}, tmp / "issues.xlsx")
                (tmp / "report.html").write_text(html, encoding="utf-8")
                self.manifest["timings_s"] = timer.so_far()  # outputs: rendering and writing every file but this one
                outputs.write_json(self.manifest, tmp / "manifest.json")
            _release_memory()
        self.manifest["timings_s"] = dict(timer.timings)
        self.output_dir = output_dir
        return output_dir

    def __repr__(self) -> str:
        c, h = self.manifest["counts"], self.manifest["history"]
        return (f"<vocnlp.Analysis {self.manifest['input']['name']!r}: {c['read']} items ({c['analysed']} analysed), "
                f"{self.manifest['topics']['n_topics']} topics, {len(self.issues)} issues, period {h['period']}>")


RunResult = Analysis  # the name run_pipeline's result had before the API


# -- the run state the stages share ---------------------------------------------------------------


@dataclass
class _Run:
    """Everything one run has produced so far. Stages read earlier fields and set their own."""

    data: pd.DataFrame | Path
    cfg: RunConfig
    period: str | None
    progress: Progress | None = None
    output_dir: Path | None = None  # recorded in the history's run record
    warnings: list[RunWarning] = field(default_factory=list)
    # ingest, clean
    ing: ingest.IngestResult | None = None
    df: pd.DataFrame | None = None
    pii: Counter | None = None
    # codes (analyst rules; None when no rules file is configured)
    rules: codes.CodeRules | None = None
    # history
    store: HistoryStore | None = None
    embedder_id: str | None = None  # "backend/model_id", recorded in the history
    history_state: HistoryState | None = None
    # texts: the per-text stages (tokenize, segment, codes, embed, classify, sentiment) on the engine
    models: TextModels | None = None
    embedder: Embedder | None = None
    cache: EmbeddingCache | None = None
    X_text: np.ndarray | None = None  # one embedding per distinct analysed text (memory follows distinct texts)
    text_of: np.ndarray | None = None  # per analysed row: its distinct text's index into X_text
    text_counts: np.ndarray | None = None  # per distinct text: the analysed rows (comments) it stands for
    text_res: TextResults | None = None  # the per-text stages' results, one row per distinct text (per_text)
    text_idx: np.ndarray | None = None  # per row: its distinct text's index into text_res.per_text (-1: not analysed)
    units: list[np.ndarray] | None = None  # per distinct text, its subject units' vectors (segment topics)
    embed_stats: dict | None = None
    text_seconds: dict[str, float] = field(default_factory=dict)
    engine_info: dict | None = None
    # topics
    tr: topics.TopicResult | None = None  # assignments per analysed row (expanded from topic_of_text)
    topic_of_text: np.ndarray | None = None  # topic per distinct text (what was fitted)
    topics_cached: bool = False
    closeness: np.ndarray | None = None  # per distinct text, its closeness to its topic
    nouns: frozenset[str] = frozenset()  # the analysed comments' content words that are nouns (labels prefer them)
    # themes (None with themes.enabled off)
    themes: themes.ThemeResult | None = None
    theme_tab: pd.DataFrame | None = None
    # classify, sentiment
    cx_set: LabelSet | None = None
    st_set: LabelSet | None = None
    model_info: dict = field(default_factory=dict)
    segments: pd.DataFrame | None = None
    # segment-level topics
    seg: segment_topics.SegmentTopicResult | None = None  # per distinct text (mentions' _item: the text)
    seg_per_text: segment_topics.SegmentTopicResult | None = None  # the same, once per distinct text
    # insights
    topic_rows: _TopicRows | None = None  # what the topic statistics count (per distinct text, weighted)
    topic_tab: pd.DataFrame | None = None
    issues: pd.DataFrame | None = None
    heat: pd.DataFrame | None = None
    code_tab: pd.DataFrame | None = None
    driver_info: dict | None = None
    history_info: dict | None = None
    trend_tables: dict | None = None
    row_tables: RowTables | None = None  # items.csv and segments.csv, built from the row index when read

    @property
    def ok_mask(self) -> np.ndarray:
        return (self.df[S.STATUS] == S.STATUS_OK).to_numpy()

    def rows(self, columns: list[str], at: np.ndarray | None = None) -> pd.DataFrame:
        """The given columns for every row (or the rows at positions ``at``): the row-level ones from df, the
        per-text ones (tokens, classes, sentiment ...) joined from their distinct text's row of the per-text table
        now. df keeps those as one integer per row (text_idx), so the run holds them once per distinct text, and a
        stage gets a row-level copy only of the columns it reads, for as long as it reads them."""
        return _join_rows(self.df, self.text_res.per_text if self.text_res is not None else None, self.text_idx,
                          columns, at)

    def per_text_rows(self, columns: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
        """``columns`` once per distinct analysed text (its first row, in text order) and the comments each stands
        for: what a count over the analysed rows needs, at the cost of the distinct texts."""
        return (self.rows(columns, at=np.flatnonzero(self.ok_mask)[self.first_rows()]),
                self.text_counts)

    def all_columns(self) -> list[str]:
        """df's columns and then the per-text ones, in the order the row frame had them when they were joined in."""
        per_text = [] if self.text_res is None else [c for c in self.text_res.per_text.columns
                                                     if c not in self.df.columns and not c.startswith(SEG_PREFIX)]
        cols = list(self.df.columns)
        at = cols.index(S.TOPIC_ID) if S.TOPIC_ID in cols else len(cols)  # the stages after texts add theirs behind
        return [*cols[:at], *per_text, *cols[at:]]

    @property
    def X(self) -> np.ndarray:
        """One embedding per analysed row, gathered now (rows x dim: at a million rows 1.5 GB). The stages use
        X_text with text_of (one per distinct text) instead; this is for code that needs the rows'."""
        return self.X_text[self.text_of]

    @property
    def text_weights(self) -> np.ndarray | None:
        """Analysed rows per distinct text, or None when every text is distinct (the per-row code path)."""
        w = self.text_counts
        return None if (w == 1).all() else w

    def first_rows(self) -> np.ndarray:
        """Per distinct text, the position among the analysed rows of its first row (in text order)."""
        return np.unique(self.text_of, return_index=True)[1]

    @property
    def input_name(self) -> str:
        return self.data.name if isinstance(self.data, Path) else "DataFrame"

    def report(self, stage: str, done: int = 0, total: int = 0) -> None:
        if self.progress:
            self.progress(stage, done, total)

    def embed(self, texts: list[str], stage: str = "embed") -> tuple[np.ndarray, dict]:
        return embed_texts(texts, self.embedder, self.cache, self.cfg.embed.batch_size,
                           lambda d, t: self.report(stage, d, t))

    def close(self) -> None:
        if self.models is not None:
            self.models.close()
            self.models = None
            self.cache = None
        if self.cache is not None:
            self.cache.close()
            self.cache = None
        if self.store is not None:
            self.store.close()
            self.store = None


def _join_rows(df: pd.DataFrame, per_text: pd.DataFrame | None, text_idx: np.ndarray | None, columns: list[str],
               at: np.ndarray | None = None) -> pd.DataFrame:
    """``columns`` for every row of df (or the rows at positions ``at``): df's own, and the per-text ones joined
    from each row's distinct text (``text_idx``) in ``per_text``."""
    rows = df if at is None else df.iloc[at]
    here = [c for c in columns if c in df.columns]
    joined = [c for c in columns if c not in here and per_text is not None and c in per_text.columns]
    out = rows[here]
    if joined:
        idx = text_idx if at is None else text_idx[at]
        out = out.assign(**join_to_rows(per_text[joined], idx))
    return out[[c for c in columns if c in out.columns]]


# -- the stages -------------------------------------------------------------------------------------


def _ingest(r: _Run) -> None:
    """Adds ing (the input frame, its columns and hash) and its warnings."""
    if isinstance(r.data, pd.DataFrame):
        r.ing = ingest.read_frame(r.data, r.cfg.input)
    else:
        r.ing = ingest.read_input(r.data, r.cfg.input)
    r.warnings += r.ing.warnings


def _clean(r: _Run) -> None:
    """Adds df (normalised, PII-masked text and a status per row, S.ID) and the PII counts."""
    df, r.pii = clean.run(r.ing.frame, r.ing.text_column, r.cfg.clean, r.cfg.privacy)
    df[S.ID] = df[r.ing.id_column].astype(str) if r.ing.id_column else (df[S.ROW] + 1).astype(str)
    r.df = df


def _codes(r: _Run) -> None:
    """Adds the analyst code rules (matched by the per-text stages); a bad rules file stops the run here, before
    anything is analysed."""
    r.rules = codes.load(r.cfg.resolve(r.cfg.codes.rules) if r.cfg.codes.rules else None)


def _open_history(r: _Run) -> None:
    """Adds period (given, or inferred), the history store and the state this period starts from; refuses a
    re-run that would renumber topics later periods use. Before embedding, so a refused run costs nothing."""
    cfg = r.cfg
    r.period = choose_for_run(r.period, Path(r.input_name), r.ing, cfg.history.period, r.warnings)
    if not cfg.history.enabled:
        return
    if not r.period:
        r.warnings.append(RunWarning("W301", "no period for this run (none given, none in the file name or a date "
                                             "column); history and period-over-period changes are skipped. Pass "
                                             "--period with the week (YYYY-Www), month (YYYY-MM) or quarter (YYYY-Qn) "
                                             "the comments cover."))
        return
    period = r.period
    store = HistoryStore(Path(cfg.history.path))  # relative to the current folder
    store.require_kind(period)
    r.embedder_id = embedder_id(create_embedder(cfg.embed))  # named without loading its model
    try:
        store.require_embedder(r.embedder_id, period)
    except InputError:
        store.close()
        raise
    later = store.later_periods(period)
    if later and period in store.periods():
        store.close()
        raise InputError(f"period {period} is already stored and later periods {later} build on it; re-running it "
                         "would renumber topics they use.",
                         fix=f"run `vocnlp history drop --from {period}` and re-run the weeks in order, or pass "
                             "--no-history.")
    if later:
        r.warnings.append(RunWarning("W302", f"later periods {later} are already stored; they were compared with the "
                                             f"earlier state of {period}. Re-run them to refresh."))
    r.store = store
    prev_emb, prev_weights, prev_tokens = store.previous_embeddings(period) or (None, None, None)
    periods = store.periods()
    r.history_state = HistoryState(registry=store.registry(period), next_id=store.next_topic_id(period),
                                   reference_mean=store.reference_mean() if periods and periods[0] < period else None,
                                   previous=prev_emb, previous_weights=prev_weights, previous_tokens=prev_tokens)


def _texts(r: _Run) -> None:
    """Runs the per-text stages (tokenize, segment, codes, embed, classify, sentiment: vocnlp.engines) once per
    distinct normalised text on the configured engine. Adds their results per distinct text (text_res) and each
    row's index into them (text_idx: a row's columns are joined only when a stage reads them, _Run.rows), X_text
    and text_of (one embedding per distinct text, and each analysed row's text), the label sets, the models'
    manifest entries and the embedding counts. The segments table (one set of segments per analysed row) is built
    with the items (_items_table)."""
    ok = r.ok_mask
    text_idx = np.full(len(r.df), -1, dtype=np.int32 if len(r.df) < 2**31 else np.int64)
    text_idx[ok], distinct = pd.factorize(r.df.loc[ok, S.TEXT_NORM].to_numpy())  # first-appearance order
    texts = list(distinct)
    r.models = TextModels(r.cfg, embedder_factory=create_embedder, rules=r.rules, load_rules=False)
    r.embedder, r.cache = r.models.embedder, r.models.cache
    r.cx_set, r.st_set = r.models.cx_set, r.models.st_set
    r.model_info.update(r.models.info)
    if r.models.cls_embedder is not None:  # classify.embed: the CX and stage models read embeddings of their own
        r.model_info["classifier_embedder"] = {"backend": r.models.cls_embedder.name,
                                               "model_id": r.models.cls_embedder.model_id}
    engine = create_engine(r.cfg, r.models)
    res = engine.map(texts, lambda d, t: r.report("texts", d, t))
    r.text_res, r.text_idx = res, text_idx
    r.X_text, r.text_of = res.X, text_idx[ok].astype(np.int64)
    r.text_counts = np.bincount(r.text_of, minlength=len(texts))
    r.units = list(res.units) if len(res.units) == len(texts) else None
    r.embed_stats = {"texts": int(ok.sum()), "unique": len(texts), **res.embedding}
    r.text_seconds = res.seconds
    r.engine_info = {**engine.describe(), "distinct_texts": len(texts), "batches": res.batches,
                     "stage_seconds": {k: round(v, 4) for k, v in res.seconds.items()}}


def _topics(r: _Run) -> None:
    """Adds tr (topics: fitted, tracked against the history, or reused from the topic cache when nothing they
    depend on changed), S.TOPIC_ID / S.TOPIC_LABEL on df, and each comment's closeness to its topic.

    Fitted once per distinct text, each weighted by its comments (topics.fit_topics / tracking.track_topics count
    comments; the clustering and the topic words see each distinct text once), then joined back to the rows: the
    same text always gets the same topic, and the memory follows the distinct texts, not the rows. Without
    repeated texts this is the per-row fit, bit for bit."""
    ok_mask, cfg = r.ok_mask, r.cfg
    first = np.flatnonzero(ok_mask)[r.first_rows()]  # each distinct text's first row
    per_text = r.rows([S.TOKENS, S.VECTOR_TOKENS, S.PREDICATES, S.PHRASES], at=first)
    ok_tokens = per_text[S.TOKENS].tolist()
    vector_tokens = per_text[S.VECTOR_TOKENS].tolist()
    nouns = r.nouns = nouns_among(ok_tokens, per_text[S.PREDICATES])
    phrases = tokenize.phrases_of(per_text[S.PHRASES])
    del per_text
    w = r.text_weights
    cache = TopicCache(cfg.embed.cache_dir) if cfg.embed.cache_dir else None
    key = topic_key(r.X_text, ok_tokens, nouns, cfg.topics, r.history_state, phrases, weights=w) if cache else ""
    tr = cache.get(key) if cache else None
    r.topics_cached = tr is not None
    if tr is None:
        s = r.history_state
        if s is not None:
            tr = tracking.track_topics(r.X_text, ok_tokens, cfg.topics, s.registry, s.next_id, s.reference_mean,
                                       nouns, previous=s.previous, vector_tokens=vector_tokens, phrases=phrases,
                                       previous_weights=s.previous_weights, previous_tokens=s.previous_tokens,
                                       weights=w)
        else:
            tr = topics.fit_topics(r.X_text, ok_tokens, cfg.topics, nouns, vector_tokens, phrases=phrases, weights=w)
        if cache:
            cache.put(key, tr)
    # tr.table holds how much of each topic its subject noun covers (coherence, subject: topics.csv and the manifest)
    # and, tracked, this period's labels (a known topic's noun with 「など」 when it covers < 1/3: tracking.week_labels)
    r.topic_of_text = tr.assignments
    r.closeness = topics.closeness(r.X_text, tr)  # per distinct text
    r.tr = tr = replace(tr, assignments=tr.assignments[r.text_of])  # per analysed row from here on
    r.warnings += tr.warnings
    topic_ids = np.full(len(r.df), -1, dtype=int)
    topic_ids[ok_mask] = tr.assignments
    labels_by_id = dict(zip(tr.table[S.TOPIC_ID], tr.table[S.TOPIC_LABEL]))
    r.df[S.TOPIC_ID] = topic_ids
    r.df[S.TOPIC_LABEL] = [labels_by_id.get(t, "") if ok else "" for t, ok in zip(topic_ids, ok_mask)]


def _text_words(r: _Run) -> tuple[list[list[str]], list[list]]:
    """Per distinct text (text order, as r.topic_of_text): its content tokens and its key-phrase candidates, read
    from each text's first row (the themes' words and the quotes' name check count texts, not rows)."""
    per_text = r.rows([S.TOKENS, S.PHRASES], at=np.flatnonzero(r.ok_mask)[r.first_rows()])
    return per_text[S.TOKENS].tolist(), tokenize.phrases_of(per_text[S.PHRASES])


def _themes(r: _Run) -> None:
    """Adds themes: each topic's theme, fitted on the topic centroids, or carried over from the history (a known
    topic keeps its theme, a new one joins the nearest)."""
    cfg, tr = r.cfg.themes, r.tr
    if not cfg.enabled:
        return
    # counted once per distinct text (first-appearance order), each for its comments: the words, phrases and shares
    # of the comments one by one, at the cost of the distinct texts
    tokens, phrases = _text_words(r)
    nouns = r.nouns  # theme labels prefer nouns
    topic_of, counts = r.topic_of_text, r.text_counts

    def words(parent: dict[int, int]) -> dict[int, list[str]]:
        return themes.theme_words(tokens, topic_of, parent, themes.LABEL_CANDIDATES, counts)

    def central(parent: dict[int, int]) -> dict[int, tuple[list[str], list[str]]]:  # theme labels: central phrases, nouns
        return themes.theme_central(tokens, phrases, topic_of, parent, words(parent), nouns, counts)

    if isinstance(tr, tracking.TrackResult) and r.store is not None:
        active = {t: c for t, (c, _) in tr.state.items() if t not in tr.merged}
        reg = r.history_state.registry  # known topics without comments this period still name their theme's words
        absent = reg[reg[S.TOPIC_ID].isin(set(active) - set(tr.table[S.TOPIC_ID]))] if len(reg) else reg
        table = pd.concat([tr.table, absent[[S.TOPIC_ID, S.TOPIC_LABEL, "keywords"]].assign(size=0)], ignore_index=True) \
            if len(absent) else tr.table
        r.themes = themes.track_themes(active, table, cfg, r.store.theme_links(r.period),
                                       r.store.theme_registry(r.period), r.store.next_theme_id(r.period), words,
                                       nouns, central)
    else:
        r.themes = themes.fit_themes(themes.topic_centroids(r.X_text, r.topic_of_text, None, r.text_weights),
                                     tr.table, cfg, words=words, nouns=nouns, phrases=central)


def _segment_topics(r: _Run) -> None:
    """Adds seg (every topic each distinct text mentions, from its long comments' segments, and the mentions table
    the topic statistics count, one row per distinct text and topic, weighted by its comments: _topic_rows),
    S.TOPIC_IDS on df and, through seg_per_text, ``topic_id`` on the segments table. Computed once per distinct
    text (its first comment); topic_ids and the segments' topics are gathered to every comment of that text."""
    ok_mask = r.ok_mask
    at = np.flatnonzero(ok_mask)  # the analysed rows; their first rows per text are taken without copying the rest
    cols = [S.ID, S.TEXT, S.TEXT_NORM, S.SEGMENTS, S.TOPIC_ID, S.SENTIMENT_SCORE, S.SENTIMENT_LABEL,
            S.SENTIMENT_EVIDENCE, S.ROW]
    ok = r.rows(cols, at=at[r.first_rows()])
    ok = ok.assign(_seg_scores=_segment_scores(r.text_res))
    per_text = segment_topics.assign_segments(ok, r.X_text, r.cfg.segment_topics, r.cfg.sentiment.neutral_band,
                                              lambda texts: r.embed(texts, "segment_topics")[0],
                                              getattr(r.tr, "reference_mean", None), r.tr.centroids, r.units,
                                              r.text_weights)
    if len(r.text_of) != len(per_text.topic_ids):  # the counts are of comments: the mentions their texts stand for
        m = per_text.mentions["_item"].to_numpy(dtype=int)
        per_text = replace(per_text, params={**per_text.params, "distinct_texts": len(per_text.topic_ids),
                                             "mentions": int(r.text_counts[m].sum())})
    r.seg = per_text  # per distinct text (its mentions' _item): the statistics weigh each by its comments
    r.df[S.TOPIC_IDS] = segment_topics.topic_ids_for_rows(per_text, r.text_of, ok_mask).set_axis(r.df.index)
    r.seg_per_text = per_text  # the segments' topic ids are gathered when the segments table is built


def _segment_scores(res: TextResults) -> list[list[float]]:
    """Per distinct text, the sentiment score of each of its segments, in order (what the segments table gives
    every row of that text, as floats)."""
    col = SEG_PREFIX + S.SENTIMENT_SCORE
    if col not in res.per_text.columns:
        return [[] for _ in range(len(res.per_text))]
    return [[float(v) for v in lst] for lst in res.per_text[col]]


@dataclass
class _TopicRows:
    """What the topic statistics count, once per distinct text: the segment-level mentions (one row per distinct
    text and topic it mentions) when computed, else the items (one row per distinct text); ``weights``: the
    comments each row stands for; ``closeness`` per row; ``n_items``: the analysed comments when the rows are
    mentions. ``expand(positions)`` gives the comments of those rows in comment order (position, id, text: a
    primary mention quotes its comment, a secondary one the part about its topic), for the quotes and
    representative ids, which name comments."""

    frame: pd.DataFrame
    closeness: np.ndarray
    n_items: int | None
    weights: np.ndarray
    text: np.ndarray  # per row, its distinct text

    def expand_with(self, r: _Run):
        order = np.argsort(r.text_of, kind="stable")  # the analysed rows grouped by text, in row order within
        bounds = np.concatenate([[0], np.cumsum(r.text_counts)])
        at = np.flatnonzero(r.ok_mask)
        ids, texts = r.df[S.ID].to_numpy(), r.df[S.TEXT].to_numpy()
        primary = self.frame["_primary"].to_numpy(dtype=bool) if "_primary" in self.frame.columns else \
            np.ones(len(self.frame), dtype=bool)
        quotes = self.frame[S.TEXT].to_numpy()

        def expand(pos: np.ndarray) -> pd.DataFrame:
            pos = np.asarray(pos, dtype=np.int64)
            t = self.text[pos]
            lens = bounds[t + 1] - bounds[t]
            rows = at[np.concatenate([order[bounds[j]:bounds[j + 1]] for j in t])] if len(t) else at[:0]
            of = np.repeat(pos, lens)
            o = np.argsort(rows, kind="stable")
            rows, of = rows[o], of[o]
            return pd.DataFrame({"_pos": of, S.ID: ids[rows],
                                 S.TEXT: np.where(primary[of], texts[rows], quotes[of])})
        return expand


def _topic_rows(r: _Run) -> _TopicRows:
    """What topic statistics count (see _TopicRows): the segment-level mentions when computed, else the items."""
    if r.seg is None:
        frame, w = r.per_text_rows(r.all_columns())
        return _TopicRows(frame, r.closeness, None, w, np.arange(len(frame)))
    m = r.seg.mentions
    text = m["_item"].to_numpy(dtype=np.int64)
    return _TopicRows(m, m["_close"].to_numpy(), int(r.ok_mask.sum()), r.text_counts[text], text)


def _says_name(r: _Run, rows: _TopicRows) -> np.ndarray:
    """Per row the topic statistics count (rows.frame: distinct texts, or their mentions), aligned like their
    closeness: whether its comment says its topic's name (topics.label_name: the subject noun or key phrase the
    label names; fitted and tracked topics alike). Checked once per distinct text and topic."""
    tokens, phrases = _text_words(r)
    name = {int(t): topics.label_name(lbl) for t, lbl in zip(r.tr.table[S.TOPIC_ID], r.tr.table[S.TOPIC_LABEL])}
    m = rows.frame
    ok = (m[S.STATUS] == S.STATUS_OK).to_numpy() if S.STATUS in m.columns else np.ones(len(m), dtype=bool)
    text, topic = rows.text[ok], m[S.TOPIC_ID].to_numpy(dtype=int)[ok]
    seen: dict[tuple[int, int], bool] = {}
    out = np.zeros(len(text), dtype=bool)
    for k, (i, t) in enumerate(zip(text.tolist(), topic.tolist())):
        if (i, t) not in seen:
            seen[(i, t)] = topics.says_name(name.get(t, ""), tokens[i], phrases[i])
        out[k] = seen[(i, t)]
    return out


def _issues(r: _Run) -> None:
    """Adds the topic table, the ranked issues and the journey x dimension map."""
    rows = r.topic_rows = _topic_rows(r)
    says, expand = _says_name(r, rows), rows.expand_with(r)
    r.topic_tab = insights.topic_table(rows.frame, r.tr.table, rows.closeness, n_items=rows.n_items, says_name=says,
                                       weights=rows.weights, expand=expand)
    r.issues = insights.rank_issues(rows.frame, r.topic_tab, rows.closeness, r.cfg.issues, says_name=says,
                                    weights=rows.weights, expand=expand)
    per_text, w = r.per_text_rows([S.STATUS, S.JOURNEY_STAGE, S.CX_DIMENSIONS])
    r.heat = insights.stage_by_dimension(per_text, r.cx_set.names, r.st_set.names, weights=w)
    if r.rules is not None:  # last period's comments under the same rules give each code its trend
        rows = r.rows([S.STATUS, S.CODES, S.SENTIMENT_LABEL, S.SENTIMENT_SCORE, S.ID])
        r.code_tab = insights.code_table(rows, r.rules, codes.previous(r.rules, r.store, r.period, r.cfg.segment),
                                         r.cfg.history.alpha)


def _drivers(r: _Run) -> None:
    """Adds each topic's score impact to the topic and issue tables, when the input has a score column."""
    score_col = choose_score_column(r.ing.frame, r.cfg.drivers.score_column, {r.ing.text_column})
    if score_col:
        impact, r.driver_info = trends.drivers(r.df, score_col, r.cfg.drivers)
        r.topic_tab, r.issues = insights.with_drivers(r.topic_tab, r.issues, impact)


def _theme_tables(r: _Run) -> None:
    """Adds each topic's theme to the topic and issue tables (parent_id, theme_label) and the theme table."""
    if r.themes is not None:
        r.topic_tab, r.issues = themes.with_parents(r.topic_tab, r.issues, r.themes)
        r.theme_tab = themes.theme_table(r.topic_tab, r.themes)


def _compare_with_history(r: _Run) -> None:
    """Compares with the previous period (lineage, changes, emerging issues first), then replaces this period in
    the store. Adds the history summary and the per-period tables for the report."""
    r.history_info = {"period": r.period, "stored": False}
    if r.store is None:
        return
    store, period, cfg, tr = r.store, r.period, r.cfg, r.tr
    s = r.history_state
    n_prev = 0 if s.previous is None else len(s.previous) if s.previous_weights is None else int(s.previous_weights.sum())
    prev_period = store.previous_period(period)
    hist = store.topic_history(before=period)
    rows = r.topic_rows
    changes = trends.topic_changes(rows.frame, tr, hist[hist.period == prev_period] if prev_period else None, n_prev,
                                   cfg.history, cfg.issues, n_items=rows.n_items, weights=rows.weights)
    r.topic_tab, r.issues = insights.with_changes(r.topic_tab, r.issues, changes)
    topic_stats = _period_topic_stats(rows.frame, changes, rows.weights)
    theme_rows = None if r.themes is None else {"new": r.themes.new_themes, "links": r.themes.new_links,
                                                "stats": themes.period_theme_stats(topic_stats, r.themes)}
    store.replace_period(period, run={"input_name": r.input_name, "input_sha256": r.ing.sha256, "n_items": len(r.df),
                                      "n_analysed": int(r.ok_mask.sum()), "config_hash": cfg.hash(),
                                      "output_dir": str(r.output_dir or "")},
                         items=_period_items(r.df, r.ok_mask, r.X_text, r.text_of,
                                             lambda columns, at: r.rows(columns, at=at), r.all_columns()),
                         new_topics=tr.new_topics,
                         state=tr.state,
                         reference_mean=tr.reference_mean, topic_stats=topic_stats, embedder=r.embedder_id,
                         dim_stats=_period_dim_stats(*r.per_text_rows([S.STATUS, S.JOURNEY_STAGE, S.CX_DIMENSIONS,
                                                                      S.SENTIMENT_SCORE, S.SENTIMENT_LABEL])),
                         merged=tr.merged, themes=theme_rows)
    r.trend_tables = {"topics": store.topic_history(), "dims": store.dim_history(), "periods": store.periods(),
                      "themes": store.theme_history()}
    if prev_period and r.theme_tab is not None:
        th = r.trend_tables["themes"]
        r.theme_tab = themes.with_changes(r.theme_tab, th[th.period == prev_period])
    r.history_info = {
        "period": period, "stored": True, "path": str(store.folder), "previous_period": prev_period,
        "alpha": cfg.history.alpha,
        "periods": r.trend_tables["periods"], "new_topics": sorted(set(tr.new_topics[S.TOPIC_ID].astype(int))),
        "emerging_topics": changes.loc[changes.emerging, S.TOPIC_ID].astype(int).tolist() if len(changes) else [],
        "assigned_to_known_topics": tr.params.get("assigned_to_known_topics", 0) + tr.params.get("joined_known_after_clustering", 0)}


def _items_table(r: _Run) -> None:
    """Adds row_tables: what items.csv and segments.csv are built from, chunk by chunk or whole (the row frame's
    input and row-level columns, each row's index into the per-text table, the texts' segment topics). Neither
    table is built here: Analysis builds one when it is read, and save() writes a large run's chunk by chunk.
    The row-level state only the analysis needed is dropped first: the mentions (the topic statistics are
    computed) and the row frame's internal columns."""
    if r.seg is not None:
        r.seg = replace(r.seg, mentions=r.seg.mentions.iloc[:0])
    r.topic_rows = None
    keep = {*r.ing.frame.columns, S.ID, S.TEXT, S.STATUS, S.TOPIC_ID, S.TOPIC_LABEL, S.TOPIC_IDS, S.ROW, S.IS_DUPLICATE}
    r.df = r.df[[c for c in r.df.columns if c in keep]]
    r.row_tables = RowTables(r.df, r.ing, r.cx_set.names, r.text_res, r.text_idx, r.seg_per_text, r.text_of)


Step = Callable[[_Run], None]
STAGES: list[tuple[str, Step]] = [
    ("ingest", _ingest),
    ("clean", _clean),
    ("codes", _codes),
    ("history", _open_history),
    ("texts", _texts),  # timed per stage in the manifest: see _split_text_time
    ("topics", _topics),
    ("themes", _themes),
    ("segment_topics", _segment_topics),
    ("insights", _issues),
    ("insights", _drivers),
    ("insights", _theme_tables),
    ("insights", _compare_with_history),
    ("insights", _items_table),
]


# -- the public calls ----------------------------------------------------------------------------------


def analyze(data: pd.DataFrame | Path | str, config: RunConfig | Path | str | dict | None = None,
            period: str | None = None, *, progress: Progress | None = None) -> Analysis:
    """Analyse one batch of comments and return the tables, the manifest and the report (see :class:`Analysis`).

    ``data``: a DataFrame or a path to a CSV / TSV / XLSX / JSONL / Parquet export. ``config``: a
    :class:`RunConfig`, a YAML path, a dict shaped like the YAML (``{"history": {"enabled": False}}``),
    or None for configs/default.yaml when present, else the built-in defaults. ``period`` (2026-W47):
    the run is stored in the history and compared with the previous period, as ``vocnlp run`` does;
    by default a YYYY-Www in the file name, else the ISO week of a date column.
    """
    return _analyze(data, _config(config), period, progress)


def run_pipeline(input_path: Path | str, output_dir: Path | str, cfg: RunConfig, progress: Progress | None = None,
                 period: str | None = None) -> Analysis:
    """``analyze`` the file, then ``save`` the run folder: what ``vocnlp run`` does."""
    result = _analyze(Path(input_path), cfg, period, progress, output_dir=Path(output_dir))
    if progress:
        progress("outputs", 0, 0)
    result.save(output_dir)
    return result


def _config(config: RunConfig | Path | str | dict | None) -> RunConfig:
    if isinstance(config, RunConfig):
        return config
    if isinstance(config, dict):
        return config_from_mapping(config)
    return load_config(config)


def _analyze(data: pd.DataFrame | Path | str, cfg: RunConfig, period: str | None, progress: Progress | None,
             output_dir: Path | None = None) -> Analysis:
    if not isinstance(data, (pd.DataFrame, Path, str)):
        raise InputError(f"analyze() was given a {type(data).__name__}.",
                         fix="pass a pandas DataFrame or the path of a CSV / TSV / XLSX / JSONL / Parquet file.")
    period = parse_period(period) if period else None
    run = _Run(data=data if isinstance(data, pd.DataFrame) else Path(data), cfg=cfg, period=period, progress=progress,
               output_dir=output_dir)
    timer = _Timer()
    started = datetime.now(timezone.utc)
    try:
        with _one_blas_thread():
            for name, step in STAGES:
                if name not in timer.timings:
                    run.report(name)
                with timer.stage(name):
                    step(run)
                    _release_memory()
    finally:
        run.close()
    manifest = _manifest(run, started)
    manifest["timings_s"] = _split_text_time(timer.timings, run.text_seconds)
    return Analysis(items=None, segments=None, row_tables=run.row_tables, topics=run.topic_tab, issues=run.issues,
                    manifest=manifest, config=cfg, heat=run.heat, trend_tables=run.trend_tables, codes=run.code_tab,
                    themes=run.theme_tab)


def _release_memory() -> None:
    """Hands the memory freed by a stage back to the system: Arrow's allocator (mimalloc) keeps what it freed for
    reuse, and glibc's malloc keeps freed heap above its top; both show as resident memory the run no longer
    uses (at 1,000,000 rows, reading the input alone left 320 MB of it). Cheap: milliseconds per stage."""
    import pyarrow as pa

    pa.default_memory_pool().release_unused()
    if _LIBC[0] is None:
        try:
            import ctypes

            _LIBC[0] = ctypes.CDLL("libc.so.6").malloc_trim
        except (OSError, AttributeError):  # not glibc (macOS, musl, Windows): nothing to trim
            _LIBC[0] = False
    if _LIBC[0]:
        _LIBC[0](0)


_LIBC: list = [None]  # glibc's malloc_trim, once looked up (False where there is none)


@contextmanager
def _one_blas_thread():
    """BLAS (numpy, scipy, scikit-learn) single-threaded for the run: its matrices are small (PCA of 1,320 x 384),
    and on a busy or small machine OpenBLAS's threads spin: that PCA took 7.3 CPU-seconds with its default threads
    at a load of 12 on 2 cores, 0.05 with one. The embedder keeps its own (OpenMP) threads."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1, user_api="blas"):
        yield


def _split_text_time(timings: dict[str, float], seconds: dict[str, float]) -> dict[str, float]:
    """The per-text map's wall time split over its stages (tokenize ... sentiment) in proportion to the time the
    batches spent in each (summed over workers for the ray engine), so the timings still add up to the run's."""
    out: dict[str, float] = {}
    total = sum(seconds.values())
    for name, t in timings.items():
        if name != "texts":
            out[name] = round(out.get(name, 0.0) + t, 4)
            continue
        for stage in (*TEXT_STAGES, *(k for k in seconds if k not in TEXT_STAGES)):  # classify_embed: classify.embed
            share = seconds.get(stage, 0.0) / total if total else 1.0 / len(TEXT_STAGES)
            out[stage] = round(out.get(stage, 0.0) + t * share, 4)
    return out


def _manifest(r: _Run, started: datetime) -> dict:
    """The run's record: input, resolved config, models, counts, warnings (timings are added by the caller)."""
    cfg, ing, df, tr = r.cfg, r.ing, r.df, r.tr
    statuses = Counter(df[S.STATUS])
    counts = {"read": len(df), "analysed": int(statuses.get(S.STATUS_OK, 0)),
              "skipped": {k: int(v) for k, v in sorted(statuses.items()) if k != S.STATUS_OK},
              "skipped_total": int(len(df) - statuses.get(S.STATUS_OK, 0)),
              "segments": r.row_tables.n_segments, "pii_masked": dict(r.pii), "duplicates": int(df[S.IS_DUPLICATE].sum())}
    return {
        "vocnlp_version": __version__,
        "versions": runtime_versions(),  # libraries and the UniDic dictionary the tokens come from
        "created_utc": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "input": {"path": str(r.data) if isinstance(r.data, Path) else None, "name": r.input_name, "sha256": ing.sha256,
                  "format": ing.file_format, "encoding": ing.encoding, "sheet": ing.sheet, "text_column": ing.text_column,
                  "text_column_guessed": ing.text_column != cfg.input.text_column, "id_column": ing.id_column,
                  **ing.describe()},
        "config": cfg.as_dict(),
        "config_hash": cfg.hash(),
        "models": {"embedder": {"backend": r.embedder.name, "model_id": r.embedder.model_id},
                   **{k: r.model_info[k] for k in ("classifier_embedder",) if k in r.model_info},
                   "cx_dimension": r.model_info["cx_dimension"], "journey_stage": r.model_info["journey_stage"],
                   "sentiment": r.model_info["sentiment"],
                   "topics": tr.params, "segment_topics": r.seg.params if r.seg else {}},
        "counts": counts,
        "embedding": r.embed_stats,
        "topics": {"n_topics": int((tr.table[S.TOPIC_ID] >= 0).sum()) if len(tr.table) else 0,
                   "outlier_share": round(float((tr.assignments == -1).mean()), 4) if len(tr.assignments) else 0.0,
                   "from_cache": r.topics_cached, **_coherence_info(tr)},
        "themes": None if r.themes is None else {**r.themes.params, "n_themes": len(r.theme_tab)},
        "history": r.history_info,
        "drivers": r.driver_info,
        "engine": r.engine_info,
        "warnings": [w.as_dict() for w in r.warnings],
        "timings_s": {},
    }


def _coherence_info(tr: topics.TopicResult) -> dict:
    """The manifest's view of topic coherence: each topic's coherence, the share of analysed comments in coherent
    topics (not the catch-all), and the catch-all's id and share."""
    t = tr.table[tr.table[S.TOPIC_ID] >= 0] if "coherence" in tr.table.columns else tr.table.iloc[:0]
    if not len(t) or not len(tr.assignments):
        return {}
    catch = [int(x) for x in t.loc[t[S.TOPIC_LABEL] == topics.CATCH_ALL, S.TOPIC_ID]]
    good = [int(x) for x, c in zip(t[S.TOPIC_ID], t["coherence"]) if c >= topics.COHERENT_SHARE and int(x) not in catch]
    return {"coherence": {str(int(x)): float(c) for x, c in zip(t[S.TOPIC_ID], t["coherence"])},
            "coherent_threshold": round(topics.COHERENT_SHARE, 4),
            "coherent_share": round(float(np.isin(tr.assignments, good).mean()), 4),
            "catch_all": catch[0] if catch else None,
            "catch_all_share": round(float(np.isin(tr.assignments, catch).mean()), 4)}


def _items_frame(df: pd.DataFrame, ing: ingest.IngestResult, cx_labels: list[str],
                 column: Callable[[str], object] | None = None) -> pd.DataFrame:
    """The items table in the contract's column order, input columns passed through after it. ``column(name)``
    gives the values of a column df does not hold (the per-text ones, joined to the rows when asked)."""
    def col(c: str):
        return df[c].values if column is None or c in df.columns else column(c)

    ids = df[ing.id_column].astype(str) if ing.id_column else (df[S.ROW] + 1).astype(str)
    items = pd.DataFrame({S.ID: ids.values, S.TEXT: df[S.TEXT].values, S.STATUS: df[S.STATUS].values})
    items[S.TOPIC_ID] = df[S.TOPIC_ID].astype(int).values
    items[S.TOPIC_LABEL] = df[S.TOPIC_LABEL].values
    items[S.CX_DIMENSIONS] = col(S.CX_DIMENSIONS)
    for lab in cx_labels:
        items[S.cx_column(lab)] = col(S.cx_column(lab))
    for c in AFTER_CX:
        items[c] = (df[S.ROW] + 1).values if c == "row" else col(c)
    items[S.DUPLICATE] = df[S.IS_DUPLICATE].values
    if S.TOPIC_IDS in df.columns:  # after the contract's columns, whose order is pinned
        items[S.TOPIC_IDS] = df[S.TOPIC_IDS].values
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


class RowTables:
    """items.csv and segments.csv for any range of rows, built from what a run keeps per row (the row frame: the
    input's columns and the row-level ones, and each row's index into the per-text table) and per distinct text
    (the per-text stages' results, each text's segment topics). Built chunk by chunk, neither table is ever held
    whole: a chunk's values and dtypes are those of the same rows of the whole table, so the files are the same
    bytes however they are cut (items.parquet: the same table, in row groups of one chunk)."""

    def __init__(self, df: pd.DataFrame, ing: ingest.IngestResult, cx_labels: list[str], text_res: TextResults,
                 text_idx: np.ndarray, seg_per_text: segment_topics.SegmentTopicResult | None,
                 text_of: np.ndarray, chunk_rows: int | None = None) -> None:
        self.df, self.ing, self.cx_labels, self.text_res = df, ing, list(cx_labels), text_res
        self.text_idx, self.seg_per_text, self.text_of = text_idx, seg_per_text, text_of
        self.chunk_rows = chunk_rows or outputs.CHUNK_ROWS
        self.n_rows = len(df)
        ok = text_idx >= 0
        self._ok_before = np.concatenate([[0], np.cumsum(ok)]).astype(np.int64)  # analysed rows before each row
        self._flat: FlatSegments | None = None
        seg_counts = self.flat.counts if len(text_res.per_text) else np.zeros(0, dtype=int)
        self.n_segments = int(seg_counts[text_idx[ok]].sum()) if len(seg_counts) else 0
        self._seg_topics = False  # the segments table has each segment's topic (segment topics ran, and agree)
        if seg_per_text is not None:
            n_topics = np.array([len(t) for t in seg_per_text.segment_topics], dtype=np.int64)
            self._seg_topics = int(n_topics[text_of].sum()) == self.n_segments if len(n_topics) else self.n_segments == 0

    @property
    def flat(self) -> FlatSegments:
        if self._flat is None:
            self._flat = flat_segments(self.text_res)
        return self._flat

    def _rows(self, columns: list[str], at: np.ndarray) -> pd.DataFrame:
        return _join_rows(self.df, self.text_res.per_text, self.text_idx, columns, at)

    def items(self, start: int = 0, stop: int | None = None) -> pd.DataFrame:
        """items.csv's rows start..stop (all by default)."""
        return self._items_at(np.arange(start, self.n_rows if stop is None else stop))

    def _items_at(self, at: np.ndarray) -> pd.DataFrame:
        return _items_frame(self.df.iloc[at], self.ing, self.cx_labels, column=lambda c: self._rows([c], at)[c].values)

    def segments(self, start: int = 0, stop: int | None = None, at: np.ndarray | None = None) -> pd.DataFrame:
        """segments.csv's segments of rows start..stop (all by default), or of the rows at positions ``at``."""
        at = np.arange(start, self.n_rows if stop is None else stop) if at is None else np.asarray(at, dtype=np.int64)
        seg = segments_for_rows(self.text_res, self.text_idx[at], self.df[S.ID].to_numpy()[at],
                                self.df[S.ROW].to_numpy()[at], flat=self.flat if len(self.text_res.per_text) else None)
        if self._seg_topics:
            ok_at = at[self.text_idx[at] >= 0]
            topics_ = segment_topics.segment_topics_for_rows(self.seg_per_text, self.text_of[self._ok_before[ok_at]])
            seg.insert(3, S.TOPIC_ID, topics_.astype(int))
        return seg

    def _bounds(self) -> list[tuple[int, int]]:
        return [(a, min(a + self.chunk_rows, self.n_rows)) for a in range(0, max(self.n_rows, 1), self.chunk_rows)]

    def item_chunks(self):
        """items.csv in chunks of chunk_rows rows (one, possibly empty, for an empty run)."""
        for a, b in self._bounds():
            yield self.items(a, b)

    def segment_chunks(self):
        """segments.csv: the segments of chunk_rows rows at a time."""
        for a, b in self._bounds():
            yield self.segments(a, b)

    def items_schema(self):
        """items.parquet's Arrow schema, as pandas would infer it from the whole table: from the first chunk's
        rows plus, for a column that is empty (null) there, the first row that has a value in it."""
        import pyarrow as pa

        first = np.arange(min(self.n_rows, self.chunk_rows))
        sample = self._items_at(first)
        schema = pa.Schema.from_pandas(sample, preserve_index=False)
        nulls = [f.name for f in schema if pa.types.is_null(f.type)]
        if not nulls:
            return schema
        more: list[int] = []
        per_text = self.text_res.per_text
        for c in nulls:
            source = c if c in self.df.columns else c.removeprefix("input_")  # an input column renamed in items
            if source in self.df.columns:
                hit = np.flatnonzero(self.df[source].notna().to_numpy())
            elif c in per_text.columns:
                texts = np.flatnonzero(per_text[c].notna().to_numpy())
                hit = np.flatnonzero(np.isin(self.text_idx, texts[:1])) if len(texts) else texts
            else:
                hit = np.zeros(0, dtype=np.int64)
            more += hit[:1].tolist()
        if not more:
            return schema
        return pa.Schema.from_pandas(self._items_at(np.union1d(first, more).astype(np.int64)), preserve_index=False)

    def _first_rows(self) -> np.ndarray:
        """Per distinct analysed text, the position of its first row (in text order)."""
        return np.flatnonzero(self.text_idx >= 0)[np.unique(self.text_of, return_index=True)[1]]

    def report_items(self) -> pd.DataFrame:
        """What the report reads of the analysed items: one row per distinct text (its first comment: the columns
        report.render.REPORT_COLUMNS, topic_ids and status) with render.WEIGHT, the comments it stands for, indexed
        by row as in the items table. The report counts comments and quotes distinct texts, at the cost of the
        distinct texts whatever the number of rows."""
        at = self._first_rows()
        cols = [S.STATUS, *REPORT_COLUMNS, *([S.TOPIC_IDS] if S.TOPIC_IDS in self.df.columns else [])]
        items = self._rows(cols, at).set_axis(pd.RangeIndex(self.n_rows)[at] if len(at) else at)
        items[WEIGHT] = np.bincount(self.text_of, minlength=len(at)) if len(at) else np.zeros(0, dtype=np.int64)
        return items

    def report_segments(self) -> pd.DataFrame:
        """The segments the report quotes: those of every comment whose id is the id of a text's first comment that
        mentions several topics (what the report reads of the whole segments table)."""
        if S.TOPIC_IDS not in self.df.columns:
            return self.segments(at=np.zeros(0, dtype=np.int64))
        first = self._first_rows()
        multi = first[self.df[S.TOPIC_IDS].iloc[first].astype(str).str.contains("|", regex=False).to_numpy()]
        ids = self.df[S.ID]
        return self.segments(at=np.flatnonzero(ids.isin(set(ids.iloc[multi])).to_numpy()))


# -- what the history stores for a period ------------------------------------------------------------


PERIOD_ITEM_COLUMNS = [S.ID, S.TEXT, S.TOPIC_ID, S.SENTIMENT_SCORE, S.SENTIMENT_LABEL, S.JOURNEY_STAGE, S.CX_DIMENSIONS]


RowsAt = Callable[[list[str], np.ndarray], pd.DataFrame]  # (columns, row positions) -> those rows' columns


def _rows_at(df: pd.DataFrame) -> RowsAt:
    return lambda columns, at: df.iloc[at, [df.columns.get_loc(c) for c in columns]]


def _period_items(df: pd.DataFrame, ok_mask: np.ndarray, X_text: np.ndarray, text_of: np.ndarray,
                  rows_at: RowsAt | None = None, columns: list[str] | None = None) -> pd.DataFrame:
    """The analysed items with their embeddings (next period's baselines are measured on them), one row per
    distinct text and labels (the first comment's id) with ``n_rows``, how many comments it stands for: the
    history grows with the distinct texts of a week, not with its rows. ``rows_at`` reads ``columns`` (default:
    df's) at some rows; only df[S.TEXT] is read for every row (the run passes _Run.rows: the per-text columns are
    joined for the rows read, one per distinct text)."""
    rows_at, columns = rows_at or _rows_at(df), list(df.columns) if columns is None else columns
    keep = [c for c in PERIOD_ITEM_COLUMNS if c in columns]
    at = np.flatnonzero(ok_mask)
    group = _item_groups(df, at, text_of, [c for c in keep if c not in (S.ID, S.TEXT)], rows_at)
    first = np.unique(group, return_index=True)[1]  # group numbers follow first appearance: already in order
    items = rows_at(keep, at[first]).reset_index(drop=True)
    items[N_ROWS] = np.bincount(group)
    items["_embedding"] = list(np.asarray(X_text[text_of[first]], dtype=np.float32))
    if S.VECTOR_TOKENS in columns:  # next period's emerging sub-topics cluster both weeks' words together
        items["_tokens"] = [list(t) for t in rows_at([S.VECTOR_TOKENS], at[first])[S.VECTOR_TOKENS]]
    return items


def _item_groups(df: pd.DataFrame, at: np.ndarray, text_of: np.ndarray, per_text: list[str],
                 rows_at: RowsAt | None = None) -> np.ndarray:
    """Per analysed row (``at``), its group of equal (S.TEXT, ``per_text`` columns) values, numbered in order of first
    appearance (``groupby(..., sort=False, dropna=False).ngroup()``). The ``per_text`` columns are the same for
    every row of one distinct text (``text_of``), so they are grouped over the texts' first rows, and the rows over
    (their text's group, their display text) as two integer codes: no copy of the rows' columns."""
    texts = pd.factorize(df[S.TEXT], use_na_sentinel=False)[0][at]
    if per_text:
        firsts = at[np.unique(text_of, return_index=True)[1]]
        of_text = (rows_at or _rows_at(df))(per_text, firsts).groupby(
            per_text, sort=False, dropna=False).ngroup().to_numpy()[text_of]
    else:
        of_text = np.zeros(len(at), dtype=np.int64)
    return pd.factorize(texts.astype(np.int64) * (int(of_text.max(initial=0)) + 1) + of_text)[0]


def _period_topic_stats(df: pd.DataFrame, changes: pd.DataFrame, weights: np.ndarray | None = None) -> pd.DataFrame:
    cols = [S.TOPIC_ID, "size", "share", "negative_share", "lineage", "related_topic"]
    if not len(changes):
        return pd.DataFrame(columns=[*cols, "mean_sentiment"])
    cur = trends.period_stats(df, S.TOPIC_ID, weights=weights).rename(columns={"name": S.TOPIC_ID})
    return changes[cols].merge(cur[[S.TOPIC_ID, "mean_sentiment"]], on=S.TOPIC_ID, how="left")


def _period_dim_stats(df: pd.DataFrame, weights: np.ndarray | None = None) -> pd.DataFrame:
    """The period's journey stages and CX dimensions: size, share, mean sentiment, negative share. ``df``: the
    analysed items, or one row per distinct text with ``weights``, the comments it stands for."""
    dims = pd.concat([trends.period_stats(df, S.JOURNEY_STAGE, weights=weights).assign(kind="stage"),
                      trends.period_stats(df, S.CX_DIMENSIONS, explode_pipe=True, weights=weights)
                      .assign(kind="dimension")])
    return dims.drop(columns=["negative"])
