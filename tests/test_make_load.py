"""benchmarks/make_load.py: the load builder's rows, distinct count, columns and determinism."""

from __future__ import annotations

import pandas as pd
import pyarrow.parquet as pq

from benchmarks.make_load import COLUMNS, build, main, sentence_pool
from vocnlp.config import InputConfig
from vocnlp.stages import ingest


def test_rows_distinct_columns_and_week():
    t = build(5000, 700, seed=3, period="2026-W48")
    df = t.to_pandas()
    assert list(df.columns) == COLUMNS
    assert len(df) == 5000 and df["id"].is_unique
    texts = df.loc[df.text != "", "text"]
    assert texts.nunique() == 700
    assert 0 < (df.text == "").sum() <= 0.01 * 5000
    assert set(df.date) <= {f"2026-11-{d}" for d in range(23, 30)}
    assert set(df.channel) <= {"店舗アンケート", "ECレビュー", "コールセンター記録", "お問い合わせフォーム", "アプリレビュー"}
    pool = sentence_pool()  # every comment is made of our sentences
    assert all(any(t.startswith(s) for s in pool) and any(t.endswith(s) for s in pool) for t in texts.head(30))


def test_same_seed_same_bytes_other_seed_other_texts(tmp_path):
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.parquet"
    assert main(["3000", str(a), "--distinct", "300", "--seed", "1"]) == 0
    assert main(["3000", str(b), "--distinct", "300", "--seed", "1"]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert main(["3000", str(c), "--distinct", "300", "--seed", "2"]) == 0
    other = pq.read_table(c).to_pandas()
    mine = pd.read_csv(a, dtype=str, keep_default_na=False)
    assert set(other.text) != set(mine.text)
    read = ingest.read_input(a, InputConfig())  # the pipeline reads it as an ordinary export
    assert len(read.frame) == 3000 and read.text_column == "text" and read.id_column == "id"


def test_more_distinct_than_rows_is_refused(tmp_path):
    assert main(["10", str(tmp_path / "x.csv"), "--distinct", "11"]) == 2
