"""A real export just works: exports in the shape real tools write them run with no flags beyond the input
and --output, and a year backfills into months or weeks with one command (fake embedder: fast)."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from vocnlp.cli.main import app
from vocnlp.config import InputConfig
from vocnlp.errors import InputError
from vocnlp.history import HistoryStore
from vocnlp.stages.ingest import read_input

from . import exports
from .conftest import SHARED_CHECK

runner = CliRunner()
# the fake embedder needs models that do not depend on the embedding space; the real model is tested below (slow)
FAST = {"classify": {"cx_dimension": {"method": "prototype"}, "journey_stage": {"method": "prototype"}},
        "sentiment": {"method": "lexicon"}}


@pytest.fixture
def fast(tmp_path):
    import yaml

    p = tmp_path / "fast.yaml"
    p.write_text(yaml.safe_dump(FAST), encoding="utf-8")
    return ["--config", str(p)]


def _run(path, out, *extra):
    result = runner.invoke(app, ["run", str(path), "--output", str(out), *extra])
    assert result.exit_code == 0, result.output
    return result, json.loads((out / "manifest.json").read_text(encoding="utf-8"))


def _contract(out, path):
    if SHARED_CHECK.exists():
        check = subprocess.run([sys.executable, str(SHARED_CHECK), str(out), str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr


@pytest.mark.parametrize("make,name,text,id_col,date_col,periods_in_data", [
    (exports.app_store_xlsx, "reviews.xlsx", "レビュー本文", "レビューID", "投稿日",
     {f"2024-W{w:02d}" for w in range(27, 41)}),
    (exports.survey_csv_cp932, "survey.csv", "ご意見・ご要望（自由記述）", None, "回答日時", {"2024-W27"}),
    (exports.call_centre_tsv, "calls.tsv", "内容", "受付番号", "受付日", {"2024-W27"}),
])
def test_real_exports_run_with_no_flags(tmp_path, use_fake_embedder, fast, make, name, text, id_col, date_col,
                                        periods_in_data):
    path = make(tmp_path / name)
    result, m = _run(path, tmp_path / "out", *fast)
    i = m["input"]
    assert (i["text_column"], i["id_column"], i["date_column"]) == (text, id_col, date_col)
    assert i["text_column_chosen_by"] == "content" and f"text column: '{text}'" in result.output
    assert m["history"]["period"] in periods_in_data  # a period the data holds, never today's week
    items = pd.read_csv(tmp_path / "out" / "items.csv", dtype=str, keep_default_na=False)
    source = read_input(path, InputConfig()).frame
    assert len(items) == len(source)
    if id_col:
        assert items["id"].tolist() == source[id_col].tolist()
    _contract(tmp_path / "out", path)


@pytest.mark.slow
def test_app_store_export_with_the_real_model_and_no_flags(tmp_path):
    path = exports.app_store_xlsx(tmp_path / "reviews.xlsx")
    _, m = _run(path, tmp_path / "out")
    assert m["input"]["text_column"] == "レビュー本文" and m["history"]["stored"]
    _contract(tmp_path / "out", path)


def test_app_store_export_names_its_span_and_score(tmp_path, use_fake_embedder, fast):
    path = exports.app_store_xlsx(tmp_path / "reviews.xlsx")
    _, m = _run(path, tmp_path / "out", *fast)
    assert m["drivers"]["column"] == "評価"
    w303 = [w for w in m["warnings"] if w["code"] == "W303"]
    assert w303 and "--split week" in w303[0]["message"]
    _, q = _run(path, tmp_path / "q", "--period", "2024-Q3", "--no-history", *fast)
    assert q["history"]["period"] == "2024-Q3"
    refused = runner.invoke(app, ["run", str(path), "--output", str(tmp_path / "x"), "--period", "2024-Q3",
                                  "--split", "month"])
    assert refused.exit_code == 2


def test_one_year_backfills_into_twelve_months(tmp_path, use_fake_embedder, fast):
    path = exports.one_year_csv(tmp_path / "year.csv")
    result = runner.invoke(app, ["run", str(path), "--output", str(tmp_path / "runs"), "--split", "month", *fast])
    assert result.exit_code == 0, result.output
    months = [f"2024-{m:02d}" for m in range(1, 13)]
    summary = pd.read_csv(tmp_path / "runs" / "backfill.csv", dtype={"period": str})
    assert summary.period.tolist() == [*months, "undated"]
    assert summary.rows.sum() == 364 + 3  # every row, the undated ones too
    store = HistoryStore(".vocnlp/history")
    assert store.periods() == months
    store.close()
    for p in months:
        assert (tmp_path / "runs" / p / "report.html").exists()
    undated = pd.read_csv(tmp_path / "runs" / "undated" / "items.csv", dtype=str, keep_default_na=False)
    assert sorted(undated["id"]) == ["u0", "u1", "u2"]
    assert "W304" in result.output and "12 months" in result.output
    again = runner.invoke(app, ["run", str(path), "--output", str(tmp_path / "again"), "--split", "month", *fast])
    assert again.exit_code == 2 and "history drop --from 2024-01" in again.output


@pytest.mark.slow  # 52 runs: about 100 s even with the fake embedder
def test_one_year_backfills_into_52_weeks(tmp_path, use_fake_embedder, fast):
    path = exports.one_year_csv(tmp_path / "year.csv", undated=0)
    result = runner.invoke(app, ["run", str(path), "--output", str(tmp_path / "runs"), "--split", "week", "-q", *fast])
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(tmp_path / "runs" / "backfill.csv")
    assert summary.period.tolist() == [f"2024-W{w:02d}" for w in range(1, 53)]
    assert (summary.rows == 7).all()


def test_a_month_does_not_join_a_weekly_history(tmp_path, use_fake_embedder, small_csv, fast):
    _run(small_csv, tmp_path / "w", "--period", "2026-W44", *fast)
    refused = runner.invoke(app, ["run", str(small_csv), "--output", str(tmp_path / "m"), "--period", "2026-11", *fast])
    assert refused.exit_code == 2 and "one history keeps one kind" in refused.output


def test_a_nul_byte_in_one_comment_keeps_the_file(tmp_path):
    p = tmp_path / "crm.csv"
    p.write_bytes("id,内容\n1,配送が遅い\n2,電話が\x00つながらない\x07\n3,対応が丁寧でした\n".encode())
    res = read_input(p, InputConfig())
    assert res.frame["内容"].tolist() == ["配送が遅い", "電話がつながらない", "対応が丁寧でした"]
    assert res.control_rows == [2] and res.describe()["rows_with_control_characters"] == 1
    assert any(w.code == "W109" and "row 2" in w.message for w in res.warnings)


@pytest.mark.parametrize("head", [b"PK\x03\x04" + b"\x00" * 40, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4])
def test_binary_files_are_still_refused(tmp_path, head):
    p = tmp_path / "export.csv"
    p.write_bytes(head)
    with pytest.raises(InputError, match="binary"):
        read_input(p, InputConfig())


def _survey_book(path, title_rows):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for r in title_rows:
        ws.append(r)
    ws.append(["回答ID", "回答日時", "満足度", "自由記述"])
    for i, text in enumerate(exports.SURVEY_ANSWERS[:8]):
        ws.append([f"A{i + 1:03d}", f"2024/07/0{1 + i % 5} 10:00", 1 + i % 5, text])
    wb.save(path)
    return path


def test_xlsx_with_a_title_and_a_blank_row_finds_its_header(tmp_path):
    p = _survey_book(tmp_path / "survey.xlsx", [["2024年7月 来店アンケート 回答一覧"], []])
    res = read_input(p, InputConfig())
    assert res.header_row == 3 and res.text_column == "自由記述" and res.id_column == "回答ID"
    assert len(res.frame) == 8 and res.frame["回答ID"].iloc[0] == "A001"
    assert any(w.code == "W108" and "input.header_row" in w.message for w in res.warnings)
    fixed = read_input(p, InputConfig(header_row=3))
    assert fixed.frame.equals(res.frame) and not any(w.code == "W108" for w in fixed.warnings)


def test_header_row_named_in_the_error_when_not_found(tmp_path):
    p = tmp_path / "notes.xlsx"
    pd.DataFrame({"番号": [1, 2], "点数": [3, 4]}).to_excel(p, index=False)
    with pytest.raises(InputError, match="input.header_row"):
        read_input(p, InputConfig())
