"""Topic labels a product owner reads: one key phrase per topic, chosen by centrality and distinctiveness.

Each comment brings its key-phrase candidates (:func:`vocnlp.phrases.key_phrases`: 配送の遅れ, アプリが落ちる,
ログインできない), each with its nouns and predicate. Comments about one subject rarely say it in the same words,
so a phrase is scored by its parts as well as by itself. For a topic *t* and a unit *x* (a noun, a predicate, or
the whole phrase), with every comment weighted by how typical of its topic it is (its cosine to the topic
centroid as a z-score within the topic, clipped to [0.25, 2]):

- centrality: the weighted share of the topic's comments that contain *x*;
- distinctiveness: the share of all comments containing *x* that are in *t* (c-TF-IDF's idea: a word found in
  every topic, 対応 or 良い, names none);
- s_t(x) = centrality × distinctiveness.

A phrase scores the sum of s_t over its nouns, its predicate and itself. It qualifies when it names the
topic's subject (one of its nouns carries one of the topic's top keywords, nouns first), when each of its nouns
is in at least two of the topic's comments (not one comment's side remark), when the phrase itself is said in
at least ``min_support`` of the topic's comments, and when its most used noun is in at least ``min_share`` of them. Topics take labels best
score first, each label once, so two topics never share a name; ``taken`` labels (known topics) are not reused.
A topic with no qualifying phrase is named by its best two keywords (:func:`vocnlp.stages.topics._label`),
never by a list of three unrelated nouns. Counting is exact and ties break on the phrase text, so the labels
are deterministic.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence

import numpy as np

from ..phrases import Phrase

TOP_KEYWORDS = 3
PHRASE_WEIGHT = 2.0  # the phrase as written counts twice its parts: 道路が狭い (5 comments) over 道路が細い (2)


def centrality_weights(closeness: np.ndarray, topics: np.ndarray) -> np.ndarray:
    """Per comment: 1 + its z-scored cosine to its topic centroid within the topic, clipped to [0.25, 2]."""
    w = np.ones(len(topics), dtype=float)
    for t in np.unique(topics):
        idx = np.where(topics == t)[0]
        c = closeness[idx]
        sd = float(c.std())
        if sd > 1e-9:
            w[idx] = np.clip(1.0 + (c - c.mean()) / sd, 0.25, 2.0)
    return w


def _units(tokens: Sequence[str], phrases: Sequence[Phrase]) -> set[tuple[str, str]]:
    """A comment's countable units: its nouns (content words and the phrases' nouns), predicates and phrases."""
    units = {("n", w) for w in tokens}
    for p in phrases:
        units.add(("c", p.text))
        units.update(("n", n) for n in p.nouns)
        if p.predicate:
            units.add(("p", p.predicate))
    return units


def scored_phrases(topics: np.ndarray, phrases: Sequence[Sequence[Phrase]], tokens: Sequence[Sequence[str]],
                   keywords: dict[int, list[str]], weights: np.ndarray | None = None, min_support: int = 2,
                   min_share: float = 0.1, counts: np.ndarray | None = None) -> list[tuple[float, int, Phrase]]:
    """Every qualifying (score, topic, phrase), best first (ties on topic, then the phrase text); the arguments
    as in :func:`phrase_labels`. Themes pick theirs from this list with their own conditions. ``counts``: how many
    comments each entry stands for (a distinct text, counted for each of its comments: with ``weights`` None the
    same numbers as the comments one by one); default 1."""
    topics = np.asarray(topics)
    k = np.ones(len(topics), dtype=np.int64) if counts is None else np.asarray(counts, dtype=np.int64)
    w = np.ones(len(topics)) if weights is None else np.asarray(weights, dtype=float)
    if counts is not None:
        w = w * k
    df_all: Counter[tuple[str, str]] = Counter()
    df_t: dict[int, Counter[tuple[str, str]]] = defaultdict(Counter)
    wdf_t: dict[int, Counter[tuple[str, str]]] = defaultdict(Counter)
    for t, toks, ps, wi, ki in zip(topics.tolist(), tokens, phrases, w, k.tolist()):
        units = _units(toks, ps)
        if ki == 1:
            df_all.update(units)
        else:
            for u in units:
                df_all[u] += ki
        if t >= 0:
            dt, wt = df_t[t], wdf_t[t]
            for u in units:
                dt[u] += ki
                wt[u] += float(wi)
    cands: dict[int, set[Phrase]] = defaultdict(set)
    for t, ps in zip(topics.tolist(), phrases):
        if t >= 0:
            cands[t].update(ps)
    scored: list[tuple[float, int, Phrase]] = []
    for t, ps in cands.items():
        members = topics == t
        scored += _score_topic(t, ps, int(k[members].sum()), float(w[members].sum()) or 1.0, df_t[t], wdf_t[t], df_all,
                               [k for k in keywords.get(t, [])[:TOP_KEYWORDS] if k], min_support, min_share)
    return sorted(scored, key=lambda x: (-x[0], x[1], x[2].text))


def phrase_labels(topics: np.ndarray, phrases: Sequence[Sequence[Phrase]], tokens: Sequence[Sequence[str]],
                  keywords: dict[int, list[str]], weights: np.ndarray | None = None, min_support: int = 2,
                  min_share: float = 0.1, taken: frozenset[str] = frozenset()) -> dict[int, str]:
    """The key phrase of each topic that has one that qualifies (topics without one are left out).

    ``topics``: topic id per comment (-1 = none); ``phrases`` and ``tokens``: each comment's candidates and
    content words; ``keywords``: each topic's label words, best first (nouns first); ``weights``: per-comment
    centrality (default 1); ``taken``: labels already in use."""
    labels: dict[int, str] = {}
    used = set(taken)
    for _score, t, p in scored_phrases(topics, phrases, tokens, keywords, weights, min_support, min_share):
        if t in labels or p.text in used:
            continue
        labels[t] = p.text
        used.add(p.text)
    return labels


def _score_topic(t: int, phrases: set[Phrase], n_t: int, w_t: float, df: Counter, wdf: Counter, df_all: Counter,
                 anchors: list[str], min_support: int, min_share: float) -> list[tuple[float, int, Phrase]]:
    """(score, topic, phrase) for the topic's phrases that qualify (see the module docstring)."""

    def s(u: tuple[str, str]) -> float:
        return (wdf[u] / w_t) * (df[u] / df_all[u]) if df[u] else 0.0

    out = []
    for p in phrases:
        if not any(a in n for a in anchors for n in p.nouns):
            continue  # not about the topic's subject
        if any(df[("n", n)] < 2 for n in p.nouns):
            continue  # a noun only one comment uses
        if p.predicate and df[("c", p.text)] < 2 and df[("p", p.predicate)] < 2:
            continue  # one comment's predicate (駐車場が広い where the others say it is full)
        if df[("c", p.text)] < min_support or max(df[("n", n)] for n in p.nouns) < min_share * n_t:
            continue  # said as such by one comment only, or about a noun few of the topic's comments use
        score = sum(s(("n", n)) for n in p.nouns) + (s(("p", p.predicate)) if p.predicate else 0.0) \
            + PHRASE_WEIGHT * s(("c", p.text))
        out.append((score, t, p))
    return out
