"""The history stores one row per distinct text (with how many comments carried it), not one per comment."""

import shutil

import numpy as np
import pandas as pd

from vocnlp.config import load_config
from vocnlp.pipeline import run_pipeline

from .conftest import SAMPLE_DIR


def _cfg(tmp_path, hist: str):
    return load_config(None, {"embed.cache_dir": str(tmp_path / "cache"), "history.path": str(tmp_path / hist),
                              "classify.cx_dimension.method": "prototype", "classify.journey_stage.method": "prototype",
                              "sentiment.method": "lexicon"})


def test_repeated_comments_are_stored_once_and_still_count(tmp_path, use_fake_embedder):
    w44 = pd.read_csv(SAMPLE_DIR / "midori_2026-W44.csv", dtype=str, keep_default_na=False)
    tripled = pd.concat([w44.assign(id=w44.id + f"~{k}") for k in range(3)], ignore_index=True)
    week = tmp_path / "midori_2026-W44.csv"
    tripled.to_csv(week, index=False)
    first = run_pipeline(week, tmp_path / "o44", _cfg(tmp_path, "hist"))
    stored = pd.read_parquet(tmp_path / "hist" / "items" / "period=2026-W44.parquet")
    analysed = first.items[first.items.status == "ok"]
    assert len(stored) == analysed.text.nunique() < len(analysed)  # one row per distinct text
    assert stored.n_rows.sum() == len(analysed)  # ... standing for every analysed comment
    assert stored.id.isin(analysed.id).all() and len(stored["_embedding"].iloc[0]) > 0

    # the same history written the old way, one row per comment and no n_rows: next week's answers are the same
    shutil.copytree(tmp_path / "hist", tmp_path / "legacy")
    legacy = stored.loc[stored.index.repeat(stored.n_rows)].drop(columns="n_rows").reset_index(drop=True)
    legacy.to_parquet(tmp_path / "legacy" / "items" / "period=2026-W44.parquet", index=False)
    w45 = SAMPLE_DIR / "midori_2026-W45.csv"
    now = run_pipeline(w45, tmp_path / "now", _cfg(tmp_path, "hist"))
    old = run_pipeline(w45, tmp_path / "old", _cfg(tmp_path, "legacy"))
    for name in ("items.csv", "topics.csv", "issues.csv"):
        assert (tmp_path / "now" / name).read_bytes() == (tmp_path / "old" / name).read_bytes(), name
    assert now.manifest["history"]["new_topics"] == old.manifest["history"]["new_topics"]
    assert np.isclose(now.topics["share"].sum(), old.topics["share"].sum())
