"""Split items into sentences and clauses.

One comment often carries several points with different sentiment (「配送は早かったが、梱包が雑だった」),
so sentiment is scored per segment. Sentences end at 。！？!? and line breaks; clauses split after a
conjunctive particle (が・けど・けれど・のに・ものの, pos 接続助詞) or before a sentence-initial conjunction
of contrast (しかし・でも・ただ…). Segments are exact, contiguous slices of the normalised text: joined
they give the text back (tested), so nothing is lost.

Requires: S.TEXT_NORM, MORPHS (tokenize). Adds: S.SEGMENTS (list[str]).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pandas as pd

from .. import schema as S
from ..config import SegmentConfig
from .tokenize import MORPHS, Morph

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


def run(df: pd.DataFrame, cfg: SegmentConfig) -> pd.DataFrame:
    S.require(df, [S.TEXT_NORM, MORPHS, S.STATUS], "segment", {MORPHS: "tokenize"})
    segs = [split(t, m, cfg) if st == S.STATUS_OK else [] for t, m, st in zip(df[S.TEXT_NORM], df[MORPHS], df[S.STATUS])]
    return df.assign(**{S.SEGMENTS: segs})
