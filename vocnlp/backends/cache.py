"""On-disk embedding cache: one SQLite file per (backend, model), keyed by the text's SHA-1.

SQLite (stdlib) gives atomic writes and safe concurrent readers, so a run killed midway never
leaves a half-written cache entry, and a re-run picks up what was embedded before it died.
"""

from __future__ import annotations

import hashlib
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import numpy as np

from . import Embedder


def text_key(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    def __init__(self, cache_dir: str | Path, backend: str, model_id: str):
        safe = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{backend}__{model_id}")[:150]
        self.path = Path(cache_dir) / f"{safe}.sqlite"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # one connection used by one caller at a time, though maybe from another thread (a Ray Data actor runs its
        # calls on a thread of its own)
        self._db = sqlite3.connect(self.path, timeout=30, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS emb (k TEXT PRIMARY KEY, v BLOB NOT NULL)")

    def get_many(self, keys: list[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for i in range(0, len(keys), 900):
            chunk = keys[i : i + 900]
            q = f"SELECT k, v FROM emb WHERE k IN ({','.join('?' * len(chunk))})"
            for k, v in self._db.execute(q, chunk):
                found[k] = np.frombuffer(v, dtype=np.float32)
        return found

    def put_many(self, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany("INSERT OR REPLACE INTO emb (k, v) VALUES (?, ?)",
                                 [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()])

    def close(self) -> None:
        self._db.close()


def embed_texts(texts: list[str], embedder: Embedder, cache: EmbeddingCache | None = None, batch_size: int = 64,
                progress: Callable[[int, int], None] | None = None) -> tuple[np.ndarray, dict[str, int]]:
    """Embed ``texts`` (duplicates once, cache hits skipped). Returns (matrix aligned with texts, stats)."""
    keys = [text_key(t) for t in texts]
    unique: dict[str, str] = {}
    for k, t in zip(keys, texts):
        unique.setdefault(k, t)
    vectors: dict[str, np.ndarray] = cache.get_many(list(unique)) if cache else {}
    todo = [k for k in unique if k not in vectors]
    done = 0
    if progress:
        progress(0, len(todo))
    for i in range(0, len(todo), batch_size):
        batch = todo[i : i + batch_size]
        vecs = embedder.embed([unique[k] for k in batch])
        new = dict(zip(batch, vecs))
        vectors.update(new)
        if cache:
            cache.put_many(new)
        done += len(batch)
        if progress:
            progress(done, len(todo))
    if not texts:
        return np.zeros((0, 384), dtype=np.float32), {"texts": 0, "unique": 0, "cache_hits": 0, "embedded": 0}
    matrix = np.vstack([vectors[k] for k in keys]).astype(np.float32)
    stats = {"texts": len(texts), "unique": len(unique), "cache_hits": len(unique) - len(todo), "embedded": len(todo)}
    return matrix, stats
