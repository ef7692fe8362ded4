"""Segment stage: split items into sentences and clauses.

One comment often carries several points with different sentiment (「配送は早かったが、梱包が雑だった」),
so sentiment is scored per segment. Sentences end at 。！？!? and line breaks; clauses split after a
conjunctive particle (が・けど・けれど・のに・ものの, pos 接続助詞) or before a sentence-initial conjunction
of contrast (しかし・でも・ただ…). Segments are exact, contiguous slices of the normalised text: joined
they give the text back (tested), so nothing is lost. The splitting rules live in :mod:`vocnlp.japanese`.

Requires: S.TEXT_NORM, MORPHS (tokenize). Adds: S.SEGMENTS (list[str]).
"""

from __future__ import annotations

import pandas as pd

from .. import schema as S
from ..config import SegmentConfig
from ..japanese import split
from .tokenize import MORPHS


def run(df: pd.DataFrame, cfg: SegmentConfig) -> pd.DataFrame:
    S.require(df, [S.TEXT_NORM, MORPHS, S.STATUS], "segment", {MORPHS: "tokenize"})
    segs = [split(t, m, cfg) if st == S.STATUS_OK else [] for t, m, st in zip(df[S.TEXT_NORM], df[MORPHS], df[S.STATUS])]
    return df.assign(**{S.SEGMENTS: segs})
