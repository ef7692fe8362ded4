"""Features for the trained classifiers: the sentence embedding, fugashi n-grams, and (for sentiment)
the dictionary scorer's cues. Kept as plain arrays so a model saves as safetensors + JSON."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from ..japanese import analyse, split


def ngram_terms(text: str) -> list[str]:
    """Surface unigrams and bigrams of every morpheme (particles included: ない・けど carry meaning)."""
    toks = [m.surface for m in analyse(text)]
    return toks + [f"{a} {b}" for a, b in zip(toks, toks[1:])]


class NgramTfidf:
    """A TF-IDF over fugashi n-grams whose learned state is just (vocabulary, idf)."""

    def __init__(self, min_df: int = 2, max_features: int = 20000):
        self.min_df = min_df
        self.max_features = max_features

    def fit(self, texts: list[str]) -> NgramTfidf:
        from sklearn.feature_extraction.text import TfidfVectorizer

        vec = TfidfVectorizer(analyzer=ngram_terms, min_df=self.min_df, max_features=self.max_features, sublinear_tf=True)
        vec.fit(texts)
        vocab = sorted(vec.vocabulary_, key=vec.vocabulary_.get)
        self.vocabulary_ = vocab
        self.idf_ = vec.idf_.astype(np.float32)
        return self

    def transform(self, texts: list[str]) -> sp.csr_matrix:
        index = {t: i for i, t in enumerate(self.vocabulary_)}
        rows, cols, vals = [], [], []
        for r, text in enumerate(texts):
            counts: dict[int, int] = {}
            for term in ngram_terms(text):
                j = index.get(term)
                if j is not None:
                    counts[j] = counts.get(j, 0) + 1
            if not counts:
                continue
            js = np.fromiter(counts, dtype=np.int64)
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64))
            v = tf * self.idf_[js]
            v /= np.linalg.norm(v) or 1.0
            rows += [r] * len(js)
            cols += js.tolist()
            vals += v.tolist()
        return sp.csr_matrix((vals, (rows, cols)), shape=(len(texts), len(self.vocabulary_)), dtype=np.float32)


def lexicon_features(texts: list[str], lexicon_path, polarity_dict: bool = False, wish_cues: bool = False) -> np.ndarray:
    """The dictionary scorer's view: item score, raw sum, counts of positive/negative cues, and flags; with
    ``polarity_dict`` also the Tohoku polarity dictionary's matches (``polarity_dict.polarity_features``), with
    ``wish_cues`` the wish and request clauses (``wish.wish_features``: 「もう少し綺麗だとありがたい」). Each text
    is analysed once: its segments and the polarity dictionary read the same morphemes."""
    from ..config import SegmentConfig
    from ..models.lexicon import combine, load_lexicon, score_segment

    lex = load_lexicon(str(lexicon_path))
    pd_, n_polarity = None, 0
    if polarity_dict:
        from .polarity_dict import N_FEATURES, load_polarity_dict, polarity_features

        pd_, n_polarity = load_polarity_dict(), N_FEATURES
    n_wish = 0
    if wish_cues:
        from .wish import N_FEATURES as n_wish
        from .wish import wish_features
    seg_cfg = SegmentConfig()
    out = np.zeros((len(texts), 7 + n_polarity + n_wish), dtype=np.float32)
    for i, t in enumerate(texts):
        morphs = analyse(t)
        segs = split(t, morphs, seg_cfg) or [t]
        scored = [score_segment(s, analyse(s), lex) for s in segs]
        item = combine(scored, segs)
        pos = sum(1 for _, v in item.evidence if v > 0)
        neg = sum(1 for _, v in item.evidence if v < 0)
        last = scored[-1].score if scored else 0.0
        out[i, :7] = [item.score, np.tanh(item.raw / 3), min(pos, 5) / 5, min(neg, 5) / 5, last,
                      float("?" in t or "？" in t or t.rstrip().endswith("か")), float(len(segs) > 1)]
        if pd_ is not None:
            out[i, 7:7 + n_polarity] = polarity_features(morphs, pd_)
        if n_wish:
            out[i, 7 + n_polarity:] = wish_features(morphs, lex.words)
    return out
