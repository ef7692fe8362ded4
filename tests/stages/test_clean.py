"""The clean stage: the text the models see, and exact duplicates within a run."""

import pandas as pd

from vocnlp import schema as S
from vocnlp.config import load_config
from vocnlp.stages import clean
from vocnlp.training import prepared_texts


def _run(texts, cfg):
    df = pd.DataFrame({"text": texts, S.ROW: range(len(texts))})
    out, _ = clean.run(df, "text", cfg.clean, cfg.privacy)
    return out


def test_training_prepares_texts_exactly_as_a_run_does():
    cfg = load_config(None, {"clean.max_chars": 100})
    long = "配送が遅くて困りました。" * 30  # 360 characters: cut at clean.max_chars in a run, and so in training
    texts = [long, "ｿﾌｧが最高！！！！！ https://example.com", "連絡は090-1234-5678、taro@example.com まで。山田様",
             "  二行\r\n  目  ", "なし", ""]
    run_texts = _run(texts, cfg)[S.TEXT_NORM].tolist()
    assert prepared_texts(texts, cfg) == run_texts
    assert len(run_texts[0]) == 100
    assert "090" not in run_texts[2] and "example" not in run_texts[2]


def test_training_follows_the_privacy_setting_too():
    cfg = load_config(None, {"privacy.mask_pii": False})
    texts = ["連絡は090-1234-5678まで"]
    assert prepared_texts(texts, cfg) == _run(texts, cfg)[S.TEXT_NORM].tolist() == ["連絡は090-1234-5678まで"]


def test_exact_duplicates_are_flagged_and_still_analysed():
    cfg = load_config(None)
    out = _run(["配送が遅い", "店員さんが親切", "配送が遅い", "なし", "なし", "配送が遅い "], cfg)
    assert out[S.IS_DUPLICATE].tolist() == [False, False, True, False, False, False]
    assert out[S.STATUS].tolist() == ["ok", "ok", "ok", "non_answer", "non_answer", "ok"]
