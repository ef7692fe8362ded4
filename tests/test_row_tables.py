"""items.csv / segments.csv written chunk by chunk from the row index (pipeline.RowTables) are the same tables as
the whole ones: same bytes for the CSVs, the same Arrow table and schema for items.parquet, the same report; and a
run's tables are built only when read."""

from __future__ import annotations

import re

import pandas as pd
import pyarrow.parquet as pq

from vocnlp import schema as S
from vocnlp.config import load_config
from vocnlp.pipeline import analyze
from vocnlp.report.render import WEIGHT
from vocnlp.stages import outputs

from .conftest import SAMPLE_DIR


def _cfg(tmp_path):
    return load_config(None, {"embed.cache_dir": str(tmp_path / "cache"), "history.enabled": False})


def _week():
    w = pd.read_csv(SAMPLE_DIR / "midori_2026-W46.csv", dtype=str, keep_default_na=False)
    # repeated comments, rows that are not analysed, and a column that is empty in the first chunk only
    extra = w.head(40).assign(id=lambda d: d.id + "~2")
    blank = w.head(5).assign(id=lambda d: d.id + "~b", text="")
    out = pd.concat([w, extra, blank], ignore_index=True)
    out["late_note"] = [None] * 200 + ["あり"] * (len(out) - 200)
    return out


def _strip_time(html: str) -> str:
    return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "", html)


def test_chunked_items_and_segments_are_the_whole_tables(tmp_path, monkeypatch):
    monkeypatch.setattr(outputs, "CHUNK_ROWS", 64)  # the W46 week is six chunks
    res = analyze(_week(), _cfg(tmp_path))
    assert res._items is None and res._segments is None  # nothing built yet
    streamed = res.save(tmp_path / "streamed")
    assert res._items is None  # save() wrote them chunk by chunk
    whole_items, whole_segments = res.items, res.segments  # now built whole
    assert res._streamed() is False
    whole = res.save(tmp_path / "whole")
    for name in ("items.csv", "segments.csv", "topics.csv", "issues.csv"):
        assert (streamed / name).read_bytes() == (whole / name).read_bytes(), name
    a, b = pq.read_table(streamed / "items.parquet"), pq.read_table(whole / "items.parquet")
    assert a.schema.equals(b.schema, check_metadata=True) and a.equals(b)
    assert "string" in str(a.schema.field("late_note").type)  # empty in the first chunk, typed from a later one
    assert _strip_time((streamed / "report.html").read_text()) == _strip_time((whole / "report.html").read_text())
    # the tables are those of the files
    on_disk = pd.read_csv(whole / "items.csv", dtype=str, keep_default_na=False)
    assert on_disk["id"].tolist() == whole_items["id"].tolist() and len(whole_items) == len(_week())
    assert res.manifest["counts"]["segments"] == len(whole_segments) == \
        len(pd.read_csv(whole / "segments.csv", dtype=str, keep_default_na=False))
    assert (whole_items["status"].iloc[-5:] != "ok").all()
    copies = whole_items.iloc[-45:-5]
    assert copies.loc[copies.status == "ok", "duplicate"].all() and (copies.status == "ok").sum() >= 30
    # the report reads one row per distinct analysed text, standing for its comments
    report = res._row_tables.report_items()
    assert report[S.TEXT].is_unique and report[WEIGHT].sum() == res.manifest["counts"]["analysed"]
    assert report[WEIGHT].max() == 2 and report.index.is_monotonic_increasing


def test_a_run_of_one_chunk_writes_as_before(tmp_path):
    res = analyze(_week(), _cfg(tmp_path))
    assert not res._streamed()
    out = res.save(tmp_path / "run")
    expected = tmp_path / "expected.parquet"
    res.items.to_parquet(expected, index=False)
    assert (out / "items.parquet").read_bytes() == expected.read_bytes()
