"""Wish and request clauses (vocnlp/models/wish.py): complaints said as what the customer would have liked."""

import pytest

from vocnlp.config import resolve_resource
from vocnlp.japanese import analyse
from vocnlp.models.lexicon import load_lexicon
from vocnlp.models.wish import wish_features, wish_spans


def _clauses(text):
    ms = analyse(text)
    return ["".join(m.surface for m in ms[a:b + 1]) for a, b in wish_spans(ms)]


@pytest.mark.parametrize("text, clause", [
    ("トイレがもう少し綺麗だとありがたい。", "トイレがもう少し綺麗だとありがたい"),
    ("エスカレーターがほしい", "エスカレーターがほしい"),
    ("もっとアピールしてほしい", "もっとアピールしてほしい"),
    ("お土産があったら良かった", "お土産があったら良かっ"),
    ("あればいいのに", "あればいい"),
    ("増やしてもらいたい", "増やしてもらいたい"),
    ("若い人に相場を周知すべき", "若い人に相場を周知すべき"),
    ("駐車場が広いと助かります", "駐車場が広いと助かり"),
])
def test_a_wish_clause_is_found_with_its_subject(text, clause):
    assert _clauses(text) == [clause]


def test_a_wish_after_a_contrast_or_punctuation_covers_only_its_own_clause():
    assert _clauses("料理は美味しかったが、もっと量があると嬉しい") == ["もっと量があると嬉しい"]
    assert _clauses("景色は最高。案内板がもう少し欲しい。") == ["案内板がもう少し欲しい"]


@pytest.mark.parametrize("text", ["スタッフがとても親切でした", "店員さんと話すと楽しい", "良ければまた来ます",
                                  "部屋が広くて快適でした", "また来たいと思います"])
def test_praise_and_plans_are_not_wishes(text):
    assert _clauses(text) == []


def test_features_count_wishes_praise_inside_them_and_a_wish_at_the_end():
    words = load_lexicon(str(resolve_resource("builtin:sentiment_lexicon.tsv"))).words
    f = wish_features(analyse("トイレがもう少し綺麗だとありがたい。"), words)
    assert f[0] > 0 and f[1] > 0 and f[2] == 1.0  # 綺麗 is praise of what was missing; the comment ends on it
    f = wish_features(analyse("案内板が欲しい。でも景色は最高でした"), words)
    assert f[0] > 0 and f[2] == 0.0
    assert not wish_features(analyse("スタッフがとても親切でした"), words).any()


def test_a_model_trained_with_wish_cues_saves_the_flag_and_the_shipped_ones_load_without_it(tmp_path):
    import numpy as np

    from vocnlp.models.features import lexicon_features
    from vocnlp.models.polarity_dict import N_FEATURES as N_POLARITY
    from vocnlp.models.trained import LinearTextClassifier, load_model
    from vocnlp.models.wish import N_FEATURES

    from ..conftest import FakeEmbedder

    lex = str(resolve_resource("builtin:sentiment_lexicon.tsv"))
    texts = ["トイレがもう少し綺麗だとありがたい", "案内板が欲しい", "景色が最高でした", "店員さんが親切", "バスで来ました",
             "駅から歩いた"] * 3
    y = ["negative", "negative", "positive", "positive", "neutral", "neutral"] * 3
    plain = lexicon_features(texts, lex, polarity_dict=True)
    both = lexicon_features(texts, lex, polarity_dict=True, wish_cues=True)
    assert both.shape == (len(texts), 7 + N_POLARITY + N_FEATURES)
    np.testing.assert_array_equal(both[:, :plain.shape[1]], plain)
    X = FakeEmbedder(16).embed(texts)
    m = LinearTextClassifier(["negative", "neutral", "positive"], False, use_ngrams=False, use_lexicon=True,
                             lexicon_path=lex, polarity_dict=True, wish_cues=True).fit(texts, X, y)
    m.save(tmp_path / "s" / "v1", {"task": "sentiment", "embedder": "fake/fake-16"})
    again = load_model(tmp_path / "s", lexicon_path=lex)
    assert again.wish_cues and again.metadata_["params"]["wish_cues"] is True
    assert np.allclose(again.predict_proba(texts, X), m.predict_proba(texts, X), atol=1e-6)
    for v in ("v3", "v4"):  # trained before the cues existed: no wish columns
        assert not load_model(resolve_resource("builtin:models/sentiment") / v).wish_cues
