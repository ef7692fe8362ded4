"""Key phrases: short noun phrases with their predicate, read off the fugashi morphemes, to name topics.

A topic named 「シンプル・布団・値段」 (three c-TF-IDF nouns) leaves the reader to guess how they relate; a product
owner names a subject with a phrase: 「配送の遅れ」, 「アプリが落ちる」, 「ログインできない」, 「バスの本数が少ない」.
:func:`key_phrases` lists the phrase candidates of one comment, built from bunsetsu-like chunks:

- ``N1のN2``: two noun compounds joined by の (箱の角, セルフレジのエラー);
- ``NがP`` / ``NをP`` / ``NにP``: a noun compound with its particle and predicate (は and も read as が or を from
  the predicate, see :func:`_topic_case`: 汚れも落とした -> 汚れを落とす, ログインもできない -> ログインができない,
  段ボールも持ち帰ってくれた -> 段ボールの持ち帰り; no phrase when the case cannot be told), the
  predicate in a readable base form that keeps what changes the meaning: negation (届かない, not 届く),
  passive and potential (表示されない), やすい/にくい, たい, てほしい; tense and politeness go
  (届きませんでした -> 届かない, 早かった -> 早い, 潰れてた -> 潰れる), and so does a favour (持ち帰ってくれた ->
  持ち帰る; 持ち帰ってくれなかった makes no phrase);
- ``N1のN2がP`` when it stays short (バスの本数が少ない);
- a サ変 noun with its する / できる (ログインできない, 起動しない);
- an adjective before a noun (丁寧な接客, 長い待ち時間).

Noun compounds are built as in :func:`vocnlp.japanese.content_words` (consecutive nouns, prefixes, suffixes,
Latin-letter names as written). A phrase is dropped when it is longer than ``max_chars``, when one of its
nouns is a formal or generic word (こと, 方, 今回, お客様 …: the stopwords, less the aspect nouns a phrase can
carry such as 対応 or 商品), when all its nouns are stopwords, or when its predicate is only a light verb
(する, なる, いる; ある unless negated: 駐車場がない). A negation the chunk cannot read (親切ではない) drops the
phrase rather than state the opposite. Which candidate names a topic is decided in
:mod:`vocnlp.stages.topic_labels`.

This module sits beside :mod:`vocnlp.japanese` (below ``stages`` and ``models``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import NamedTuple

from .japanese import _NUMERIC, Morph, analyse, is_latin_name, latin_name

MAX_CHARS = 12
_JP = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_KANJI = re.compile(r"[\u4e00-\u9fff]")
# stopwords a phrase may still carry: they name an aspect once a predicate or another noun says what about it
ASPECT_NOUNS = frozenset({"対応", "案内", "説明", "商品", "店", "店舗", "確認", "連絡", "購入", "利用", "使用", "内容",
                          "回答", "状態", "部分", "メール", "電話番号", "ポイント", "時間"})
_SUBJECT = {"が": "が", "は": "が", "も": "が", "を": "を", "に": "に"}
_TOPIC = frozenset({"は", "も"})  # stand for が or を: the case is chosen by :func:`_topic_case`
# verbs that mark what they are about with が (時間がかかる, 説明が分からない): は/も before them read as が
_GA_VERBS = frozenset({"分かる", "要る", "見える", "聞こえる", "足りる", "掛かる", "出来る", "有る", "無い"})
# verbs used only intransitively (no を object): は/も before them read as が (メールも届かない, お湯が沸く). Short
# and conservative on purpose: a verb missing here makes no は/も phrase rather than a wrong one
_INTRANSITIVE = frozenset({"届く", "繋がる", "閉まる", "締まる", "止まる", "空く", "沸く", "似る", "飽きる", "壊れる", "落ちる",
                           "遅れる", "外れる", "汚れる", "割れる", "潰れる", "破れる", "崩れる", "剥がれる", "折れる",
                           "曲がる", "混む", "揺れる", "傾く", "凹む", "歪む", "鳴る", "動く", "起きる", "起こる",
                           "溜まる", "減る", "増える", "残る", "消える", "光る", "錆びる", "へたる", "ぐらつく", "がたつく"})
_I_ROW = dict(zip("うくぐすつぬぶむる", "いきぎしちにびみり"))
_E_ROW = frozenset("えけげせぜてでねべぺめれ")
_LIGHT_HEADS = frozenset({"為る", "成る", "居る", "有る", "出来る", "来る", "行く", "言う", "思う", "見る", "遣る",
                          "仕舞う", "置く", "呉れる", "貰う", "頂く", "下さる", "御座る", "感じる", "感ずる"})
# nouns that make a phrase about nothing: 不便がない, 問題がない answer "nothing to report"
NOT_SUBJECTS = frozenset({"不便", "問題", "支障", "不満", "特"})
_FREE_HEADS = frozenset({"有る", "出来る", "居る", "来る", "行く", "良い", "欲しい"})  # 非自立可能 words that can head
_NEG_LEMMAS = frozenset({"ない", "無い", "ず"})
_KEEP_AUX = frozenset({"れる", "られる", "せる", "させる", "たい"})  # change the meaning; た, ます, です, てる do not
_AFTER_TE = frozenset({"居る", "仕舞う", "置く", "有る", "来る"})  # 壊れている, 落ちてしまう: read as 壊れる, 落ちる
_BENEFACTIVE = frozenset({"呉れる", "貰う", "頂く", "下さる", "上げる"})  # てくれる, てもらう, ていただく
_WANT = frozenset({"欲しい"})  # 増やしてほしい keeps its request
_AFTER_NI = frozenset({"付く", "つく", "因る", "よる", "対する", "関する", "於く", "おく", "取る", "とる", "比べる", "向ける",
                       "伴う", "為る", "成る"})
_HONORIFIC = frozenset({"さん", "様", "さま", "ちゃん", "氏", "等", "達", "たち", "ら"})  # dropped: 店員さん -> 店員
_A_ROW = dict(zip("うくぐすつぬぶむる", "わかがさたなばまら"))
_ADVERB_SKIP = 2


class Phrase(NamedTuple):
    """A key-phrase candidate: its readable text, the noun compounds in it, and its predicate ('' for N1のN2)."""

    text: str
    nouns: tuple[str, ...]
    predicate: str = ""


class _Noun(NamedTuple):
    text: str
    parts: tuple[str, ...]
    start: int  # first morph index
    end: int  # index after the last morph
    sahen: bool  # ends in a サ変 noun (ログイン, 表示): can take する / できる


def _noun_at(morphs: Sequence[Morph], i: int) -> _Noun | None:
    """The noun compound starting at morph ``i`` (prefix, nouns, noun suffixes, Latin names), or None."""
    first = morphs[i]
    if first.pos1 not in ("名詞", "接頭辞") and not first.surface.isascii():
        return None  # most morphemes: a quick no (Latin names are ASCII after NFKC)
    parts: list[str] = []
    j, sahen = i, False
    if morphs[j].pos1 == "接頭辞" and _JP.search(morphs[j].surface):
        parts.append(morphs[j].surface)
        j += 1
    while j < len(morphs):
        m = morphs[j]
        name, after = latin_name(morphs, j) if m.surface.isascii() else ("", j)
        if after > j and is_latin_name(name):
            parts.append(name)
            j, sahen = after, False
        elif m.pos1 == "名詞" and m.pos2 in ("普通名詞", "固有名詞") and _JP.search(m.surface) \
                and not _NUMERIC.match(m.surface) and "副詞可能" not in m.tag:
            parts.append(m.surface)
            j, sahen = j + 1, "サ変" in m.tag
        elif parts and m.pos1 == "接尾辞" and m.pos2 == "名詞的" and _JP.search(m.surface) and j > i:
            if m.surface not in _HONORIFIC:  # 店員さん -> 店員
                parts.append(m.surface)
            j, sahen = j + 1, False
        else:
            break
    if j == i or (len(parts) == 1 and morphs[i].pos1 == "接頭辞"):
        return None
    return _Noun("".join(parts), tuple(parts), i, j, sahen)


def _negative(m: Morph) -> str:
    """The form before ない of a verb written in its 連用形 (届き -> 届か, でき -> でき, し -> し, あり -> '')."""
    if m.lemma == "有る":
        return ""
    if m.base == "する" or not m.base or m.surface == m.base[:-1]:  # する, 一段 (でき, 食べ, れ)
        return m.surface
    if m.base.endswith("来る") and m.surface.endswith("き"):
        return m.surface[:-1] + "こ"
    last = _A_ROW.get(m.base[-1])
    return m.base[:-1] + last if last else m.surface


def _predicate(morphs: Sequence[Morph], j: int, stopwords: frozenset[str],
               after_noun: bool = False) -> tuple[str, int] | None:
    """The readable predicate starting at morph ``j`` and the index after it, or None.

    ``after_noun``: the predicate continues a サ変 noun (ログイン + できない), so a light verb is its head."""
    n = len(morphs)
    if j >= n:
        return None
    kept: list[Morph] = []
    head = morphs[j]
    light_ok = after_noun  # する / できる after a サ変 noun carry its meaning
    if not after_noun and head.pos1 == "名詞" and "サ変" in head.tag and j + 1 < n \
            and morphs[j + 1].lemma in ("為る", "出来る"):  # (アプリが) 起動 + しない
        kept.append(head)
        j, light_ok = j + 1, True
        head = morphs[j]
    elif head.pos1 == "形状詞" or head.pos1 == "名詞" and "形状詞可能" in head.tag:  # 不便, 親切, 丁寧
        k = j + 1
        while k < n and morphs[k].pos1 == "助動詞" and morphs[k].lemma in ("だ", "です"):
            k += 1
        if k < n and morphs[k].pos1 == "助詞" and any(m.lemma in _NEG_LEMMAS for m in morphs[k:k + 3]):
            return None  # 親切ではない: a negation this chunking does not read
        return head.surface, k
    if head.pos1 not in ("動詞", "形容詞"):
        return None
    if head.lemma == "無い":  # (駐車場が) ない
        return "ない", j + 1
    if head.pos2 == "非自立可能" and not light_ok and head.lemma not in _FREE_HEADS:
        return None  # している, なった ... say nothing alone
    kept.append(head)
    negated = False
    k = j + 1
    while k < n:
        m = morphs[k]
        if m.lemma in _NEG_LEMMAS and m.pos1 in ("助動詞", "形容詞"):
            negated = True
            k += 1
        elif negated:
            if m.pos1 != "助動詞":  # なかった, ないです: tense and politeness after the negation
                break
            k += 1
        elif m.pos1 == "助動詞" and m.lemma in _KEEP_AUX or m.pos1 == "接尾辞" and m.pos2 in ("形容詞的", "動詞的"):
            kept.append(m)  # passive, potential, causative, たい, やすい, にくい
            k += 1
        elif m.pos1 == "助動詞":  # た, ます, です, てる, ちゃう: tense and politeness
            k += 1
        elif m.surface == "て" and m.pos1 == "助詞" and k + 1 < n and morphs[k + 1].lemma in _AFTER_TE:
            k += 2  # 壊れている -> 壊れる
        elif m.surface == "て" and m.pos1 == "助詞" and k + 1 < n and morphs[k + 1].lemma in _BENEFACTIVE:
            if any(x.lemma in _NEG_LEMMAS and x.pos1 in ("助動詞", "形容詞") for x in morphs[k + 2:k + 5]):
                return None  # 持ち帰ってくれなかった: 持ち帰る would state the opposite
            break  # 持ち帰ってくれた -> 持ち帰る: the favour goes, the action stays
        elif m.surface == "て" and m.pos1 == "助詞" and k + 1 < n and morphs[k + 1].lemma in _WANT:
            kept += [m, morphs[k + 1]]  # 増やしてほしい
            k += 2
            break
        else:
            break
    first = kept[1] if kept[0].pos1 == "名詞" else kept[0]
    if first.lemma in _LIGHT_HEADS and not (negated or light_ok or first.lemma == "出来る"):
        return None  # (駐車場が) ある, (店員が) いる: only their negation says something
    generic = kept[0].surface if kept[0].pos1 == "名詞" else kept[0].base if kept[0].pos1 == "動詞" else ""
    bare = len(kept) == (2 if kept[0].pos1 == "名詞" else 1)  # nothing after the head: no にくい, れる, たい
    if generic in stopwords and bare and not negated and not after_noun:
        return None  # 購入する, 確認する, 買う, 使う say what was done, not what was wrong or right
    last = kept[-1]
    if not negated:
        return "".join(m.surface for m in kept[:-1]) + last.base, k
    if last.pos1 == "形容詞" or last.pos1 == "接尾辞" and last.pos2 == "形容詞的":
        body = "".join(m.surface for m in kept)
        return (body + "ない", k) if body.endswith("く") else None
    return "".join(m.surface for m in kept[:-1]) + _negative(last) + "ない", k


def key_phrases(morphs: Sequence[Morph], stopwords: frozenset[str], max_chars: int = MAX_CHARS) -> list[Phrase]:
    """The key-phrase candidates of one text, in text order, each once (see the module docstring)."""
    out: list[Phrase] = []

    def add(text: str, nouns: Sequence[_Noun], predicate: str = "") -> None:
        if 2 <= len(text) <= max_chars and _valid(nouns, stopwords, bool(predicate)) \
                and all(p.text != text for p in out):
            out.append(Phrase(text, tuple(nn.text for nn in nouns), predicate))

    n = len(morphs)
    prev_pair: tuple[_Noun, _Noun] | None = None  # the last N1のN2, which can be the subject of a predicate
    i = 0
    while i < n:
        m = morphs[i]
        if m.pos1 in ("形容詞", "形状詞") and m.pos2 not in ("非自立可能", "助動詞語幹"):  # 丁寧な接客, 長い待ち時間
            k = i + 1
            if m.pos1 == "形状詞" and k < n and morphs[k].surface == "な":
                k += 1
            nn = _noun_at(morphs, k) if k < n and (k > i + 1 or m.pos1 == "形容詞") else None
            if nn is not None and (m.pos1 == "形状詞" or m.surface == m.base):
                add(m.surface + ("な" if k > i + 1 else "") + nn.text, [nn], m.base)
            i += 1
            continue
        nn = _noun_at(morphs, i)
        if nn is None:
            i += 1
            continue
        j = nn.end
        if len(nn.parts) == 1 and "形状詞可能" in morphs[i].tag and j + 1 < n and morphs[j].surface == "な":
            modified = _noun_at(morphs, j + 1)  # 親切な店員
            if modified is not None:
                add(f"{nn.text}な{modified.text}", [modified], nn.text)
        if j < n and (morphs[j].lemma == "出来る" or nn.sahen and morphs[j].lemma == "為る"):  # ログイン + できない
            pred = _predicate(morphs, j, stopwords, after_noun=True)
            pred = pred if pred is not None and _ends_clause(morphs, pred[1], stopwords) else None
            if pred is not None and pred[0] != "する":  # 表示されない, 予約できない; アップデートする says little
                add(nn.text + pred[0], [nn], pred[0])
        if j + 1 < n and morphs[j].surface == "の" and morphs[j].pos1 == "助詞" and morphs[j].pos2 == "格助詞":
            head = _noun_at(morphs, j + 1)
            if head is not None:
                add(f"{nn.text}の{head.text}", [nn, head])
                prev_pair = (nn, head)
        if j < n and morphs[j].pos1 == "助詞" and morphs[j].surface in _SUBJECT:
            particle = _SUBJECT[morphs[j].surface]
            k = j + 1
            while k < n and k - j <= _ADVERB_SKIP and morphs[k].pos1 == "副詞":
                k += 1
            pred = _predicate(morphs, k, stopwords)
            pred = pred if pred is not None and _ends_clause(morphs, pred[1], stopwords) else None
            if particle == "に" and k < n and (morphs[k].lemma in _AFTER_NI or morphs[k].base in _AFTER_NI):
                pred = None  # について, によって, に対して: a compound particle, not a predicate
            if pred is not None and morphs[j].surface in _TOPIC:
                particle, text = _topic_case(morphs[k:pred[1]], pred[0])
                pred = (text, pred[1]) if particle else None
            if pred is not None:
                add(f"{nn.text}{particle}{pred[0]}", [nn], pred[0])
                if prev_pair is not None and prev_pair[1].end == nn.end:
                    add(f"{prev_pair[0].text}の{nn.text}{particle}{pred[0]}", list(prev_pair), pred[0])
        i = nn.end
    return out


def _topic_case(span: Sequence[Morph], predicate: str) -> tuple[str, str]:
    """The case a noun marked by は or も takes with the predicate read from ``span``: (particle, predicate), or
    ('', '') when it cannot be told. は and も stand for が or を, and 段ボールも持ち帰ってくれて read as が would say
    the boxes took something home. From UniDic's part of speech and forms, conservatively:

    - が before an adjective, an adjectival noun, ない, やすい/にくい, a passive or potential (れる, られる, できる:
      待たされる, 表示されない, ログインできない), the few verbs that mark their object with が (分かる, かかる)
      and a short list of intransitive-only verbs (届く, 繋がる, 壊れる);
    - を before an active verb in す (五段サ行: 壊す, 増やす, 落とす, 待たす), which is transitive;
    - a compound verb whose 連用形 UniDic lists as a noun, plain (not negated, no request), becomes N の noun
      (段ボールの持ち帰り, 家具の組み立て);
    - otherwise nothing: the noun still counts, but no phrase guesses its case (店員さんも止めない: 店員 may be who stops or who is stopped)."""
    head = span[0]
    if head.pos1 in ("形容詞", "形状詞") or head.pos1 == "名詞" and "形状詞可能" in head.tag:
        return "が", predicate
    if any(m.pos1 == "助動詞" and m.lemma in ("れる", "られる") or m.lemma in _GA_VERBS
           or m.pos1 == "接尾辞" and m.pos2 == "形容詞的" for m in span) or span[0].lemma in _INTRANSITIVE:
        return "が", predicate
    if head.pos1 != "動詞":
        return "", ""  # アプリは起動しない: a サ変 noun may take が or を
    if head.base != head.lemma and head.base.endswith("る") and head.base[-2:-1] in _E_ROW \
            and not head.lemma.endswith("る"):
        return "が", predicate  # a potential verb (押せる of 押す, 書ける of 書く): ボタンが押せない
    if head.lemma.endswith("す") and not any(m.pos1 == "助動詞" and m.lemma in ("せる", "させる") for m in span):
        return "を", predicate
    # 連用形: 一段 drops る (組み立てる -> 組み立て), 五段 moves to the i-row (持ち帰る -> 持ち帰り)
    ichidan = head.base.endswith("る") and head.base[-2:-1] in _E_ROW
    stem = head.base[:-1] if ichidan else head.base[:-1] + _I_ROW.get(head.base[-1:], "")
    if predicate == head.base and len(_KANJI.findall(head.lemma)) >= 2 and stem != head.base:
        noun = analyse(stem)
        if len(noun) == 1 and noun[0].pos1 == "名詞" and noun[0].pos2 == "普通名詞":
            return "の", stem
    return "", ""


def _ends_clause(morphs: Sequence[Morph], k: int, stopwords: frozenset[str]) -> bool:
    """The predicate ends its clause (the end, punctuation, て/けど/ので, a final particle, or a form that joins the
    next clause: 少なく不便) rather than modifying a noun or being nominalised (チラシが切り替わるの(が遅い),
    切り替わる時間): then it is not what the comment says about the noun."""
    if k >= len(morphs):
        return True
    last, m = morphs[k - 1], morphs[k]
    if m.pos1 == "助詞" and m.pos2 in ("準体助詞", "格助詞", "係助詞", "副助詞"):
        return False  # 切り替わるのが, 食べに(行く), 食べたり
    if m.pos1 in ("名詞", "代名詞", "形状詞", "接頭辞"):
        # 少なく(不便): a form that joins the next clause; ログインできない状態: a negation before a formal noun
        return last.surface != last.base or m.surface in stopwords and last.lemma in _NEG_LEMMAS
    return True


def _valid(nouns: Sequence[_Noun], stopwords: frozenset[str], predicate: bool) -> bool:
    """No formal or generic noun (こと, 今回, お客様: stopwords that are not aspect nouns); without a predicate or
    adjective, at least one noun that is not an aspect noun either (店舗の対応 says nothing, 対応が遅い does)."""
    if any(nn.text in stopwords and nn.text not in ASPECT_NOUNS or nn.text in NOT_SUBJECTS for nn in nouns):
        return False
    return predicate or any(nn.text not in stopwords and nn.text not in ASPECT_NOUNS for nn in nouns)
