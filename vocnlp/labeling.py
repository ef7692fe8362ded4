"""The analyst's loop: pick the comments most worth labelling from a run, and merge the labels back.

Export writes the chosen rows pre-filled with the model's predictions (correcting is faster than
labelling from scratch) as CSV, XLSX and a Label Studio import file with a matching labelling config.
Import reads a CSV/XLSX in the annotation format or a Label Studio JSON export and merges it into a
training file by id (or, failing that, by identical text): rows are updated, never duplicated, and
nothing already there is lost.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import schema as S
from .errors import InputError
from .stages.outputs import write_csv, write_xlsx

STRATEGIES = ("uncertainty", "random", "disagreement")
ANNOTATION_COLUMNS = ["id", "text", "cx_dimensions", "journey_stage", "sentiment_label", "split"]
SCORE_COLUMNS = ("nps", "NPS", "score", "rating", "stars", "csat")


def _read_run(run_dir: Path) -> pd.DataFrame:
    p = Path(run_dir) / "items.parquet"
    if not p.exists():
        raise InputError(f"'{run_dir}' is not a vocnlp run folder (no items.parquet).", fix="pass the --output folder of `vocnlp run`.")
    return pd.read_parquet(p)


def run_stage_labels(run_dir: Path, items: pd.DataFrame) -> list[str]:
    """The journey-stage label set the run used, in its order (from the run's manifest), so a company's own
    stage set is offered whole; a run folder without it offers the stages its items have."""
    try:
        manifest = json.loads((Path(run_dir) / "manifest.json").read_text(encoding="utf-8"))
        return [str(x) for x in manifest["models"]["journey_stage"]["labels"]]
    except (OSError, ValueError, KeyError, TypeError):
        return sorted(set(items[S.JOURNEY_STAGE].astype(str)) - {""})


def priority(items: pd.DataFrame, strategy: str, seed: int = 0) -> np.ndarray:
    """Higher = more worth labelling."""
    n = len(items)
    if strategy == "random":
        return np.random.RandomState(seed).rand(n)
    cx_cols = [c for c in items.columns if c.startswith(S.CX_PREFIX) and c != S.CX_DIMENSIONS]
    if strategy == "uncertainty":
        stage_u = 1 - items[S.JOURNEY_CONFIDENCE].astype(float).fillna(1).to_numpy()
        cx = items[cx_cols].astype(float).fillna(0).to_numpy() if cx_cols else np.zeros((n, 1))
        cx_u = (1 - 2 * np.abs(cx - 0.5)).max(axis=1)
        sent_u = 1 - np.abs(items[S.SENTIMENT_SCORE].astype(float).fillna(1).to_numpy())
        return stage_u + cx_u + sent_u
    if strategy == "disagreement":
        label = items[S.SENTIMENT_LABEL].astype(str)
        score = np.zeros(n)
        # the model's label has no supporting phrase in the dictionary's view
        score += ((label != "neutral") & (items.get(S.SENTIMENT_EVIDENCE, "").astype(str) == "")).to_numpy() * 1.0
        col = next((c for c in SCORE_COLUMNS if c in items.columns), None)
        if col is not None:  # NPS detractor called positive, promoter called negative
            nps = pd.to_numeric(items[col], errors="coerce")
            score += (((nps <= 6) & (label == "positive")) | ((nps >= 9) & (label == "negative"))).to_numpy() * 2.0
        return score + 0.001 * (1 - np.abs(items[S.SENTIMENT_SCORE].astype(float).fillna(1).to_numpy()))
    raise InputError(f"unknown strategy '{strategy}'.", fix=f"use one of {', '.join(STRATEGIES)}.")


def export_for_labelling(run_dir: Path, out: Path, n: int = 200, strategy: str = "uncertainty", seed: int = 0) -> dict[str, Path]:
    items = _read_run(run_dir)
    items = items[items[S.STATUS] == S.STATUS_OK].copy()
    items["_p"] = priority(items, strategy, seed)
    chosen = items.sort_values("_p", ascending=False, kind="stable").drop_duplicates(S.TEXT).head(n)
    table = pd.DataFrame({
        "id": chosen[S.ID].astype(str), "text": chosen[S.TEXT].astype(str),
        "cx_dimensions": chosen[S.CX_DIMENSIONS].astype(str), "journey_stage": chosen[S.JOURNEY_STAGE].astype(str),
        "sentiment_label": chosen[S.SENTIMENT_LABEL].astype(str), "split": "train",
        "source_run": str(Path(run_dir).name), "strategy": strategy,
    })
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    paths = {"csv": out.with_suffix(".csv"), "xlsx": out.with_suffix(".xlsx"),
             "labelstudio": out.with_name(out.stem + "_labelstudio.json"),
             "labelstudio_config": out.with_name(out.stem + "_labelstudio_config.xml")}
    write_csv(table, paths["csv"])
    write_xlsx({"to_label": table}, paths["xlsx"])
    cx_labels = [c[len(S.CX_PREFIX):] for c in items.columns if c.startswith(S.CX_PREFIX) and c != S.CX_DIMENSIONS]
    stages = run_stage_labels(run_dir, items)
    tasks = []
    for r in table.itertuples():
        result = [{"from_name": "cx_dimensions", "to_name": "text", "type": "choices",
                   "value": {"choices": [d for d in r.cx_dimensions.split("|") if d]}},
                  {"from_name": "journey_stage", "to_name": "text", "type": "choices", "value": {"choices": [r.journey_stage]}},
                  {"from_name": "sentiment_label", "to_name": "text", "type": "choices", "value": {"choices": [r.sentiment_label]}}]
        tasks.append({"data": {"id": r.id, "text": r.text}, "predictions": [{"model_version": "vocnlp", "result": result}]})
    paths["labelstudio"].write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    from xml.sax.saxutils import quoteattr

    def choices(name: str, values: list[str], multiple: bool) -> str:
        opts = "".join(f"<Choice value={quoteattr(v)}/>" for v in values)
        return f'<Choices name="{name}" toName="text" choice="{"multiple" if multiple else "single"}">{opts}</Choices>'

    config = ("<View><Text name=\"text\" value=\"$text\"/>" + choices("cx_dimensions", cx_labels, True)
              + choices("journey_stage", stages, False)
              + choices("sentiment_label", list(S.SENTIMENT_LABELS), False) + "</View>")
    paths["labelstudio_config"].write_text(config, encoding="utf-8")
    return paths


def _read_annotations(path: Path) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise InputError(f"annotation file '{path}' does not exist.", fix="check the path.")
    if path.suffix.lower() == ".json":
        try:
            tasks = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as err:
            raise InputError(f"'{path}' is not valid JSON ({err.msg}).", fix="export from Label Studio as JSON.") from None
        rows = []
        for t in tasks:
            data = t.get("data", {})
            anns = [a for a in t.get("annotations", []) if not a.get("was_cancelled")]
            if not anns:
                continue
            res = {r["from_name"]: r["value"].get("choices", []) for r in anns[-1].get("result", []) if "value" in r}
            rows.append({"id": str(data.get("id", t.get("id", ""))), "text": data.get("text", ""),
                         "cx_dimensions": "|".join(res.get("cx_dimensions", [])),
                         "journey_stage": (res.get("journey_stage") or [""])[0],
                         "sentiment_label": (res.get("sentiment_label") or [""])[0]})
        return pd.DataFrame(rows, columns=["id", "text", "cx_dimensions", "journey_stage", "sentiment_label"])
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        df = pd.read_excel(path, dtype=str, keep_default_na=False)
    else:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    for c in df.columns:  # undo the formula guard added on export
        df[c] = df[c].map(lambda v: v[1:] if isinstance(v, str) and v.startswith("'") and v[1:2] in "=+-@" else v)
    return df


def import_annotations(path: Path, into: Path, valid: dict[str, set[str]] | None = None) -> dict[str, int]:
    """Merge annotations into the training file ``into``. Returns counts: added, updated, unchanged, skipped."""
    new = _read_annotations(path)
    missing = [c for c in ("id", "text") if c not in new.columns]
    if missing:
        raise InputError(f"'{path}' lacks column(s) {missing}.", fix="keep the columns of the exported file.")
    for c in ANNOTATION_COLUMNS:
        if c not in new.columns:
            new[c] = "train" if c == "split" else ""
    new["split"] = new["split"].replace("", "train")
    if valid:
        for col, allowed in valid.items():
            for v in new[col]:
                parts = [p for p in str(v).split("|") if p] if col == "cx_dimensions" else ([v] if v else [])
                bad = [p for p in parts if p not in allowed]
                if bad:
                    raise InputError(f"'{path}': {col} value {bad[0]!r} is not a known label ({', '.join(sorted(allowed))}).",
                                     fix="correct the annotation and import again.")
    into = Path(into)
    old = pd.read_csv(into, dtype=str, keep_default_na=False) if into.exists() else pd.DataFrame(columns=ANNOTATION_COLUMNS)
    for c in ANNOTATION_COLUMNS:
        if c not in old.columns:
            old[c] = ""
    by_id = {v: i for i, v in enumerate(old["id"])}
    by_text = {v: i for i, v in enumerate(old["text"])}
    counts = {"added": 0, "updated": 0, "unchanged": 0, "skipped": 0}
    labels = ["cx_dimensions", "journey_stage", "sentiment_label"]
    rows_to_add = []
    for r in new.to_dict("records"):
        if not str(r["text"]).strip() or not (r["journey_stage"] or r["sentiment_label"]):
            counts["skipped"] += 1
            continue
        i = by_id.get(r["id"], by_text.get(r["text"]))
        if i is None:
            rows_to_add.append({c: r.get(c, "") for c in old.columns if c in r} | {c: r[c] for c in ANNOTATION_COLUMNS})
            by_id[r["id"]] = by_text[r["text"]] = -1
            counts["added"] += 1
        elif i == -1:
            counts["skipped"] += 1  # the same item twice in one file: the first one wins
        else:
            changed = any(old.at[i, c] != r[c] for c in labels)
            for c in labels:
                old.at[i, c] = r[c]
            counts["updated" if changed else "unchanged"] += 1
    merged = pd.concat([old, pd.DataFrame(rows_to_add)], ignore_index=True) if rows_to_add else old
    into.parent.mkdir(parents=True, exist_ok=True)
    tmp = into.with_suffix(".tmp")
    merged.fillna("").to_csv(tmp, index=False)
    tmp.replace(into)
    return counts
