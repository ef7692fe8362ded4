"""Wishes and requests: the clauses where a customer says what they would have liked.

「トイレがもう少し綺麗だとありがたい」「お土産があったら良かった」「もっとアピールしてほしい」「周知すべき」 are
complaints in the form of a wish: the positive words in them (綺麗, ありがたい, 良い) describe what was missing,
not what was there. A dictionary scorer, and a sentence embedding, read them as praise. These cues mark such
clauses on fugashi morphemes so that the sentiment model can learn from the labelled data what they weigh:

- 〜が欲しい / 〜てほしい (欲しい), 〜てもらいたい / 〜ていただきたい (貰う, 頂く + たい), 〜すべき (べし);
- a condition followed by a desirability predicate: 〜と / 〜ば / 〜たら / 〜なら + (もっと, 更に) + 良い, 嬉しい,
  有り難い, 助かる, 便利, 幸い (「あればいいのに」「広いと助かります」).

A wish clause runs from the start of its clause (after punctuation or a contrast: 「美味しかったが、もっと量が
あると嬉しい」 covers the second half only) to its wish predicate.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..japanese import Morph
from .lexicon import word_value

N_FEATURES = 3
DESIRE = {"良い", "嬉しい", "有り難い", "助かる", "便利", "幸い"}  # lemmas after a condition: 〜と嬉しい
CONDITIONAL = {"と", "ば", "たら", "だら", "なら", "ならば"}
GIVE = {"貰う", "頂く", "戴く"}  # 〜てもらいたい, 〜ていただきたい
CLAUSE_BREAK = {"が", "けど", "けれど", "けれども", "のに", "ものの", "し"}  # 〜て stays inside: 「増やしてほしい」
CONTENT = ("名詞", "動詞", "形容詞", "形状詞", "副詞")


def _wish_end(morphs: Sequence[Morph], i: int) -> int | None:
    """The index of the wish predicate when morph ``i`` ends or introduces one, else None."""
    m = morphs[i]
    if m.lemma in ("欲しい", "べし"):
        return i
    if m.lemma in GIVE and i + 1 < len(morphs) and morphs[i + 1].lemma == "たい":
        return i + 1
    if m.surface in CONDITIONAL and m.pos1 in ("助詞", "助動詞"):
        j = i + 1
        while j < len(morphs) and j - i <= 2 and morphs[j].pos1 == "副詞":  # もっと, 更に
            j += 1
        if j < len(morphs) and morphs[j].lemma in DESIRE:
            return j
    return None


def wish_spans(morphs: Sequence[Morph]) -> list[tuple[int, int]]:
    """(first, last) morph index of each wish clause, in order."""
    spans: list[tuple[int, int]] = []
    done = -1
    for i in range(len(morphs)):
        if i <= done:
            continue
        end = _wish_end(morphs, i)
        if end is None:
            continue
        start = i
        while start > 0 and start - 1 > done:
            prev = morphs[start - 1]
            if prev.pos1 == "補助記号" or (prev.pos1 == "助詞" and prev.pos2 == "接続助詞" and prev.base in CLAUSE_BREAK):
                break
            start -= 1
        spans.append((start, end))
        done = end
    return spans


def wish_features(morphs: Sequence[Morph], positive_words: dict[str, float]) -> np.ndarray:
    """Wish clauses (capped at 3, scaled to [0, 1]), positive dictionary words inside them other than the wish
    predicate itself (capped at 3), and whether the comment ends on a wish (no content word after the last one)."""
    spans = wish_spans(morphs)
    if not spans:
        return np.zeros(N_FEATURES, dtype=np.float32)
    pos_inside = 0
    for a, b in spans:
        for m in morphs[a:b]:
            if m.lemma in DESIRE:
                continue
            v = word_value(positive_words, m)
            if v is not None and v > 0:
                pos_inside += 1
    last = spans[-1][1]
    ends = not any(m.pos1 in CONTENT and m.pos2 != "非自立可能" for m in morphs[last + 1:])
    return np.array([min(len(spans), 3) / 3, min(pos_inside, 3) / 3, float(ends)], dtype=np.float32)
