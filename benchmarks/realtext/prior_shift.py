# ruff: noqa: B023, E702, E231, N806
"""Experiment: correct a classifier's decisions for the label mix of the batch it is applied to.

    python benchmarks/realtext/prior_shift.py [--out docs/prior_shift_eval.json] [TASK=MODEL_FOLDER ...]

Result (recorded in docs/prior_shift_eval.json, 2026-12-02): on the real gold set the EM estimate
made every task WORSE (CX macro-F1 0.61 -> 0.55, stage 0.47 -> 0.38, sentiment 0.59 -> 0.55): our
models' posteriors are not calibrated on real text, so EM amplifies their bias (it estimated SENSE
in 92 % of the comments and put every comment but the 推奨 ones in 使用). The correction is
therefore not part of the pipeline; this script keeps the measurement reproducible.

A model trained on one label mix (our training data has every journey stage at about 11-18 %)
over-predicts the rare stages on a week whose comments are mostly 使用 (about four in five in real
review and survey streams). Saerens, Latinne & Decaestecker (2002, "Adjusting the outputs of a
classifier to new a priori probabilities") estimate the new priors from the unlabelled batch by EM
and re-weight the posteriors accordingly; nothing is labelled and nothing is retrained.

The correction only applies when the batch is large enough for the estimate to mean something
(``min_items``); below that the posteriors are returned unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class PriorShift:
    applied: bool
    train_prior: list[float]
    batch_prior: list[float]
    iterations: int

    def as_dict(self, classes: list[str]) -> dict:
        return {"applied": self.applied, "iterations": self.iterations,
                "train_prior": dict(zip(classes, (round(p, 4) for p in self.train_prior))),
                "batch_prior": dict(zip(classes, (round(p, 4) for p in self.batch_prior)))}


def em_prior_shift(P: np.ndarray, train_prior: np.ndarray, max_iter: int = 200, tol: float = 1e-6,
                   floor: float = 1e-3) -> tuple[np.ndarray, np.ndarray, int]:
    """Single-label EM. ``P`` (n, k) are posteriors under ``train_prior`` (k,). Returns the adjusted
    posteriors, the estimated batch prior and the number of iterations."""
    pt = np.clip(np.asarray(train_prior, dtype=float), floor, None)
    pt = pt / pt.sum()
    prior = pt.copy()
    W = P
    it = 0
    for it in range(1, max_iter + 1):  # noqa: B007 - the count is returned
        W = P * (prior / pt)
        W = W / np.clip(W.sum(axis=1, keepdims=True), 1e-12, None)
        new = np.clip(W.mean(axis=0), floor, None)
        new = new / new.sum()
        done = np.abs(new - prior).max() < tol
        prior = new
        if done:
            break
    W = P * (prior / pt)
    return W / np.clip(W.sum(axis=1, keepdims=True), 1e-12, None), prior, it


def shift_single_label(P: np.ndarray, train_prior: np.ndarray, min_items: int) -> tuple[np.ndarray, PriorShift]:
    if len(P) < min_items:
        return P, PriorShift(False, list(map(float, train_prior)), list(map(float, train_prior)), 0)
    W, prior, it = em_prior_shift(P, train_prior)
    return W, PriorShift(True, list(map(float, train_prior)), list(map(float, prior)), it)


def shift_multi_label(P: np.ndarray, train_prevalence: np.ndarray, min_items: int) -> tuple[np.ndarray, PriorShift]:
    """Multi-label: each label is its own two-class problem (present / absent) with its own prevalence."""
    if len(P) < min_items:
        return P, PriorShift(False, list(map(float, train_prevalence)), list(map(float, train_prevalence)), 0)
    out = np.empty_like(P)
    batch, iters = [], 0
    for j, p in enumerate(train_prevalence):
        two = np.column_stack([1 - P[:, j], P[:, j]])
        W, prior, it = em_prior_shift(two, np.array([1 - p, p]))
        out[:, j] = W[:, 1]
        batch.append(float(prior[1]))
        iters = max(iters, it)
    return out, PriorShift(True, list(map(float, train_prevalence)), batch, iters)


def training_prior(metadata: dict, classes: list[str]) -> np.ndarray | None:
    """The label mix a model was trained on: ``class_prior`` when training recorded it, else the label
    supports of its dev split (a hash-chosen 20 % of the same data, so the same mix)."""
    if "class_prior" in metadata:
        return np.array([metadata["class_prior"][c] for c in classes], dtype=float)
    dev = metadata.get("metrics", {}).get("dev", {})
    per = dev.get("per_label", {})
    n = dev.get("n")
    if not per or not n or any(c not in per for c in classes):
        return None
    return np.array([per[c]["support"] / n for c in classes], dtype=float)


def main() -> None:  # pragma: no cover - an experiment over the git-ignored real-text set
    import argparse
    import hashlib
    import json
    from pathlib import Path

    import pandas as pd
    from sklearn.metrics import f1_score

    from vocnlp.config import load_config
    from vocnlp.models.trained import load_model
    from vocnlp.training import embed_for, prepared_texts

    root = Path(__file__).resolve().parents[2]
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=root / "docs" / "prior_shift_eval.json")
    ap.add_argument("models", nargs="*", help="TASK=MODEL_FOLDER (default: the shipped models)")
    args = ap.parse_args()
    models = dict(a.split("=", 1) for a in args.models) or {
        t: str(root / "vocnlp" / "resources" / "models" / t) for t in ("sentiment", "journey_stage", "cx_dimension")}
    cfg = load_config(str(root) + '/configs/default.yaml')
    s = pd.read_csv(str(root) + '/.realtext/label_sample.csv', keep_default_na=False)
    g = pd.read_csv(str(root) + '/benchmarks/realtext/gold_labels.csv', keep_default_na=False)
    df = s.merge(g, on='uid')
    half = df.uid.map(lambda u: int(hashlib.sha256(u.encode()).hexdigest(), 16) % 2).to_numpy()  # 1 = calibration
    T = prepared_texts(df.text.tolist(), cfg)
    X, _ = embed_for(T, cfg)
    lex = str(cfg.resolve(cfg.sentiment.lexicon))
    DIMS = ['SENSE','FEEL','THINK','ACT','RELATE']
    res = {}
    for task, path in models.items():
        m = load_model(path, lexicon_path=lex)
        P = m.predict_proba(T, X)
        pri = training_prior(m.metadata_, m.classes_)
        if task == 'cx_dimension':
            Y = np.array([[d in v.split('|') for d in DIMS] for v in df.cx_dimensions])
            def score(P_, mask):
                pred = m.thresholds_[None, :] <= P_
                return round(float(np.mean([f1_score(Y[mask, k], pred[mask, k], zero_division=0) for k in range(5)])), 4), \
                       {d: round(float(f1_score(Y[mask, k], pred[mask, k], zero_division=0)), 3) for k, d in enumerate(DIMS)}
            W, info = shift_multi_label(P, pri, 100)
        else:
            gold = (df.journey_stage if task == 'journey_stage' else df.sentiment_label).to_numpy()
            def score(P_, mask, abstain=None):
                lab = m.predict_from_proba(P_) if abstain is None else [m.classes_[i] for i in m._abstain(P_.copy(), abstain, m.classes_.index('neutral'))]
                lab = np.array(lab)
                if task == 'journey_stage':
                    vc = pd.Series(gold[mask]).value_counts(); kept = list(vc[vc >= 20].index) if mask.sum() > 400 else list(vc[vc >= 10].index)
                    return round(float(f1_score(gold[mask], lab[mask], labels=kept, average='macro')), 4), pd.Series(lab[mask]).value_counts().to_dict()
                return round(float(f1_score(gold[mask], lab[mask], average='macro')), 4), pd.Series(lab[mask]).value_counts().to_dict()
            W, info = shift_single_label(P, pri, 100)
        allm = np.ones(len(df), bool)
        out = {'train_prior': [round(x, 3) for x in pri], 'batch_prior': [round(x, 3) for x in info.batch_prior]}
        for name, mask in [('all', allm), ('cal', half == 1), ('test', half == 0)]:
            out[name] = {'plain': score(P, mask), 'em': score(W, mask)}
            if task == 'sentiment':
                for a in (0.0, 0.3, 0.45):
                    out[name][f'abstain{a}'] = score(P, mask, a)
                    out[name][f'em_abstain{a}'] = score(W, mask, a)
        res[task] = out
        print(task, 'abstain', getattr(m, 'abstain_', None), json.dumps(out, ensure_ascii=False))

    args.out.write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
