"""Topic coherence and the re-split of incoherent topics (issue 12, point 3): measured, before and after.

    python benchmarks/topics_coherence_eval.py [--only CORPUS ...] [--json docs/topics_coherence_eval.json]

For the categorised real-text corpora in .realtext/ (benchmarks/realtext/README.md; evaluation only, never
committed) and the four sample weeks (no categories; product_category as a weak subject proxy), each corpus goes
through the run's clean and tokenize stages, its key phrases and the default embedder (cached), then
``topics.fit_topics`` with ``topics.resplit_incoherent`` off (the topics before) and on (the default), and we
report: NMI and purity against the category, the number of topics, the share of comments in coherent topics
(:data:`vocnlp.stages.topics.COHERENT_SHARE`), the catch-all's share, how many labels are keyword pairs (X・Y),
and the CPU seconds of fit_topics (process time, both in the same process).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import topics_eval as E  # noqa: E402

from vocnlp import schema as S  # noqa: E402
from vocnlp.config import TopicsConfig, load_config  # noqa: E402
from vocnlp.stages import tokenize  # noqa: E402
from vocnlp.stages import topics as T  # noqa: E402

warnings.filterwarnings("ignore")
logging.getLogger("BERTopic").setLevel(logging.ERROR)


def phrases_for(texts: list[str]) -> list:
    cfg = load_config(ROOT / "configs" / "default.yaml")
    docs = list(tokenize.stage_nlp().pipe(texts, batch_size=256))
    return tokenize.key_phrases(docs, cfg.resolve(cfg.tokenize.stopwords))


def purity(cat: np.ndarray, lab: np.ndarray) -> float:
    import pandas as pd

    return float(pd.crosstab(lab, cat).max(axis=1).sum() / len(cat))


def measure(c, phrases, resplit: bool) -> dict:
    from sklearn.metrics import normalized_mutual_info_score

    cfg = TopicsConfig(resplit_incoherent=resplit)
    t0 = time.process_time()
    tr = T.fit_topics(c.X, c.tokens, cfg, c.nouns, phrases=phrases)
    secs = time.process_time() - t0
    a = tr.assignments
    subj = T.subject_nouns(c.tokens, c.nouns, phrases)
    coh = T.topic_coherence(a, c.tokens, subj)
    catch = tr.params.get("catch_all")
    coherent = sum(int((a == t).sum()) for t, (s, _) in coh.items() if s >= T.COHERENT_SHARE and t != catch)
    labels = tr.table[tr.table[S.TOPIC_ID] >= 0][S.TOPIC_LABEL].astype(str)
    out = {"n_topics": int(len(labels)), "coherent_share": round(coherent / len(a), 3),
           "catch_all_share": round(float((a == catch).mean()), 3) if catch is not None else 0.0,
           "pair_labels": int(sum("・" in x for x in labels)), "fit_cpu_s": round(secs, 2)}
    cat = c.category
    if cat is not None:
        cat = np.asarray(cat).astype(str)
        out["nmi"] = round(float(normalized_mutual_info_score(cat, a)), 4)
        out["purity"] = round(purity(cat, a), 4)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="*", default=["fukui_question", "ishikawa_question", "ishikawa_facility_type",
                                                 "sample_W44", "sample_W45", "sample_W46", "sample_W47"])
    ap.add_argument("--json", type=Path, default=ROOT / "docs" / "topics_coherence_eval.json")
    args = ap.parse_args()
    res = {}
    for c in E.load_corpora(args.only):
        ph = phrases_for(c.texts)
        res[c.name] = {"n": len(c.texts), "before": measure(c, ph, False), "after": measure(c, ph, True)}
        print(c.name, json.dumps(res[c.name], ensure_ascii=False), flush=True)
    args.json.write_text(json.dumps(res, ensure_ascii=False, indent=1) + "\n")


if __name__ == "__main__":
    main()
