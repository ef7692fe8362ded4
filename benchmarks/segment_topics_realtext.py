"""Does a subject mentioned inside long real comments now add up? (segment-level topics, issue 12 point 2)

    python benchmarks/segment_topics_realtext.py [--long 300 --short 300] --out /tmp/seg_real.json

A mixed batch from the Fukui survey answers in .realtext/ (evaluation only; see benchmarks/realtext/README.md):
``--long`` answers of at least 80 characters and ``--short`` ones under 40, seeded, from all six Fukui
sources. One run (no history), segment topics on. For each subject word below, its *subject topic* is the
topic holding most of the *short* answers that contain the word (short answers are about one thing). Then
over the *long* answers that contain the word: the share counted in the subject topic by the primary topic
alone (today) and by ``topic_ids`` (segment-level), and how much the subject topic's size grows.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SUBJECTS = ["駐車場", "トイレ", "駅", "バス", "電車", "案内", "スタッフ", "食事", "値段", "Wi-Fi", "看板", "雪",
            "カニ", "恐竜", "ソースカツ丼", "温泉"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--long", type=int, default=300)
    ap.add_argument("--short", type=int, default=300)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    from vocnlp import analyze

    frames = [pd.read_parquet(f) for f in sorted((ROOT / ".realtext").glob("fukui_*.parquet"))]
    allf = pd.concat(frames, ignore_index=True).drop_duplicates("text")
    n = allf.text.str.len()
    batch = pd.concat([allf[n >= 80].sample(args.long, random_state=args.seed),
                       allf[n < 40].sample(args.short, random_state=args.seed)]).sample(frac=1, random_state=args.seed)
    batch = batch[["doc_id", "text", "source"]].rename(columns={"doc_id": "id"}).reset_index(drop=True)
    out: dict = {"n_long": args.long, "n_short": args.short, "subjects": {}}
    with tempfile.TemporaryDirectory() as tmp:
        over = {"history": {"enabled": False}, "embed": {"cache_dir": str(Path(tmp) / "cache")}}
        t0 = time.perf_counter()
        res = analyze(batch, over)
        out["wall_s"] = round(time.perf_counter() - t0, 2)
    out["timings_s"] = res.manifest["timings_s"]
    out["segment_topics"] = res.manifest["models"]["segment_topics"]
    items = res.items[res.items.status == "ok"].copy()
    items["ids"] = items.topic_ids.str.split("|").map(lambda v: [int(x) for x in v if x])
    items["long"] = items.text.str.len() >= 80
    labels = dict(zip(res.topics.topic_id, res.topics.topic_label))
    out["long_with_several_topics"] = round(float((items[items.long].ids.map(len) > 1).mean()), 4)
    for w in SUBJECTS:
        has = items.text.str.contains(w, regex=False)
        short, long_ = items[has & ~items.long], items[has & items.long]
        if len(short) < 3 or len(long_) < 3:
            continue
        t = int(short.topic_id.value_counts().idxmax())
        before = float((long_.topic_id == t).mean())
        after = float(long_.ids.map(lambda v, t=t: t in v).mean())
        size_before = int((items.topic_id == t).sum())
        size_after = int(items.ids.map(lambda v, t=t: t in v).sum())
        out["subjects"][w] = {"topic": t, "label": labels.get(t, ""), "short_with_word": len(short),
                              "short_in_topic": round(float((short.topic_id == t).mean()), 3),
                              "long_with_word": len(long_), "long_counted_before": round(before, 3),
                              "long_counted_after": round(after, 3), "topic_size_before": size_before,
                              "topic_size_after": size_after}
        print(w, out["subjects"][w], flush=True)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print("long answers with several topics:", out["long_with_several_topics"], "wall", out["wall_s"])


if __name__ == "__main__":
    main()
