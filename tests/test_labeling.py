"""The analyst's loop: export from a run, correct, import without losing or duplicating rows."""

import json

import pandas as pd

from vocnlp.config import load_config
from vocnlp.labeling import export_for_labelling, import_annotations
from vocnlp.pipeline import run_pipeline

VALID = {"cx_dimensions": {"SENSE", "FEEL", "THINK", "ACT", "RELATE"},
         "journey_stage": {"認知", "興味", "検討", "購入", "使用", "推奨"}, "sentiment_label": {"negative", "neutral", "positive"}}


def test_export_then_import_roundtrip(tmp_path, small_csv, use_fake_embedder):
    cfg = load_config(None, {"embed.cache_dir": str(tmp_path / "c"), "classify.cx_dimension.method": "prototype",
                             "classify.journey_stage.method": "prototype", "sentiment.method": "lexicon"})
    run_pipeline(small_csv, tmp_path / "run", cfg)
    for strategy in ("uncertainty", "random", "disagreement"):
        paths = export_for_labelling(tmp_path / "run", tmp_path / f"lab_{strategy}", n=20, strategy=strategy)
        table = pd.read_csv(paths["csv"], dtype=str, keep_default_na=False)
        assert len(table) == 20 and table.id.is_unique
        tasks = json.loads(paths["labelstudio"].read_text(encoding="utf-8"))
        assert len(tasks) == 20 and tasks[0]["predictions"][0]["result"]
        assert "<Choices" in paths["labelstudio_config"].read_text(encoding="utf-8")

    train = tmp_path / "train.csv"
    pd.DataFrame([{"id": "old-1", "text": "既存の行", "cx_dimensions": "ACT", "journey_stage": "使用",
                   "sentiment_label": "neutral", "split": "train"}]).to_csv(train, index=False)
    csv = tmp_path / "lab_random.csv"
    first = import_annotations(csv, train, VALID)
    assert first["added"] == 20
    edited = pd.read_csv(csv, dtype=str, keep_default_na=False)
    edited.loc[0, "sentiment_label"] = "negative" if edited.loc[0, "sentiment_label"] != "negative" else "positive"
    edited.to_csv(csv, index=False)
    second = import_annotations(csv, train, VALID)
    assert second == {"added": 0, "updated": 1, "unchanged": 19, "skipped": 0}
    merged = pd.read_csv(train, dtype=str, keep_default_na=False)
    assert len(merged) == 21 and merged.id.is_unique and "old-1" in set(merged.id)


def test_import_label_studio_export(tmp_path):
    export = [{"id": 7, "data": {"id": "x-1", "text": "アプリが落ちる"},
               "annotations": [{"result": [
                   {"from_name": "cx_dimensions", "value": {"choices": ["ACT"]}},
                   {"from_name": "journey_stage", "value": {"choices": ["使用"]}},
                   {"from_name": "sentiment_label", "value": {"choices": ["negative"]}}]}]},
              {"id": 8, "data": {"id": "x-2", "text": "未ラベル"}, "annotations": []}]
    p = tmp_path / "ls.json"
    p.write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    counts = import_annotations(p, tmp_path / "t.csv", VALID)
    assert counts["added"] == 1
    row = pd.read_csv(tmp_path / "t.csv", dtype=str, keep_default_na=False).iloc[0]
    assert (row.cx_dimensions, row.journey_stage, row.sentiment_label) == ("ACT", "使用", "negative")


def test_import_rejects_unknown_labels(tmp_path):
    import pytest

    from vocnlp.errors import InputError

    p = tmp_path / "a.csv"
    pd.DataFrame([{"id": "1", "text": "x", "cx_dimensions": "MONEY", "journey_stage": "使用", "sentiment_label": "neutral"}]).to_csv(p, index=False)
    with pytest.raises(InputError, match="MONEY"):
        import_annotations(p, tmp_path / "t.csv", VALID)
