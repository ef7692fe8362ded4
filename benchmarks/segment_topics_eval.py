"""Segment-level topics on the four sample weeks: the weekly invariants and the time, with and without.

    python benchmarks/segment_topics_eval.py --mode on  --out /tmp/seg_on.json    # segment_topics.enabled: true
    python benchmarks/segment_topics_eval.py --mode off --out /tmp/seg_off.json   # today's item-level topics

Each call runs W44..W47 in order with a fresh history and a fresh (empty) embedding cache, default config
otherwise, and records per week: the emerging topics, the first issue, continuity (share of W45's analysed
comments under W44's topic ids), the stage timings, and the segment-topic counts. Run the two modes back to
back on the same machine and compare the run times as a ratio.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
WEEKS = ["2026-W44", "2026-W45", "2026-W46", "2026-W47"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["on", "off"], required=True)
    ap.add_argument("--reducer", default=None, help="topics.reducer override (pca | umap)")
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    from vocnlp.config import load_config
    from vocnlp.pipeline import run_pipeline

    out: dict = {"mode": args.mode, "reducer": args.reducer, "weeks": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        over = {"history.path": str(tmp / "hist"), "embed.cache_dir": str(tmp / "cache"),
                "segment_topics.enabled": args.mode == "on"}
        if args.reducer:
            over["topics.reducer"] = args.reducer
        cfg = load_config(ROOT / "configs" / "default.yaml", over)
        for w in WEEKS:
            t0 = time.perf_counter()
            res = run_pipeline(ROOT / "data" / "sample" / f"midori_{w}.csv", tmp / w, cfg)
            wall = time.perf_counter() - t0
            iss = res.issues
            first = iss.iloc[0] if len(iss) else None
            items = pd.read_csv(tmp / w / "items.csv", dtype=str, keep_default_na=False)
            ok = items[items.status == "ok"]
            rec = {"wall_s": round(wall, 2), "timings_s": res.manifest["timings_s"],
                   "emerging": res.manifest["history"]["emerging_topics"],
                   "first_issue": None if first is None else {
                       "topic_id": int(first.topic_id), "label": first.topic_label, "emerging": bool(first.get("emerging")),
                       "n_items": int(first.n_items), "quote_1": first.quote_1},
                   "segment_topics": res.manifest["models"].get("segment_topics", {}),
                   "n_analysed": len(ok), "n_topics": int((res.topics.topic_id >= 0).sum()),
                   "sonota_share": round(float((ok.topic_id == "-1").mean()), 4)}
            if w == "2026-W45":
                w44 = set(pd.read_csv(tmp / "2026-W44" / "items.csv", dtype=str).topic_id) - {"-1"}
                rec["continuity_vs_W44"] = round(float(ok.topic_id.isin(w44).mean()), 4)
            out["weeks"][w] = rec
            print(w, json.dumps({k: rec[k] for k in ("wall_s", "emerging", "first_issue")}, ensure_ascii=False), flush=True)
    total = sum(r["wall_s"] for r in out["weeks"].values())
    topic_s = sum(r["timings_s"].get("topics", 0) for r in out["weeks"].values())
    seg_s = sum(r["timings_s"].get("segment_topics", 0) for r in out["weeks"].values())
    out["total_wall_s"] = round(total, 2)
    out["topics_share_of_run"] = round(topic_s / total, 4)
    out["segment_topics_share_of_run"] = round(seg_s / total, 4)
    args.out.write_text(json.dumps(out, ensure_ascii=False, indent=1, default=str), encoding="utf-8")
    print("total", total, "topics share", out["topics_share_of_run"], "segment_topics share",
          out["segment_topics_share_of_run"])


if __name__ == "__main__":
    main()
