import pandas as pd
import pytest

from vocnlp.columns import choose_date_column, choose_id_column, choose_score_column, choose_text_column
from vocnlp.config import InputConfig
from vocnlp.errors import InputError

from .exports import CALL_NOTES, SURVEY_ANSWERS

BODIES = ([t for t in SURVEY_ANSWERS if t] + CALL_NOTES) * 2
BODIES = BODIES[:30]


def _frame(**cols):
    return pd.DataFrame({k: [str(v) for v in vals] for k, vals in cols.items()})


def test_the_longest_prose_wins_over_ids_versions_dates_and_categories():
    df = _frame(番号=[f"R{i:05d}" for i in range(30)], バージョン=["6.2.1"] * 30, 投稿日=["2024/07/03"] * 30,
                区分=["苦情", "要望"] * 15, タイトル=[b[:4] for b in BODIES], 本文テキスト=BODIES)
    assert choose_text_column(df, InputConfig()) == ("本文テキスト", "content")


def test_a_name_hint_does_not_make_an_id_the_text():
    df = _frame(レビューID=[f"gp:{i:08d}" for i in range(30)], 備考欄=BODIES)
    assert choose_text_column(df, InputConfig())[0] == "備考欄"


def test_a_typo_in_the_named_text_column_is_an_error():
    with pytest.raises(InputError, match="did you mean"):
        choose_text_column(_frame(コメント=BODIES), InputConfig(text_column="コメンド"))


def test_id_date_and_score_columns():
    df = _frame(受付番号=[f"C-{i}" for i in range(30)], 受付日=["令和6年7月3日"] * 30, 内容=BODIES,
                満足度_5段階=[1, 2, 3, 4, 5] * 6, 担当=["佐藤"] * 30)
    assert choose_id_column(df, InputConfig(), "内容") == "受付番号"
    assert choose_date_column(df, InputConfig(), {"内容"}) == ("受付日", True)
    assert choose_score_column(df, "auto") == "満足度_5段階"
    assert choose_score_column(df, None) is None
    assert choose_date_column(df, InputConfig(date_column=None), set()) == (None, False)
    dup = _frame(No=["1", "1"] + [str(i) for i in range(2, 30)], 内容=BODIES)
    assert choose_id_column(dup, InputConfig(), "内容") is None  # not unique: rows are numbered instead


def test_excel_serials_only_in_a_column_named_like_a_date():
    df = _frame(作成日=[45476 + i for i in range(30)], 金額=[45476 + i for i in range(30)], 内容=BODIES)
    assert choose_date_column(df, InputConfig(), {"内容"}) == ("作成日", True)
    df = _frame(金額=[45476 + i for i in range(30)], 内容=BODIES)
    assert choose_date_column(df, InputConfig(), {"内容"}) == (None, False)
