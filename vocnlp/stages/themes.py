"""Themes: a second level above the topics, 5-10 subjects a product owner scans, each holding its sub-topics.

How themes are made. Each topic's centroid is taken in the space the weekly tracking assigns topics in
(the e5 embeddings, centred on the history's reference mean, L2-normalised; without a history, centred on
this run's mean), and the centroids are clustered with Ward linkage (``themes.linkage``), each topic
weighing the same. The number of themes is chosen inside ``[lo, hi]`` where
``hi = min(max_themes, n_topics // min_topics_per_theme)`` and ``lo = min(min_themes, hi)``: the cut with the
largest relative jump in the merge heights (the next merge would join the most dissimilar groups).
Fewer topics give fewer themes (one theme for up to three topics); the no-topic rows (-1) belong to no theme.

Why centroids of topics and not a second clustering of comments: a theme is then exactly a union of topics,
so its counts and its trend are the sums of its sub-topics' (``parent_id`` in topics.csv), and a topic never
sits in two themes.

Labels, as a person names a group of subjects: one noun or one phrase, never a list of nouns
(:func:`theme_labels`). A one-topic theme is named as its topic (by its first noun when the topic is named by two
keywords). A larger one by the noun its sub-topics' labels
share (アプリ for アプリが落ちる and アプリのバーコード), else by its most central noun used across its sub-topics
(the share of the theme's comments that use it x the share of the noun's comments inside the theme x the share of
its sub-topics that use it; :func:`theme_central`), else by a central key phrase said across its sub-topics
(:func:`vocnlp.stages.topic_labels.scored_phrases`, one class per theme). A central noun or phrase names the theme
only when at least a third of its comments use it (``MIXED_SHARE``); otherwise the theme is **mixed** (its sub-topics
share no subject) and is named by its largest sub-topic's subject with 「など」 (配送など), which the report reads
(:func:`is_mixed`) to list the sub-topics beside the name. Two themes never share a label.
``themes.label_words`` is no longer used.

Across periods (with a history): a known topic keeps its theme, a new topic joins the theme whose centroid
(the mean of its active sub-topics' centroids) is nearest, and theme labels are kept from their first period.
A new topic farther from every theme than any known sub-topic is from the rest of its own theme
(:func:`far_threshold`: the spread inside the themes, measured leave-one-out, no constant) starts a theme of its
own instead, with a new id and its own label, so a new subject is not hidden inside an unrelated theme; the known
themes keep their ids and sub-topics, so their trend lines go on. Themes are fitted afresh only when the history
holds none yet (its first period, or a history written before themes existed).

Requires: the topic ids per analysed row, the topic table (labels, keywords, sizes) and the embeddings.
Returns: each topic's theme (``parent``) and the theme table.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import ThemesConfig
from ..phrases import NOT_SUBJECTS, Phrase
from .topic_labels import scored_phrases
from .topics import centroids_of, l2_normalize, readable_word

THEME_ID = "theme_id"
THEME_LABEL = "theme_label"
PARENT_ID = "parent_id"
NO_THEME = -1
LABEL_CANDIDATES = 15  # a theme's top c-TF-IDF words considered for its label
# a theme's word names the theme only when at least this share of its comments use it: a third, since short comments
# often leave the subject unsaid (アプリ is in 9 of the 23 comments of W44's coupons / in-app flyers theme, 0.39),
# while a word that names one sub-topic is in far fewer (W44: 説明 0.15, 店員さん 0.13, 色 0.12)
MIXED_SHARE = 1 / 3
MIXED_MARK = "など"  # a mixed theme is named by its largest sub-topic's subject with this mark (配送など)
WordsOf = Callable[[dict[int, int]], dict[int, list[str]]]  # topic -> theme links -> each theme's c-TF-IDF words
CentralOf = Callable[[dict[int, int]], dict[int, tuple]]  # -> each theme's (phrases, nouns, coverage)
THEME_COLUMNS = [THEME_ID, THEME_LABEL, "keywords", "n_topics", "topic_ids", "size", "share", "mean_sentiment",
                 "negative_share", "positive_share"]


@dataclass
class ThemeResult:
    parent: dict[int, int]  # topic id -> theme id, for every topic this result knows (not -1)
    labels: dict[int, str]  # theme id -> label
    keywords: dict[int, str]  # theme id -> keywords (、-joined)
    new_themes: pd.DataFrame = field(default_factory=pd.DataFrame)  # theme_id, theme_label, keywords born now
    new_links: dict[int, int] = field(default_factory=dict)  # topic -> theme links made in this period
    params: dict = field(default_factory=dict)

    def of(self, topic_id: int) -> int:
        return self.parent.get(int(topic_id), NO_THEME)


# -- the number of themes and the clustering ---------------------------------------------------------


def theme_range(n_topics: int, cfg: ThemesConfig) -> tuple[int, int]:
    """The allowed number of themes for ``n_topics`` topics (see the module docstring)."""
    hi = max(1, min(cfg.max_themes, int(n_topics // cfg.min_topics_per_theme)))
    return min(cfg.min_themes, hi), hi


def choose_n_themes(heights: np.ndarray, n_topics: int, cfg: ThemesConfig) -> int:
    """The cut in ``[lo, hi]`` with the largest relative jump between consecutive merge heights.

    ``heights`` are the n-1 merge heights in increasing order; cutting into k groups stops before merge
    n-k, so its jump is heights[n-k] / heights[n-k-1]. Ties go to more themes."""
    lo, hi = theme_range(n_topics, cfg)
    if hi <= 1 or n_topics <= 2:
        return 1
    best, best_jump = hi, -1.0
    for k in range(hi, lo - 1, -1):
        above, below = heights[n_topics - k], heights[n_topics - k - 1]
        jump = float(above / below) if below > 1e-9 else float("inf")
        if jump > best_jump + 1e-9:
            best, best_jump = k, jump
    return best


def cluster_centroids(C: np.ndarray, cfg: ThemesConfig) -> tuple[np.ndarray, int]:
    """Group labels (0..k-1) for the rows of ``C`` (unit centroids) and the chosen k."""
    n = len(C)
    if n <= 2:
        return np.zeros(n, dtype=int), 1
    from scipy.cluster.hierarchy import fcluster, linkage

    Z = linkage(C.astype(np.float64), method=cfg.linkage, metric="euclidean")
    k = choose_n_themes(Z[:, 2], n, cfg)
    return fcluster(Z, t=k, criterion="maxclust") - 1, k


# -- centroids in the tracking space ---------------------------------------------------------------------


def topic_centroids(embeddings: np.ndarray, assignments: np.ndarray, mean: np.ndarray | None,
                    weights: np.ndarray | None = None) -> dict[int, np.ndarray]:
    """Each topic's unit centroid in the centred embedding space (the space tracking assigns topics in).
    ``weights``: the rows are distinct texts, each standing for that many comments."""
    if not len(embeddings):
        return {}
    mu = (embeddings.mean(axis=0) if weights is None else np.average(embeddings, axis=0, weights=weights)) \
        if mean is None else mean
    return centroids_of(l2_normalize(embeddings - mu), assignments, weights)


# -- labels --------------------------------------------------------------------------------------------


def _words(row) -> list[str]:
    """A topic's words: its label's parts first, then its keywords, without repeats."""
    label = str(row.get(S.TOPIC_LABEL, "") or "")
    kw = str(row.get("keywords", "") or "")
    out: list[str] = []
    for w in [*label.split("・"), *kw.split("、")]:
        w = w.strip()
        if w and w not in out:
            out.append(w)
    return out


def _add(counter: Counter, items, k: int) -> None:
    """Counts each of ``items`` ``k`` times (a distinct text said by ``k`` comments)."""
    if k == 1:
        counter.update(items)
    else:
        for x in items:
            counter[x] += k


def _counts(counts: np.ndarray | None, n: int) -> list[int]:
    return [1] * n if counts is None else np.asarray(counts, dtype=np.int64).tolist()


def theme_words(tokens: list[list[str]], assignments: np.ndarray, parent: dict[int, int], n: int,
                counts: np.ndarray | None = None) -> dict[int, list[str]]:
    """Each theme's c-TF-IDF words over its comments, one class per theme: BERTopic's formula with
    ``reduce_frequent_words`` (sqrt of the class's L1-normalised counts x log(1 + mean words per class / the word's
    count over all classes)), written out so that a run whose topics come from the cache imports neither
    BERTopic nor scikit-learn, and so that one theme alone still has words. ``counts``: how many comments say each
    entry (one per distinct text, in first-appearance order: the same words as the comments one by one)."""
    counts_of: dict[int, Counter] = {}
    for toks, t, k in zip(tokens, assignments, _counts(counts, len(tokens))):
        th = parent.get(int(t), NO_THEME)
        if th != NO_THEME:
            _add(counts_of.setdefault(th, Counter()), toks, k)
    total: Counter = Counter()
    for c in counts_of.values():
        total.update(c)
    mean_words = sum(total.values()) / max(1, len(counts_of))
    out = {}
    for th, c in counts_of.items():
        size = sum(c.values()) or 1
        score = {w: math.sqrt(k / size) * math.log(1 + mean_words / total[w]) for w, k in c.items() if readable_word(w)}
        out[th] = sorted(score, key=lambda w: (-score[w], w))[:n]
    return out


def theme_central(tokens: list[list[str]], phrases: list[list[Phrase]], assignments: np.ndarray,
                  parent: dict[int, int], words_of_theme: dict[int, list[str]],
                  nouns: frozenset[str] = frozenset(),
                  counts: np.ndarray | None = None) -> dict[int, tuple[list[str], list[str], dict[str, float]]]:
    """Each theme's central key phrases and central nouns, best first, each said in the comments of at least two
    of its sub-topics (the theme's subject, not one sub-topic's side), and the coverage of each: the share of the
    theme's comments that use the noun (for a phrase, the most used of its nouns):

    - phrases: :func:`vocnlp.stages.topic_labels.scored_phrases` with one class per theme (the phrase carries one
      of the theme's top c-TF-IDF nouns and is said in at least two comments);
    - nouns: by centrality x distinctiveness x spread: the share of the theme's comments that use the noun (as the
      topic labels score a phrase's parts), the share of the noun's comments that are in the theme, and the share
      of the theme's sub-topics whose comments use it; in at least two comments and 10 % of the theme's.

    ``counts``: as in :func:`theme_words` (the entries are distinct texts, each counted for its comments)."""
    assignments = np.asarray(assignments)
    ks = _counts(counts, len(assignments))
    th = np.array([parent.get(int(t), NO_THEME) for t in assignments], dtype=int)
    keywords = {k: [w for w in v if w and (not nouns or w in nouns)] + [w for w in v if w and nouns and w not in nouns]
                for k, v in words_of_theme.items()}  # nouns first: the phrase must carry one of the top three
    spread: dict[tuple[int, str], set[int]] = {}
    df_all: Counter = Counter()
    df_th: dict[int, Counter] = {}
    n_th: Counter = Counter()
    for g, k in zip(th.tolist(), ks):
        n_th[g] += k
    for t, g, ps, toks, k in zip(assignments.tolist(), th.tolist(), phrases, tokens, ks):
        words = {w for w in toks if (not nouns or w in nouns) and readable_word(w) and w not in NOT_SUBJECTS}
        _add(df_all, words, k)
        if g == NO_THEME:
            continue
        _add(df_th.setdefault(g, Counter()), words, k)
        for u in [*(p.text for p in ps), *words]:
            spread.setdefault((g, u), set()).add(int(t))
    out: dict[int, tuple[list[str], list[str], dict[str, float]]] = {g: ([], [], {}) for g in df_th}
    for _score, g, p in scored_phrases(th, phrases, tokens, keywords, counts=counts):
        if len(spread.get((g, p.text), ())) >= 2:
            out[g][0].append(p.text)
            # a phrase covers the comments that use one of its nouns (a theme is named by its subject)
            out[g][2][p.text] = max([df_th[g].get(w, 0) for w in p.nouns] or [0]) / (n_th[g] or 1)
    for g, df in df_th.items():
        n = n_th[g] or 1
        subs = len({int(t) for t, gg in zip(assignments.tolist(), th.tolist()) if gg == g}) or 1
        score = {w: (k / n) * (k / df_all[w]) * (len(spread[(g, w)]) / subs) for w, k in df.items()
                 if k >= 2 and k >= 0.1 * n and len(spread.get((g, w), ())) >= 2}
        out[g][1].extend(sorted(score, key=lambda w: (-score[w], w)))
        out[g][2].update({w: df[w] / n for w in score})
    return out


def _shared_noun(inside: list[int], rows: dict, candidates: list[str], nouns: frozenset[str]) -> str:
    """The noun that the labels of at least two sub-topics, holding at least half of the theme's comments, share
    (アプリ for アプリが落ちる and アプリのバーコード); the one whose sub-topics hold most comments, then the c-TF-IDF
    order. '' when none."""
    size = {t: int(rows[t].get("size", 0) or 0) for t in inside}
    total = sum(size.values()) or 1
    labels = {t: str(rows[t].get(S.TOPIC_LABEL, "") or "") for t in inside}
    words = list(dict.fromkeys([*candidates, *(w for t in inside for w in labels[t].split("・"))]))
    best, best_key = "", None
    for i, w in enumerate(words):
        if not readable_word(w) or len(w) < 2 or (nouns and w not in nouns) or w in NOT_SUBJECTS:
            continue
        carried = [t for t in inside if w in labels[t]]
        held = sum(size[t] for t in carried)
        if len(carried) >= 2 and held >= total / 2:
            key = (-held, i)
            if best_key is None or key < best_key:
                best, best_key = w, key
    return best


def _subject(row, nouns: frozenset[str]) -> str:
    """A topic's subject: its label when it is a key phrase, else (two keywords, マットレス・敷布団) its first noun."""
    label = str(row.get(S.TOPIC_LABEL, "") or "")
    if is_mixed(label):  # a mixed topic (配送など) names the theme by its subject: 配送など, not 配送などなど
        return label[: -len(MIXED_MARK)]
    if "・" not in label:
        return label
    parts = [w.strip() for w in label.split("・")]
    fit = [w for w in parts if _names_a_subject(w, nouns)]
    return (fit or parts)[0]


def _names_a_subject(word: str, nouns: frozenset[str]) -> bool:
    """A word that can name a subject: readable, not a generic word, and a noun (when the nouns are known)."""
    return readable_word(word) and word not in NOT_SUBJECTS and (not nouns or word in nouns)


def is_mixed(label: str) -> bool:
    """Whether a theme label names a mixed theme (its largest sub-topic's subject with 「など」, :func:`theme_labels`)."""
    return bool(label) and str(label).endswith(MIXED_MARK) and len(str(label)) > len(MIXED_MARK)


def theme_labels(topic_table: pd.DataFrame, parent: dict[int, int], n_words: int,
                 words_of_theme: dict[int, list[str]] | None = None,
                 nouns: frozenset[str] = frozenset(),
                 central_of_theme: dict[int, tuple] | None = None,
                 taken: set[str] | None = None) -> tuple[dict[int, str], dict[int, str]]:
    """(label, keywords) per theme, named as a person would name a group of subjects, never by a list of nouns:

    1. a one-topic theme: its topic's label when it is a key phrase, else (two keywords, マットレス・敷布団) its
       first noun (マットレス): a theme names a subject, not a list;
    2. the noun its sub-topics' labels share (:func:`_shared_noun`): アプリ over アプリが落ちる, アプリのバーコード;
    3. its most central noun said across its sub-topics (``central_of_theme``, :func:`theme_central`): a theme is
       broader than a topic, and a noun names it better than one statement (駐車場 over 駐車場が狭い for a theme of
       parking, roads and stations; 交通 over バスの本数 for buses, transport and access);
    4. its most central key phrase said across its sub-topics, unless it is one sub-topic's own label;
    5. a **mixed** theme: its largest sub-topic's subject with 「など」 (配送など), then the next sub-topic's.

    Rules 3 and 4 name a theme only with a word that at least ``MIXED_SHARE`` (a third) of the theme's comments use
    (the coverage :func:`theme_central` measures; a phrase by its most used noun): a word fewer use names a part of
    the theme, and on the issue list it would name the theme of sub-topics that never say it (説明 over delivery,
    a kettle's defect and online orders). Rule 2 needs no such check: the sub-topics whose labels share the noun
    hold at least half of the theme's comments. Where no coverage is given (a ``central_of_theme`` of two-element
    tuples), rules 3 and 4 are not checked. A theme whose rules 2-4 find nothing is mixed (rule 5).

    Labels are unique: a theme (biggest first) skips a label an earlier theme took, or one in ``taken`` (the known
    themes' labels, when a tracked period names a new theme). ``n_words`` is kept for the
    configuration's sake (``themes.label_words``); a label is now one noun or one phrase."""
    del n_words
    rows = {int(r[S.TOPIC_ID]): r for _, r in topic_table.iterrows() if int(r[S.TOPIC_ID]) in parent}
    words_of_theme = words_of_theme or {}
    central_of_theme = central_of_theme or {}
    labels, keywords = {}, {}
    size = {t: int(rows[t].get("size", 0) or 0) for t in rows}
    themes = sorted(set(parent.values()), key=lambda th: (-sum(size.get(t, 0) for t in rows if parent[t] == th), th))
    used: set[str] = set(taken or ())
    for theme in themes:
        inside = sorted((t for t in rows if parent[t] == theme), key=lambda t: (-size[t], t))
        if not inside:
            continue
        candidates = words_of_theme.get(theme, [])[:LABEL_CANDIDATES]
        own = {str(rows[t][S.TOPIC_LABEL]) for t in inside}
        central = tuple(central_of_theme.get(theme, ([], [])))
        central_phrases, central_nouns = central[0], central[1]
        coverage = central[2] if len(central) > 2 else None
        if len(inside) == 1:
            topic_label = str(rows[inside[0]][S.TOPIC_LABEL])
            head = topic_label.split("・")[:1] if "・" in topic_label else []
            own_words = [w.strip() for w in [*head, *str(rows[inside[0]].get("keywords", "") or "").split("、")]]
            subject = [w for w in own_words if _names_a_subject(w, nouns)]
            # its topic's key phrase, or, for a topic named by two keywords (マットレス・敷布団), its first noun
            # (マットレス); then its other keywords, if another theme has that label
            options = ([topic_label] if "・" not in topic_label else []) + [*subject, topic_label][:4]
        else:
            named = [*central_nouns[:3], *[p for p in central_phrases if p not in own][:3]]
            if coverage is not None:  # a word most of the theme's comments use, else the theme is mixed
                named = [w for w in named if coverage.get(w, 0.0) >= MIXED_SHARE]
            mixed = [f"{_subject(rows[t], nouns)}{MIXED_MARK}" for t in inside]
            options = [_shared_noun(inside, rows, candidates, nouns), *named, *mixed,
                       *[str(rows[t][S.TOPIC_LABEL]) for t in inside]]
        label = next((o for o in options if o and o not in used), options[-1] if options else "")
        labels[theme] = label
        used.add(label)
        kw = words_of_theme.get(theme) or _words(rows[inside[0]])
        keywords[theme] = "、".join(kw[:8])
    return labels, keywords


# -- fitting and tracking ----------------------------------------------------------------------------------


def fit_themes(centroids: dict[int, np.ndarray], topic_table: pd.DataFrame, cfg: ThemesConfig,
               first_id: int = 0, words: WordsOf | None = None, nouns: frozenset[str] = frozenset(),
               phrases: CentralOf | None = None) -> ThemeResult:
    """Themes from scratch: Ward on the topic centroids, ids from ``first_id`` on, biggest theme first."""
    ids = sorted(t for t in centroids if t >= 0)
    if not ids:
        return ThemeResult({}, {}, {}, _new_table({}, {}, {}), {}, {"mode": "none", "n_themes": 0})
    groups, k = cluster_centroids(np.vstack([centroids[t] for t in ids]), cfg)
    size = dict(zip(topic_table[S.TOPIC_ID].astype(int), topic_table["size"].astype(int)))
    totals = pd.Series({g: sum(size.get(t, 0) for t, gg in zip(ids, groups) if gg == g) for g in set(groups)})
    order = sorted(totals.index, key=lambda g: (-totals[g], min(t for t, gg in zip(ids, groups) if gg == g)))
    remap = {g: first_id + i for i, g in enumerate(order)}
    parent = {t: remap[g] for t, g in zip(ids, groups)}
    labels, keywords = theme_labels(topic_table, parent, cfg.label_words, words(parent) if words else None, nouns,
                                    phrases(parent) if phrases else None)
    lo, hi = theme_range(len(ids), cfg)
    return ThemeResult(parent, labels, keywords, _new_table(parent, labels, keywords), dict(parent),
                       {"mode": "fitted", "n_themes": k, "n_topics": len(ids), "allowed": [lo, hi],
                        "linkage": cfg.linkage})


def theme_spread(centroids: dict[int, np.ndarray], links: dict[int, int]) -> list[float]:
    """How far the known themes' own sub-topics sit from their theme: for each sub-topic of a theme with at least
    two, the cosine of its centroid to the mean of the theme's other sub-topics (leave-one-out, so a sub-topic is
    compared with a theme it is not part of, as a new topic is)."""
    by_theme: dict[int, list[int]] = {}
    for t, th in links.items():
        if t in centroids:
            by_theme.setdefault(th, []).append(t)
    return [_cosine(centroids, t, [o for o in subs if o != t]) for subs in by_theme.values() if len(subs) >= 2
            for t in subs]


def _cosine(centroids: dict[int, np.ndarray], topic: int, group: list[int]) -> float:
    """The cosine of a topic's centroid to a group's (the mean of its topics' centroids)."""
    g = l2_normalize(np.mean([centroids[x] for x in group], axis=0)[None, :])[0]
    return float(l2_normalize(centroids[topic][None, :])[0] @ g)


def far_threshold(centroids: dict[int, np.ndarray], links: dict[int, int]) -> float | None:
    """The cosine below which a new topic is farther from a theme than any known sub-topic is from the rest of its
    own theme (the minimum of :func:`theme_spread`): such a topic starts a theme of its own. None when no theme has
    two sub-topics yet (nothing to measure the spread on): every new topic then joins the nearest theme."""
    sims = theme_spread(centroids, links)
    return min(sims) if sims else None


def track_themes(centroids: dict[int, np.ndarray], topic_table: pd.DataFrame, cfg: ThemesConfig,
                 links: dict[int, int], known: pd.DataFrame, next_id: int, words: WordsOf | None = None,
                 nouns: frozenset[str] = frozenset(), phrases: CentralOf | None = None) -> ThemeResult:
    """Themes that carry over: known topics keep their theme, a topic without one joins the nearest theme, unless
    it is far from every theme, which then starts a theme of its own.

    Nearest: the theme whose centroid (the mean of its sub-topics') is closest to the topic's centroid. Far: that
    cosine is below :func:`far_threshold`, the loosest fit of a known sub-topic to the rest of its own theme (all in
    the tracking space). Far topics of one period that are that close to each other join one new theme (the first,
    by topic id, founds it). New themes
    get ids from ``next_id`` on and their own labels (never a known theme's); the known themes keep their ids,
    labels and sub-topics, so every trend line goes on; a new theme's trend starts in the period it is born.

    ``centroids``: every active topic (the tracking's state after this period), ``links``: the stored
    topic -> theme links, ``known``: the stored themes (theme_id, theme_label). With no stored theme, themes are
    fitted on all active topics, with ids from ``next_id``."""
    active = {t: c for t, c in centroids.items() if t >= 0}
    known_ids = set(known[THEME_ID].astype(int)) if len(known) else set()
    kept = {t: th for t, th in links.items() if t in active and th in known_ids}
    if not kept:
        return fit_themes(active, topic_table, cfg, first_id=next_id, words=words, nouns=nouns, phrases=phrases)
    by_theme: dict[int, list[int]] = {}
    for t, th in kept.items():
        by_theme.setdefault(th, []).append(t)
    theme_ids = sorted(by_theme)
    T = l2_normalize(np.vstack([np.mean([active[t] for t in by_theme[th]], axis=0) for th in theme_ids]))
    threshold = far_threshold(active, kept)
    new_links: dict[int, int] = {}
    born: dict[int, list[int]] = {}  # new theme id -> its topics
    nearest: dict[int, float] = {}
    for t in sorted(set(active) - set(kept)):
        sims = T @ l2_normalize(active[t][None, :])[0]
        nearest[t] = float(sims.max())
        if threshold is None or nearest[t] >= threshold:
            new_links[t] = int(theme_ids[int(np.argmax(sims))])
            continue
        own = {th: _cosine(active, t, subs) for th, subs in born.items()}
        fits = [th for th, sim in own.items() if sim >= threshold]
        th = max(fits, key=lambda x: (own[x], -x)) if fits else next_id + len(born)
        born.setdefault(th, []).append(t)
        new_links[t] = th
    parent = {**kept, **new_links}
    stored = dict(zip(known[THEME_ID].astype(int), known[THEME_LABEL].astype(str)))
    theme_words_ = words(parent) if words else None
    central = phrases(parent) if phrases else None
    fresh_labels, keywords = theme_labels(topic_table, parent, cfg.label_words, theme_words_, nouns, central)
    labels = {th: stored.get(th, fresh_labels.get(th, "")) for th in set(parent.values())}
    if born:  # named like any theme, but never with a label a known theme already has
        new_parent = {t: th for t, th in parent.items() if th in born}
        born_labels, _ = theme_labels(topic_table, new_parent, cfg.label_words, theme_words_, nouns, central,
                                      taken=set(stored.values()))
        labels.update(born_labels)
    new_table = _new_table({t: th for t, th in parent.items() if th in born}, labels, keywords)
    return ThemeResult(parent, labels, keywords, new_table, new_links,
                       {"mode": "tracked", "n_themes": len(set(parent.values())), "n_topics": len(active),
                        "joined_nearest_theme": len(new_links) - sum(len(v) for v in born.values()),
                        "far_threshold": None if threshold is None else round(threshold, 4),
                        "new_themes": [{"theme_id": th, "topic_ids": subs,
                                        "nearest_known": round(max(nearest[t] for t in subs), 4)}
                                       for th, subs in sorted(born.items())]})


def _new_table(parent: dict[int, int], labels: dict[int, str], keywords: dict[int, str]) -> pd.DataFrame:
    rows = [{THEME_ID: th, THEME_LABEL: labels.get(th, ""), "keywords": keywords.get(th, "")}
            for th in sorted(set(parent.values()))]
    return pd.DataFrame(rows, columns=[THEME_ID, THEME_LABEL, "keywords"])


# -- tables ----------------------------------------------------------------------------------------------


def with_parents(topic_tab: pd.DataFrame, issues: pd.DataFrame, result: ThemeResult) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``parent_id`` and ``theme_label`` on topics.csv (-1 and "" for the no-topic row), ``theme_id`` and
    ``theme_label`` on issues.csv (the issues stay ranked per topic)."""
    def annotate(df: pd.DataFrame, id_col: str, after: str) -> pd.DataFrame:
        df = df.copy()
        parents = [result.of(t) for t in df[S.TOPIC_ID].astype(int)] if len(df) else []
        pos = list(df.columns).index(after) + 1 if after in df.columns else len(df.columns)
        df.insert(pos, id_col, pd.Series(parents, index=df.index, dtype="int64"))
        df.insert(pos + 1, THEME_LABEL, [result.labels.get(p, "") for p in parents])
        return df

    return annotate(topic_tab, PARENT_ID, S.TOPIC_LABEL), annotate(issues, THEME_ID, S.TOPIC_LABEL)


def theme_table(topic_tab: pd.DataFrame, result: ThemeResult) -> pd.DataFrame:
    """themes.csv: per theme, the sums over its sub-topics in topics.csv (size, share, negative and positive
    counts; mean sentiment weighted by size). Biggest first; the no-topic row belongs to no theme."""
    t = topic_tab[topic_tab[S.TOPIC_ID] >= 0].copy()
    if not len(t):
        return pd.DataFrame(columns=THEME_COLUMNS)
    t["_theme"] = [result.of(x) for x in t[S.TOPIC_ID]]
    t = t[t["_theme"] != NO_THEME]
    w = t["size"].astype(float)
    t["_neg"] = t["negative_share"].fillna(0).astype(float) * w
    t["_pos"] = t["positive_share"].fillna(0).astype(float) * w
    t["_sent"] = t["mean_sentiment"].fillna(0).astype(float) * w
    rows = []
    for th, g in t.groupby("_theme", sort=False):
        n = float(g["size"].sum())
        rows.append({THEME_ID: int(th), THEME_LABEL: result.labels.get(int(th), ""),
                     "keywords": result.keywords.get(int(th), ""), "n_topics": len(g),
                     "topic_ids": "|".join(str(int(x)) for x in g[S.TOPIC_ID]), "size": int(n),
                     "share": round(float(g["share"].sum()), 4),
                     "mean_sentiment": round(float(g["_sent"].sum()) / n, 4) if n else np.nan,
                     "negative_share": round(float(g["_neg"].sum()) / n, 4) if n else np.nan,
                     "positive_share": round(float(g["_pos"].sum()) / n, 4) if n else np.nan})
    out = pd.DataFrame(rows, columns=THEME_COLUMNS)
    return out.sort_values(["size", THEME_ID], ascending=[False, True]).reset_index(drop=True)


def with_changes(theme_tab: pd.DataFrame, previous: pd.DataFrame | None) -> pd.DataFrame:
    """``prev_share`` (the previous period's theme_period share, 0 for a theme without comments then) and
    ``share_change`` on themes.csv; unchanged without a previous period."""
    if previous is None or theme_tab is None:
        return theme_tab
    prev = dict(zip(previous[THEME_ID].astype(int), previous["share"].astype(float)))
    out = theme_tab.copy()
    out["prev_share"] = [round(prev.get(int(t), 0.0), 4) for t in out[THEME_ID]]
    out["share_change"] = (out["share"] - out["prev_share"]).round(4)
    return out


def period_theme_stats(topic_stats: pd.DataFrame, result: ThemeResult) -> pd.DataFrame:
    """The history's theme_period rows: a theme's size, share, negative share and mean sentiment are the sums
    (sizes, shares, negative counts) and size-weighted means of its sub-topics' topic_period rows."""
    cols = [THEME_ID, "size", "share", "mean_sentiment", "negative_share"]
    if not len(topic_stats):
        return pd.DataFrame(columns=cols)
    t = topic_stats[topic_stats[S.TOPIC_ID] >= 0].copy()
    t["_theme"] = [result.of(x) for x in t[S.TOPIC_ID]]
    t = t[t["_theme"] != NO_THEME]
    w = t["size"].astype(float)
    t["_neg"] = t["negative_share"].fillna(0).astype(float) * w
    t["_sent"] = t["mean_sentiment"].fillna(0).astype(float) * w
    g = t.groupby("_theme")
    out = pd.DataFrame({"size": g["size"].sum(), "share": g["share"].sum(), "_sent": g["_sent"].sum(),
                        "_neg": g["_neg"].sum()})
    n = out["size"].astype(float).replace(0, np.nan)
    out["mean_sentiment"] = out["_sent"] / n
    out["negative_share"] = out["_neg"] / n
    out = out.reset_index().rename(columns={"_theme": THEME_ID})
    out[THEME_ID] = out[THEME_ID].astype(int)
    out["size"] = out["size"].astype(int)
    return out[cols]


__all__ = ["ThemeResult", "fit_themes", "track_themes", "theme_table", "with_parents", "period_theme_stats"]
