"""Japanese morphology and text units, shared by the stages, the models and training.

fugashi + unidic-lite morphemes with character offsets (:func:`analyse`), content words for topic
keywords (:func:`content_words`), and the sentence/clause split that sentiment scores per segment
(:func:`split`). Base forms come from ``orthBase`` (する, not 為る) and never carry unidic's English
glosses (エグゾースト-exhaust).

This module sits below ``stages`` and ``models``: it imports neither.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

from .config import SegmentConfig
from .errors import BackendUnavailable

_GLOSS = re.compile(r"-[A-Za-z].*$")
_JP = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_ONLY_KANA_1 = re.compile(r"^[\u3040-\u309f]$")
_NUMERIC = re.compile(r"^[\d,.\-:/年月日時分秒円個回件%]+$")
MAX_COMPOUND = 12
# product and service names written in Latin letters (Wi-Fi, iPhone 15, PayPay, au PAY, LINE, USB-C) are kept as
# written, as one word; a plain lowercase English word (app, good) is not a topic word, nor are OK / NG
_LATIN_PART = re.compile(r"^[A-Za-z0-9]+$")
_LATIN_JOINERS = frozenset("-&+.")
_LATIN_CHARS = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 &+.\-]*$")
_NOT_NAMES = frozenset({"OK", "NG", "ON", "OFF", "Ok"})
MAX_LATIN_WORDS = 3


def is_latin_name(word: str) -> bool:
    """A name has a capital and, past its first letter, a capital or digit (iPhone, PayPay, LINE, 5G) or a joiner or
    space (Wi-Fi, au PAY); a capitalised English word (The, Very) is not one, nor an order number (> 3 digits)."""
    if not _LATIN_CHARS.match(word) or word in _NOT_NAMES or sum(ch.isdigit() for ch in word) > 3:
        return False
    return any(ch.isupper() for ch in word) and (any(ch.isupper() or ch.isdigit() for ch in word[1:])
                                                 or any(ch in " &+.-" for ch in word))


class Morph(NamedTuple):
    """One morpheme. A NamedTuple (immutable, hashable) rather than a frozen dataclass: a text has dozens,
    and a frozen dataclass's ``__init__`` (one ``object.__setattr__`` per field) was a tenth of the analysis."""

    surface: str
    pos1: str
    pos2: str
    base: str  # readable dictionary form
    lemma: str  # unidic lemma without gloss (無い, 為る): used by rules, never shown
    start: int
    tag: str = ""  # the full UniDic POS, e.g. 名詞-普通名詞-サ変可能 (spaCy's tag_)


@lru_cache(maxsize=1)
def get_tagger():
    """One tagger per process; creating it loads the dictionary (~0.2 s)."""
    try:
        import fugashi
    except ImportError as err:  # pragma: no cover - dependency of the package
        raise BackendUnavailable("fugashi is not installed.", fix="pip install fugashi unidic-lite") from err
    try:
        return fugashi.Tagger()
    except RuntimeError as err:  # pragma: no cover
        raise BackendUnavailable(f"fugashi cannot load a dictionary ({err}).", fix="pip install unidic-lite") from err


@lru_cache(maxsize=200_000)
def _features(surface: str, raw: str) -> tuple[str, str, str, str, str]:
    """(pos1, pos2, readable base, lemma, full tag) from a morpheme's raw UniDic feature string. Cached:
    most morphemes recur, and building fugashi's feature tuple per word was most of the analysis cost."""
    f = next(csv.reader([raw])) if '"' in raw else raw.split(",")
    f += [None] * (11 - len(f))  # unknown words carry fewer fields
    pos1, pos2, pos3, pos4, lemma, base = f[0], f[1], f[2], f[3], f[7], f[10]
    base = base if base not in (None, "*", "") else surface
    lemma = lemma if lemma not in (None, "*", "") else surface
    tag = "-".join(p for p in (pos1, pos2, pos3, pos4) if p and p != "*")
    return pos1 or "", pos2 or "", _GLOSS.sub("", base), _GLOSS.sub("", lemma), tag


@lru_cache(maxsize=50_000)
def analyse(text: str) -> tuple[Morph, ...]:
    """Morphemes with character offsets. Cached: the same text (a repeated comment, a segment scored
    again by the sentiment model) is analysed once per process."""
    out: list[Morph] = []
    pos = 0
    for w in get_tagger()(text):
        surface = w.surface
        start = text.find(surface, pos)
        if start < 0:
            start = pos
        pos = start + len(surface)
        pos1, pos2, base, lemma, tag = _features(surface, w.feature_raw)
        out.append(Morph(surface, pos1, pos2, base, lemma, start, tag))
    return tuple(out)


@lru_cache(maxsize=8)
def load_stopwords(path: str) -> frozenset[str]:
    words = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.add(line)
    return frozenset(words)


def _end(m: Morph) -> int:
    return m.start + len(m.surface)


def latin_name(morphs: Sequence[Morph], i: int) -> tuple[str, int]:
    """The Latin-letter name starting at morph ``i`` as written, and the index after it: adjacent parts and
    joiners (Wi + - + Fi, USB + - + C) and, after a space, a part starting with a capital or a digit
    (au PAY, iPhone 15 Pro). ('', i) when morph ``i`` starts none."""
    if not _LATIN_PART.match(morphs[i].surface):
        return "", i
    text, end, j, words = morphs[i].surface, _end(morphs[i]), i + 1, 1
    while j < len(morphs):
        m = morphs[j]
        if m.start == end and m.surface in _LATIN_JOINERS and j + 1 < len(morphs) \
                and morphs[j + 1].start == _end(m) and _LATIN_PART.match(morphs[j + 1].surface):
            text += m.surface + morphs[j + 1].surface
            end, j = _end(morphs[j + 1]), j + 2
        elif m.start == end and _LATIN_PART.match(m.surface):
            text += m.surface
            end, j = _end(m), j + 1
        elif m.start == end + 1 and words < MAX_LATIN_WORDS and _LATIN_PART.match(m.surface) \
                and (m.surface[0].isupper() or m.surface[0].isdigit()):
            text += " " + m.surface
            end, j, words = _end(m), j + 1, words + 1
        else:
            break
    return text, j


def content_words(morphs: Sequence[Morph], pos: tuple[str, ...], stopwords: frozenset[str], min_chars: int = 1,
                  latin_names: bool = False) -> list[str]:
    """Content-word base forms; runs of nouns become one compound (ポイント + 付与 -> ポイント付与)."""
    words: list[str] = []
    run: list[str] = []
    prefixes: set[str] = set()

    def flush() -> None:
        while run and run[-1] in prefixes:  # a prefix with no noun after it
            run.pop()
        if not run:
            return
        compound = "".join(run)
        if len(run) > 1 and len(compound) <= MAX_COMPOUND and compound not in stopwords:
            words.append(compound)
        else:
            words.extend(w for w in run if w not in stopwords)
        run.clear()

    i = 0
    while i < len(morphs):
        name, after = latin_name(morphs, i) if latin_names else ("", i)
        if after > i:
            flush()
            if is_latin_name(name) and name not in stopwords and len(name) >= 2:
                nxt = morphs[after] if after < len(morphs) else None
                if nxt is not None and nxt.start == _end(morphs[after - 1]) and nxt.pos1 == "名詞" and _JP.search(nxt.surface):
                    run.append(name)  # ECサイト, Wi-Fiスポット: one compound with the noun written after it
                else:
                    words.append(name)
            i = after
            continue
        m = morphs[i]
        i += 1
        is_noun = m.pos1 == "名詞" and m.pos2 in ("普通名詞", "固有名詞") and _JP.search(m.surface)
        if is_noun and not _NUMERIC.match(m.surface):
            run.append(m.surface)
            continue
        if run and m.pos1 == "接尾辞" and m.pos2 == "名詞的" and _JP.search(m.surface):  # 配送 + 員
            run.append(m.surface)
            continue
        if m.pos1 == "接頭辞" and _JP.search(m.surface):  # 不 + 具合 -> 不具合, 再 + 設定 -> 再設定
            flush()
            run.append(m.surface)
            prefixes.add(m.surface)
            continue
        flush()
        if m.pos1 not in pos or m.pos1 == "名詞":
            continue
        w = m.base
        if len(w) < min_chars or _ONLY_KANA_1.match(w) or not _JP.search(w) or w in stopwords or m.lemma in stopwords:
            continue
        if m.pos2 in ("非自立可能", "助動詞語幹"):  # している, てくる ... carry no topic
            continue
        words.append(w)
    flush()
    return [w for w in words if len(w) >= min_chars and not _ONLY_KANA_1.match(w)]


def noun_words(tokens: list[list[str]], morphs: list[Sequence[Morph]]) -> frozenset[str]:
    """Which content words are nouns (or noun compounds): topic labels prefer them."""
    return nouns_among(tokens, (predicate_bases(ms) for ms in morphs))


def predicate_bases(morphs: Sequence[Morph]) -> list[str]:
    """The base forms of one text's verbs and adjectives (sorted): what :func:`noun_words` excludes, per text, so
    the per-text stages can compute it where the Docs are and the driver only takes the union."""
    return sorted({m.base for m in morphs if m.pos1 in ("動詞", "形容詞")})


def nouns_among(tokens: list[list[str]], predicates) -> frozenset[str]:
    """The content words that are no text's verb or adjective base (``predicates``: one list per text)."""
    verbs_adjs = {b for bs in predicates for b in bs}
    return frozenset(w for ts in tokens for w in ts if w not in verbs_adjs)


_SENT_END = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+[)）」』】]*|\n|$)")
CLAUSE_PARTICLES = {"が", "けど", "けれど", "けれども", "けども", "のに", "ものの", "が、", "ながら"}
CONTRAST_CONJ = {"しかし", "でも", "だけど", "ただ", "ただし", "けど", "けれど", "けれども", "ですが", "ところが",
                 "とはいえ", "一方", "だが", "ですけど", "なのに"}


def split_sentences(text: str) -> list[tuple[int, int]]:
    spans = []
    for m in _SENT_END.finditer(text):
        if m.end() > m.start():
            spans.append((m.start(), m.end()))
    return spans or [(0, len(text))]


def clause_cuts(morphs: Sequence[Morph], start: int, end: int) -> list[int]:
    """Character offsets (inside [start, end)) where a new clause begins."""
    cuts = []
    inside = [m for m in morphs if start <= m.start < end]
    for i, m in enumerate(inside):
        if m.pos1 == "助詞" and m.pos2 == "接続助詞" and m.base in CLAUSE_PARTICLES:
            j = i + 1
            while j < len(inside) and inside[j].pos1 == "補助記号":
                j += 1
            if j < len(inside):
                cuts.append(inside[j].start)
        elif m.pos1 == "接続詞" and m.base in CONTRAST_CONJ and m.start > start:
            cuts.append(m.start)
    return sorted(set(c for c in cuts if start < c < end))


def split(text: str, morphs: Sequence[Morph], cfg: SegmentConfig) -> list[str]:
    pieces: list[str] = []
    for s, e in split_sentences(text):
        bounds = [s, *(clause_cuts(morphs, s, e) if cfg.split_clauses else []), e]
        for a, b in zip(bounds, bounds[1:]):
            pieces.append(text[a:b])
    # merge slivers (「ただ、」 alone, a trailing emoji) into a neighbour so each segment says something
    merged: list[str] = []
    for p in pieces:
        if merged and len(p.strip()) < cfg.min_clause_chars or merged and len(merged[-1].strip()) < cfg.min_clause_chars:
            merged[-1] += p
        else:
            merged.append(p)
    return [m for m in merged if m.strip()] or ([text] if text else [])
