"""Stable topic identities across weekly runs.

Re-clustering every week from scratch renumbers topics, so a team cannot follow an issue. Instead,
each new comment is first compared with the known topics' centroids (multilingual-e5 space): a
comment that is as close to a topic as that topic's own typical members were (its ``threshold``,
the 10th percentile of member similarity when the topic was born, never below
``topics.assign_floor``) keeps that topic's id. Only the comments that fit no known topic are
clustered (the same BERTopic step as a first run) into new topics with new ids. Centroids then
move a little towards this week's members (``topics.centroid_momentum``), so topics follow slow
drift but keep their identity.

A new problem inside a known broad topic is absorbed by it (a few dozen comments about sliding doors
join 「ロック・窓ガラス」 and the topic as a whole barely moves). So, before the comments no known topic
took are clustered, this week's and last week's comments are clustered together (one Ward tree, blind to
the week), every group of the tree is tested for growth (Benjamini-Hochberg over all groups tested), and a
group at least ``topics.subtopic_min_growth`` times as common as last week becomes a new topic of its own,
split from the known topic that held most of its comments, with last week's count as its measured baseline
(:func:`_emerging_subtopics`); the week's comparison then tests it like any new topic.

Requires: the analysed rows' embeddings and tokens. Returns ids per analysed row, this week's topic
table (labels are kept from the topic's birth, a subject noun shown with 「など」 when it covers under a third
of the topic this week, :func:`week_labels`; keywords are this week's c-TF-IDF words; each topic's coherence
and subject noun this week) and the registry changes for the history store.
"""

from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import TopicsConfig
from ..errors import RunWarning
from ..phrases import Phrase
from .topic_labels import phrase_labels
from .topics import (
    COHERENT_SHARE,
    MIXED_MARK,
    TopicResult,
    _label,
    _nouns_first,
    _sizes,
    _weights,
    auto_min_size,
    centroids_of,
    coherence_of,
    document_vectors,
    document_vectors_fitted,
    fit_topics,
    is_scattered,
    join_tokens,
    l2_normalize,
    readable_word,
    split_tokens,
    subject_counts,
    subject_nouns,
    topic_coherence,
    with_coherence,
)
from .trends import benjamini_hochberg, two_proportion_p


@dataclass
class TrackResult(TopicResult):
    # topic_id, topic_label, keywords, centroid, threshold, baseline (last period's comments it would have taken)
    new_topics: pd.DataFrame = field(default_factory=pd.DataFrame)
    state: dict[int, tuple[np.ndarray, float]] = field(default_factory=dict)  # every topic after this period
    merged: dict[int, int] = field(default_factory=dict)  # retired topic -> the topic it was merged into
    split_from: dict[int, int] = field(default_factory=dict)  # new topic -> the known topic it split from
    reference_mean: np.ndarray | None = None


def member_threshold(normed: np.ndarray, centroid: np.ndarray, floor: float, q: float) -> float:
    sims = normed @ centroid
    return float(max(floor, np.percentile(sims, q))) if len(sims) else floor


def _count(members: np.ndarray, w: np.ndarray | None) -> int:
    """Comments among ``members`` (documents: distinct texts standing for ``w`` comments each, or comments)."""
    return len(members) if w is None else int(w[members].sum())


def _mean(normed: np.ndarray, members: np.ndarray, w: np.ndarray | None) -> np.ndarray:
    """The members' mean vector (1 x d), each distinct text counted once per comment it stands for."""
    if w is None:
        return normed[members].mean(axis=0, keepdims=True)
    return np.average(normed[members], axis=0, weights=w[members])[None, :]


def _merge_similar(clusters: list, normed: np.ndarray, threshold: float, w: np.ndarray | None = None) -> list:
    """Union clusters whose centroids are at least ``threshold`` similar; the largest part names the result."""
    parent = list(range(len(clusters)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i in range(len(clusters)):
        for j in range(i + 1, len(clusters)):
            if float(clusters[i][1] @ clusters[j][1]) >= threshold:
                parent[find(i)] = find(j)
    groups: dict[int, list[int]] = {}
    for i in range(len(clusters)):
        groups.setdefault(find(i), []).append(i)
    merged = []
    for members_idx in groups.values():
        parts = sorted((clusters[i] for i in members_idx), key=lambda c: -_count(c[0], w))
        members = np.concatenate([c[0] for c in parts])
        centroid = l2_normalize(_mean(normed, members, w))[0]
        merged.append((members, centroid, parts[0][2], parts[0][3]))
    merged.sort(key=lambda c: -_count(c[0], w))
    return merged


def week_keywords(tokens: list[list[str]], topics: np.ndarray, n: int) -> dict[int, list[str]]:
    """This week's c-TF-IDF words per topic (BERTopic's ClassTfidfTransformer on the content words)."""
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    ids = sorted(t for t in set(topics.tolist()) if t >= 0)
    if not ids:
        return {}
    docs = [" ".join(join_tokens(tokens[i]) for i in np.where(topics == t)[0]) for t in ids]
    try:
        cv = CountVectorizer(tokenizer=split_tokens, token_pattern=None, lowercase=False)
        counts = cv.fit_transform(docs)
    except ValueError:
        return {t: [] for t in ids}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ctfidf = ClassTfidfTransformer(reduce_frequent_words=True).fit_transform(counts).toarray()
    words = np.array(cv.get_feature_names_out())
    out = {}
    for row, t in zip(ctfidf, ids):
        order = np.argsort(-row)[: n * 2]
        out[t] = [words[j] for j in order if row[j] > 0 and readable_word(words[j])][:n]
    return out


@dataclass
class KnownTopics:
    """The registry's active topics as arrays: ids, unit centroids (rows of C), assignment thresholds, labels."""

    ids: np.ndarray
    C: np.ndarray
    centroids: dict[int, np.ndarray]
    thresholds: dict[int, float]
    labels: dict[int, str]

    @classmethod
    def from_registry(cls, registry: pd.DataFrame, cfg: TopicsConfig, dim: int) -> KnownTopics:
        active = registry[registry.merged_into.isna()] if len(registry) else registry
        cents, thresholds, labels = {}, {}, {}
        for r in (active.itertuples() if len(active) else []):
            cents[int(r.topic_id)] = np.asarray(r.centroid, dtype=np.float32)
            thresholds[int(r.topic_id)] = max(float(r.threshold), cfg.assign_floor)
            labels[int(r.topic_id)] = r.topic_label
        ids = np.array(sorted(cents), dtype=int)
        C = l2_normalize(np.vstack([cents[i] for i in ids])) if cents else np.zeros((0, dim))
        return cls(ids, C, cents, thresholds, labels)

    def __bool__(self) -> bool:
        return bool(self.centroids)


def track_topics(embeddings: np.ndarray, tokens: list[list[str]], cfg: TopicsConfig, registry: pd.DataFrame,
                 next_id: int, reference_mean: np.ndarray | None = None, nouns: frozenset[str] = frozenset(),
                 previous: np.ndarray | None = None, vector_tokens: list[list[str]] | None = None, *,
                 phrases: list[list[Phrase]] | None = None, previous_weights: np.ndarray | None = None,
                 previous_tokens: list[list[str]] | None = None, weights: np.ndarray | None = None) -> TrackResult:
    """``reference_mean`` centres the space (raw e5 cosines between topics are all 0.95-0.99, centred
    ones spread from about 0.1 for unrelated topics to 0.5+ for the same subject). ``phrases``: each comment's
    key-phrase candidates, which name new topics (never with a known topic's label). ``previous``: last
    period's embeddings, one per distinct text, each standing for ``previous_weights`` comments (one each
    when None). ``weights``: this week's documents are distinct texts, each standing for that many comments (the
    pipeline tracks once per distinct text); every count and test is of comments, as without them.

    The table shows this period's labels (:func:`week_labels`; the registry's stay in ``registry`` and
    ``new_topics``) and each topic's coherence and subject noun this period (:func:`.topics.with_coherence`), both
    from one count of the subject nouns (:func:`.topics.subject_counts`)."""
    n = len(embeddings)
    w = _weights(weights, n)
    n_rows = n if w is None else int(w.sum())
    mu = reference_mean if reference_mean is not None else (
        (embeddings.mean(axis=0) if w is None else np.average(embeddings, axis=0, weights=w)) if n else None)
    normed = l2_normalize(embeddings - mu) if n else embeddings
    known = KnownTopics.from_registry(registry, cfg, normed.shape[1] if n else 0)
    subjects = subject_nouns(tokens, nouns, phrases)
    assign = assign_to_known(normed, known)
    n_known = _count(np.where(assign >= 0)[0], w)
    warn: list[RunWarning] = []
    sub_rows, n_tested = [], 0
    if cfg.emerging_subtopics and known and previous is not None and len(previous):
        sub_rows, n_tested = _emerging_subtopics(embeddings, tokens if vector_tokens is None else vector_tokens, normed,
                                                 assign, previous, previous_tokens, cfg, next_id, tokens, nouns,
                                                 subjects, previous_weights, phrases, frozenset(known.labels.values()),
                                                 w)
    new_rows: list[dict] = list(sub_rows)
    joined, local_params = 0, {}
    rest = np.where(assign < 0)[0]
    if len(rest) >= cfg.min_docs_for_clustering or (not known and len(rest)):
        local = fit_topics(embeddings[rest], [tokens[i] for i in rest], cfg, nouns,
                           None if vector_tokens is None else [vector_tokens[i] for i in rest],
                           phrases=None if phrases is None else [phrases[i] for i in rest],
                           taken=frozenset(known.labels.values()), weights=None if w is None else w[rest],
                           catch_all=not known)  # with known topics, what fits no coherent cluster is left over
        warn += local.warnings
        local_params = dict(local.params)
        clusters, joined = _clusters_of_the_rest(local, rest, normed, known, assign, cfg, w)
        if known and previous is not None and len(previous):
            clusters, joined_back = _keep_really_new(clusters, l2_normalize(previous - mu), normed, known, assign, cfg,
                                                     previous_weights, w)
            joined += joined_back
        new_rows += _found_topics(clusters, next_id + len(sub_rows), normed, assign, cfg)
    labels = {**known.labels, **{r[S.TOPIC_ID]: r[S.TOPIC_LABEL] for r in new_rows}}
    _assign_leftovers(assign, normed, {**known.centroids, **{int(r[S.TOPIC_ID]): r["centroid"] for r in new_rows}},
                      cfg.assign_floor)
    new_topics = pd.DataFrame(new_rows, columns=[S.TOPIC_ID, S.TOPIC_LABEL, "keywords", "centroid", "threshold", "baseline"])
    updated = _follow_members(known.centroids, assign, normed, cfg.centroid_momentum, w)
    merged = _merge_converged(updated, assign, cfg.merge_known_threshold, w)
    state = {tid: (updated.get(tid, c), known.thresholds[tid]) for tid, c in known.centroids.items()}
    state.update({int(r[S.TOPIC_ID]): (r["centroid"], float(r["threshold"])) for r in new_rows})
    unassigned = ((assign == -1).mean() if w is None else _count(np.where(assign == -1)[0], w) / n_rows) if n else 0
    if n and unassigned > 0.2:
        warn.append(RunWarning("W202", f"{unassigned:.0%} of comments fit no topic; "
                                       "lower topics.assign_floor to assign more of them."))
    params = {**local_params, "mode": "tracked" if known else "first period", "assigned_to_known_topics": n_known,
              "joined_known_after_clustering": joined, "new_topics": len(new_rows),
              "subtopics_tested": n_tested,
              "emerging_subtopics": [{"topic_id": int(r[S.TOPIC_ID]), "parent": r["parent"], "baseline": r["baseline"],
                                      "q": r["q"]} for r in sub_rows],
              "merged": {str(k): v for k, v in merged.items()}}
    counts = subject_counts(assign, tokens, subjects, w)
    table = with_coherence(_week_table(tokens, assign, labels, cfg.n_keywords, w), coherence_of(counts))
    table = table.assign(**{S.TOPIC_LABEL: week_labels(table, {int(r[S.TOPIC_ID]) for r in new_rows}, counts,
                                                       subjects)})
    return TrackResult(assign, table,
                       centroids_of(l2_normalize(embeddings), assign, w) if n else {}, warn, params,
                       new_topics=new_topics, state=state, merged=merged,
                       split_from={**_split_origins([r for r in new_rows if "parent" not in r], known, cfg.split_threshold),
                                   **{int(r[S.TOPIC_ID]): r["parent"] for r in sub_rows if r["parent"] is not None}},
                       reference_mean=mu)


def assign_to_known(normed: np.ndarray, known: KnownTopics) -> np.ndarray:
    """Each comment joins the closest known topic when it is at least that topic's threshold close, else -1."""
    n = len(normed)
    assign = np.full(n, -1, dtype=int)
    if known and n:
        thr = np.array([known.thresholds[i] for i in known.ids])
        sims = normed @ known.C.T
        best = sims.argmax(axis=1)
        fits = sims[np.arange(n), best] >= thr[best]
        assign[fits] = known.ids[best[fits]]
    return assign


def _clusters_of_the_rest(local: TopicResult, rest: np.ndarray, normed: np.ndarray, known: KnownTopics,
                          assign: np.ndarray, cfg: TopicsConfig, w: np.ndarray | None = None) -> tuple[list, int]:
    """This week's clusters of the comments no known topic took: a cluster close to a known topic joins it
    (``assign`` is updated in place), the rest are candidates for new topics as (members, centroid, label,
    keywords); clusters about one subject are merged. Returns (candidates, comments that joined known topics)."""
    min_size = 1 if not known else max(3, int(local.params.get("min_topic_size", 3)))
    has = local.assignments >= 0
    sizes = _sizes(local.assignments[has], None if w is None else w[rest][has])
    clusters, joined = [], 0
    for _, t in local.table.iterrows():
        lt = int(t[S.TOPIC_ID])
        if lt < 0 or sizes.get(lt, 0) < min_size:
            continue
        members = rest[local.assignments == lt]
        centroid = l2_normalize(_mean(normed, members, w))[0]
        if known:
            s_known = known.C @ centroid
            if s_known.max() >= cfg.merge_threshold:
                assign[members] = known.ids[s_known.argmax()]
                joined += _count(members, w)
                continue
        clusters.append((members, centroid, t[S.TOPIC_LABEL], t["keywords"]))
    # new clusters about one subject (a new problem often comes out as 2-3 small clusters) become one topic
    return (_merge_similar(clusters, normed, cfg.merge_threshold, w) if known else clusters), joined


def _keep_really_new(clusters: list, prev: np.ndarray, normed: np.ndarray, known: KnownTopics, assign: np.ndarray,
                     cfg: TopicsConfig, prev_weights: np.ndarray | None = None,
                     w: np.ndarray | None = None) -> tuple[list, int]:
    """A cluster is a new topic only if it was not already there: the previous period's comments (``prev``,
    centred and normalised) are checked against it with the same rule; if it is not significantly more common
    now, its comments go to their nearest known topics (in place) instead of founding a topic that only looks
    new. Returns the kept clusters with their baseline appended, and how many comments went to known topics."""
    n = len(normed) if w is None else int(w.sum())
    n_prev = len(prev) if prev_weights is None else int(prev_weights.sum())  # comments, not distinct texts
    kept, joined = [], 0
    for members, centroid, label, keywords in clusters:
        thr = member_threshold(normed[members], centroid, cfg.assign_floor, cfg.assign_percentile)
        near = prev @ centroid >= thr
        base = int(near.sum() if prev_weights is None else prev_weights[near].sum())
        size = _count(members, w)
        if two_proportion_p(size, n, base, n_prev) < cfg.new_topic_p and size / n > base / n_prev:
            kept.append((members, centroid, label, keywords, base))
        else:
            assign[members] = known.ids[(normed[members] @ known.C.T).argmax(axis=1)]
            joined += size
    return kept, joined


def _emerging_subtopics(embeddings: np.ndarray, vector_tokens: list[list[str]], normed: np.ndarray, assign: np.ndarray,
                        previous: np.ndarray, previous_tokens: list[list[str]] | None, cfg: TopicsConfig, next_id: int,
                        tokens: list[list[str]], nouns: frozenset[str], subjects: frozenset[str],
                        previous_weights: np.ndarray | None = None, phrases: list[list[Phrase]] | None = None,
                        taken: frozenset[str] = frozenset(), w: np.ndarray | None = None) -> tuple[list[dict], int]:
    """New topics for subjects much more common than last period, wherever this week's comments about them went
    (absorbed by a known broad topic, spread over several, or none). Members move to the new topics in place
    (``assign``). Returns (new topic rows, each with the known topic it split from or None; groups tested).

    This week's and last week's comments are pooled and clustered together (Ward on the topic stage's hybrid
    vectors, PCA(embedding) + LSA(content words), fitted on the pool), without looking at which week a comment
    is from: so under "nothing changed" the week labels inside any group of the tree are exchangeable, and
    comparing a group's count this week with its count last week (two-proportion test on each week's share) is
    not biased towards this week, as a count near a centroid fitted to this week's comments would be. Every
    group of the tree with at least ``min_size`` comments this week (and at most a third of the pool) is
    tested; Benjamini-Hochberg over all of them; groups with q < ``subtopic_q`` and at least
    ``subtopic_min_growth`` times last week's share are kept, the most significant first, none inside
    another; kept groups about one subject (centroids ``merge_threshold`` close) become one topic, split from
    the known topic that held most of its comments. Without last week's words (a history written before they
    were stored) the vectors are the embeddings alone, for both weeks alike.

    Both weeks may come one row per distinct text with weights (``w`` this week's, ``previous_weights`` last
    week's): the pool is still one entry per comment (this week's first), and when it is larger than
    ``max_cluster_docs`` the seeded sample is drawn first and only the sampled comments' vectors are built (the
    hybrid space fitted on the sample; this week's other distinct texts are projected into it to join a group),
    so memory follows the sample and the distinct texts, not the rows."""
    from scipy.cluster.hierarchy import linkage

    n_docs = len(embeddings)
    rep_now = np.ones(n_docs, dtype=np.int64) if w is None else np.asarray(w, dtype=np.int64)
    rep_prev = (np.ones(len(previous), dtype=np.int64) if previous_weights is None
                else np.asarray(previous_weights, dtype=np.int64))
    n, n_prev = int(rep_now.sum()), int(rep_prev.sum())  # comments, not distinct texts
    min_size = max(5, auto_min_size(n, cfg))
    if n < 3 * min_size or n_prev < 3 * min_size:
        return [], 0
    pool = np.arange(n + n_prev)  # one entry per comment of both weeks, this week's first
    sampled = len(pool) > cfg.max_cluster_docs
    if sampled:  # Ward needs n^2 memory: test on a seeded sample of both weeks
        pool = np.sort(np.random.RandomState(cfg.seed).choice(len(pool), cfg.max_cluster_docs, replace=False))
    # the document (this week's distinct texts, then last week's) each pooled comment is a copy of
    doc = np.searchsorted(np.cumsum(np.r_[rep_now, rep_prev]), pool, side="right")
    now_pos = doc < n_docs
    pooled_emb = np.empty((len(doc), embeddings.shape[1]), dtype=np.float32)
    pooled_emb[now_pos] = embeddings[doc[now_pos]]
    pooled_emb[~now_pos] = previous[doc[~now_pos] - n_docs]
    if previous_tokens is not None:
        pooled_tokens = [vector_tokens[d] if d < n_docs else previous_tokens[d - n_docs] for d in doc.tolist()]
    else:
        pooled_tokens = [[] for _ in range(len(pool))]
    project = None
    if sampled:
        V, project = document_vectors_fitted(pooled_emb, pooled_tokens, cfg)
        V = V.astype(np.float64)
    else:
        V = document_vectors(pooled_emb, pooled_tokens, cfg).astype(np.float64)
    N = len(pool)
    now = (pool < n).astype(int)
    n_s, m_s = int(now.sum()), int(N - now.sum())
    Z = linkage(V, "ward")  # V: one row per pooled (sampled) comment
    kids = Z[:, :2].astype(int)
    count_now, size = np.r_[now, np.zeros(N - 1, int)], np.r_[np.ones(N, int), np.zeros(N - 1, int)]
    for i, (a, b) in enumerate(kids):
        count_now[N + i], size[N + i] = count_now[a] + count_now[b], size[a] + size[b]
    nodes = [j for j in range(N, 2 * N - 1) if count_now[j] >= min_size and size[j] <= N / 3]
    p = [two_proportion_p(int(count_now[j]), n_s, int(size[j] - count_now[j]), m_s) for j in nodes]
    q = benjamini_hochberg(p)

    def leaves(j: int) -> np.ndarray:
        out, stack = [], [j]
        while stack:
            k = stack.pop()
            if k < N:
                out.append(k)
            else:
                stack.extend(kids[k - N])
        return np.array(out)

    kept, used = [], np.zeros(N, dtype=bool)
    rest = rest_v = None
    for j, _p, qv in sorted(zip(nodes, p, q), key=lambda t: t[1]):
        grown = count_now[j] / n_s >= cfg.subtopic_min_growth * (size[j] - count_now[j]) / m_s
        if qv >= cfg.subtopic_q or not grown:
            continue
        inside = leaves(j)
        if used[inside].any():  # inside a group already kept, or holding one
            continue
        used[inside] = True
        inside_now = inside[pool[inside] < n]  # positions in the sample of this week's comments in the group
        members = doc[inside_now] if w is None else np.unique(doc[inside_now])  # this week's documents
        if sampled:  # this week's distinct texts outside the sample join when as close as the group's members
            if rest_v is None:
                rest = np.setdiff1d(np.arange(n_docs), doc[pool < n])
                rest_v = l2_normalize(project(np.asarray(embeddings, dtype=np.float32)[rest],
                                              [vector_tokens[i] for i in rest]).astype(np.float64))
            centre = l2_normalize(V[inside_now].mean(axis=0, keepdims=True))[0]
            sims = rest_v @ centre
            members = np.union1d(members, rest[sims >= np.percentile(l2_normalize(V[inside_now]) @ centre,
                                                                      cfg.assign_percentile)])
        centroid = l2_normalize(_mean(normed, members, w))[0]
        kept.append((members, centroid, int(size[j] - count_now[j]), float(qv)))
    groups = _merge_similar(kept, normed, cfg.merge_threshold, w)
    rows: list[dict] = []
    for members, centroid, *_ in groups:
        parts = [kp for kp in kept if np.isin(kp[0], members).all()]
        was = assign[members]
        parent = None
        if (was >= 0).any():
            if w is None:
                parent = int(pd.Series(was[was >= 0]).mode().min())
            else:
                votes = pd.Series(w[members][was >= 0]).groupby(was[was >= 0]).sum()
                parent = int(votes[votes == votes.max()].index.min())
        gid = next_id + len(rows)
        assign[members] = gid
        rows.append({S.TOPIC_ID: gid, S.TOPIC_LABEL: "", "keywords": "", "centroid": centroid,
                     "threshold": member_threshold(normed[members], centroid, cfg.assign_floor, cfg.assign_percentile),
                     "baseline": sum(kp[2] for kp in parts), "parent": parent,
                     "q": round(min(kp[3] for kp in parts), 6)})
    if rows:  # labelled like every topic: c-TF-IDF words of this week's topics, through the topic label function
        kw = week_keywords(tokens, assign, cfg.n_keywords * 2)
        for r in rows:
            words = kw.get(r[S.TOPIC_ID], [])
            r[S.TOPIC_LABEL], r["keywords"] = _label(words, cfg.label_words, nouns), "、".join(words[: cfg.n_keywords])
        if phrases is not None and cfg.label_phrases:  # a key phrase, as every new topic gets (topic_labels.py)
            ids = [r[S.TOPIC_ID] for r in rows]
            found = phrase_labels(np.where(np.isin(assign, ids), assign, -1), phrases, tokens,
                                  {t: _nouns_first(kw.get(t, []), nouns) for t in ids}, taken=taken)
            # no phrase: its subject noun, with 「など」 when it covers under a third of it (topics._name_topics)
            used = set(found.values()) | set(taken)
            coh = topic_coherence(np.where(np.isin(assign, ids), assign, -1), tokens, subjects, w)
            for t, (share, noun) in coh.items():
                label = noun if share >= COHERENT_SHARE else f"{noun}{MIXED_MARK}"
                if t not in found and noun and label not in used:
                    found[t] = label
                    used.add(label)
            for r in rows:
                r[S.TOPIC_LABEL] = found.get(r[S.TOPIC_ID], r[S.TOPIC_LABEL])
    return rows, len(nodes)


def week_labels(table: pd.DataFrame, new_ids: set[int], counts: dict[int, tuple[Counter, float]],
                subjects: frozenset[str]) -> list[str]:
    """This period's displayed label of each topic in ``table`` (one per row). A known topic keeps the label it was
    named with, for continuity; when that label is a subject noun that under :data:`COHERENT_SHARE` of the topic's
    comments use this period, it is shown with 「など」 (サイズなど), as a topic named this period would be. The id
    and the stored label (the registry's) are unchanged; topics new this period, key-phrase and keyword labels
    are shown as they are, and so are a label another topic already shows and the no-topic row (-1). The share is
    read from ``counts`` (:func:`.topics.subject_counts` of this period's topics and ``subjects``), the count
    behind the topics' coherence."""
    labels = [str(x) for x in table[S.TOPIC_LABEL]]
    shown = set(labels)
    out = []
    for t, label in zip(table[S.TOPIC_ID].astype(int).tolist(), labels):
        if t in new_ids or t not in counts or is_scattered(label) or label not in subjects:
            out.append(label)
            continue
        said, n = counts[t]
        mixed = f"{label}{MIXED_MARK}"
        out.append(mixed if said[label] < COHERENT_SHARE * n and mixed not in shown else label)
    return out


def _found_topics(clusters: list, next_id: int, normed: np.ndarray, assign: np.ndarray, cfg: TopicsConfig) -> list[dict]:
    """New topic ids from ``next_id`` on, in cluster order; their members are assigned in place."""
    rows = []
    for members, centroid, label, keywords, *baseline in clusters:
        gid = next_id + len(rows)
        rows.append({S.TOPIC_ID: gid, S.TOPIC_LABEL: label, "keywords": keywords, "centroid": centroid,
                     "threshold": member_threshold(normed[members], centroid, cfg.assign_floor, cfg.assign_percentile),
                     "baseline": baseline[0] if baseline else 0})
        assign[members] = gid
    return rows


def _assign_leftovers(assign: np.ndarray, normed: np.ndarray, centroids: dict[int, np.ndarray], floor: float) -> None:
    """In place: what is still unassigned joins the nearest topic when at least ``floor`` close (outlier reduction)."""
    if not centroids or not (assign < 0).any():
        return
    ids = np.array(sorted(centroids))
    C = l2_normalize(np.vstack([centroids[i] for i in ids]))
    left = np.where(assign < 0)[0]
    sims = normed[left] @ C.T
    best = sims.argmax(axis=1)
    ok = sims[np.arange(len(left)), best] >= floor
    assign[left[ok]] = ids[best[ok]]


def _follow_members(centroids: dict[int, np.ndarray], assign: np.ndarray, normed: np.ndarray,
                    momentum: float, w: np.ndarray | None = None) -> dict[int, np.ndarray]:
    """Known centroids move a little towards this week's members (topics with no members this week stay out)."""
    updated = {}
    for tid, old in centroids.items():
        members = assign == tid
        if members.any():
            mean = l2_normalize(_mean(normed, np.where(members)[0] if w is not None else members, w))[0]
            updated[tid] = l2_normalize((momentum * old + (1 - momentum) * mean)[None, :])[0]
    return updated


def _merge_converged(updated: dict[int, np.ndarray], assign: np.ndarray, threshold: float,
                     w: np.ndarray | None = None) -> dict[int, int]:
    """Known topics whose centroids have converged (same subject, described two ways) are merged: the smaller
    one's comments move to the larger (in place), and it is retired (merged_into) from next week on."""
    merged: dict[int, int] = {}
    live = sorted(updated)
    for i, a in enumerate(live):
        for b in live[i + 1 :]:
            if a in merged or b in merged or float(updated[a] @ updated[b]) < threshold:
                continue
            size_a, size_b = (((assign == x).sum() if w is None else w[assign == x].sum()) for x in (a, b))
            small, big = (a, b) if size_a < size_b else (b, a)
            merged[small] = big
            assign[assign == small] = big
    return merged


def _split_origins(new_rows: list[dict], known: KnownTopics, threshold: float) -> dict[int, int]:
    """A new topic close to a known one (but not close enough to join it) split off from it."""
    related: dict[int, int] = {}
    if known:
        for r in new_rows:
            sims = known.C @ r["centroid"]
            if sims.max() >= threshold:
                related[int(r[S.TOPIC_ID])] = int(known.ids[sims.argmax()])
    return related


def _week_table(tokens: list[list[str]], assign: np.ndarray, labels: dict[int, str], n_keywords: int,
                w: np.ndarray | None = None) -> pd.DataFrame:
    """This week's topic table: labels kept from each topic's birth, keywords from this week's comments (each
    distinct text once), sizes in comments."""
    kw = week_keywords(tokens, assign, n_keywords)
    sizes = _sizes(assign, w)
    rows = [{S.TOPIC_ID: int(t), S.TOPIC_LABEL: labels.get(t, "未分類") if t >= 0 else "未分類",
             "keywords": "、".join(kw.get(t, [])), "size": int(sizes.get(t, 0))} for t in sorted(set(assign.tolist()))]
    return pd.DataFrame(rows, columns=[S.TOPIC_ID, S.TOPIC_LABEL, "keywords", "size"])


__all__ = ["TrackResult", "track_topics"]
