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


def test_stage_prior_reweights_equal_stage_probabilities_to_the_configured_mix():
    P = np.array([[0.6, 0.4], [0.3, 0.7], [0.05, 0.95]])
    w = classify.prior_weights(["来店", "会計"], {"来店": 9.0, "会計": 1.0})  # shares need not sum to 1
    assert w.tolist() == pytest.approx([0.9, 0.1])
    Q = classify.apply_prior(P, w)
    assert np.allclose(Q.sum(axis=1), 1.0)
    assert Q[1] == pytest.approx([0.27 / 0.34, 0.07 / 0.34])  # Bayes: p * prior, renormalised
    assert Q.argmax(axis=1).tolist() == [0, 0, 1]  # a lean towards the rare stage flips; a clear one stays
    assert classify.apply_prior(P, classify.prior_weights(["来店", "会計"], None)) is P


def test_stage_prior_in_the_classify_stage_and_a_prior_that_does_not_fit_the_labels():
    from vocnlp.errors import ConfigError

    cx, stage = _trained(CX), _trained(STAGE)
    texts = ["レジが混んでいた", "駐車場が狭い", "配送が遅い"]
    df = pd.DataFrame({S.TEXT_NORM: texts, S.STATUS: ["ok"] * 3})
    ok, X = np.ones(3, bool), EMB.embed(texts)
    plain = classify.run(df, ok, X, cx, stage)
    assert set(plain[S.JOURNEY_STAGE]) == {"会計", "来店"}
    skewed = classify.run(df, ok, X, cx, stage, {"来店": 1e-6, "会計": 1.0})
    assert skewed[S.JOURNEY_STAGE].tolist() == ["会計"] * 3
    assert (skewed[S.JOURNEY_CONFIDENCE] >= plain[S.JOURNEY_CONFIDENCE] - 1e-9).all()
    with pytest.raises(ConfigError, match="not stages"):
        classify.run(df, ok, X, cx, stage, {"来店": 0.5, "購入": 0.5})
    with pytest.raises(ConfigError, match="a share for each"):
        classify.run(df, ok, X, cx, stage, {"来店": 1.0})


def test_cx_per_segment_averages_the_item_with_its_highest_segment():
    cx, stage = _trained(CX), _trained(STAGE)
    texts = ["荷物が届かないけど店員さんが親切", "配送が遅い"]
    segs = [["荷物が届かないけど", "店員さんが親切 "], ["配送が遅い"]]
    df = pd.DataFrame({S.TEXT_NORM: texts, S.STATUS: ["ok", "ok"], S.SEGMENTS: segs})
    ok, X = np.ones(2, bool), EMB.embed(texts)
    asked = []

    def seg_embed(t):
        asked.extend(t)
        return EMB.embed(t)

    out = classify.run(df, ok, X, cx, stage, seg_embed=seg_embed)
    assert asked == ["荷物が届かないけど", "店員さんが親切"]  # only comments with 2+ segments, stripped
    P, Q = cx.predict_proba(texts, X), cx.predict_proba(asked, EMB.embed(asked))
    want = (P[0] + Q.max(axis=0)) / 2
    got = [out[S.cx_column(c)].iloc[0] for c in cx.classes_]
    assert got == pytest.approx(np.round(want, 4).tolist(), abs=1e-4)
    assert [out[S.cx_column(c)].iloc[1] for c in cx.classes_] == pytest.approx(np.round(P[1], 4).tolist(), abs=1e-4)
    assert out[S.CX_DIMENSIONS].iloc[0] == "|".join(cx.predict_from_proba(want[None, :])[0])
    without = classify.run(df, ok, X, cx, stage)
    assert [without[S.cx_column(c)].iloc[0] for c in cx.classes_] == pytest.approx(np.round(P[0], 4).tolist(), abs=1e-4)
    asked.clear()  # seg_rows (per_segment: long) limits it to the rows given: here none with 2+ segments
    limited = classify.run(df, ok, X, cx, stage, seg_embed=seg_embed, seg_rows=np.array([False, True]))
    assert asked == [] and limited[S.CX_DIMENSIONS].tolist() == without[S.CX_DIMENSIONS].tolist()


def test_cx_prior_moves_each_label_from_its_dev_share_to_the_configured_share():
    from vocnlp.errors import ConfigError

    cx, stage = _trained(CX), _trained(STAGE)
    cx.metadata_ = {"metrics": {"dev": {"n": 100, "per_label": {"配送": {"support": 50}, "接客": {"support": 20}}}}}
    P = np.array([[0.5, 0.2], [0.9, 0.6]])
    Q = classify.shift_prevalence(P, cx, {"配送": 0.2})  # 配送 rarer than on dev; 接客 not given: unchanged
    assert Q[0, 0] == pytest.approx(0.2) and Q[:, 1] == pytest.approx(P[:, 1])  # logit shift: 0.5 at dev odds -> 0.2
    assert (Q[:, 0] < P[:, 0]).all()
    assert classify.shift_prevalence(P, cx, None) is P
    texts = ["荷物が届かない", "店員さんが親切"]
    df = pd.DataFrame({S.TEXT_NORM: texts, S.STATUS: ["ok", "ok"]})
    out = classify.run(df, np.ones(2, bool), EMB.embed(texts), cx, stage, cx_prior={"配送": 1e-6, "接客": 1e-6})
    assert out[S.CX_DIMENSIONS].tolist() == ["", ""]
    with pytest.raises(ConfigError, match="not"):
        classify.shift_prevalence(P, cx, {"購入": 0.5})
    with pytest.raises(ConfigError):
        classify.shift_prevalence(P, cx, {"配送": 1.5})
    with pytest.raises(ConfigError):  # a model with no dev metrics (prototype) has no mix to move from
        classify.shift_prevalence(P, PrototypeClassifier().fit(CX, EMB.embed), {"配送": 0.2})
