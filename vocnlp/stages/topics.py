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
Adds: S.TOPIC_ID, S.TOPIC_LABEL. Also returns the topic table (topics.csv).
"""

from __future__ import annotations

import logging
import math
import re
import warnings
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from .. import schema as S
from ..config import TopicsConfig
from ..errors import RunWarning
from ..phrases import Phrase
from .topic_labels import centrality_weights, phrase_labels

log = logging.getLogger(__name__)
_JP = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@dataclass
class TopicResult:
    assignments: np.ndarray  # topic id per analysed row, or per distinct text when fitted with weights (-1 = none)
    table: pd.DataFrame  # topic_id, topic_label, keywords, size, centroid index
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
               weights: np.ndarray | None = None) -> TopicResult:
    """Cluster, dissolve topics below the minimum size, reduce outliers, number topics by size, label them.
    ``tokens`` label the topics; ``vector_tokens`` (default: the same) build the clustering vectors; ``phrases``
    (each comment's key-phrase candidates) name them with a key phrase, never with a label in ``taken``.

    ``weights``: the documents are distinct texts, each standing for that many comments (the pipeline fits once
    per distinct text). Every count (the automatic topic count and minimum size, dissolving, numbering by size,
    the table's sizes, the centroids, the outlier share) is of comments; the clustering, its sample and the
    topic words see each distinct text once (the sample is drawn with probability proportional to the weight).
    With weights of 1, or None, this is the per-comment fit, bit for bit."""
    w = _weights(weights, len(embeddings))
    n = len(embeddings) if w is None else int(w.sum())
    vector_tokens = tokens if vector_tokens is None else vector_tokens
    too_few = _too_few_to_cluster(vector_tokens, cfg, n)
    if too_few is not None:
        return _name_topics(_single_topic(embeddings, tokens, cfg, [too_few], nouns, w), embeddings, tokens, phrases,
                            cfg, nouns, taken, w)
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
    topics = _renumber_by_size(_reduce_outliers(_dissolve_small(topics, min_size, w), normed, cfg, w), w)
    _update_topic_words(model, docs, topics, cfg)
    warn: list[RunWarning] = []
    outliers = (topics == -1).mean() if w is None else float(w[topics == -1].sum() / max(n, 1))
    if outliers > 0.2:
        warn.append(RunWarning("W202", f"{outliers:.0%} of comments fit no topic; "
                                       "lower topics.outlier_threshold to assign more of them."))
    result = TopicResult(topics, _table(model, topics, cfg, nouns, w), centroids_of(normed, topics, w), warn,
                         {"n_clusters": n_topics, "min_topic_size": min_size, "reducer": cfg.reducer,
                          "clustered_sample": n_clustered})
    return _name_topics(result, embeddings, tokens, phrases, cfg, nouns, taken, w)


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
                 taken: frozenset[str], w: np.ndarray | None = None) -> TopicResult:
    """Each topic's label becomes its key phrase where one qualifies (:mod:`.topic_labels`); the others keep their
    best keywords. The keywords column is unchanged. With weights, a distinct text's centrality counts once per
    comment it stands for."""
    if not cfg.label_phrases or phrases is None or not len(result.table):
        return result
    keywords = {int(t): _nouns_first([w for w in str(k).split("、") if w], nouns)
                for t, k in zip(result.table[S.TOPIC_ID], result.table["keywords"])}
    weights = centrality_weights(closeness(embeddings, result), result.assignments)
    if w is not None:
        weights = weights * w
    found = phrase_labels(result.assignments, phrases, tokens, keywords, weights, taken=taken)
    table = result.table.assign(**{S.TOPIC_LABEL: [found.get(int(t), lab) for t, lab in
                                                   zip(result.table[S.TOPIC_ID], result.table[S.TOPIC_LABEL])]})
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


def _renumber_by_size(topics: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """0 = the largest topic (in comments), so ids read naturally; -1 stays."""
    keep = topics >= 0
    order = [t for t in _sizes(topics[keep], None if w is None else w[keep]).index]
    remap = {old: new for new, old in enumerate(order)}
    return np.array([remap.get(t, -1) for t in topics])


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
