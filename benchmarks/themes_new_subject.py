"""A far-away new subject starts its own theme; nothing else moves (issue 12, themes over periods).

    python benchmarks/themes_new_subject.py [--out docs/themes_new_subject.json] [--cache DIR] [--skip-weeks]

Two histories, default config (real model), one shared embedding cache (the topic cache is keyed by the code, so
two checkouts can share it: run once with ``PYTHONPATH=<other checkout>`` and ``--out`` elsewhere to compare):

- **weeks**: the four sample weeks in order (W44 -> W47). Per week: the themes, the far-theme threshold, the new
  themes, the emerging issues and the first issue.
- **new subject**: W44, W45 as it is, then W45 again (it replaces the period) with 30 comments about a subject the
  store's feedback never had, written by us: an in-store café opening (tests/fixtures/new_subject_cafe.csv), and
  part-time job applications (tests/fixtures/new_subject_recruiting.csv, half of them call-centre notes and inquiry
  forms). Per theme born in W45: its label, how many of its comments are about the new subject (purity) and how
  many of the new subject's comments it holds (recall); where the subject's comments went (topics, themes); and
  whether the known topics kept their themes and the known themes their labels.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
SUBJECTS = {  # our own comments about a subject the sample weeks never have (30 each, several channels)
    "cafe": ROOT / "tests" / "fixtures" / "new_subject_cafe.csv",  # an in-store café opens: food, drinks, seats
    "recruiting": ROOT / "tests" / "fixtures" / "new_subject_recruiting.csv",  # part-time job applications
}


def _cfg(cache: Path, hist: Path):
    from vocnlp.config import load_config

    return load_config(None, {"embed.cache_dir": str(cache), "history.path": str(hist)})


def _week(out: Path, res) -> dict:
    themes = pd.read_csv(out / "themes.csv")
    topics = pd.read_csv(out / "topics.csv")
    issues = pd.read_csv(out / "issues.csv")
    m = res.manifest
    return {"themes": m["themes"],
            "theme_labels": dict(zip(themes.theme_id.astype(int).astype(str), themes.theme_label)),
            "parents": {str(int(t)): int(p) for t, p in zip(topics.topic_id, topics.parent_id) if t >= 0},
            "emerging": (m.get("history") or {}).get("emerging_topics"),
            "first_issue": None if not len(issues) else {"topic_id": int(issues.topic_id[0]),
                                                         "label": issues.topic_label[0]}}


def weeks(cache: Path, work: Path) -> dict:
    from vocnlp.pipeline import run_pipeline

    cfg = _cfg(cache, work / "hist_weeks")
    out = {}
    for w in ("W44", "W45", "W46", "W47"):
        res = run_pipeline(SAMPLE / f"midori_2026-{w}.csv", work / w, cfg)
        out[w] = _week(work / w, res)
        logging.info("%s: %s", w, out[w]["themes"])
    return out


def new_subject(cache: Path, work: Path, subject: str = "cafe") -> dict:
    from vocnlp.pipeline import run_pipeline

    work = work / subject
    cfg = _cfg(cache, work / "hist_new")
    w44 = run_pipeline(SAMPLE / "midori_2026-W44.csv", work / "new_W44", cfg)
    before = _week(work / "new_W44", w44)
    plain = _week(work / "new_W45_plain", run_pipeline(SAMPLE / "midori_2026-W45.csv", work / "new_W45_plain", cfg))
    week = pd.concat([pd.read_csv(SAMPLE / "midori_2026-W45.csv", dtype=str, keep_default_na=False),
                      pd.read_csv(SUBJECTS[subject], dtype=str, keep_default_na=False)], ignore_index=True)
    path = work / "midori_2026-W45.csv"
    week.to_csv(path, index=False)
    res = run_pipeline(path, work / "new_W45", cfg)  # the latest period again: replaces the plain W45
    after = _week(work / "new_W45", res)
    items = pd.read_csv(work / "new_W45" / "items.csv", dtype={"id": str})
    items = items[items.status == "ok"]
    parent = {int(k): v for k, v in after["parents"].items()}
    items["theme"] = items.topic_id.map(parent)
    new_ids = set(pd.read_csv(SUBJECTS[subject], dtype=str).id)
    is_new = items.id.isin(new_ids)
    born = [d["theme_id"] for d in after["themes"].get("new_themes", [])]
    topics = pd.read_csv(work / "new_W45" / "topics.csv")
    per_topic = items.loc[is_new, "topic_id"].value_counts()
    per_theme = []
    for th in born:
        inside = items.theme == th
        per_theme.append({"theme_id": th, "label": after["theme_labels"].get(str(th)),
                          "comments": int(inside.sum()), "about_new_subject": int((inside & is_new).sum()),
                          "purity": round(float((inside & is_new).sum() / max(1, inside.sum())), 3),
                          "recall": round(float((inside & is_new).sum() / max(1, is_new.sum())), 3)})
    kept = {t: p for t, p in before["parents"].items()}
    return {"W44": before, "W45": plain, "W45_with_new_subject": after, "new_subject_comments": int(is_new.sum()),
            "new_subject_in_themes": {str(k): int(v) for k, v in items.loc[is_new, "theme"].value_counts().items()},
            "new_subject_in_topics": [{"topic_id": int(t), "label": topics.set_index("topic_id").topic_label.get(t),
                                       "comments": int(n), "theme": parent.get(int(t))} for t, n in per_topic.items()],
            "born": per_theme,
            "known_topics_kept_their_theme": all(after["parents"].get(t) == p for t, p in kept.items()
                                                 if t in after["parents"]),
            "known_theme_labels_kept": all(after["theme_labels"].get(th, lab) == lab
                                           for th, lab in before["theme_labels"].items())}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "themes_new_subject.json")
    ap.add_argument("--cache", type=Path, default=ROOT / ".cache" / "vocnlp")
    ap.add_argument("--skip-weeks", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import vocnlp

    with tempfile.TemporaryDirectory() as d:
        work = Path(d)
        report = {"code": str(Path(vocnlp.__file__).parent.parent)}
        for subject in SUBJECTS:
            report[f"new_subject_{subject}"] = new_subject(args.cache, work, subject)
            logging.info("new subject %s: %s", subject, json.dumps(report[f"new_subject_{subject}"]["born"],
                                                                   ensure_ascii=False))
        if not args.skip_weeks:
            report["weeks"] = weeks(args.cache, work)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=1))
    for subject in SUBJECTS:
        r = report[f"new_subject_{subject}"]
        print(subject, r["W45"]["themes"].get("new_themes"), json.dumps(
            {k: r[k] for k in ("born", "new_subject_in_topics", "known_topics_kept_their_theme",
                               "known_theme_labels_kept")}, ensure_ascii=False))
    if "weeks" in report:
        for w, r in report["weeks"].items():
            print(w, r["themes"].get("far_threshold"), r["themes"].get("new_themes"), r["first_issue"])


if __name__ == "__main__":
    sys.exit(main())
