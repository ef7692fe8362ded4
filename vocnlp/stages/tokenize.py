"""fugashi + unidic-lite morphology, content words for topic keywords.

Requires: S.TEXT_NORM. Adds: S.MORPHS (list of Morph per item), S.TOKENS (content-word base forms,
consecutive nouns joined into compounds such as 会員バーコード, stopwords removed).

Base forms come from ``orthBase`` (する, not 為る) and never carry unidic's English glosses
(エグゾースト-exhaust).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .. import schema as S
from ..config import TokenizeConfig
from ..errors import BackendUnavailable

MORPHS = "_morphs"
_GLOSS = re.compile(r"-[A-Za-z].*$")
_JP = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
_ONLY_KANA_1 = re.compile(r"^[\u3040-\u309f]$")
_NUMERIC = re.compile(r"^[\d,.\-:/年月日時分秒円個回件%]+$")
MAX_COMPOUND = 12


@dataclass(frozen=True, slots=True)
class Morph:
    surface: str
    pos1: str
    pos2: str
    base: str  # readable dictionary form
    lemma: str  # unidic lemma without gloss (無い, 為る): used by rules, never shown
    start: int


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


@lru_cache(maxsize=50_000)
def analyse(text: str) -> tuple[Morph, ...]:
    """Morphemes with character offsets. Cached: the same text (a repeated comment, a segment scored
    again by the sentiment model) is analysed once per process."""
    out: list[Morph] = []
    pos = 0
    for w in get_tagger()(text):
        f = w.feature
        surface = w.surface
        start = text.find(surface, pos)
        if start < 0:
            start = pos
        pos = start + len(surface)
        base = f.orthBase if f.orthBase not in (None, "*") else surface
        lemma = f.lemma if f.lemma not in (None, "*") else surface
        out.append(Morph(surface, f.pos1 or "", f.pos2 or "", _GLOSS.sub("", base), _GLOSS.sub("", lemma), start))
    return tuple(out)


@lru_cache(maxsize=8)
def load_stopwords(path: str) -> frozenset[str]:
    words = set()
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            words.add(line)
    return frozenset(words)


def content_words(morphs: Sequence[Morph], pos: tuple[str, ...], stopwords: frozenset[str], min_chars: int = 1) -> list[str]:
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

    for m in morphs:
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
    verbs_adjs = {m.base for ms in morphs for m in ms if m.pos1 in ("動詞", "形容詞")}
    return frozenset(w for ts in tokens for w in ts if w not in verbs_adjs)


def run(df: pd.DataFrame, cfg: TokenizeConfig, stopwords_path: Path) -> pd.DataFrame:
    S.require(df, [S.TEXT_NORM, S.STATUS], "tokenize", {S.TEXT_NORM: "clean", S.STATUS: "clean"})
    stop = load_stopwords(str(stopwords_path))
    pos = tuple(cfg.pos)
    morphs, tokens = [], []
    for text, status in zip(df[S.TEXT_NORM], df[S.STATUS]):
        if status != S.STATUS_OK:
            morphs.append([])
            tokens.append([])
            continue
        m = analyse(text)
        morphs.append(m)
        tokens.append(content_words(m, pos, stop, cfg.min_token_chars))
    return df.assign(**{MORPHS: morphs, S.TOKENS: tokens})
