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
    # は/も stand for が or を: the case is chosen from the predicate, never read as が blindly
    ("段ボールも持ち帰ってくれて助かりました", "段ボールの持ち帰り"),  # compound verb, case unknown: its noun
    ("段ボールを持ち帰ってくれた", "段ボールを持ち帰る"),  # を kept; the favour (てくれる) dropped
    ("古い家具も組み立ててくれた", "家具の組み立て"),
    ("汚れも落としてくれた", "汚れを落とす"),  # a verb in す is transitive: を
    ("本数も増やしてほしい", "本数を増やしてほしい"),
    ("ログインもできない", "ログインができない"),  # potential: が, negation kept
    ("ボタンも押せない", "ボタンが押せない"),  # a potential verb (押せる of 押す): が
    ("子供も待たされた", "子供が待たされる"),  # passive: が
    ("説明も分からない", "説明が分からない"),  # 分かる marks its object with が
    ("配送は早かったけど", "配送が早い"),  # an adjective: が
    ("確認メールも届かない", "確認メールが届かない"),  # an intransitive-only verb: が
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
    ("段ボールも持ち帰ってくれて助かりました", "段ボールが持ち帰る"),  # the boxes are the object, not the subject
    ("段ボールを持ち帰ってくれませんでした", "段ボールを持ち帰る"),  # the negation is on くれる: never flipped
    ("段ボールも持ち帰ってくれなかった", "段ボールの持ち帰り"),
    ("ログインもできない", "ログインができる"),
    ("床にシートを敷いてくれなかった", "シートを敷く"),
    ("写真も載せてほしい", "写真が載せてほしい"),  # 載せる takes を; not known transitive here, so no phrase
    ("方法も教えてくれた", "方法が教える"),
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
