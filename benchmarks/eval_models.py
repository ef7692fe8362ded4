"""Evaluate the shipped models: dev and held-out metrics, learning curves, the dictionary baseline,
the journey-stage calibration error, the effect of the sentiment abstention, and a near-duplicate
check of the labelled data.

    python benchmarks/eval_models.py [--out docs/model_eval.json]

Learning curves train on 25 / 50 / 100 % of the training rows (seeded subsample) and score the
fixed dev split and the separately written held-out set (data/eval/). Nothing is saved as a model.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from vocnlp.config import load_config
from vocnlp.models.trained import LinearTextClassifier, load_model
from vocnlp.training import (
    TASKS,
    compute_metrics,
    embed_for,
    labels_for,
    prepared_texts,
    read_labelled,
    targets,
)

ROOT = Path(__file__).resolve().parents[1]


def near_duplicates(texts: list[str], X: np.ndarray, threshold: float = 0.95) -> list[tuple[int, int, float]]:
    Xn = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = Xn @ Xn.T
    np.fill_diagonal(S, 0)
    i, j = np.where(np.triu(S) >= threshold)
    return [(int(a), int(b), float(S[a, b])) for a, b in zip(i, j)]


def calibration_error(P: np.ndarray, y: list[str], classes: list[str], bins: int = 10) -> float:
    """Expected calibration error: |accuracy - mean confidence| per confidence bin (10 equal-width bins),
    weighted by the bin's share of the items (Guo et al. 2017)."""
    conf = P.max(axis=1)
    correct = P.argmax(axis=1) == np.array([classes.index(v) for v in y])
    which = np.minimum((conf * bins).astype(int), bins - 1)
    return float(sum(abs(correct[which == b].mean() - conf[which == b].mean()) * (which == b).mean()
                     for b in range(bins) if (which == b).any()))


def calibration(model, splits: dict) -> dict:
    """ECE with the tuned temperature and with none (temperature 1), per split."""
    from vocnlp.models.trained import _softmax

    out = {"temperature": round(model.temperature_, 4), "bins": 10}
    for name, (texts, X, y) in splits.items():
        Z = model.decision_function(texts, X)
        out[name] = {"ece": round(calibration_error(_softmax(Z / model.temperature_), y, model.classes_), 4),
                     "ece_without_temperature": round(calibration_error(_softmax(Z), y, model.classes_), 4)}
    return out


def abstention(model, splits: dict, task: str) -> dict:
    """Sentiment with and without the tuned abstention (weak positive/negative leanings called neutral)."""
    out = {"abstain_below": round(float(model.abstain_), 4)}
    for name, (texts, X, y) in splits.items():
        P = model.predict_proba(texts, X)
        with_ = compute_metrics(task, model.classes_, False, y, model.predict_from_proba(P))
        without = compute_metrics(task, model.classes_, False, y, [model.classes_[i] for i in P.argmax(axis=1)])
        out[name] = {"polarity_confusion": round(with_.polarity_confusion, 4),
                     "polarity_confusion_without": round(without.polarity_confusion, 4),
                     "macro_f1": round(with_.macro_f1, 4), "macro_f1_without": round(without.macro_f1, 4)}
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "model_eval.json")
    args = ap.parse_args()
    cfg = load_config(ROOT / "configs" / "default.yaml")
    train = read_labelled(ROOT / "data" / "train")
    held = read_labelled(ROOT / "data" / "eval")
    T = np.array(prepared_texts(train.text.tolist(), cfg), dtype=object)
    H = prepared_texts(held.text.tolist(), cfg)
    XT, _ = embed_for(list(T), cfg)
    XH, _ = embed_for(H, cfg)
    tr = (train.split != "dev").to_numpy()
    dv = ~tr
    report: dict = {"n_train": int(tr.sum()), "n_dev": int(dv.sum()), "n_heldout": len(held)}

    dups = near_duplicates(list(T) + H, np.vstack([XT, XH]))
    all_texts = list(T) + H
    report["near_duplicates"] = {"threshold_cosine": 0.95, "pairs": len(dups),
                                 "examples": [[all_texts[a], all_texts[b], round(s, 3)] for a, b, s in dups[:10]]}
    lexicon = str(cfg.resolve(cfg.sentiment.lexicon))
    for task in TASKS:
        classes, multi = labels_for(task, cfg)
        y = np.array(targets(train, task, multi), dtype=object)
        yh = targets(held, task, multi)
        shipped = load_model(cfg.resolve(cfg.sentiment.model if task == "sentiment" else getattr(cfg.classify, task).model),
                             lexicon_path=lexicon)
        entry = {"shipped": {"version": shipped.metadata_["version"],
                             "dev": compute_metrics(task, classes, multi, list(y[dv]), shipped.predict(list(T[dv]), XT[dv])).as_dict(),
                             "heldout": compute_metrics(task, classes, multi, yh, shipped.predict(H, XH)).as_dict()},
                 "learning_curve": []}
        splits = {"dev": (list(T[dv]), XT[dv], list(y[dv])), "heldout": (H, XH, yh)}
        if task == "journey_stage":
            entry["shipped"]["calibration"] = calibration(shipped, splits)
        if task == "sentiment":
            entry["shipped"]["abstention"] = abstention(shipped, splits, task)
        for frac in (0.25, 0.5, 1.0):
            keep = tr & (np.random.RandomState(0).rand(len(train)) < frac) if frac < 1 else tr
            m = LinearTextClassifier(classes, multi, use_ngrams=True, use_lexicon=(task == "sentiment"), lexicon_path=lexicon)
            m.fit(list(T[keep]), XT[keep], list(y[keep]), dev=(list(T[dv]), XT[dv], list(y[dv])))
            d = compute_metrics(task, classes, multi, list(y[dv]), m.predict(list(T[dv]), XT[dv]))
            h = compute_metrics(task, classes, multi, yh, m.predict(H, XH))
            entry["learning_curve"].append({"fraction": frac, "n_train": int(keep.sum()), "dev_macro_f1": round(d.macro_f1, 4),
                                            "dev_accuracy": round(d.accuracy, 4), "heldout_macro_f1": round(h.macro_f1, 4),
                                            "heldout_accuracy": round(h.accuracy, 4)})
        if task == "sentiment":
            from vocnlp.config import SegmentConfig
            from vocnlp.japanese import analyse, split
            from vocnlp.models.lexicon import combine, load_lexicon, score_segment
            from vocnlp.stages.sentiment import label_for

            lex = load_lexicon(lexicon)

            def dictionary(texts, lex=lex):
                out = []
                for t in texts:
                    segs = split(t, analyse(t), SegmentConfig()) or [t]
                    out.append(label_for(combine([score_segment(s, analyse(s), lex) for s in segs], segs).score,
                                         cfg.sentiment.neutral_band))
                return out

            def plain_dictionary(texts, lex=lex):
                """Word polarities summed, nothing else: no negation, contrast, phrases or emoji."""
                out = []
                for t in texts:
                    total = sum(lex.words.get(m.base, lex.words.get(m.lemma, 0.0)) for m in analyse(t))
                    out.append(label_for(float(np.tanh(total)), cfg.sentiment.neutral_band))
                return out

            entry["dictionary_baseline"] = {
                "dev": compute_metrics(task, classes, multi, list(y[dv]), plain_dictionary(list(T[dv]))).as_dict(),
                "heldout": compute_metrics(task, classes, multi, yh, plain_dictionary(H)).as_dict()}
            entry["first_version_rules_lexicon"] = {
                "dev": compute_metrics(task, classes, multi, list(y[dv]), dictionary(list(T[dv]))).as_dict(),
                "heldout": compute_metrics(task, classes, multi, yh, dictionary(H)).as_dict()}
        report[task] = entry
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in report.items() if k != "near_duplicates"} | {"near_duplicates": report["near_duplicates"]["pairs"]},
                     ensure_ascii=False, indent=1)[:6000])


if __name__ == "__main__":
    main()
