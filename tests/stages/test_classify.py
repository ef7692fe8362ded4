"""The prototype classifier, the one classifier interface, and the classify stage on both kinds of model."""

import numpy as np
import pandas as pd
import pytest

from vocnlp import schema as S
from vocnlp.labels import Label, LabelSet
from vocnlp.models.base import TextClassifier
from vocnlp.models.prototype import PrototypeClassifier
from vocnlp.models.trained import LinearTextClassifier
from vocnlp.stages import classify

from ..conftest import FakeEmbedder

EMB = FakeEmbedder(64)
CX = LabelSet("cx_dimension", True, (Label("配送", "配送", "配送 届く 遅い 荷物", ("荷物が届かない",)),
                                      Label("接客", "接客", "店員 対応 親切 態度", ("店員さんが親切",))))
STAGE = LabelSet("journey_stage", False, (Label("来店", "来店", "駐車場 場所 営業時間", ()),
                                          Label("会計", "会計", "レジ 支払い 会計 ポイント", ("レジが混んでいた",))))


def test_prototype_classifier_scores_by_closeness_to_the_labels():
    stage = PrototypeClassifier(tau=0.05).fit(STAGE, EMB.embed)
    texts = ["レジの会計で支払いが遅い", "駐車場の場所が分かりにくい"]
    P = stage.predict_proba(None, EMB.embed(texts))
    assert P.shape == (2, 2) and np.allclose(P.sum(axis=1), 1.0)
    assert stage.predict(None, EMB.embed(texts)) == ["会計", "来店"]
    cx = PrototypeClassifier(tau=0.05, threshold=0.5).fit(CX, EMB.embed)
    P = cx.predict_proba(None, EMB.embed(texts))
    assert np.allclose(P.max(axis=1), 1.0)  # multi-label: relative scores, the best label is 1
    assert list(cx.thresholds_) == [0.5, 0.5]
    assert cx.predict_from_proba(np.array([[1.0, 0.6], [1.0, 0.2]])) == [["配送", "接客"], ["配送"]]


def _trained(label_set: LabelSet):
    texts = ["荷物が届かない", "配送が遅い", "店員さんが親切", "対応が丁寧", "レジが混んでいた", "駐車場が狭い"] * 4
    if label_set.multi_label:
        y = [["配送"], ["配送"], ["接客"], ["接客"], ["配送", "接客"], []] * 4
    else:
        y = ["会計", "会計", "会計", "会計", "会計", "来店"] * 4
    return LinearTextClassifier(label_set.names, label_set.multi_label, use_ngrams=False).fit(texts, EMB.embed(texts), y)


@pytest.mark.parametrize("kind", ["prototype", "trained"])
def test_classify_stage_uses_one_interface(kind):
    cx = PrototypeClassifier().fit(CX, EMB.embed) if kind == "prototype" else _trained(CX)
    stage = PrototypeClassifier().fit(STAGE, EMB.embed) if kind == "prototype" else _trained(STAGE)
    assert isinstance(cx, TextClassifier) and isinstance(stage, TextClassifier)
    texts = ["荷物が届かないし店員も無愛想", "", "レジで待たされた"]
    df = pd.DataFrame({S.TEXT_NORM: texts, S.STATUS: ["ok", "empty", "ok"]})
    ok = (df[S.STATUS] == "ok").to_numpy()
    X = EMB.embed([t for t, o in zip(texts, ok) if o])
    out = classify.run(df, ok, X, cx, stage)
    P_cx, P_st = cx.predict_proba(texts, X), stage.predict_proba(texts, X)
    assert out[S.CX_DIMENSIONS].tolist() == ["|".join(cx.predict_from_proba(P_cx)[0]), "",
                                             "|".join(cx.predict_from_proba(P_cx)[1])]
    assert out[S.cx_column("配送")].iloc[[0, 2]].tolist() == pytest.approx(np.round(P_cx[:, 0], 4).tolist())
    assert np.isnan(out[S.cx_column("接客")].iloc[1])
    assert out[S.JOURNEY_STAGE].tolist() == [stage.classes_[P_st[0].argmax()], "", stage.classes_[P_st[1].argmax()]]
    assert out[S.JOURNEY_CONFIDENCE].iloc[[0, 2]].tolist() == pytest.approx(np.round(P_st.max(axis=1), 4).tolist())
    assert list(df.columns) == [S.TEXT_NORM, S.STATUS]  # the input frame is not changed


def test_classify_stage_with_no_analysed_rows():
    cx, stage = PrototypeClassifier().fit(CX, EMB.embed), PrototypeClassifier().fit(STAGE, EMB.embed)
    df = pd.DataFrame({S.TEXT_NORM: [""], S.STATUS: ["empty"]})
    out = classify.run(df, np.array([False]), np.zeros((0, 64), np.float32), cx, stage)
    assert out[S.CX_DIMENSIONS].tolist() == [""] and out[S.JOURNEY_STAGE].tolist() == [""]
