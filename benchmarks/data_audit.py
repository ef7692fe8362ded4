"""Audit the labelled data we wrote: does it read like real customers, or does it give the answer away?

    python benchmarks/data_audit.py [--out docs/data_audit.json]

Per file in data/train and data/eval: length profile (mean, median, share over 80 and over 150
characters), label mix, and how far a keyword rule gets (the stage and sentiment rules below are
deliberately short: if such a rule does nearly as well as a model, the data names its labels).
Over the whole set: near-duplicate pairs (character-trigram Jaccard >= 0.6) and 8-character phrases
that recur in several files that were meant to be written independently.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

import pandas as pd
from sklearn.metrics import f1_score

ROOT = Path(__file__).resolve().parents[1]

# A 20-line keyword rule: the stage named by a word in the text, else 使用.
STAGE_RULES = [
    ("推奨", r"また(来|行|利用|買|使|頼|お願い)|リピ|おすすめ|オススメ|お勧め|勧め|紹介し|二度と|もう(使わ|行か|買わ|利用し)|乗り換え"),
    ("認知", r"CM|広告|初めて知|SNSで見|チラシ"),
    ("興味", r"サイト|カタログ|口コミ|調べ|気にな|資料請求|パンフ"),
    ("検討", r"比較|迷っ|検討|見積|体験|お試し|試して|決め手|選んだ"),
    ("購入", r"注文|購入|買っ|届い|届か|配送|発送|決済|支払|レジ|予約|契約|申し込|申込|会計"),
]
POS = r"良かった|よかった|美味し|おいし|最高|満足|嬉し|うれし|ありがと|助かり|丁寧|親切|快適|便利|素晴らし|綺麗|きれい|楽し|好き|感動"
NEG = r"最悪|残念|不満|遅い|遅れ|悪い|ひどい|酷い|不便|困っ|壊れ|高い|汚|うるさ|二度と|待たされ|不親切|分かりにく|わかりにく|できない|落ちる"


def stage_rule(text: str) -> str:
    for stage, pattern in STAGE_RULES:
        if re.search(pattern, text):
            return stage
    return "使用"


def sentiment_rule(text: str) -> str:
    p, n = len(re.findall(POS, text)), len(re.findall(NEG, text))
    return "positive" if p > n else "negative" if n > p else "neutral"


def trigrams(text: str) -> set[str]:
    t = re.sub(r"\s+", "", text)
    return {t[i:i + 3] for i in range(len(t) - 2)}


def near_duplicates(df: pd.DataFrame, threshold: float = 0.6) -> list[tuple[str, str, float]]:
    grams = [trigrams(t) for t in df.text]
    index: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(grams):
        for x in g:
            index[x].append(i)
    pairs = []
    for i, g in enumerate(grams):
        if len(g) < 4:
            continue
        shared: dict[int, int] = defaultdict(int)
        for x in g:
            for j in index[x]:
                if j > i:
                    shared[j] += 1
        for j, k in shared.items():
            jac = k / len(g | grams[j])
            if jac >= threshold:
                pairs.append((df.id.iloc[i], df.id.iloc[j], round(jac, 3)))
    return pairs


def recurring_phrases(df: pd.DataFrame, n: int = 8, min_files: int = 3) -> list[tuple[str, int]]:
    files_of: dict[str, set[str]] = defaultdict(set)
    for text, f in zip(df.text, df.file):
        t = re.sub(r"\s+", "", text)
        for i in range(len(t) - n + 1):
            files_of[t[i:i + n]].add(f)
    hits = [(p, len(fs)) for p, fs in files_of.items() if len(fs) >= min_files and not re.fullmatch(r"[\W\d]+", p)]
    return sorted(hits, key=lambda x: -x[1])[:30]


def per_file(d: pd.DataFrame) -> dict:
    length = d.text.str.len()
    stage_pred = d.text.map(stage_rule)
    sent_pred = d.text.map(sentiment_rule)
    return {"n": len(d), "mean_chars": round(float(length.mean()), 1), "median_chars": float(length.median()),
            "share_over_80": round(float((length > 80).mean()), 3), "share_over_150": round(float((length > 150).mean()), 3),
            "stage_mix": {k: round(float(v), 3) for k, v in d.journey_stage.value_counts(normalize=True).items()},
            "keyword_rule_stage_accuracy": round(float((stage_pred == d.journey_stage).mean()), 3),
            "keyword_rule_stage_accuracy_non_usage": round(float((stage_pred == d.journey_stage)[d.journey_stage != "使用"].mean()), 3),
            "keyword_rule_sentiment_macro_f1": round(float(f1_score(d.sentiment_label, sent_pred, average="macro")), 3)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "data_audit.json")
    args = ap.parse_args()
    frames = []
    for folder in ("train", "eval"):
        for p in sorted((ROOT / "data" / folder).glob("*.csv")):
            d = pd.read_csv(p, dtype=str, keep_default_na=False)
            frames.append(d.assign(file=f"{folder}/{p.name}"))
    df = pd.concat(frames, ignore_index=True)
    report = {"files": {f: per_file(g) for f, g in df.groupby("file", sort=True)}}
    dups = near_duplicates(df)
    report["near_duplicates"] = {"threshold_trigram_jaccard": 0.6, "pairs": len(dups), "examples": dups[:20]}
    report["phrases_in_3_or_more_files"] = recurring_phrases(df)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    rows = [{"file": f, **{k: v for k, v in r.items() if k != "stage_mix"}} for f, r in report["files"].items()]
    print(pd.DataFrame(rows).to_string(index=False))
    print("near-duplicate pairs:", len(dups), dups[:10])
    print("phrases in >= 3 files:", report["phrases_in_3_or_more_files"][:15])


if __name__ == "__main__":
    main()
