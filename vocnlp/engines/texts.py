"""The per-text stages as one function over a batch of distinct texts, with the models loaded once per process.

    models = TextModels(cfg)               # once per process or Ray actor: embedder, cache, code rules, classifiers
    batch = analyse_texts(texts, models)   # one row per distinct normalised text, plain data
    results = TextResults.from_batches([batch, ...])
    columns = join_to_rows(results.per_text, text_idx)   # on the driver: rows get their text's columns (as read)

``analyse_texts`` runs tokenize, segment, codes, embed, segment_embed, classify and sentiment, in that order, by
calling the stage modules' own ``run`` functions on a frame of the distinct texts (every one analysed), so a change
to a stage applies to every engine. Segment vectors are shared: ``segment_embed`` embeds the segments of the long
comments that segment topics cut into subject units (:func:`vocnlp.stages.segment_topics.unit_groups`) once, and
per-segment sentiment (and CX, when on) looks its segments up there, embedding only those not yet known; each
long comment's unit vectors (pooled from its segments') travel with its results for the segment-topics stage on
the driver. With ``embed.pool_long_items`` (default) such a comment's own vector is the length-weighted mean of its
segments' vectors too, so a long comment is embedded once, as segments, instead of twice; the topics get that mean
less a measured offset (:func:`pool_offset`), the classifiers the plain mean (as without pooling). What it returns
is plain data (strings, numbers, lists of them, one embedding per text) so that it can cross process boundaries as
Arrow; spaCy Docs stay inside the batch. Every column a stage adds is joined back to the rows; rows not analysed get the empty value of the column's kind ([], "", NaN, False),
as the stages give them. Clean is not part of it: it decides which rows are analysed and what their normalised
text is, and already runs once per distinct raw text on the driver.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
import pandas as pd

from .. import schema as S
from ..backends import embedder_id as backend_id
from ..backends.cache import EmbeddingCache, embed_texts
from ..config import RunConfig
from ..japanese import predicate_bases
from ..models.registry import build_sentiment_model, build_task_model
from ..stages import classify, codes, segment, segment_topics, sentiment, tokenize

STAGES = ("tokenize", "segment", "codes", "embed", "segment_embed", "classify", "sentiment")  # in the order they run
# (and "classify_embed" before classify when classify.embed gives the classifiers embeddings of their own)
EMBEDDING = "_embedding"  # float32 vector per text (gathered into the row-level matrix, never joined as a column)
UNITS = "_units"  # per text, its subject units' vectors flattened (n_units * dim float32; empty: one unit)
SEG_PREFIX = "_seg_"  # the segment table's columns, one list per text (segments.csv is rebuilt per row from them)
BATCH_INFO = "_batch"  # JSON on a batch's first row: seconds per stage, embedding counts, segment columns
_BOOKKEEPING = (S.TEXT_NORM, S.STATUS, S.ROW, S.ID, S.DOCS)  # the batch frame's own columns, not joined back
EMPTY_DIM = 384


class TextModels:
    """Everything the per-text stages load, once per process (the driver for the local engine, each Ray actor).

    Built on the driver for every engine too: a missing or mismatched model fails here with its one-line error
    before anything is embedded, and ``info`` / ``cx_set`` / ``st_set`` describe the models for the manifest.
    ``embedder_factory`` defaults to :func:`vocnlp.backends.create_embedder` (the pipeline passes its own name for it,
    which tests replace with a fake embedder)."""

    def __init__(self, cfg: RunConfig, embedder_factory: Callable | None = None, rules: codes.CodeRules | None = None,
                 load_rules: bool = True):
        from ..backends import create_embedder

        self.cfg = cfg
        factory = embedder_factory or create_embedder
        self.embedder = factory(cfg.embed)  # the model itself loads on first use
        self.cache = (EmbeddingCache(cfg.embed.cache_dir, self.embedder.name, self.embedder.model_id)
                      if cfg.embed.cache_dir else None)
        # the classifiers' own embedder (classify.embed), or None: they read the run's embeddings
        self.cls_embedder = self.cls_cache = None
        if cfg.separate_classifier_embed():
            ce = cfg.classifier_embed()
            self.cls_embedder = factory(ce)
            if backend_id(self.cls_embedder) == backend_id(self.embedder):
                self.cls_embedder = None
            elif ce.cache_dir:
                self.cls_cache = EmbeddingCache(ce.cache_dir, self.cls_embedder.name, self.cls_embedder.model_id)
        self.stopwords = cfg.resolve(cfg.tokenize.stopwords)
        self.lexicon = cfg.resolve(cfg.sentiment.lexicon)
        if rules is None and load_rules:
            rules = codes.load(cfg.resolve(cfg.codes.rules) if cfg.codes.rules else None)
        self.rules = rules
        embedder_id = backend_id(self.embedder)
        # what a pooled vector is shifted by for the topics (None: no offset measured for this embedder)
        self.pool_offset = pool_offset(embedder_id) if cfg.embed.pool_long_items else None
        if getattr(self.embedder, "load_test", False):  # the load-test stand-in: the classifiers run (and cost what
            embedder_id = None  # they cost) on its vectors, their answers mean nothing (backends/hashed_backend.py)
        cls_id = embedder_id if self.cls_embedder is None or embedder_id is None else backend_id(self.cls_embedder)
        label_embed = lambda texts: self.embed_cls(texts)[0]  # noqa: E731 - prototype classifiers embed their labels
        self.cx_model, self.cx_set, cx_info = build_task_model("cx_dimension", cfg.classify.cx_dimension, cfg,
                                                               label_embed, cls_id)
        self.st_model, self.st_set, st_info = build_task_model("journey_stage", cfg.classify.journey_stage, cfg,
                                                               label_embed, cls_id)
        self.sent_model, sent_info = build_sentiment_model(cfg, embedder_id)
        self.info = {"cx_dimension": cx_info, "journey_stage": st_info, "sentiment": sent_info}

    def embed(self, texts: list[str], progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, dict]:
        return embed_texts(texts, self.embedder, self.cache, self.cfg.embed.batch_size, progress)

    def embed_cls(self, texts: list[str], progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, dict]:
        """Vectors for the classifiers: their own embedder's (classify.embed), else the run's."""
        if self.cls_embedder is None:
            return self.embed(texts, progress)
        return embed_texts(texts, self.cls_embedder, self.cls_cache, self.cfg.embed.batch_size, progress)

    def close(self) -> None:
        for cache in (self.cache, self.cls_cache):
            if cache is not None:
                cache.close()
        self.cache = self.cls_cache = None


def pool_offset(embedder: str) -> tuple[float, np.ndarray] | None:
    """(scale, offset) such that ``scale * pooled - offset`` is, on average, a long comment's own vector, fitted on
    our own long comments for this embedder ("name/model_id") and stored in resources/pool_offsets.json
    (benchmarks/pool_offset.py); None when none was measured for it.

    A pooled vector is the mean of its segments', and e5 gives short clauses a shared direction: unshifted, pooled
    vectors are much closer to each other than the same comments' own vectors are (mean centred cosine 0.31 vs
    0.01-0.03 on data/train), enough to move the topics and the emerging checks. Corrected, a pooled vector is
    closer to its comment's own vector on files the fit did not see (centred cosine 0.69 -> 0.83) and no longer
    close to the other pooled ones (0.31 -> 0.02-0.04)."""
    data = json.loads((resources.files("vocnlp") / "resources" / "pool_offsets.json").read_text(encoding="utf-8"))
    entry = data.get(embedder)
    return None if entry is None else (float(entry.get("scale", 1.0)), np.asarray(entry["offset"], dtype=np.float32))


@contextmanager
def _timed(seconds: dict[str, float], name: str):
    t0 = time.perf_counter()
    try:
        yield
    finally:
        seconds[name] = seconds.get(name, 0.0) + time.perf_counter() - t0


def analyse_texts(texts: list[str], m: TextModels, progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """The per-text stages on one batch of distinct normalised texts (all analysed). One row per text, in order."""
    cfg, n = m.cfg, len(texts)
    seconds: dict[str, float] = {}
    frame = pd.DataFrame({S.TEXT_NORM: list(texts), S.STATUS: [S.STATUS_OK] * n, S.ROW: np.arange(n),
                          S.ID: [str(i) for i in range(n)]})
    with _timed(seconds, "tokenize"):
        frame = tokenize.run(frame, cfg.tokenize, m.stopwords)
    with _timed(seconds, "segment"):
        frame = segment.run(frame, cfg.segment)
    with _timed(seconds, "codes"):
        frame = codes.run(frame, m.rules)
    seg_lists = frame[S.SEGMENTS].tolist()
    seg_embed = SegmentVectors(m)  # segment text -> vector, each embedded once (through the cache) in this batch
    with _timed(seconds, "segment_embed"):  # the long comments' segments: segment topics' units, and reused below
        groups = [segment_topics.unit_groups(t, s, cfg.segment_topics) for t, s in zip(texts, seg_lists)]
        by_unit = cfg.segment_topics.embed == "units"  # embed the units (joined segments), else the segments
        parts = [([("".join(s[k] for k in grp).strip()) for grp in g] if by_unit else [x.strip() for x in s]) if g
                 else [] for s, g in zip(seg_lists, groups)]  # the texts embedded for each long comment
        seg_embed([x for p in parts for x in p])  # one batched pass
        part_vecs = [seg_embed(p) if p else None for p in parts]
        weights = [segment_topics.segment_weights(p) if p else None for p in parts]
        units = [(v if by_unit else segment_topics.unit_vectors(s, g, v)).ravel() if g else np.zeros(0, np.float32)
                 for s, g, v in zip(seg_lists, groups, part_vecs)]
    # pooled only where an offset was measured for this embedder: uncorrected, pooled vectors cluster together
    # (pool_offset), so another embedder embeds long comments whole, as with pooling off
    pool = cfg.embed.pool_long_items and m.pool_offset is not None
    pooled = np.array([bool(g) and pool for g in groups], dtype=bool)
    two = progress is not None and m.cls_embedder is not None  # two embedding passes: each is half the progress
    with _timed(seconds, "embed"):  # a pooled comment's vector is the mean of its parts' (no embedding of its own)
        Xw, stats = m.embed([t for t, p in zip(texts, pooled) if not p],
                            (lambda d, t: progress(d, 2 * t)) if two else progress)
        dim = Xw.shape[1] if len(Xw) else part_vecs[int(np.argmax(pooled))].shape[1] if pooled.any() else EMPTY_DIM
        X = np.zeros((n, dim), dtype=np.float32)
        if len(Xw):
            X[~pooled] = Xw
        for i in np.where(pooled)[0]:
            X[i] = segment_topics.pool(part_vecs[i], weights[i])
        stats = {**stats, "pooled": int(pooled.sum())}
    long = np.array([bool(g) for g in groups], dtype=bool)
    Xm = X  # what the classifiers read: a long comment as the mean of its segments' vectors, pooled or not (on real
    if long.any():  # answers sentiment 0.667 vs 0.650 read whole); the topics read X
        Xm = X.copy()
        for i in np.where(long)[0]:
            Xm[i] = segment_topics.pool(part_vecs[i], weights[i])
        if pooled.any():  # the topics' copy of a pooled vector, less the offset that
            scale, offset = m.pool_offset  # sets pooled vectors apart from whole comments' (pool_offset)
            P = scale * X[pooled] - offset
            X[pooled] = P / np.maximum(np.linalg.norm(P, axis=1, keepdims=True), 1e-9)
    Xc, seg_cls, cls_stats = Xm, seg_embed, {}  # what the classifiers read
    if m.cls_embedder is not None:  # their own embeddings (classify.embed), made as Xm is: a long comment as the
        with _timed(seconds, "classify_embed"):  # mean of its parts' vectors, any other comment whole
            seg_cls = SegmentVectors(m, m.embed_cls)
            seg_cls([x for p in parts for x in p])
            Vw, cstats = m.embed_cls([t for t, is_long in zip(texts, long) if not is_long],
                                     (lambda d, t: t and progress(t + d, 2 * t)) if two else None)
            whole = iter(Vw)
            Xc = (np.vstack([segment_topics.pool(seg_cls(parts[i]), weights[i]) if long[i] else next(whole)
                             for i in range(n)]).astype(np.float32) if n else np.zeros((0, EMPTY_DIM), np.float32))
            cls_stats = {"classifier_cache_hits": cstats["cache_hits"], "classifier_embedded": cstats["embedded"]}
    cx_cfg = cfg.classify.cx_dimension
    with _timed(seconds, "classify"):
        frame = classify.run(frame, np.ones(n, dtype=bool), Xc, m.cx_model, m.st_model, cfg.classify.journey_stage.prior,
                             seg_cls if cx_cfg.per_segment and cx_cfg.method == "trained" else None, cx_cfg.prior,
                             long if cx_cfg.per_segment == "long" else None)
    with _timed(seconds, "sentiment"):
        frame, seg = sentiment.run(frame, cfg.sentiment, m.lexicon, m.sent_model, Xm,
                                   seg_embed if m.sent_model is not None and cfg.sentiment.per_segment else None,
                                   {i: g for i, g in enumerate(groups) if g} if by_unit else None)
    out = frame.drop(columns=[c for c in _BOOKKEEPING if c in frame.columns]).reset_index(drop=True)
    out[S.PREDICATES] = [predicate_bases(d._.morphs) for d in frame[S.DOCS]]  # topic labels prefer nouns
    out[S.PHRASES] = tokenize.phrases_json(frame[S.DOCS].tolist(), m.stopwords)  # candidates for the topic labels
    out[EMBEDDING] = list(X) if n else []
    out[UNITS] = units
    seg_columns = list(seg.columns)
    owner = seg["row"].to_numpy(dtype=int) - 1 if len(seg) else np.zeros(0, dtype=int)  # the text each segment is of
    for c in seg_columns:
        if c in (S.ID, "row"):
            continue
        lists: list[list] = [[] for _ in range(n)]
        for k, v in zip(owner, seg[c].tolist()):
            lists[k].append(v)
        out[SEG_PREFIX + c] = lists
    if seg_cls is not seg_embed:  # read now: per-segment CX may have embedded more segments
        cls_stats.update({"classifier_" + k: v for k, v in seg_cls.stats.items()})
    info = json.dumps({"seconds": seconds, "embedding": {"cache_hits": stats["cache_hits"],
                                                         "embedded": stats["embedded"], "pooled": stats["pooled"],
                                                         **seg_embed.stats, **cls_stats},
                       "segment_columns": seg_columns})
    out[BATCH_INFO] = [info] + [""] * (n - 1) if n else []
    return out


class SegmentVectors:
    """Segment texts -> vectors for one batch, each distinct segment embedded once through the run's embedder and
    cache: segment topics and per-segment sentiment (and CX) share them. Called like an embed function."""

    def __init__(self, m: TextModels, embed: Callable[[list[str]], tuple[np.ndarray, dict]] | None = None):
        self.embed = embed or m.embed  # the run's embedder, or the classifiers' own (TextModels.embed_cls)
        self.known: dict[str, np.ndarray] = {}
        self.stats = {"segments": 0, "segment_cache_hits": 0, "segments_embedded": 0}

    def __call__(self, texts: list[str]) -> np.ndarray:
        todo = list(dict.fromkeys(t for t in texts if t not in self.known))
        if todo:
            V, st = self.embed(todo)
            self.known.update(zip(todo, V))
            self.stats["segments"] += len(todo)
            self.stats["segment_cache_hits"] += st["cache_hits"]
            self.stats["segments_embedded"] += st["embedded"]
        if not texts:
            return np.zeros((0, EMPTY_DIM), dtype=np.float32)
        return np.vstack([self.known[t] for t in texts]).astype(np.float32)


@dataclass
class TextResults:
    """The per-text stages' results for all distinct texts, in the order they were given."""

    per_text: pd.DataFrame  # one row per distinct text: the columns joined back to the rows, and the segment lists
    X: np.ndarray  # one embedding per distinct text
    seconds: dict[str, float] = field(default_factory=dict)  # per stage, summed over batches (and workers)
    embedding: dict[str, int] = field(default_factory=dict)  # cache_hits, embedded
    segment_columns: list[str] = field(default_factory=list)
    batches: int = 0
    units: list[np.ndarray] = field(default_factory=list)  # per distinct text, its subject units' vectors (n_units, dim)

    @classmethod
    def from_batches(cls, batches: list[pd.DataFrame]) -> TextResults:
        """Concatenate ``analyse_texts`` results (in text order); the empty batch of no texts gives the columns."""
        per_text = pd.concat(batches, ignore_index=True) if len(batches) > 1 else batches[0].reset_index(drop=True)
        seconds = dict.fromkeys(STAGES, 0.0)
        embedding = {"cache_hits": 0, "embedded": 0, "pooled": 0, "segments": 0, "segment_cache_hits": 0,
                     "segments_embedded": 0}
        seg_columns: list[str] = [S.ID, S.SEGMENT_NO, S.TEXT, S.SENTIMENT_LABEL, S.SENTIMENT_SCORE, "row"]
        for info in per_text[BATCH_INFO] if len(per_text) else []:
            if info:
                d = json.loads(info)
                for k, v in d["seconds"].items():
                    seconds[k] = seconds.get(k, 0.0) + v
                for k, v in d["embedding"].items():
                    embedding[k] = embedding.get(k, 0) + v
                seg_columns = d["segment_columns"]
        X = (np.stack([np.asarray(v, dtype=np.float32) for v in per_text[EMBEDDING]]) if len(per_text)
             else np.zeros((0, EMPTY_DIM), dtype=np.float32))
        dim = X.shape[1]
        units = [np.asarray(v, dtype=np.float32).reshape(-1, dim) for v in per_text[UNITS]] if len(per_text) else []
        per_text = per_text.drop(columns=[EMBEDDING, BATCH_INFO, UNITS])
        return cls(per_text, X, seconds, embedding, seg_columns, len(batches), units)


def _empty_like(values: pd.Series):
    """What a row that is not analysed holds in a column of this kind."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return False
    if pd.api.types.is_float_dtype(values.dtype):
        return np.nan
    if pd.api.types.is_integer_dtype(values.dtype):
        return 0
    first = next((v for v in values if v is not None), "")
    return [] if isinstance(first, list) else ""


def join_to_rows(per_text: pd.DataFrame, text_idx: np.ndarray) -> dict[str, object]:
    """Each per-text column as a row-level column: row r gets text ``text_idx[r]``'s value (-1: not analysed)."""
    ok = text_idx >= 0
    take = text_idx[ok]
    out: dict[str, object] = {}
    for c in per_text.columns:
        if c.startswith(SEG_PREFIX):
            continue
        values = per_text[c]
        empty = _empty_like(values)
        if isinstance(empty, list):  # lists (tokens, segments) are shared by the rows of one text, never modified
            vals = values.tolist()
            out[c] = [vals[i] if i >= 0 else [] for i in text_idx]
            continue
        arr = values.to_numpy()
        col = np.full(len(text_idx), empty, dtype=arr.dtype if arr.dtype != bool else bool)
        if arr.dtype == object:
            col = np.full(len(text_idx), empty, dtype=object)
        col[ok] = arr[take]
        out[c] = col
    return out


@dataclass
class FlatSegments:
    """Every distinct text's segments, flattened in text order: per segment column one Series, and per text its
    number of segments and the position of its first. Built once, gathered for any set of rows."""

    columns: dict[str, pd.Series]
    counts: np.ndarray
    starts: np.ndarray


def flat_segments(results: TextResults) -> FlatSegments:
    seg_cols = [c for c in results.segment_columns if c not in (S.ID, "row")]
    per_text = results.per_text
    counts = np.array([len(x) for x in per_text[SEG_PREFIX + seg_cols[0]]], dtype=int) if len(per_text) else \
        np.zeros(0, dtype=int)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]]) if len(counts) else counts
    return FlatSegments({c: pd.Series([v for lst in per_text[SEG_PREFIX + c] for v in lst]) for c in seg_cols},
                        counts, starts)


def segments_for_rows(results: TextResults, text_idx: np.ndarray, ids: np.ndarray, rows: np.ndarray,
                      flat: FlatSegments | None = None) -> pd.DataFrame:
    """segments.csv: every analysed row's segments in row order (its text's segments, with the row's id and number).
    ``flat`` (flat_segments(results)) saves flattening the texts' segments again when called chunk by chunk."""
    columns = results.segment_columns
    if not len(results.per_text):
        return pd.DataFrame(columns=columns)
    flat = flat or flat_segments(results)
    counts, starts = flat.counts, flat.starts
    ok_rows = np.where(text_idx >= 0)[0]
    t = text_idx[ok_rows]
    n_r = counts[t]
    total = int(n_r.sum())
    take = np.repeat(starts[t], n_r) + (np.arange(total) - np.repeat(np.cumsum(n_r) - n_r, n_r))
    data: dict[str, object] = {}
    for c in columns:  # each column gathered in its own dtype (strings stay in Arrow: no Python object per row)
        if c == S.ID:
            data[c] = _gather(pd.Series(np.asarray(ids, dtype=object)[ok_rows]), np.repeat(np.arange(len(ok_rows)), n_r))
        elif c == "row":
            data[c] = np.repeat(np.asarray(rows, dtype=np.int64)[ok_rows] + 1, n_r)
        else:
            values = flat.columns[c]
            data[c] = _gather(values, take) if total else values.to_numpy()[:0]
    return pd.DataFrame(data, columns=columns)


def _gather(values: pd.Series, take: np.ndarray):
    """``values.to_numpy()[take]`` as the frame would hold it: a column of strings as the same Arrow strings
    (gathered in Arrow), anything else as the array that the frame infers the same dtype from."""
    if isinstance(values.array, pd.arrays.ArrowStringArray):
        return values.array.take(take)
    return values.to_numpy()[take]
