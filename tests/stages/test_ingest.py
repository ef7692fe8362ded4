import json

import pandas as pd
import pytest

from vocnlp.config import InputConfig
from vocnlp.errors import InputError
from vocnlp.stages.ingest import read_input

ROWS = [{"id": "a1", "コメント": "配送が遅い", "nps": 3}, {"id": "a2", "コメント": "ｽﾀｯﾌが親切でした😊", "nps": 9},
        {"id": "a3", "コメント": "", "nps": None}]


def _frame():
    return pd.DataFrame(ROWS)


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_csv_encodings_detected(tmp_path, encoding):
    rows = [r for r in ROWS if "😊" not in r["コメント"]] if encoding == "cp932" else ROWS
    p = tmp_path / "in.csv"
    pd.DataFrame(rows).to_csv(p, index=False, encoding=encoding)
    res = read_input(p, InputConfig())
    assert res.text_column == "コメント"  # guessed from the candidates
    assert res.frame["コメント"].tolist() == [r["コメント"] for r in rows]
    assert res.encoding == encoding or (encoding == "utf-8" and res.encoding == "utf-8")


def test_all_formats_read_the_same_rows(tmp_path):
    df = _frame()
    paths = {"csv": tmp_path / "a.csv", "tsv": tmp_path / "a.tsv", "xlsx": tmp_path / "a.xlsx",
             "jsonl": tmp_path / "a.jsonl", "parquet": tmp_path / "a.parquet"}
    df.to_csv(paths["csv"], index=False)
    df.to_csv(paths["tsv"], index=False, sep="\t")
    df.to_excel(paths["xlsx"], index=False)
    paths["jsonl"].write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in ROWS), encoding="utf-8")
    df.to_parquet(paths["parquet"])
    for kind, p in paths.items():
        res = read_input(p, InputConfig())
        assert len(res.frame) == 3, kind
        assert res.frame["id"].tolist() == ["a1", "a2", "a3"], kind
        assert res.frame["コメント"].tolist()[:2] == ["配送が遅い", "ｽﾀｯﾌが親切でした😊"], kind


def test_xlsx_picks_sheet_with_text(tmp_path):
    p = tmp_path / "book.xlsx"
    with pd.ExcelWriter(p) as xw:
        pd.DataFrame({"説明": ["このファイルについて"]}).to_excel(xw, sheet_name="README", index=False)
        _frame().to_excel(xw, sheet_name="回答", index=False)
    res = read_input(p, InputConfig())
    assert res.sheet == "回答" and len(res.frame) == 3
    assert any(w.code == "W101" for w in res.warnings)


@pytest.mark.parametrize("content,needle", [
    (b"", "empty"),
    (b"\x00\x01\x02\x03\xff\xfe\x00\x00" * 200, "binary"),
])
def test_bad_files_give_one_line_errors(tmp_path, content, needle):
    p = tmp_path / "bad.csv"
    p.write_bytes(content)
    with pytest.raises(InputError) as e:
        read_input(p, InputConfig())
    assert needle in str(e.value) and "\n" not in str(e.value) and "Fix:" in str(e.value)


def test_missing_and_unknown(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_input(tmp_path / "nope.csv", InputConfig())
    p = tmp_path / "a.docx"
    p.write_text("x")
    with pytest.raises(InputError, match="unsupported file type"):
        read_input(p, InputConfig())


def test_no_text_column_lists_columns(tmp_path):
    p = tmp_path / "a.csv"
    pd.DataFrame({"no": [1], "score": [3]}).to_csv(p, index=False)
    with pytest.raises(InputError) as e:
        read_input(p, InputConfig())
    assert "'no'" in str(e.value) and "--text-column" in str(e.value)


def test_header_only(tmp_path):
    p = tmp_path / "a.csv"
    p.write_text("id,text\n", encoding="utf-8")
    res = read_input(p, InputConfig())
    assert len(res.frame) == 0 and any(w.code == "W104" for w in res.warnings)
