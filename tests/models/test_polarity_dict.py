"""The Tohoku polarity dictionary's cues on fugashi morphemes: a predicate in any inflection, an experience-type
entry, a noun, a multi-word phrase, negation, and the feature columns the sentiment model reads."""

import numpy as np
import pytest

from vocnlp.config import resolve_resource
from vocnlp.japanese import analyse
from vocnlp.models.features import lexicon_features
from vocnlp.models.polarity_dict import KINDS, N_FEATURES, load_polarity_dict, matches, polarity_features

PD = load_polarity_dict()
LEX = resolve_resource("builtin:sentiment_lexicon.tsv")


def found(text: str) -> list[tuple[int, str]]:
    return [(polarity, kind) for _, polarity, kind in matches(analyse(text), PD)]


def column(kind: str, polarity: int) -> int:
    return KINDS.index(kind) * 2 + (0 if polarity > 0 else 1)


def test_the_dictionary_has_both_parts():
    kinds = {kind for _, kind in PD.entries.values()}
    assert kinds == {"eval", "exp", "noun"} and len(PD.entries) > 10_000


def test_an_inflected_predicate_matches_its_dictionary_form():
    assert found("トイレが汚かった") == [(-1, "eval")]


def test_an_experience_type_phrase_is_its_own_kind():
    assert PD.entries["もたつく"] == (-1, "exp")
    assert found("レジがもたついた") == [(-1, "exp")]
    f = polarity_features(analyse("レジがもたついた"), PD)
    assert f[column("exp", -1)] > 0 and f[column("eval", -1)] == 0 and f[-1] < 0


def test_a_noun_matches():
    assert found("駅前はひどい渋滞")[-1] == (-1, "noun")
    assert found("不便") == [(-1, "noun")]


def test_a_multi_word_phrase_matches_as_one():
    # 「敷居が高い」 is a negative phrase although 高い alone is not in the dictionary
    assert found("あの店は敷居が高かった") == [(-1, "eval")]


def test_negation_flips_a_match():
    assert found("困った") == [(-1, "exp")]
    assert found("特に困らなかった") == [(1, "exp")]
    assert found("混雑もなく") == [(1, "noun")]
    assert polarity_features(analyse("混雑もなく"), PD)[-1] > 0


def test_no_cue_is_all_zero():
    assert not polarity_features(analyse("バスで来ました"), PD).any()


def test_lexicon_features_append_the_dictionary_columns_only_when_asked():
    texts = ["トイレが汚かった", "景色が最高でした"]
    base = lexicon_features(texts, LEX)
    both = lexicon_features(texts, LEX, polarity_dict=True)
    assert base.shape == (2, 7) and both.shape == (2, 7 + N_FEATURES)
    np.testing.assert_array_equal(both[:, :7], base)
    assert both[0, -1] < 0 < both[1, -1]
    assert lexicon_features([], LEX, polarity_dict=True).shape == (0, 7 + N_FEATURES)


def test_a_missing_dictionary_folder_is_a_config_error(tmp_path):
    from vocnlp.errors import ConfigError

    with pytest.raises(ConfigError):
        load_polarity_dict(str(tmp_path))


def test_the_flag_is_saved_and_older_models_load_without_it(tmp_path):
    """A sentiment model trained with the dictionary's cues saves the flag and reloads with the same predictions;
    v2, saved before the flag existed, loads without it (7 dictionary features, as it was trained)."""
    from vocnlp.models.trained import LinearTextClassifier, load_model

    from ..conftest import FakeEmbedder

    texts = ["トイレが汚かった", "レジがもたついた", "景色が最高でした", "混雑もなく快適", "バスで来ました", "駅から歩いた"] * 3
    y = ["negative", "negative", "positive", "positive", "neutral", "neutral"] * 3
    X = FakeEmbedder(16).embed(texts)
    m = LinearTextClassifier(["negative", "neutral", "positive"], False, use_ngrams=False, use_lexicon=True,
                             lexicon_path=str(LEX), polarity_dict=True).fit(texts, X, y)
    assert m.coef_.shape[1] == 16 + 7 + N_FEATURES
    m.save(tmp_path / "s" / "v1", {"task": "sentiment", "embedder": "fake/fake-16"})
    again = load_model(tmp_path / "s", lexicon_path=str(LEX))
    assert again.polarity_dict and again.metadata_["params"]["polarity_dict"] is True
    assert np.allclose(again.predict_proba(texts, X), m.predict_proba(texts, X), atol=1e-6)
    v2 = load_model(resolve_resource("builtin:models/sentiment") / "v2")
    assert not v2.polarity_dict and "polarity_dict" not in v2.metadata_["params"]
    v3 = load_model(resolve_resource("builtin:models/sentiment") / "v3")
    assert v3.polarity_dict and v3.metadata_["polarity_dict"]["sha256"]
