"""The dictionary scorer's rules, one by one: negation, double negation, intensifiers, softeners, emoji, contrast."""

import pytest

from vocnlp.config import resolve_resource
from vocnlp.japanese import analyse
from vocnlp.models.lexicon import combine, load_lexicon, score_segment

LEX = load_lexicon(str(resolve_resource("builtin:sentiment_lexicon.tsv")))


def raw(text: str) -> float:
    return score_segment(text, analyse(text), LEX).raw


def test_word_polarity_from_the_dictionary():
    assert raw("良い") == pytest.approx(LEX.words["良い"]) and raw("良い") > 0
    assert raw("悪い") == pytest.approx(LEX.words["悪い"]) and raw("悪い") < 0


def test_negation_flips_and_softens():
    # a negated positive word is clearly negative (x0.8), a negated negative word only mildly positive (x0.5)
    assert raw("良くない") == pytest.approx(-0.8 * LEX.words["良い"])
    assert raw("悪くない") == pytest.approx(-0.5 * LEX.words["悪い"])
    assert 0 < raw("悪くない") < raw("良い")


def test_double_negation_turns_back_weakly():
    # 不満がないわけではない: 「不満がない」 is mildly positive, 「わけではない」 negates that again, halved
    assert raw("不満がない") > 0
    assert raw("不満がないわけではない") == pytest.approx(-0.5 * raw("不満がない"))


def test_intensifiers_and_softeners_scale_the_next_word():
    assert raw("とても良い") == pytest.approx(1.5 * raw("良い"))
    assert raw("少し悪い") == pytest.approx(0.6 * raw("悪い"))


def test_emoji_add_polarity_and_are_shown_as_evidence():
    scored = score_segment("最悪😡", analyse("最悪😡"), LEX)
    assert scored.raw == pytest.approx(raw("最悪") - 0.3)
    assert ("😢/顔文字", -0.3) in scored.evidence


def test_the_clause_after_a_contrast_weighs_more():
    def item(segments):
        return combine([score_segment(s, analyse(s), LEX) for s in segments], segments).score

    assert item(["値段は安いけど", "品質が悪い"]) < item(["品質が悪い", "値段は安い"]) < 0  # 「けど」 shifts weight to the end
    assert item(["品質は悪いけど", "値段は安い"]) > 0  # same words, the other order: positive
    assert item(["品質が悪い。", "しかし値段は安い"]) > 0  # a clause that starts with しかし counts double too
    assert combine([], []).score == 0.0
