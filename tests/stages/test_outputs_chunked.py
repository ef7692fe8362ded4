"""Large tables are written a chunk at a time: the same CSV bytes and the same Parquet contents as one call."""

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from vocnlp.stages import outputs


def _table(n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    texts = np.array(["配送が遅い", "=SUM(A1)", "-3", "+81 電話", "", "改行\nあり", '引用"符'], dtype=object)
    return pd.DataFrame({
        "id": [f"L-{i:05d}" for i in range(n)],
        "text": texts[rng.integers(0, len(texts), n)],
        "topic_id": rng.integers(-1, 5, n),
        "cx_SENSE": np.where(rng.random(n) < 0.1, np.nan, rng.random(n)),
        "duplicate": rng.random(n) < 0.2,
        "late_column": [""] * (n // 2) + ["値"] * (n - n // 2),  # empty in the first chunks only
    })


def test_chunked_csv_is_byte_identical(tmp_path):
    df = _table()
    outputs.write_csv(df, tmp_path / "one.csv", chunk_rows=10_000)
    outputs.write_csv(df, tmp_path / "chunks.csv", chunk_rows=77)
    assert (tmp_path / "one.csv").read_bytes() == (tmp_path / "chunks.csv").read_bytes()
    assert (tmp_path / "one.csv").read_bytes().startswith(b"\xef\xbb\xbfid,")  # one BOM, one header
    assert (tmp_path / "chunks.csv").read_bytes().count("\ufeff".encode()) == 1


def test_chunked_parquet_holds_the_same_table(tmp_path):
    df = _table()
    outputs.write_parquet(df, tmp_path / "one.parquet", chunk_rows=10_000)
    df.to_parquet(tmp_path / "pandas.parquet", index=False)
    assert (tmp_path / "one.parquet").read_bytes() == (tmp_path / "pandas.parquet").read_bytes()
    outputs.write_parquet(df, tmp_path / "chunks.parquet", chunk_rows=128)
    assert pq.ParquetFile(tmp_path / "chunks.parquet").num_row_groups == 8
    back = pd.read_parquet(tmp_path / "chunks.parquet")
    pd.testing.assert_frame_equal(back, pd.read_parquet(tmp_path / "pandas.parquet"))


def test_formulas_neutralised_in_every_row_whatever_the_column_holds():
    """Each column's distinct values are checked once; every row holding a formula gets the apostrophe, numbers
    ("-3"), missing cells and non-text columns pass unchanged, list cells are checked one by one, and a frame
    without formulas is returned as it is."""
    df = pd.DataFrame({"a": pd.Series(["=1+2", "x", "=1+2", None, "-3"], dtype=object),
                       "b": [1, 2, 3, 4, 5],
                       "c": pd.Series(["@x", "y", "\tz", "@x", "-"], dtype="str"),
                       "d": pd.Series([[1], ["=a"], "+b", [], None], dtype=object)})
    out = outputs.neutralise_formulas(df)
    assert out["a"].tolist()[:3] == ["'=1+2", "x", "'=1+2"] and out["a"].iloc[3] is None and out["a"].iloc[4] == "-3"
    assert out["b"].tolist() == [1, 2, 3, 4, 5] and out["b"].dtype == df["b"].dtype
    assert out["c"].tolist() == ["'@x", "y", "'\tz", "'@x", "'-"] and out["c"].dtype == df["c"].dtype
    assert out["d"].tolist() == [[1], ["=a"], "'+b", [], None]
    assert df["a"].iloc[0] == "=1+2"  # the caller's frame is not changed
    clean = df[["b"]].assign(t=["x"] * 5)
    assert outputs.neutralise_formulas(clean) is clean
