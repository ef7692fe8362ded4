"""Score vocnlp on real customer text: the adjudicated labelled sample and the star-rated sources.

    python benchmarks/realtext/build.py && python benchmarks/realtext/sample.py    # once: rebuild .realtext/
    python benchmarks/realtext/eval_real.py [--config FILE] [--out docs/realtext_eval.json] [--labelled-only]

The product is run as a user runs it (``vocnlp run`` on a CSV, no history), so every stage that
shapes a label (cleaning, segmentation, the models, abstention) is what is measured. Gold labels are
``benchmarks/realtext/gold_labels.csv`` (uids and labels only; the texts are rebuilt from the
mirrors and never committed). The JSON written holds numbers only.

Measured, overall and per source:
- CX dimension: per-label precision / recall / F1 and macro-F1 (multi-label);
- journey stage: macro-F1 over the stages with at least 20 gold items, and how often each stage is
  predicted relative to how often it is true;
- sentiment: 3-class macro-F1, and negative<->positive swaps;
- comments under 40 characters against the rest, and single-sentence comments against the rest;
- the same on the two halves of the gold set (by a hash of the uid): "calibration", which settings
  may be tuned on, and "test", which nothing is tuned on;
- star-rated answers (1-2 vs 4-5 of a 5-point rating): sign accuracy of ``sentiment_score`` and the
  share whose label is the opposite polarity.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.metrics import f1_score, precision_recall_fscore_support

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT / ".realtext"
DIMS = ["SENSE", "FEEL", "THINK", "ACT", "RELATE"]
SHORT = 40
SENTENCE_END = re.compile(r"[。！？!?\n]+")


def run_vocnlp(frame: pd.DataFrame, config: Path | None, work: Path, name: str) -> pd.DataFrame:
    """items.csv of a `vocnlp run` over ``frame`` (columns id, text)."""
    src = work / f"{name}.csv"
    frame[["id", "text"]].to_csv(src, index=False, encoding="utf-8")
    out = work / f"run_{name}"
    cmd = [sys.executable, "-m", "vocnlp.cli.main", "run", str(src), "--output", str(out), "--no-history"]
    if config:
        cmd += ["--config", str(config)]
    subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
    items = pd.read_csv(out / "items.csv", encoding="utf-8-sig", keep_default_na=False, dtype={"id": str})
    assert len(items) == len(frame), "a run must keep every row"
    return items


def dims_matrix(col: pd.Series) -> np.ndarray:
    return np.array([[d in str(v).split("|") for d in DIMS] for v in col], dtype=int)


def cx_metrics(gold: pd.Series, pred: pd.Series) -> dict:
    G, P = dims_matrix(gold), dims_matrix(pred)
    p, r, f, n = precision_recall_fscore_support(G, P, zero_division=0)
    return {"macro_f1": round(float(f.mean()), 4),
            "per_label": {d: {"precision": round(float(p[i]), 3), "recall": round(float(r[i]), 3),
                              "f1": round(float(f[i]), 3), "support": int(n[i])} for i, d in enumerate(DIMS)}}


def stage_metrics(gold: pd.Series, pred: pd.Series, min_support: int = 20) -> dict:
    counts = gold.value_counts()
    kept = sorted(counts[counts >= min_support].index)
    f = f1_score(gold, pred, labels=kept, average=None, zero_division=0) if kept else []
    ratio = {s: round(float((pred == s).sum() / max(1, (gold == s).sum())), 2)
             for s in sorted(set(gold) | set(pred))}
    return {"macro_f1_stages_with_20": round(float(np.mean(f)), 4) if kept else None,
            "stages_scored": kept, "per_stage_f1": {s: round(float(v), 3) for s, v in zip(kept, f)},
            "accuracy": round(float((gold == pred).mean()), 4),
            "predicted_over_true": ratio, "gold_counts": {k: int(v) for k, v in counts.items()}}


def sentiment_metrics(gold: pd.Series, pred: pd.Series) -> dict:
    polar = gold.isin(["negative", "positive"]) & pred.isin(["negative", "positive"])
    return {"macro_f1": round(float(f1_score(gold, pred, labels=["negative", "neutral", "positive"],
                                             average="macro", zero_division=0)), 4),
            "accuracy": round(float((gold == pred).mean()), 4),
            "neg_pos_swaps": round(float((polar & (gold != pred)).sum() / len(gold)), 4),
            "gold_neutral_called_polar": int(((gold == "neutral") & (pred != "neutral")).sum()),
            "gold_polar_called_neutral": int((gold.isin(["negative", "positive"]) & (pred == "neutral")).sum())}


def block(df: pd.DataFrame) -> dict:
    return {"n": len(df),
            "cx_dimension": cx_metrics(df.cx_gold, df.cx_pred),
            "journey_stage": stage_metrics(df.stage_gold, df.stage_pred),
            "sentiment": sentiment_metrics(df.sent_gold, df.sent_pred)}


def labelled(config: Path | None, work: Path) -> dict:
    sample = pd.read_csv(REAL / "label_sample.csv", keep_default_na=False)
    gold = pd.read_csv(ROOT / "benchmarks" / "realtext" / "gold_labels.csv", keep_default_na=False)
    df = sample.merge(gold, on="uid", validate="one_to_one")
    items = run_vocnlp(df.rename(columns={"uid": "id"}), config, work, "labelled")
    df = df.assign(cx_gold=df.cx_dimensions, stage_gold=df.journey_stage, sent_gold=df.sentiment_label,
                   cx_pred=items.cx_dimensions.values, stage_pred=items.journey_stage.values,
                   sent_pred=items.sentiment_label.values, status=items.status.values)
    out = {"overall": block(df), "per_source": {s: block(g) for s, g in df.groupby("source")}}
    # half of the gold set (by a hash of the uid) may be used to calibrate; the other half never is
    half = df.uid.map(lambda u: "calibration" if int(hashlib.sha256(u.encode()).hexdigest(), 16) % 2 else "test")
    out["halves"] = {h: block(df[half == h]) for h in ("calibration", "test")}
    short = df.text.str.len() < SHORT
    out["short_under_40"] = {"short": block(df[short]), "rest": block(df[~short])}
    # single-sentence comments (one sentence by 。！？!? and line breaks): the single-sentence measure
    single = df.text.map(lambda t: len([s for s in SENTENCE_END.split(t) if s.strip()]) == 1)
    out["single_sentence"] = {"single": block(df[single]), "several": block(df[~single])}
    out["not_analysed"] = int((df.status != "ok").sum())
    return out


def rated_sample(per_source: int) -> pd.DataFrame:
    """The balanced sample of real 5-point-rated answers (1-2 and 4-5, seeded), with ``id`` = source:doc_id."""
    rng = np.random.RandomState(0)
    frames = []
    for path in sorted(REAL.glob("*.parquet")):
        if path.name.startswith("topics_"):
            continue
        src = pd.read_parquet(path)
        if src["rating"].isna().all() or src["rating"].max() > 5:  # NPS sources are about the trip, not the text
            continue
        lo, hi = src[src.rating <= 2], src[src.rating >= 4]
        k = min(len(lo), len(hi), per_source // 2)
        if k < 20:
            continue
        frames.append(pd.concat([lo.sample(k, random_state=rng), hi.sample(k, random_state=rng)]))
    df = pd.concat(frames, ignore_index=True)
    df["id"] = df.source + ":" + df.doc_id.astype(str)
    return df


def rated(config: Path | None, work: Path, per_source: int) -> dict:
    """Sign of sentiment_score against real 5-point ratings (1-2 negative, 4-5 positive), balanced."""
    df = rated_sample(per_source)
    items = run_vocnlp(df, config, work, "rated")
    # a row that was not analysed (too short, symbols only) has no score: it counts as 0, i.e. a miss
    df = df.assign(score=pd.to_numeric(items.sentiment_score, errors="coerce").fillna(0.0).values,
                   label=items.sentiment_label.values)
    truth = np.where(df.rating >= 4, 1, -1)

    def one(g: pd.DataFrame, t: np.ndarray) -> dict:
        sign = np.sign(g.score.to_numpy())
        opposite = ((t > 0) & (g.label == "negative")) | ((t < 0) & (g.label == "positive"))
        return {"n": len(g), "sign_accuracy": round(float((sign == t).mean()), 4),
                "swapped_share": round(float(opposite.mean()), 4),
                "called_neutral": round(float((g.label == "neutral").mean()), 4)}

    return {"overall": one(df, truth),
            "per_source": {s: one(g, truth[g.index]) for s, g in df.groupby("source")}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--config", type=Path, default=None)
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "realtext_eval.json")
    ap.add_argument("--rated-per-source", type=int, default=400)
    ap.add_argument("--labelled-only", action="store_true",
                    help="score the labelled sample only; the rated block is kept from the existing --out file "
                         "(for changes that cannot move the sentiment score)")
    args = ap.parse_args()
    if not (REAL / "label_sample.csv").exists():
        sys.exit("error: .realtext/ is missing. Fix: fetch the mirrors named in benchmarks/realtext/README.md, then run "
                 "benchmarks/realtext/build.py and sample.py.")
    sources = json.loads((REAL / "sources.json").read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        report = {"config": str(args.config or "default"),
                  "sources": {k: {f: v.get(f) for f in ("repository", "commit", "licence", "register")}
                              for k, v in sources["sources"].items()},
                  "labelled": labelled(args.config, work)}
        if args.labelled_only and args.out.exists():
            report["rated"] = json.loads(args.out.read_text(encoding="utf-8"))["rated"]
        else:
            report["rated"] = rated(args.config, work, args.rated_per_source)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    o = report["labelled"]["overall"]
    print(json.dumps({"cx_macro_f1": o["cx_dimension"]["macro_f1"],
                      "stage_macro_f1": o["journey_stage"]["macro_f1_stages_with_20"],
                      "sentiment_macro_f1": o["sentiment"]["macro_f1"],
                      "rated": report["rated"]["overall"]}, ensure_ascii=False))


if __name__ == "__main__":
    main()
