"""Dictionary sentiment with Japanese negation, contrast, intensifiers, requests and emoji.

This is the transparent scorer: every point of the score comes from a phrase it can show, which
is what the report's explanations display. It runs on fugashi morphemes, so 「悪くない」 is one
polar word followed by a negation, not a bag of characters.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError
from ..japanese import Morph

INTENSIFIERS = {"とても": 1.5, "すごく": 1.5, "すごい": 1.4, "凄く": 1.5, "非常": 1.6, "本当": 1.4, "ほんと": 1.4,
                "めちゃくちゃ": 1.7, "めちゃ": 1.6, "めっちゃ": 1.6, "超": 1.6, "かなり": 1.4, "大変": 1.5, "最も": 1.5,
                "マジ": 1.5, "まじ": 1.5, "全然": 1.3, "全く": 1.4, "まったく": 1.4, "一番": 1.3, "心から": 1.5,
                "激": 1.5, "相当": 1.4, "本当に": 1.5, "すっごく": 1.7}
SOFTENERS = {"少し": 0.6, "ちょっと": 0.6, "やや": 0.6, "若干": 0.6, "多少": 0.6, "少々": 0.6, "まあまあ": 0.5,
             "まぁまぁ": 0.5, "わりと": 0.8, "割と": 0.8, "ちょい": 0.6, "一部": 0.7}
NEGATORS = {"ない", "無い", "ず", "ぬ", "ん", "なし", "無し"}
POS_EMOJI = set("😊😄😃😀😁😆🥰😍🤩👍✨💕❤♥🎉🙆🌸☺😋👏💯🙌😌🥳")
NEG_EMOJI = set("😡😠💢😢😭😞😩😫😤👎💦😓😰😱🤬😒😔🙅😣😖")
POS_KAOMOJI = re.compile(r"\(\^[\^_o▽ー-]?\^\)|\(\*\^[^)]*\^\*?\)|\^\^|\(≧[^)]*≦\)|\(´∀`\)|w{3,}|笑")
NEG_KAOMOJI = re.compile(r"\(´;ω;`\)|\(T[_.]T\)|T_T|\(;_;\)|orz|\(-_-[^)]*\)|\(`ε´\)|\(怒\)|\(泣\)|泣")
CONTRAST = {"が", "けど", "けれど", "けれども", "のに", "ものの", "しかし", "でも", "ただ", "ただし", "ところが", "だけど", "ですが"}


@dataclass
class Lexicon:
    words: dict[str, float]
    phrases: list[tuple[re.Pattern[str], float, str]]


@lru_cache(maxsize=4)
def load_lexicon(path: str) -> Lexicon:
    words: dict[str, float] = {}
    phrases: list[tuple[re.Pattern[str], float, str]] = []
    for n, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        try:
            if len(parts) != 3:
                raise ValueError("expected term<TAB>score<TAB>kind")
            term, score, kind = parts[0], float(parts[1]), parts[2].strip()
            pattern = re.compile(term) if kind == "phrase" else None
        except (ValueError, re.error) as err:
            raise ConfigError(f"sentiment lexicon '{path}' line {n} is invalid ({err}): {line[:60]!r}.",
                              fix="write term<TAB>score<TAB>kind (score a number, kind word or phrase, a phrase a "
                                  "valid regular expression), as in vocnlp/resources/sentiment_lexicon.tsv.") from None
        if pattern is not None:
            phrases.append((pattern, score, term))
        else:
            words[term] = score
    return Lexicon(words, phrases)


@dataclass
class Scored:
    score: float  # [-1, 1]
    raw: float  # unbounded sum of cues
    evidence: list[tuple[str, float]]  # (phrase as written, contribution)


def word_value(words: dict[str, float], m: Morph) -> float | None:
    """A morpheme's dictionary score, looked up by its dictionary form, then its lemma, then as written."""
    return words.get(m.base, words.get(m.lemma, words.get(m.surface)))


def _negated(morphs: Sequence[Morph], i: int) -> tuple[bool, int]:
    """Is morph i negated by what follows it in the same clause? Returns (negated, index after)."""
    j = i + 1
    steps = 0
    while j < len(morphs) and steps < 5:
        m = morphs[j]
        if m.pos1 in ("補助記号",) or (m.pos1 == "助詞" and m.pos2 == "接続助詞" and m.base in CONTRAST):
            break
        if m.base in NEGATORS or m.lemma in ("無い", "ない", "ず", "ぬ") or (m.surface == "ん" and j > 0 and morphs[j - 1].base == "ます"):
            # 「〜わけではない」「〜ほどではない」 negate a softer statement
            return True, j + 1
        if m.pos1 in ("助動詞", "助詞", "接尾辞") or m.pos2 in ("非自立可能",):
            j += 1
            steps += 1
            continue
        break
    return False, i + 1


def score_segment(text: str, morphs: Sequence[Morph], lex: Lexicon) -> Scored:
    evidence: list[tuple[str, float]] = []
    total = 0.0
    covered: list[tuple[int, int]] = []
    for pattern, value, _ in lex.phrases:
        for m in pattern.finditer(text):
            evidence.append((m.group(0), value))
            total += value
            covered.append((m.start(), m.end()))

    def in_phrase(pos: int) -> bool:
        return any(a <= pos < b for a, b in covered)

    scale = 1.0
    for i, m in enumerate(morphs):
        if m.base in INTENSIFIERS or m.surface in INTENSIFIERS:
            scale = INTENSIFIERS.get(m.base, INTENSIFIERS.get(m.surface, 1.0))
            continue
        if m.base in SOFTENERS or m.surface in SOFTENERS:
            scale = SOFTENERS.get(m.base, SOFTENERS.get(m.surface, 1.0))
            continue
        value = word_value(lex.words, m)
        if value is None or in_phrase(m.start):
            continue
        negated, end = _negated(morphs, i)
        contribution = value * scale
        if negated:
            # 悪くない -> mildly positive; 良くない -> clearly negative; 不満がないわけではない handled by the second negation
            contribution = -contribution * (0.5 if value < 0 else 0.8)
            tail = morphs[end : end + 4]
            if any(t.base in ("わけ", "訳") for t in tail) and any(t.base in NEGATORS or t.lemma == "無い" for t in tail):
                contribution = -contribution * 0.5  # double negation: 不満がないわけではない
        phrase = text[m.start : (morphs[end - 1].start + len(morphs[end - 1].surface)) if end - 1 < len(morphs) else len(text)]
        evidence.append((phrase, round(contribution, 3)))
        total += contribution
        scale = 1.0
    pos_e = sum(1 for ch in text if ch in POS_EMOJI) + len(POS_KAOMOJI.findall(text))
    neg_e = sum(1 for ch in text if ch in NEG_EMOJI) + len(NEG_KAOMOJI.findall(text))
    if pos_e:
        evidence.append(("😊/顔文字", 0.3 * min(pos_e, 3)))
        total += 0.3 * min(pos_e, 3)
    if neg_e:
        evidence.append(("😢/顔文字", -0.3 * min(neg_e, 3)))
        total -= 0.3 * min(neg_e, 3)
    if "!" in text and total:
        total *= 1.15
    return Scored(math.tanh(total), total, evidence)


def combine(segment_scores: list[Scored], segment_texts: list[str]) -> Scored:
    """Item score: the clause after a contrast (が・けど・ただ・しかし) and the last clause weigh more."""
    if not segment_scores:
        return Scored(0.0, 0.0, [])
    weights = [1.0] * len(segment_texts)
    for k, text in enumerate(segment_texts):
        if k > 0 and (segment_texts[k - 1].rstrip("、, ").endswith(("が", "けど", "けれど", "けれども", "のに", "ものの"))
                      or text.lstrip().startswith(("しかし", "でも", "ただ", "ところが", "だけど", "ですが"))):
            weights[k - 1] *= 0.5
            weights[k] = 2.0
    raw = sum(w * s.raw for w, s in zip(weights, segment_scores)) / max(1.0, sum(weights) / len(weights))
    evidence = [e for s in segment_scores for e in s.evidence]
    return Scored(math.tanh(raw), raw, evidence)
