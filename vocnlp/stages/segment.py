"""Segment stage: split items into sentences and clauses.

One comment often carries several points with different sentiment (「配送は早かったが、梱包が雑だった」),
so sentiment is scored per segment. Sentences end at 。！？!? and line breaks; clauses split after a
conjunctive particle (が・けど・けれど・のに・ものの, pos 接続助詞) or before a sentence-initial conjunction
of contrast (しかし・でも・ただ…). Segments are exact, contiguous slices of the normalised text: joined
they give the text back (tested), so nothing is lost. The splitting rules live in :mod:`vocnlp.japanese`;
the spaCy component :class:`vocnlp.nlp.segmenter.Segmenter` applies them to each Doc (``doc.sents``,
``doc.spans["segments"]``).

Requires: S.DOCS (tokenize), S.STATUS. Adds: S.SEGMENTS (list[str]); sets the Docs' sentences and segment spans.
"""

from __future__ import annotations

import pandas as pd

from .. import schema as S
from ..config import SegmentConfig
from ..nlp.segmenter import Segmenter


def run(df: pd.DataFrame, cfg: SegmentConfig) -> pd.DataFrame:
    S.require(df, [S.DOCS, S.STATUS], "segment", {S.DOCS: "tokenize"})
    segmenter = Segmenter(cfg.split_clauses, cfg.min_clause_chars)
    done: dict[int, list[str]] = {}  # rows with the same text share one Doc (tokenize): segment it once
    segs = []
    for d, st in zip(df[S.DOCS], df[S.STATUS]):
        if d is None or st != S.STATUS_OK:
            segs.append([])
            continue
        if id(d) not in done:
            done[id(d)] = segmenter.segment(d)
        segs.append(list(done[id(d)]))
    return df.assign(**{S.SEGMENTS: segs})
