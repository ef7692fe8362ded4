"""Key phrases read off the fugashi morphemes: real outputs on small Japanese inputs."""

from pathlib import Path

import pytest

import vocnlp
from vocnlp.japanese import analyse, load_stopwords
from vocnlp.phrases import key_phrases

STOP = load_stopwords(str(Path(vocnlp.__file__).parent / "resources" / "stopwords_ja.txt"))


def texts(text: str) -> list[str]:
    return [p.text for p in key_phrases(analyse(text), STOP)]


@pytest.mark.parametrize("text, phrase", [
    ("配送が届きませんでした。", "配送が届かない"),  # polite past negation -> plain negation
    ("駐車場がありません", "駐車場がない"),  # ある's negation is ない
    ("値段が高くないです", "値段が高くない"),
    ("アプリが起動しない", "アプリが起動しない"),  # サ変 noun + しない is the predicate
    ("昨日からログインできなくなった", "ログインできない"),  # a name + できない, no subject needed
    ("バスの本数が少なく不便", "バスの本数が少ない"),  # N1のN2 as the subject, a joining form read as its base
    ("本数を増やしてほしい", "本数を増やしてほしい"),  # the request stays
    ("アップデート後、バーコードが表示されませんでした", "バーコードが表示されない"),  # passive kept, politeness dropped
    ("配送は早かったけど、箱の角が潰れてた。", "配送が早い"),  # は read as が, past tense dropped
    ("配送は早かったけど、箱の角が潰れてた。", "箱の角が潰れる"),  # てた (progressive, past) dropped
    ("説明書が分かりにくい。", "説明書が分かりにくい"),  # にくい kept
    ("セルフレジのエラーで会計できない", "セルフレジのエラー"),
    ("Wi-Fiがつながらない", "Wi-Fiがつながらない"),  # a name as written
    ("とても親切な店員さんでした", "親切な店員"),  # an adjective before a noun; さん dropped
    ("長い待ち時間にうんざり", "長い待ち時間"),
])
def test_phrases_found(text, phrase):
    assert phrase in texts(text)


@pytest.mark.parametrize("text, wrong", [
    ("店員さんが親切ではない", "店員が親切"),  # a negation the chunker cannot read drops the phrase, never flips it
    ("チラシが切り替わるのが遅い", "チラシが切り替わる"),  # a nominalised predicate is not what is said
    ("マットレスを購入しました", "マットレスを購入する"),  # what was done, not what was wrong or right
    ("お客様より配送の遅れについてお問い合わせ", "遅れにつく"),  # について is a particle, not a predicate
    ("特に不便はありません", "不便がない"),  # "nothing to report" names no subject
    ("駐車場があって便利", "駐車場がある"),  # ある alone says nothing
])
def test_phrases_not_made_up(text, wrong):
    assert wrong not in texts(text)


def test_phrase_parts_and_bounds():
    phrases = key_phrases(analyse("バスの本数が少なく不便。"), STOP)
    by_text = {p.text: p for p in phrases}
    assert by_text["バスの本数が少ない"].nouns == ("バス", "本数")
    assert by_text["バスの本数が少ない"].predicate == "少ない"
    assert by_text["バスの本数"].predicate == ""
    assert all(len(p) <= 12 for p in texts("国際線ターミナルの手荷物受取所の案内表示が非常に分かりにくい"))
    assert texts("") == [] and texts("😀！！") == []
    assert texts("配送が遅い。配送が遅い。") == ["配送が遅い"]  # each phrase once per comment
