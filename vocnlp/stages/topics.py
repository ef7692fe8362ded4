"""Topics: BERTopic over a hybrid document representation, with readable Japanese labels.

Why a hybrid representation: on customer comments, sentence embeddings cluster by *register* as much
as by subject (call-centre notes 「お客様より…の旨」 form one big cluster whatever they are about). We
concatenate the PCA-reduced embedding with an LSA projection of the fugashi content words, both
L2-normalised, and hand that to BERTopic as precomputed embeddings. Clustering is Ward
agglomerative by default (deterministic, no outliers, a topic count that scales with the corpus);
topics below ``min_topic_size`` are dissolved and their items moved to the nearest topic when close
enough (outlier reduction), else kept as -1. Topic words come from BERTopic's c-TF-IDF on the
content words, never on raw text, so labels are nouns and predicates, not particles.

Requires: S.TOKENS, S.STATUS and the embedding matrix of the analysed rows.
Adds: S.TOPIC_ID, S.TOPIC_LABEL. Also returns the topic table (topics.csv), with each topic's coherence and subject
noun (:func:`topic_coherence`).
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import TopicsConfig
from ..errors import RunWarning
from ..phrases import NOT_SUBJECTS, Phrase
from .topic_labels import centrality_weights, phrase_labels

# A topic is coherent when one subject noun is used by at least this share of its comments: the same third that
# names a theme (themes.MIXED_SHARE). Measured on the sample weeks: the topics a reader calls one subject
# (ログインできない, 組立サービス, 駐車場) are at 0.38-1.0, the grab-bags (a narrow aisle, a hard mattress, a dirty
# toilet, a self-checkout barcode in one topic; call-centre notes on returns, delivery slots and warranty) at 0.1-0.3.
COHERENT_SHARE = 1 / 3
MAX_CATCH_ALL = 0.10  # the catch-all holds at most this share of the comments (issue 12: ≤ 10 % in その他)
JOIN_LEFTOVERS = True  # a comment left over by the re-split may join a coherent topic (resplit_incoherent)
MIXED_MARK = "など"  # an incoherent topic kept as such is named by its most used subject with this mark (配送など)
CATCH_ALL = "その他（話題が分散）"  # the label of the topic holding the comments no coherent topic takes
# nouns that never name a subject, though fugashi calls them nouns: the call-centre formulas (旨案内, お詫び) and
# position or laughter words
_NOT_SUBJECT_NOUNS = frozenset({"詫び", "お詫び", "あり", "なし", "笑", "上", "下", "中", "横", "前", "後", "先", "際", "以上", "以外"})

log = logging.getLogger(__name__)
_JP = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@dataclass
class TopicResult:
    assignments: np.ndarray  # topic id per analysed row, or per distinct text when fitted with weights (-1 = none)
    table: pd.DataFrame  # topic_id, topic_label, keywords, size, coherence, subject (with_coherence)
    centroids: dict[int, np.ndarray]  # in embedding space, normalised
    warnings: list[RunWarning] = field(default_factory=list)
    params: dict = field(default_factory=dict)


def auto_n_topics(n_docs: int, cfg: TopicsConfig) -> int:
    return int(min(cfg.max_topics, max(2, round(math.sqrt(n_docs / 1.5)))))


def auto_min_size(n_docs: int, cfg: TopicsConfig) -> int:
    if cfg.min_topic_size != "auto":
        return int(cfg.min_topic_size)
    return int(max(3, min(50, round(n_docs * 0.012))))


def l2_normalize(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=1, keepdims=True)
    n[n == 0] = 1.0
    return x / n


def document_vectors(embeddings: np.ndarray, tokens: list[list[str]], cfg: TopicsConfig) -> np.ndarray:
    """Hybrid representation: PCA(embedding) ⊕ LSA(content words), each L2-normalised."""
    from sklearn.decomposition import PCA, TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = len(embeddings)
    centred = l2_normalize(embeddings - embeddings.mean(axis=0))
    k = max(2, min(cfg.n_components * 3, n - 1, embeddings.shape[1]))
    parts = [l2_normalize(PCA(n_components=k, svd_solver="full", random_state=cfg.seed).fit_transform(centred))]
    try:
        tf = TfidfVectorizer(analyzer=_identity, min_df=2, sublinear_tf=True).fit_transform(tokens)
        if tf.shape[1] > 2:
            lsa = TruncatedSVD(n_components=min(40, tf.shape[1] - 1, n - 1), random_state=cfg.seed).fit_transform(tf)
            parts.append(l2_normalize(lsa))
    except ValueError:  # empty vocabulary: every doc is stopwords only
        pass
    return np.hstack([p / math.sqrt(len(parts)) for p in parts]).astype(np.float32)


def document_vectors_fitted(embeddings: np.ndarray, tokens: list[list[str]], cfg: TopicsConfig):
    """:func:`document_vectors` fitted on a sample: (the sample's vectors, a function giving any other documents'
    vectors in the same space). Used where only a seeded sample is clustered, so that the fit (PCA, TF-IDF, LSA)
    costs the sample's size, not the week's; the other documents are projected in chunks."""
    from sklearn.decomposition import PCA, TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    n = len(embeddings)
    mean = embeddings.mean(axis=0)
    k = max(2, min(cfg.n_components * 3, n - 1, embeddings.shape[1]))
    pca = PCA(n_components=k, svd_solver="full", random_state=cfg.seed).fit(l2_normalize(embeddings - mean))
    lsa = tf = None
    try:
        tf = TfidfVectorizer(analyzer=_identity, min_df=2, sublinear_tf=True).fit(tokens)
        m = tf.transform(tokens)
        if m.shape[1] > 2:
            lsa = TruncatedSVD(n_components=min(40, m.shape[1] - 1, n - 1), random_state=cfg.seed).fit(m)
    except ValueError:  # empty vocabulary: every doc is stopwords only
        pass

    def transform(emb: np.ndarray, toks: list[list[str]], chunk: int = 20000) -> np.ndarray:
        out = []
        for s in range(0, len(emb), chunk):
            parts = [l2_normalize(pca.transform(l2_normalize(emb[s : s + chunk] - mean)))]
            if lsa is not None:
                parts.append(l2_normalize(lsa.transform(tf.transform(toks[s : s + chunk]))))
            out.append(np.hstack([p / math.sqrt(len(parts)) for p in parts]).astype(np.float32))
        return np.vstack(out) if out else np.zeros((0, k + (lsa.n_components if lsa is not None else 0)), np.float32)

    return transform(embeddings, tokens), transform


def clustering_input(embeddings: np.ndarray, tokens: list[list[str]], cfg: TopicsConfig) -> np.ndarray:
    """What Ward clusters: the hybrid vectors (``reducer: pca``), or for ``reducer: umap`` the L2-normalised raw
    embedding, which BERTopic's UMAP (5 dimensions, cosine) then reduces; on real categorised text UMAP + Ward
    beat the hybrid (NMI 0.19 vs 0.12, docs/topics_eval.md) and the words only label the topics."""
    if cfg.reducer == "umap":
        return l2_normalize(np.asarray(embeddings, dtype=np.float32))
    return document_vectors(embeddings, tokens, cfg)


def _identity(x):
    return x


_INNER_SPACE = "\u00a0"  # a space inside one token (au PAY) while documents are joined with spaces


def join_tokens(tokens: list[str]) -> str:
    return " ".join(t.replace(" ", _INNER_SPACE) for t in tokens) or "_"


def split_tokens(doc: str) -> list[str]:
    """The vectorizers' tokenizer: the inverse of :func:`join_tokens` (au PAY stays one word, as written)."""
    return [t.replace(_INNER_SPACE, " ") for t in doc.split(" ") if t]


def _vectorizer():
    from sklearn.feature_extraction.text import CountVectorizer

    return CountVectorizer(tokenizer=split_tokens, token_pattern=None, lowercase=False)


_LATIN_NAME = re.compile(r"^(?=.*[A-Z])[A-Za-z0-9][A-Za-z0-9 &+.\-]{1,19}$")  # Wi-Fi, iPhone 15, au PAY


def readable_word(word: str) -> bool:
    return (bool(_JP.search(word)) and len(word) <= 12 or bool(_LATIN_NAME.match(word))) and word != "_"


def _label(words: list[str], n: int, nouns: frozenset[str] = frozenset()) -> str:
    """Top c-TF-IDF words, nouns first (ソファ・配送 reads as a subject; 早い・きれい does not): the label of a
    topic without a key phrase."""
    chosen: list[str] = []
    for w in _nouns_first(words, nouns):
        if not readable_word(w) or any(w in c or c in w for c in chosen):
            continue
        chosen.append(w)
        if len(chosen) == n:
            break
    return "・".join(chosen) if chosen else "その他"


def fit_topics(embeddings: np.ndarray, tokens: list[list[str]], cfg: TopicsConfig,
               nouns: frozenset[str] = frozenset(), vector_tokens: list[list[str]] | None = None, *,
               phrases: list[list[Phrase]] | None = None, taken: frozenset[str] = frozenset(),
               weights: np.ndarray | None = None, catch_all: bool = True) -> TopicResult:
    """Cluster, dissolve topics below the minimum size, reduce outliers, re-split incoherent topics
    (:func:`resplit_incoherent`), number topics by size, label them.
    ``tokens`` label the topics; ``vector_tokens`` (default: the same) build the clustering vectors; ``phrases``
    (each comment's key-phrase candidates) name them with a key phrase, never with a label in ``taken``.

    ``weights``: the documents are distinct texts, each standing for that many comments (the pipeline fits once
    per distinct text). Every count (the automatic topic count and minimum size, dissolving, numbering by size,
    the table's sizes, the centroids, the outlier share) is of comments; the clustering, its sample and the
    topic words see each distinct text once (the sample is drawn with probability proportional to the weight).
    With weights of 1, or None, this is the per-comment fit, bit for bit.

    ``catch_all``: the comments of incoherent topics that no coherent topic takes form one topic labelled
    :data:`CATCH_ALL`, numbered last; False leaves them without a topic (-1; the weekly tracking then gives them
    their nearest known topic, and a catch-all never becomes a "new" topic).

    The table gives each topic's coherence and subject noun (:func:`topic_coherence` of the final topics, counted
    once with the naming)."""
    w = _weights(weights, len(embeddings))
    n = len(embeddings) if w is None else int(w.sum())
    vector_tokens = tokens if vector_tokens is None else vector_tokens
    subjects = subject_nouns(tokens, nouns, phrases)
    too_few = _too_few_to_cluster(vector_tokens, cfg, n)
    if too_few is not None:
        return _name_topics(_single_topic(embeddings, tokens, cfg, [too_few], nouns, w), embeddings, tokens, phrases,
                            cfg, nouns, subjects, taken, w)
    n_topics, min_size = auto_n_topics(n, cfg), auto_min_size(n, cfg)
    docs = [join_tokens(t) for t in tokens]
    fit_idx = _sample(len(docs), cfg, w)
    if len(fit_idx) < len(docs) and cfg.reducer == "pca":  # the hybrid space fitted on the sample that is clustered,
        # every document projected into it in chunks: memory follows the sample, not the week's distinct texts
        _, project = document_vectors_fitted(embeddings[fit_idx], [vector_tokens[i] for i in fit_idx], cfg)
        vectors = project(embeddings, vector_tokens)
    else:
        vectors = clustering_input(embeddings, vector_tokens, cfg)
    model, topics, n_clustered = _cluster(vectors, docs, cfg, n_topics, w)
    normed = l2_normalize(embeddings)
    topics = _reduce_outliers(_dissolve_small(topics, min_size, w), normed, cfg, w)
    resplit: dict = {}
    if cfg.resplit_incoherent:
        topics, resplit = resplit_incoherent(topics, tokens, vector_tokens, subjects, vectors, min_size, cfg, w,
                                             catch_all)
    topics = _renumber_by_size(topics, w, last=resplit.get("catch_all_id"))
    _update_topic_words(model, docs, topics, cfg)
    warn: list[RunWarning] = []
    outliers = (topics == -1).mean() if w is None else float(w[topics == -1].sum() / max(n, 1))
    if outliers > 0.2:
        warn.append(RunWarning("W202", f"{outliers:.0%} of comments fit no topic; "
                                       "lower topics.outlier_threshold to assign more of them."))
    table = _table(model, topics, cfg, nouns, w)
    catch_id = int(topics.max()) if resplit.get("catch_all_id") is not None else None
    if catch_id is not None:
        table.loc[table[S.TOPIC_ID] == catch_id, S.TOPIC_LABEL] = CATCH_ALL
    result = TopicResult(topics, table, centroids_of(normed, topics, w), warn,
                         {"n_clusters": n_topics, "min_topic_size": min_size, "reducer": cfg.reducer,
                          "clustered_sample": n_clustered,
                          **({"resplit": {k: v for k, v in resplit.items() if k != "catch_all_id"},
                              "catch_all": catch_id} if resplit else {})})
    return _name_topics(result, embeddings, tokens, phrases, cfg, nouns, subjects, taken, w)


def _weights(weights: np.ndarray | None, n: int) -> np.ndarray | None:
    """None when every document stands for one comment (the unweighted code path, kept bit for bit)."""
    if weights is None:
        return None
    w = np.asarray(weights, dtype=np.int64)
    if len(w) != n:
        raise ValueError(f"{len(w)} weights for {n} documents")
    return None if (w == 1).all() else w


def _name_topics(result: TopicResult, embeddings: np.ndarray, tokens: list[list[str]],
                 phrases: list[list[Phrase]] | None, cfg: TopicsConfig, nouns: frozenset[str],
                 subjects: frozenset[str], taken: frozenset[str], w: np.ndarray | None = None) -> TopicResult:
    """Each topic's label becomes its key phrase where one qualifies (:mod:`.topic_labels`); the others keep their
    best keywords. The keywords column is unchanged. With weights, a distinct text's centrality counts once per
    comment it stands for. The table gains each topic's coherence and subject noun (:func:`with_coherence`), from
    the same count of subject nouns that names the topics and lists the catch-all's keywords."""
    if not len(result.table):
        return replace(result, table=with_coherence(result.table, {}))
    catch = result.params.get("catch_all")
    counts = subject_counts(result.assignments, tokens, subjects, w)
    coherence = coherence_of(counts)
    table = with_coherence(result.table, coherence)
    if catch is not None:  # the catch-all lists its sub-subjects: its most used subject nouns
        c = counts.get(catch, (Counter(), 0.0))[0]
        table.loc[table[S.TOPIC_ID] == catch, "keywords"] = "、".join(
            sorted(c, key=lambda x: (-c[x], x))[: cfg.n_keywords])
    if not cfg.label_phrases or phrases is None:
        return replace(result, table=table)
    named = np.where(result.assignments == catch, -1, result.assignments) if catch is not None else result.assignments
    keywords = {int(t): _nouns_first([w for w in str(k).split("、") if w], nouns)
                for t, k in zip(table[S.TOPIC_ID], table["keywords"])}
    weights = centrality_weights(closeness(embeddings, result), result.assignments)
    if w is not None:
        weights = weights * w
    found = phrase_labels(named, phrases, tokens, keywords, weights, taken=taken | {CATCH_ALL})
    # a coherent topic without a key phrase is named by its subject noun (組立サービス, におい), never by a list
    used = set(found.values()) | set(taken) | {CATCH_ALL}
    # and a topic about several subjects by its most used subject with 「など」 (配送など), as a mixed theme is
    for t, (share, noun) in coherence.items():
        if t == catch:
            continue
        if share < COHERENT_SHARE and noun:
            found.pop(t, None)
            label = f"{noun}{MIXED_MARK}"
            if label not in used:
                found[t] = label
                used.add(label)
        elif t not in found and noun and noun not in used:
            found[t] = noun
            used.add(noun)
    table = table.assign(**{S.TOPIC_LABEL: [found.get(int(t), lab) for t, lab in
                                            zip(table[S.TOPIC_ID], table[S.TOPIC_LABEL])]})
    return replace(result, table=table)


def _nouns_first(words: list[str], nouns: frozenset[str]) -> list[str]:
    return [w for w in words if w in nouns] + [w for w in words if w not in nouns] if nouns else words


def _too_few_to_cluster(tokens: list[list[str]], cfg: TopicsConfig, n: int | None = None) -> RunWarning | None:
    """Why these comments go into one topic instead of being clustered, or None when they can be clustered.
    ``n``: the comments the (distinct) token lists stand for."""
    docs = len(tokens)
    n = docs if n is None else n
    if docs < cfg.min_docs_for_clustering:  # Ward needs that many documents: distinct texts, when weighted
        what = f"{n} analysed comments" if docs == n else f"{n} analysed comments ({docs} distinct texts)"
        return RunWarning("W201", f"only {what}: too few to cluster (needs "
                                  f"{cfg.min_docs_for_clustering}); all are put in one topic.")
    with_words = sum(1 for t in tokens if t)
    if with_words < cfg.min_docs_for_clustering or len({w for t in tokens for w in t}) < 3:
        return RunWarning("W203", f"only {with_words} of {n} comments have Japanese content words (an English-only "
                                  "export?); all are put in one topic.")
    return None


def _topic_model(cfg: TopicsConfig, n_topics: int):
    """BERTopic on precomputed vectors: Ward clustering, c-TF-IDF on the content words."""
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.cluster import AgglomerativeClustering

    return BERTopic(
        embedding_model=None,
        umap_model=_reducer(cfg),
        hdbscan_model=AgglomerativeClustering(n_clusters=n_topics, linkage="ward"),
        vectorizer_model=_vectorizer(),
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        top_n_words=cfg.n_keywords,
        calculate_probabilities=False,
        language="multilingual",  # "english" strips every non-ASCII character before c-TF-IDF
        verbose=False,
    )


def _cluster(vectors: np.ndarray, docs: list[str], cfg: TopicsConfig, n_topics: int, w: np.ndarray | None = None):
    """Returns (fitted BERTopic model, topic per document, number of documents clustered).

    Ward clustering needs n^2 memory: above max_cluster_docs, cluster a seeded sample and give every
    other comment the topic of the nearest sample-topic centroid (same vectors), so cost stays linear.
    With weights (distinct texts), the sample is drawn with probability proportional to them."""
    n = len(docs)
    fit_idx = _sample(n, cfg, w)
    model = _topic_model(cfg, n_topics)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fitted, _ = model.fit_transform([docs[i] for i in fit_idx], embeddings=vectors[fit_idx])
    topics = np.full(n, -1, dtype=int)
    topics[fit_idx] = np.asarray(fitted)
    if len(fit_idx) < n:
        _assign_rest_to_nearest(topics, l2_normalize(vectors), fit_idx)
    return model, topics, int(len(fit_idx))


def _sample(n: int, cfg: TopicsConfig, w: np.ndarray | None = None) -> np.ndarray:
    """The documents Ward clusters: all, or above max_cluster_docs a seeded sample (with weights, drawn with
    probability proportional to them)."""
    if n <= cfg.max_cluster_docs:
        return np.arange(n)
    rs = np.random.RandomState(cfg.seed)
    return np.sort(rs.choice(n, cfg.max_cluster_docs, replace=False) if w is None else
                   rs.choice(n, cfg.max_cluster_docs, replace=False, p=w / w.sum()))


def _assign_rest_to_nearest(topics: np.ndarray, V: np.ndarray, fit_idx: np.ndarray) -> None:
    """In place: documents outside the clustered sample get the topic of the nearest sample-topic centroid."""
    ids = np.array(sorted(set(topics[fit_idx].tolist()) - {-1}))
    C = l2_normalize(np.vstack([V[fit_idx][topics[fit_idx] == t].mean(axis=0) for t in ids]))
    rest = np.setdiff1d(np.arange(len(topics)), fit_idx)
    for start in range(0, len(rest), 20000):
        chunk = rest[start : start + 20000]
        topics[chunk] = ids[(V[chunk] @ C.T).argmax(axis=1)]


def _sizes(topics: np.ndarray, w: np.ndarray | None = None) -> pd.Series:
    """Comments per topic, largest first (per document without weights, as value_counts orders them)."""
    if w is None:
        return pd.Series(topics).value_counts()
    return pd.Series(w).groupby(topics).sum().sort_values(ascending=False, kind="stable")


def _dissolve_small(topics: np.ndarray, min_size: int, w: np.ndarray | None = None) -> np.ndarray:
    """Topics below the minimum size (in comments) become outliers (-1)."""
    sizes = _sizes(topics, w)
    small = set(sizes[sizes < min_size].index)
    return np.where(np.isin(topics, list(small)), -1, topics) if small else topics


def _reduce_outliers(topics: np.ndarray, normed: np.ndarray, cfg: TopicsConfig,
                     w: np.ndarray | None = None) -> np.ndarray:
    """Outliers join the nearest topic (embedding centroid) when at least ``outlier_threshold`` close."""
    centroids = centroids_of(normed, topics, w)
    if not (cfg.reduce_outliers and centroids and (topics == -1).any()):
        return topics
    topics = topics.copy()
    ids = np.array(sorted(centroids))
    C = np.vstack([centroids[i] for i in ids])
    out = np.where(topics == -1)[0]
    sims = normed[out] @ C.T
    best = sims.argmax(axis=1)
    close = sims[np.arange(len(out)), best] >= cfg.outlier_threshold
    topics[out[close]] = ids[best[close]]
    return topics


def _renumber_by_size(topics: np.ndarray, w: np.ndarray | None = None, last: int | None = None) -> np.ndarray:
    """0 = the largest topic (in comments), so ids read naturally; -1 stays; ``last`` (the catch-all) is numbered
    after every other topic."""
    keep = topics >= 0
    order = [t for t in _sizes(topics[keep], None if w is None else w[keep]).index if t != last]
    if last is not None and (topics == last).any():
        order.append(last)
    remap = {old: new for new, old in enumerate(order)}
    return np.array([remap.get(t, -1) for t in topics])


def is_scattered(label: str) -> bool:
    """Whether a topic label names a topic about scattered subjects: the catch-all, or 「Xなど」 (a topic whose subject
    noun covered less than :data:`COHERENT_SHARE` of its comments when it was named)."""
    label = str(label)
    return label == CATCH_ALL or label.endswith(MIXED_MARK) and len(label) > len(MIXED_MARK)


def label_name(label: str) -> str:
    """The subject noun or key phrase a topic label names (ログイン for ログイン and ログインなど, 配送の遅れ), or ""
    for a label that names none: a list of keywords (ソファ・配送), the catch-all, 未分類. Representative comments
    and quotes prefer comments that say it (:func:`says_name`)."""
    label = str(label or "")
    if label in (CATCH_ALL, "未分類") or "・" in label:
        return ""
    return label[: -len(MIXED_MARK)] if is_scattered(label) else label


def says_name(name: str, tokens: Sequence[str], phrases: Sequence[Phrase] = ()) -> bool:
    """Whether a comment says a topic's name: the noun among its content words or its phrases' nouns, or the key
    phrase among its phrase candidates."""
    return bool(name) and (name in tokens or any(name == p.text or name in p.nouns for p in phrases))


def subject_nouns(tokens: list[list[str]], nouns: frozenset[str] = frozenset(),
                  phrases: list[list[Phrase]] | None = None) -> frozenset[str]:
    """The words that can name a topic's subject: readable nouns (all content words when the nouns are unknown), not
    a generic word (不便, 問題, the call-centre formulas 旨案内 / お詫び), and, where the key phrases are known, not a
    word used more often as a predicate than as a phrase's noun (便利, 簡単, おしゃれ say how, not what)."""
    pred: Counter = Counter()
    held: Counter = Counter()
    for ps in phrases or ():
        for p in ps:
            if p.predicate:
                pred[p.predicate] += 1
            held.update(p.nouns)
    vocab = {x for t in tokens for x in t}
    return frozenset(x for x in vocab if (not nouns or x in nouns) and readable_word(x) and x not in NOT_SUBJECTS
                     and x not in _NOT_SUBJECT_NOUNS and not x.startswith("旨") and pred[x] <= held[x])


def subject_counts(topics: np.ndarray, tokens: list[list[str]], subjects: frozenset[str],
                   w: np.ndarray | None = None) -> dict[int, tuple[Counter, float]]:
    """Per topic (ids >= 0, ascending): how many of its comments use each subject noun, and how many comments it
    has; with weights, each document counts for the comments it stands for. The one count behind a topic's coherence
    (:func:`coherence_of`), the catch-all's keywords and a known topic's label this period (tracking.week_labels)."""
    topics = np.asarray(topics)
    out: dict[int, tuple[Counter, float]] = {}
    for t in np.unique(topics):
        if t < 0:
            continue
        idx = np.flatnonzero(topics == t)
        ww = np.ones(len(idx)) if w is None else np.asarray(w)[idx].astype(float)
        c: Counter = Counter()
        for i, wi in zip(idx.tolist(), ww.tolist()):
            for x in subjects.intersection(tokens[i]):
                c[x] += wi
        out[int(t)] = (c, float(ww.sum()))
    return out


def coherence_of(counts: dict[int, tuple[Counter, float]]) -> dict[int, tuple[float, str]]:
    """Per topic of :func:`subject_counts`: (the share of its comments that use its most used subject noun, that
    noun); ties break on the noun."""
    out: dict[int, tuple[float, str]] = {}
    for t, (c, n) in counts.items():
        best = min(c, key=lambda x: (-c[x], x)) if c else ""
        out[t] = (round(float(c[best] / (n or 1.0)), 4) if best else 0.0, best)
    return out


def topic_coherence(topics: np.ndarray, tokens: list[list[str]], subjects: frozenset[str],
                    w: np.ndarray | None = None) -> dict[int, tuple[float, str]]:
    """Per topic: (the share of its comments that use its most used subject noun, that noun). A topic about one
    subject is mostly said with one noun (ログイン, 組立サービス, 駐車場); a grab-bag's best noun covers a few of its
    comments. Ties break on the noun, so the measure is deterministic."""
    return coherence_of(subject_counts(topics, tokens, subjects, w))


def with_coherence(table: pd.DataFrame, coherence: dict[int, tuple[float, str]]) -> pd.DataFrame:
    """``table`` with the columns ``coherence`` and ``subject`` (topics.csv) from :func:`coherence_of`: NaN and ""
    for a topic without comments and for the no-topic row (-1)."""
    ids = [int(t) for t in table[S.TOPIC_ID]]
    return table.assign(coherence=[coherence.get(t, (np.nan, ""))[0] for t in ids],
                        subject=[coherence.get(t, (0.0, ""))[1] for t in ids])


def resplit_incoherent(topics: np.ndarray, tokens: list[list[str]], vector_tokens: list[list[str]],
                       subjects: frozenset[str], vectors: np.ndarray, min_size: int, cfg: TopicsConfig,
                       w: np.ndarray | None = None, catch_all: bool = True) -> tuple[np.ndarray, dict]:
    """Topics whose best subject noun covers less than :data:`COHERENT_SHARE` of their comments are broken up:

    1. their comments (pooled) are clustered again by their content words only (Ward on an LSA of the pool's
       TF-IDF, about ``2 × min_size`` comments a cluster), since the sentence embedding groups comments by register
       (short praise, call-centre notes) as much as by subject; a cluster of at least ``min_size`` comments that is
       coherent becomes a topic;
    2. each other comment joins the nearest coherent topic (centroid in the clustering space) whose subject noun
       it uses, or to which it is as close as that topic's 25th-percentile member;
    3. what is left of each incoherent topic joins one catch-all topic (``catch_all``), smallest first, while
       the catch-all holds at most :data:`MAX_CATCH_ALL` of the comments (the issue's limit for その他); what is left
       of a larger one stays as that topic, a mixed topic named by its most used subject with 「など」.

    Nothing is lost. Returns the new assignments (ids not renumbered) and what was done (the catch-all's id in
    ``catch_all_id``)."""
    coh = topic_coherence(topics, tokens, subjects, w)
    incoherent = sorted(t for t, (share, _) in coh.items() if share < COHERENT_SHARE)
    if not incoherent:
        return topics, {}
    original = topics
    topics = topics.copy()
    pool = np.flatnonzero(np.isin(topics, incoherent))
    next_id = int(topics.max()) + 1
    pending = -2
    topics[pool] = pending
    kept = []
    sub = _content_clusters(pool, vector_tokens, min_size, cfg, w)
    if sub is not None:
        for s in np.unique(sub):
            idx = pool[sub == s]
            size = _count(idx, w)
            share, noun = topic_coherence(np.zeros(len(idx), dtype=int), [tokens[i] for i in idx], subjects,
                                          None if w is None else w[idx])[0]
            if size >= min_size and share >= COHERENT_SHARE:
                topics[idx] = next_id
                kept.append({"subject": noun, "size": size, "coherence": share})
                next_id += 1
    left = np.flatnonzero(topics == pending)
    V = l2_normalize(np.asarray(vectors, dtype=np.float32))
    joined = 0
    ids = sorted(t for t in np.unique(topics) if t >= 0)
    if len(left) and ids and JOIN_LEFTOVERS:
        subject = topic_coherence(topics, tokens, subjects, w)
        C, thr = [], []
        for t in ids:
            m = topics == t
            c = l2_normalize((V[m].mean(axis=0) if w is None else np.average(V[m], axis=0, weights=w[m]))[None, :])[0]
            C.append(c)
            thr.append(float(np.percentile(V[m] @ c, 25)))
        sims = V[left] @ np.vstack(C).T
        # a comment that uses a coherent topic's subject noun may join it; else only when as close as its members
        says = np.array([[subject[t][1] in tokens[i] for t in ids] for i in left.tolist()], dtype=bool)
        fits = says | (sims >= np.asarray(thr)[None, :])
        best = np.where(fits, sims, -np.inf).argmax(axis=1)
        close = fits[np.arange(len(left)), best]
        topics[left[close]] = np.asarray(ids)[best[close]]
        joined = _count(left[close], w)
    left = np.flatnonzero(topics == pending)
    # what is left of each incoherent topic: the smallest ones go to the catch-all while it stays within
    # MAX_CATCH_ALL of the comments; the larger ones stay as topics of their own, named as mixed (配送など)
    residual = sorted(incoherent, key=lambda t: (_count(left[original[left] == t], w), t))
    n_all = _count(np.arange(len(topics)), w)
    into, held = [], 0
    for t in residual:
        size = _count(left[original[left] == t], w)
        if catch_all and held + size <= MAX_CATCH_ALL * n_all:
            into.append(t)
            held += size
    mixed = [t for t in residual if t not in into and (original[left] == t).any()]
    for t in mixed:
        topics[left[original[left] == t]] = t
    rest = left[np.isin(original[left], into)]
    catch_id = next_id if len(rest) else None
    topics[rest] = catch_id if catch_id is not None else -1
    return topics, {"incoherent": len(incoherent), "comments": _count(pool, w), "new_topics": kept,
                    "joined_coherent": joined, "catch_all_comments": held if catch_id is not None else 0,
                    "mixed_kept": len(mixed), "catch_all_id": catch_id}


def _count(idx: np.ndarray, w: np.ndarray | None) -> int:
    return int(len(idx) if w is None else w[idx].sum())


def _content_clusters(pool: np.ndarray, vector_tokens: list[list[str]], min_size: int, cfg: TopicsConfig,
                      w: np.ndarray | None = None) -> np.ndarray | None:
    """Ward clusters of the pooled comments on their content words alone (an LSA of their TF-IDF, fitted on the
    pool or its seeded sample of ``max_cluster_docs``; the others take the nearest cluster). None when the pool is
    too small or has no shared words."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    size = _count(pool, w)
    k = int(round(size / (2 * max(min_size, 1))))
    if k < 2 or len(pool) < 2 * min_size:
        return None
    fit = _sample(len(pool), cfg, None if w is None else w[pool])
    toks = [vector_tokens[i] for i in pool]
    try:
        tf = TfidfVectorizer(analyzer=_identity, min_df=2, sublinear_tf=True).fit([toks[i] for i in fit])
    except ValueError:  # no word in two comments
        return None
    m = tf.transform([toks[i] for i in fit])
    if m.shape[1] <= 2:
        return None
    svd = TruncatedSVD(n_components=min(40, m.shape[1] - 1, len(fit) - 1), random_state=cfg.seed).fit(m)
    Z = l2_normalize(svd.transform(m))
    k = min(k, len(fit) - 1)
    labels = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(Z)
    if len(fit) == len(pool):
        return labels
    out = np.full(len(pool), -1, dtype=int)
    out[fit] = labels
    rest = np.setdiff1d(np.arange(len(pool)), fit)
    C = l2_normalize(np.vstack([Z[labels == s].mean(axis=0) for s in range(k)]))
    for s in range(0, len(rest), 20000):
        chunk = rest[s : s + 20000]
        out[chunk] = (l2_normalize(svd.transform(tf.transform([toks[i] for i in chunk]))) @ C.T).argmax(axis=1)
    return out


def _update_topic_words(model, docs: list[str], topics: np.ndarray, cfg: TopicsConfig) -> None:
    """Recompute the model's c-TF-IDF words for the final topics."""
    logging.getLogger("BERTopic").setLevel(logging.ERROR)  # it warns that we reassign topics, which we mean to
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # pass the vectorizer again: without one update_topics builds sklearn's default, which splits Wi-Fi
        model.update_topics(docs, topics=topics.tolist(), top_n_words=cfg.n_keywords, vectorizer_model=_vectorizer())


def _reducer(cfg: TopicsConfig):
    from bertopic.dimensionality import BaseDimensionalityReduction

    if cfg.reducer == "umap":
        from umap import UMAP

        # BERTopic's own reducer (5 dimensions), as measured in docs/topics_eval.md; n_components is the PCA's
        return UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=cfg.seed)
    return BaseDimensionalityReduction()  # vectors are already PCA/LSA-reduced


def centroids_of(normed: np.ndarray, topics: np.ndarray, w: np.ndarray | None = None) -> dict[int, np.ndarray]:
    """Each topic's unit centroid; with weights, each distinct text counts once per comment it stands for."""
    out = {}
    for t in np.unique(topics):
        if t >= 0:
            m = topics == t
            c = normed[m].mean(axis=0) if w is None else np.average(normed[m], axis=0, weights=w[m])
            out[int(t)] = c / (np.linalg.norm(c) or 1.0)
    return out


def closeness(embeddings: np.ndarray, result: TopicResult) -> np.ndarray:
    """Cosine of each analysed comment to its topic's centroid (0 without a topic): how typical of its topic
    a comment is, which picks the representative comments and the issue quotes."""
    normed = (embeddings / np.clip(np.linalg.norm(embeddings, axis=1, keepdims=True), 1e-9, None)
              if len(embeddings) else embeddings)
    return np.array([float(normed[i] @ result.centroids[t]) if t in result.centroids else 0.0
                     for i, t in enumerate(result.assignments)])


def _table(model, topics: np.ndarray, cfg: TopicsConfig, nouns: frozenset[str],
           w: np.ndarray | None = None) -> pd.DataFrame:
    rows = []
    sizes = _sizes(topics, w)
    for t in sorted(set(topics.tolist())):
        if t == -1:
            words: list[str] = []
            label = "未分類"
        else:
            words = [w for w, _ in (model.get_topic(t) or []) if readable_word(w)]
            label = _label(words, cfg.label_words, nouns)
        rows.append({S.TOPIC_ID: int(t), S.TOPIC_LABEL: label, "keywords": "、".join(words[: cfg.n_keywords]),
                     "size": int(sizes.get(t, 0))})
    return pd.DataFrame(rows, columns=[S.TOPIC_ID, S.TOPIC_LABEL, "keywords", "size"])


def _single_topic(embeddings: np.ndarray, tokens: list[list[str]], cfg: TopicsConfig, warn: list[RunWarning],
                  nouns: frozenset[str], w: np.ndarray | None = None) -> TopicResult:
    n = len(embeddings)
    if n == 0:
        return TopicResult(np.zeros(0, dtype=int), pd.DataFrame(columns=[S.TOPIC_ID, S.TOPIC_LABEL, "keywords", "size"]),
                           {}, warn, {"n_clusters": 0})
    counts = pd.Series([w for ts in tokens for w in set(ts)]).value_counts()
    words = [w for w in counts.index if readable_word(w)][: cfg.n_keywords]
    topics = np.zeros(n, dtype=int)
    table = pd.DataFrame([{S.TOPIC_ID: 0, S.TOPIC_LABEL: _label(words, cfg.label_words, nouns), "keywords": "、".join(words),
                           "size": n if w is None else int(w.sum())}])
    return TopicResult(topics, table, centroids_of(l2_normalize(embeddings), topics, w), warn, {"n_clusters": 1})
