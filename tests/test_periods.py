import pandas as pd
import pytest

from vocnlp.dates import parse_date, parse_dates
from vocnlp.errors import InputError
from vocnlp.history import HistoryStore
from vocnlp.periods import (
    check_same_kind,
    choose_period,
    from_file_name,
    label_dates,
    parse_period,
    period_kind,
)


@pytest.mark.parametrize("given,expected", [("2026-W47", "2026-W47"), ("2026-w7", "2026-W07"), ("2026-11", "2026-11"),
                                            ("2026-3", "2026-03"), ("2026-Q4", "2026-Q4"), ("2026-q1", "2026-Q1")])
def test_parse_period_accepts_weeks_months_quarters(given, expected):
    assert parse_period(given) == expected


@pytest.mark.parametrize("bad", ["2026-W54", "2026-13", "2026-Q5", "2026-11-20", "last week", "W47"])
def test_parse_period_refuses_the_rest(bad):
    with pytest.raises(InputError, match="--period like"):
        parse_period(bad)


def test_period_kinds_and_file_names():
    assert [period_kind(p) for p in ("2026-W01", "2026-01", "2026-Q1", "x", None)] == ["week", "month", "quarter",
                                                                                      None, None]
    assert from_file_name("midori_2026-W46.csv") == "2026-W46"
    assert from_file_name("reviews_2024-Q3.xlsx") == "2024-Q3"
    assert from_file_name("survey_2024-07.csv") == "2024-07"
    assert from_file_name("export_2026-11-20.csv") is None  # a day is not a month
    assert from_file_name("export.csv") is None


@pytest.mark.parametrize("text,expected", [
    ("2024/07/03", "2024-07-03"), ("2024-07-03T10:00+09:00", "2024-07-03"), ("2024年7月3日", "2024-07-03"),
    ("令和6年7月3日", "2024-07-03"), ("R6.7.3", "2024-07-03"), ("平成元年5月1日", "1989-05-01"),
    ("２０２４／０７／０３ １０：００", "2024-07-03"), ("2024年7月3日(水) 9時", "2024-07-03"),
    ("2024/02/30", None), ("1.2.3", None), ("45476", None), ("", None)])
def test_dates_as_people_write_them(text, expected):
    got = parse_date(text)
    assert (got.isoformat() if got else None) == expected


def test_excel_serials_only_when_asked():
    assert parse_date("45476", serials=True).isoformat() == "2024-07-03"
    assert parse_date("20240703", serials=True).isoformat() == "2024-07-03"
    assert parse_date("123", serials=True) is None


def test_label_dates_per_kind():
    d = parse_dates(pd.Series(["2024-12-30", "2024-07-03", "", "2024-03-31"]))
    assert label_dates(d, "week").tolist() == ["2025-W01", "2024-W27", None, "2024-W13"]
    assert label_dates(d, "month").tolist() == ["2024-12", "2024-07", None, "2024-03"]
    assert label_dates(d, "quarter").tolist() == ["2024-Q4", "2024-Q3", None, "2024-Q1"]


def test_a_file_spanning_periods_is_stored_under_its_main_one_and_says_so(tmp_path):
    dates = parse_dates(pd.Series(["2024-07-01", "2024-07-20", "2024-08-02", "2024-09-30"]))
    week = choose_period(None, tmp_path / "export.csv", dates, "week", "投稿日")
    assert week.period in label_dates(dates, "week").tolist()  # never a period the data does not contain
    assert [w.code for w in week.warnings] == ["W303"] and "--split week" in week.warnings[0].message
    quarter = choose_period(None, tmp_path / "export.csv", dates, "quarter", "投稿日")
    assert quarter.period == "2024-Q3" and not quarter.warnings
    assert choose_period("2024-Q3", tmp_path / "x_2026-W01.csv", dates, "week").source == "given"


def test_a_history_keeps_one_kind(tmp_path):
    check_same_kind([], "2026-11")
    check_same_kind(["2026-10", "2026-11"], "2026-12")
    with pytest.raises(InputError, match="one history keeps one kind") as e:
        check_same_kind(["2026-W44", "2026-W45"], "2026-11")
    assert "history.path" in str(e.value)
    store = HistoryStore(tmp_path / "h")
    store.require_kind("2026-Q1")  # empty: any kind
    store.close()
