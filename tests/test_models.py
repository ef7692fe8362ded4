"""Trained models: safe loading, tamper detection, the hard sentiment cases, and training on a new taxonomy."""

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vocnlp.config import load_config, resolve_resource
from vocnlp.errors import ModelLoadError
from vocnlp.models.trained import LinearTextClassifier, load_model
from vocnlp.training import compute_metrics, prepared_texts

from .conftest import FakeEmbedder

BUILTIN = resolve_resource("builtin:models/sentiment")


def test_builtin_models_load_with_metadata():
    for task in ("cx_dimension", "journey_stage", "sentiment"):
        m = load_model(resolve_resource(f"builtin:models/{task}"), expect_task=task)
        assert m.metadata_["task"] == task and m.metadata_["training_data"]["sha256"]
        assert (m.folder_ / "MODEL_CARD.md").exists()
        assert not list(m.folder_.glob("*.pkl")) and not list(m.folder_.glob("*.pickle"))


def test_tampered_model_is_refused(tmp_path):
    folder = tmp_path / "sent"
    shutil.copytree(sorted(BUILTIN.glob("v*"))[-1], folder)
    data = bytearray((folder / "weights.safetensors").read_bytes())
    data[-5] ^= 0xFF
    (folder / "weights.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="modified"):
        load_model(folder)


def test_mismatched_labels_and_task_are_refused():
    with pytest.raises(ModelLoadError, match="is a 'sentiment' model"):
        load_model(BUILTIN, expect_task="journey_stage")
    with pytest.raises(ModelLoadError, match="trained on labels"):
        load_model(BUILTIN, expect_labels=["bad", "good"])


def test_roundtrip_on_custom_taxonomy(tmp_path):
    """A company's own label set (配送/決済/アプリ/サポート) trains and reloads with the same predictions."""
    texts = ["配送が遅い", "荷物が届かない", "置き配で濡れていた", "カード決済でエラー", "支払い方法が少ない", "決済画面が固まる",
             "アプリが落ちる", "アプリのログインができない", "アプリの文字が小さい", "電話がつながらない", "サポートの返事が遅い",
             "問い合わせに丁寧に答えてくれた"] * 3
    y = [["配送"]] * 3 + [["決済"]] * 3 + [["アプリ"]] * 3 + [["サポート"]] * 3
    y = y * 3
    emb = FakeEmbedder(32)
    X = emb.embed(texts)
    m = LinearTextClassifier(["配送", "決済", "アプリ", "サポート"], multi_label=True).fit(texts, X, y)
    m.save(tmp_path / "m" / "v1", {"task": "cx_dimension", "embedder": "fake/fake-32"})
    again = load_model(tmp_path / "m", expect_task="cx_dimension")
    assert np.allclose(again.predict_proba(texts, X), m.predict_proba(texts, X), atol=1e-6)
    metrics = compute_metrics("cx_dimension", m.classes_, True, y, again.predict(texts, X))
    assert metrics.macro_f1 > 0.9


def test_class_weight_is_kept_and_changes_the_fit(tmp_path):
    """class_weight=None fits the training mix (a rare label needs more evidence) and is saved with the model;
    a model saved before the option existed loads as balanced."""
    texts = [f"配送が遅い{i}" for i in range(12)] + ["アプリが落ちる", "アプリが固まる", "アプリが重い"]
    y = [["配送"]] * 12 + [["アプリ"]] * 3
    X = FakeEmbedder(32).embed(texts)
    mix = LinearTextClassifier(["配送", "アプリ"], multi_label=True, class_weight=None).fit(texts, X, y)
    bal = LinearTextClassifier(["配送", "アプリ"], multi_label=True).fit(texts, X, y)
    assert mix.predict_proba(texts, X)[:, 1].mean() < bal.predict_proba(texts, X)[:, 1].mean()
    mix.save(tmp_path / "m" / "v1", {"task": "cx_dimension", "embedder": "fake/fake-32"})
    again = load_model(tmp_path / "m")
    assert again.class_weight is None and again.metadata_["params"]["class_weight"] is None
    assert np.allclose(again.predict_proba(texts, X), mix.predict_proba(texts, X), atol=1e-6)
    old = load_model(resolve_resource("builtin:models/sentiment") / "v1")
    assert old.class_weight == "balanced"


HARD_CASES = Path(__file__).parent / "fixtures" / "sentiment_hard_cases.csv"


@pytest.mark.slow
def test_hard_sentiment_cases_with_default_model():
    """The hard-case suite (expected labels written by hand) with the shipped model and real embeddings.

    Known misses of model v1 (measured 2026-11-25, 21/25 right): 「悪くない」 alone reads as negative and
    「…してもらえると助かります」 (a request) as positive; the bar below keeps them visible, not hidden."""
    from vocnlp.training import embed_for

    cases = pd.read_csv(HARD_CASES, dtype=str, keep_default_na=False)
    cfg = load_config(None)
    texts = prepared_texts(cases.text.tolist(), cfg)
    X, _ = embed_for(texts, cfg)
    model = load_model(BUILTIN)
    pred = model.predict(texts, X)
    acc = float(np.mean([p == e for p, e in zip(pred, cases.expected)]))
    polar = [t for t, p, e in zip(cases.text, pred, cases.expected) if {p, e} == {"positive", "negative"}]
    assert acc >= 0.8, list(zip(cases.text, cases.expected, pred))
    assert len(polar) <= 2, polar


def test_weak_labels_from_scores():
    from vocnlp.training import weak_labels

    labels, rule = weak_labels(pd.Series(["0", "6", "7", "8", "9", "10", ""]))
    assert labels.tolist() == ["negative", "negative", "neutral", "neutral", "positive", "positive", None]
    assert "NPS" in rule
    labels, rule = weak_labels(pd.Series([1, 2, 3, 4, 5]))
    assert labels.tolist() == ["negative", "negative", "neutral", "positive", "positive"] and "stars" in rule


def test_sentiment_abstains_to_neutral_when_unsure():
    m = LinearTextClassifier(["negative", "neutral", "positive"], multi_label=False)
    m.classes_, m.multi_label_, m.abstain_ = ["negative", "neutral", "positive"], False, 0.6
    P = np.array([[0.55, 0.1, 0.35], [0.8, 0.1, 0.1], [0.2, 0.2, 0.6]])
    assert m.predict_from_proba(P) == ["neutral", "negative", "positive"]


@pytest.mark.slow
def test_train_from_scores_cli(tmp_path):
    """`vocnlp train sentiment --from-score nps` on a sample week: weak labels, a saved, loadable model."""
    from typer.testing import CliRunner

    from vocnlp.cli.main import app

    from .conftest import SAMPLE_DIR

    out = tmp_path / "m"
    res = CliRunner().invoke(app, ["train", "sentiment", str(SAMPLE_DIR / "midori_2026-W44.csv"), "--from-score", "nps",
                                   "--out", str(out)])
    assert res.exit_code == 0, res.output
    m = load_model(out)
    assert m.metadata_["training_data"]["weak_labels_from_score"]["column"] == "nps"
    res = CliRunner().invoke(app, ["train", "cx_dimension", str(SAMPLE_DIR / "midori_2026-W44.csv"), "--from-score", "nps"])
    assert res.exit_code == 2 and "sentiment model only" in res.output


def test_a_corrupt_current_model_stops_training_instead_of_disabling_the_gate(tmp_path):
    from vocnlp.training import _current_model

    assert _current_model(tmp_path / "none_yet") is None  # no model yet: nothing to protect
    out = tmp_path / "sentiment"
    shutil.copytree(sorted(BUILTIN.glob("v*"))[-1], out / "v1")
    assert _current_model(out).classes_ == ["negative", "neutral", "positive"]
    data = bytearray((out / "v1" / "weights.safetensors").read_bytes())
    data[-5] ^= 0xFF
    (out / "v1" / "weights.safetensors").write_bytes(bytes(data))
    with pytest.raises(ModelLoadError, match="cannot be compared") as err:
        _current_model(out)
    assert "Fix:" in str(err.value) and "--force" in str(err.value)
    assert _current_model(out, force=True) is None


@pytest.mark.parametrize("line", ["良い\t0.5", "良い\tとても\tword", "(良\t0.5\tphrase"])
def test_a_bad_user_lexicon_is_a_config_error(tmp_path, line):
    from vocnlp.errors import ConfigError
    from vocnlp.models.lexicon import load_lexicon

    p = tmp_path / "lex.tsv"
    p.write_text("# my words\n悪い\t-0.6\tword\n" + line + "\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="line 3") as err:
        load_lexicon(str(p))
    assert err.value.code == "E200" and "Fix:" in str(err.value)


@pytest.mark.slow
def test_train_cli_takes_several_files(tmp_path):
    """`vocnlp train TASK A.csv B.csv`: both files are read, and the metadata lists both."""
    import pandas as pd
    from typer.testing import CliRunner

    from vocnlp.cli.main import app

    from .conftest import ROOT

    seed = pd.read_csv(ROOT / "data" / "train" / "seed_g.csv", dtype=str, keep_default_na=False)
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    seed.iloc[:70].to_csv(a, index=False)
    seed.iloc[70:140].to_csv(b, index=False)
    out = tmp_path / "m"
    res = CliRunner().invoke(app, ["train", "sentiment", str(a), str(b), "--out", str(out)])
    assert res.exit_code == 0, res.output
    data = load_model(out).metadata_["training_data"]
    assert data["files"] == ["a.csv", "b.csv"]
    assert data["n_train"] + data["n_dev"] == 140
