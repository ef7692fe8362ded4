"""Tokenize stage: spaCy Docs on fugashi + unidic-lite, and content words for topic keywords.

Requires: S.TEXT_NORM, S.STATUS. Adds: S.DOCS (a spaCy ``Doc`` per analysed item from
:func:`vocnlp.nlp.stage_nlp`, via ``nlp.pipe``; rows with the same text share one Doc; None for rows not
analysed), S.TOKENS (content-word
base forms, consecutive nouns joined into compounds such as 会員バーコード, stopwords removed). The
morphology itself lives in :mod:`vocnlp.japanese`; the Doc carries it (``doc._.morphs``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd

from .. import schema as S
from ..config import TokenizeConfig
from ..japanese import Morph, analyse, content_words, load_stopwords  # noqa: F401  (re-exported)
from ..japanese import noun_words as _noun_words
from ..nlp import stage_nlp
from ..phrases import Phrase
from ..phrases import key_phrases as _key_phrases

DOCS = S.DOCS
_LATIN = re.compile(r"[A-Za-z]")  # names as written need Latin letters (text is NFKC-normalised)
BATCH = 256


def run(df: pd.DataFrame, cfg: TokenizeConfig, stopwords_path: Path) -> pd.DataFrame:
    S.require(df, [S.TEXT_NORM, S.STATUS], "tokenize", {S.TEXT_NORM: "clean", S.STATUS: "clean"})
    stop = load_stopwords(str(stopwords_path))
    pos = tuple(cfg.pos)
    ok = (df[S.STATUS] == S.STATUS_OK).tolist()
    # one Doc per distinct text, shared by its repeats: exports repeat comments, and a Doc costs memory
    unique = list(dict.fromkeys(t for t, o in zip(df[S.TEXT_NORM], ok) if o))
    by_text = dict(zip(unique, stage_nlp().pipe(unique, batch_size=BATCH)))
    words = {t: content_words(d._.morphs, pos, stop, cfg.min_token_chars, cfg.latin_names) for t, d in by_text.items()}
    docs = [by_text[t] if o else None for t, o in zip(df[S.TEXT_NORM], ok)]
    tokens = [list(words[t]) if o else [] for t, o in zip(df[S.TEXT_NORM], ok)]
    vector_tokens = tokens
    if cfg.latin_names:  # names as written label topics; the clustering vectors keep the plain content words
        plain = {t: content_words(d._.morphs, pos, stop, cfg.min_token_chars) if _LATIN.search(t) else words[t]
                 for t, d in by_text.items()}  # a text without Latin letters has no names: the same words
        vector_tokens = [list(plain[t]) if o else [] for t, o in zip(df[S.TEXT_NORM], ok)]
    return df.assign(**{DOCS: docs, S.TOKENS: tokens, S.VECTOR_TOKENS: vector_tokens})


def noun_words(tokens: list[list[str]], docs: list) -> frozenset[str]:
    """Which content words are nouns (or noun compounds): topic labels prefer them."""
    return _noun_words(tokens, [d._.morphs if d is not None else () for d in docs])


def key_phrases(docs: list, stopwords_path: Path) -> list[list[Phrase]]:
    """Each analysed item's key-phrase candidates (配送の遅れ, ログインできない), which name its topic; rows that share a
    text share one Doc, so each distinct Doc is read once."""
    stop = load_stopwords(str(stopwords_path))
    seen: dict[int, list[Phrase]] = {}
    out = []
    for d in docs:
        if d is None:
            out.append([])
            continue
        if id(d) not in seen:
            seen[id(d)] = _key_phrases(d._.morphs, stop)
        out.append(seen[id(d)])
    return out


def phrases_json(docs: list, stopwords_path: Path) -> list[str]:
    """:func:`key_phrases` as one JSON string per item (plain data: it crosses process boundaries as Arrow)."""
    return [json.dumps([[p.text, list(p.nouns), p.predicate] for p in ps], ensure_ascii=False)
            for ps in key_phrases(docs, stopwords_path)]


def phrases_of(values) -> list[list[Phrase]]:
    """The key-phrase candidates back from :func:`phrases_json` ('' for rows not analysed); rows that share a text
    are parsed once."""
    seen: dict[str, list[Phrase]] = {}
    out = []
    for v in values:
        if v not in seen:
            seen[v] = [Phrase(t, tuple(n), p) for t, n, p in json.loads(v)] if v else []
        out.append(seen[v])
    return out
