"""On-disk cache of fitted topics, beside the embedding cache (``<embed.cache_dir>/topics/<key>.npz``).

Fitting topics (BERTopic, c-TF-IDF, and importing them) is most of a re-run once the embeddings are
cached, so a run whose topic inputs are unchanged reuses the result. The key is a hash of everything
``fit_topics`` / ``track_topics`` read: the embedding matrix, the content words and nouns, the topic
configuration, the history state the period starts from (the known topics with their centroids and
thresholds, the next free id, the reference mean and last period's embeddings), the package's code and
the versions of the libraries topics use. A deterministic function of its key, so a
hit returns exactly what a fit would (the topic table with its coherence and subject columns included; an entry
written by other code, which may lack them, has another key and is never read). Re-running the latest period starts from the same history state
(that period's own topics are replaced, not read), so it hits; anything else that changed misses.

Entries are plain arrays and JSON in one ``.npz`` (loaded with ``allow_pickle=False``), written to a
temporary file and renamed, so a killed run never leaves a half entry; an unreadable entry is a miss.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
import pandas as pd

from . import __version__
from .config import TopicsConfig
from .errors import RunWarning
from .stages.topics import TopicResult
from .stages.tracking import TrackResult

log = logging.getLogger(__name__)

KEEP = 64  # entries kept; older ones are removed when a new one is written
_LIBRARIES = ("bertopic", "scikit-learn", "numpy", "umap-learn")


@dataclass
class HistoryState:
    """What a tracked period starts from (the arguments of ``track_topics`` that come from the history)."""

    registry: pd.DataFrame  # known topics with their centroid and threshold as of the period before
    next_id: int  # the first free topic id
    reference_mean: np.ndarray | None  # centres the embedding space; None for the first period
    previous: np.ndarray | None  # last period's embeddings (new-topic baselines), one per distinct text
    previous_weights: np.ndarray | None = None  # how many comments each of them stands for (None: one each)
    previous_tokens: list[list[str]] | None = None  # last period's clustering words (emerging sub-topics)


def _library_versions() -> str:
    out = []
    for name in _LIBRARIES:
        try:
            out.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            out.append(f"{name}=-")
    return ";".join(out)


def _code_hash() -> str:
    """Every module of the package (about 4,000 lines, a few ms): a refactor that moves topic code elsewhere
    still invalidates the cache, and a cache miss only costs one fit."""
    root = Path(__file__).parent
    h = hashlib.sha256()
    for p in sorted(root.rglob("*.py")):
        h.update(p.relative_to(root).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def _update_array(h, a: np.ndarray | None) -> None:
    if a is None:
        h.update(b"none")
        return
    a = np.ascontiguousarray(a)
    h.update(f"{a.dtype.str}{a.shape}".encode())
    h.update(a.tobytes())


def _update_registry(h, registry: pd.DataFrame) -> None:
    cols = [c for c in registry.columns if c != "centroid"]
    h.update(json.dumps(cols).encode())
    for row in registry.itertuples(index=False):
        h.update(json.dumps([None if pd.isna(getattr(row, c)) else str(getattr(row, c)) for c in cols],
                            ensure_ascii=False).encode())
        if "centroid" in registry.columns:
            _update_array(h, np.asarray(row.centroid, dtype=np.float32))


def topic_key(embeddings: np.ndarray, tokens: list[list[str]], nouns: frozenset[str], cfg: TopicsConfig,
              history: HistoryState | None, phrases: list | None = None, weights=None) -> str:
    """The cache key of one topic fit (see the module docstring for what it covers; ``phrases``, the comments'
    key-phrase candidates, name the topics)."""
    h = hashlib.sha256()
    h.update(f"vocnlp={__version__};{_library_versions()};code={_code_hash()}".encode())
    h.update(json.dumps(cfg.model_dump(mode="json"), sort_keys=True).encode())
    _update_array(h, np.asarray(embeddings))
    h.update(json.dumps(tokens, ensure_ascii=False).encode())
    h.update(json.dumps(sorted(nouns), ensure_ascii=False).encode())
    h.update(json.dumps(phrases, ensure_ascii=False).encode())
    if weights is not None:  # fitted per distinct text: the comments each stands for (None: one each)
        _update_array(h, np.asarray(weights, dtype=np.int64))
    if history is None:
        h.update(b"no history")
    else:
        h.update(f"tracked;next_id={history.next_id}".encode())
        _update_registry(h, history.registry)
        _update_array(h, history.reference_mean)
        _update_array(h, history.previous)
        if history.previous_weights is not None:
            _update_array(h, history.previous_weights)
        h.update(json.dumps(history.previous_tokens, ensure_ascii=False).encode())
    return h.hexdigest()[:40]


def _plain(v):
    """A JSON value for a table cell or parameter (numpy scalars to Python, NaN to None)."""
    if isinstance(v, np.generic):
        v = v.item()
    if isinstance(v, float) and v != v:
        return None
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def _table_json(df: pd.DataFrame, skip: tuple[str, ...] = ()) -> dict:
    cols = list(df.columns)
    return {"columns": cols, "records": [{c: _plain(r[c]) for c in cols if c not in skip} for r in df.to_dict("records")]}


def _table_from(spec: dict, extra: dict[str, list] | None = None) -> pd.DataFrame:
    records = [dict(r) for r in spec["records"]]
    for col, values in (extra or {}).items():
        for r, v in zip(records, values):
            r[col] = v
    return pd.DataFrame(records, columns=spec["columns"])


def _arrays(prefix: str, items: dict[int, np.ndarray]) -> dict[str, np.ndarray]:
    return {f"{prefix}{k}": np.asarray(v) for k, v in items.items()}


class TopicCache:
    """``get(key)`` / ``put(key, result)`` for :class:`TopicResult` and :class:`TrackResult`."""

    def __init__(self, cache_dir: str | Path):
        self.folder = Path(cache_dir) / "topics"

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.npz"

    def get(self, key: str) -> TopicResult | None:
        p = self.path(key)
        if not p.exists():
            return None
        try:
            with np.load(p, allow_pickle=False) as z:
                return _decode({k: z[k] for k in z.files})
        except Exception as err:  # noqa: BLE001 - a damaged entry is a miss, never a failed run
            log.warning("topic cache entry %s unreadable (%s); fitting again", p.name, err)
            return None

    def put(self, key: str, result: TopicResult) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **_encode(result))
            os.replace(tmp, self.path(key))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self._prune()

    def _prune(self) -> None:
        entries = sorted(self.folder.glob("*.npz"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in entries[KEEP:]:
            old.unlink(missing_ok=True)


def _encode(r: TopicResult) -> dict[str, np.ndarray]:
    tracked = isinstance(r, TrackResult)
    meta: dict = {"kind": "track" if tracked else "topic", "table": _table_json(r.table),
                  "warnings": [[w.code, w.message] for w in r.warnings], "params": _plain(r.params),
                  "centroid_ids": [int(k) for k in r.centroids]}
    arrays = {"assignments": np.asarray(r.assignments), **_arrays("centroid_", r.centroids)}
    if tracked:
        meta["new_topics"] = _table_json(r.new_topics, skip=("centroid",))
        meta["state"] = [[int(k), float(thr)] for k, (_, thr) in r.state.items()]
        meta["merged"] = [[int(a), int(b)] for a, b in r.merged.items()]
        meta["split_from"] = [[int(a), int(b)] for a, b in r.split_from.items()]
        meta["has_reference_mean"] = r.reference_mean is not None
        arrays.update(_arrays("new_", dict(enumerate(r.new_topics["centroid"])) if len(r.new_topics) else {}))
        arrays.update(_arrays("state_", {k: c for k, (c, _) in r.state.items()}))
        if r.reference_mean is not None:
            arrays["reference_mean"] = np.asarray(r.reference_mean)
    arrays["meta"] = np.array(json.dumps(meta, ensure_ascii=False))
    return arrays


def _decode(z: dict[str, np.ndarray]) -> TopicResult:
    meta = json.loads(str(z["meta"]))
    table = _table_from(meta["table"])
    if "coherence" in table.columns:  # NaN (no comments, the -1 row) is stored as null: float again, as fitted
        table["coherence"] = table["coherence"].astype(float)
    centroids = {k: z[f"centroid_{k}"] for k in meta["centroid_ids"]}
    warnings = [RunWarning(code, message) for code, message in meta["warnings"]]
    if meta["kind"] == "topic":
        return TopicResult(z["assignments"], table, centroids, warnings, meta["params"])
    n_new = len(meta["new_topics"]["records"])
    new_topics = _table_from(meta["new_topics"], {"centroid": [z[f"new_{i}"] for i in range(n_new)]})
    return TrackResult(z["assignments"], table, centroids, warnings, meta["params"], new_topics=new_topics,
                       state={k: (z[f"state_{k}"], thr) for k, thr in meta["state"]},
                       merged={a: b for a, b in meta["merged"]}, split_from={a: b for a, b in meta["split_from"]},
                       reference_mean=z["reference_mean"] if meta["has_reference_mean"] else None)
