"""Tokenize stage: fugashi + unidic-lite morphology and content words for topic keywords.

Requires: S.TEXT_NORM. Adds: MORPHS (Morph tuples per item), S.TOKENS (content-word base forms,
consecutive nouns joined into compounds such as 会員バーコード, stopwords removed). The morphology
itself lives in :mod:`vocnlp.japanese`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from .. import schema as S
from ..config import TokenizeConfig
from ..japanese import Morph, analyse, content_words, load_stopwords, noun_words  # noqa: F401  (re-exported)

MORPHS = "_morphs"


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
        tokens.append(content_words(m, pos, stop, cfg.min_token_chars, cfg.latin_names))
    return df.assign(**{MORPHS: morphs, S.TOKENS: tokens})
