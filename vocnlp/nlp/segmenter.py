"""Sentences (``doc.sents``) and clause segments (``doc.spans["segments"]``) from vocnlp's split rules.

The rules are :func:`vocnlp.japanese.split` (sentences end at 。！？!? and line breaks; clauses split
after a conjunctive が・けど・のに… or before a contrastive しかし・でも・ただ…), so a Doc's segments are
exactly the segments a run scores.
"""

from __future__ import annotations

import numpy

from ..config import SegmentConfig
from ..japanese import split, split_sentences
from .language import Language, populate, text_of
from .language import spacy as _spacy  # noqa: F401  (spaCy imported without torch first)

from spacy.attrs import IDX, LENGTH, SENT_START  # noqa: E402  isort: skip

SEGMENTS = "segments"


class Segmenter:
    def __init__(self, split_clauses: bool = True, min_clause_chars: int = 4) -> None:
        self.cfg = SegmentConfig(split_clauses=split_clauses, min_clause_chars=min_clause_chars)

    def __call__(self, doc):
        self.segment(doc)
        return doc

    def segment(self, doc) -> list[str]:
        """Set the sentences and the segment spans; return the segments as strings (exact slices of the text)."""
        text = text_of(doc)
        if not len(doc):
            doc.spans[SEGMENTS] = []
            return []
        starts = [s for s, _ in split_sentences(text)]
        flags = numpy.full(len(doc), -1, dtype="int64")  # SENT_START: 1 opens a sentence, -1 does not
        k = 0
        for i, end in enumerate(doc.to_array(IDX) + doc.to_array(LENGTH)):
            if k < len(starts) and end > starts[k]:  # the first token ending after a sentence start opens it
                flags[i] = 1
                while k < len(starts) and end > starts[k]:
                    k += 1
        flags[0] = 1
        doc.from_array([SENT_START], flags.astype("uint64"))  # one call: setting token.is_sent_start per token is slow
        spans, pos = [], 0
        pieces = split(text, doc._.morphs, self.cfg)
        for piece in pieces:
            a = text.find(piece, pos)
            a = pos if a < 0 else a
            pos = a + len(piece)
            span = doc.char_span(a, pos, alignment_mode="expand")
            if span is not None and len(span):
                spans.append(span)
        doc.spans[SEGMENTS] = spans
        return pieces


@Language.factory("vocnlp_segmenter", default_config={"split_clauses": True, "min_clause_chars": 4})
def make_segmenter(nlp, name: str, split_clauses: bool, min_clause_chars: int) -> Segmenter:
    populate()
    return Segmenter(split_clauses, min_clause_chars)


def segment_texts(doc) -> list[str]:
    """The segments of a Doc the segmenter has seen, as strings."""
    text = text_of(doc)
    return [text[s.start_char:s.end_char] for s in doc.spans[SEGMENTS]] if SEGMENTS in doc.spans else []
