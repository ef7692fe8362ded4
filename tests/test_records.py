"""What a run and a model record about themselves: library and dictionary versions, and complete timings."""

import json

import numpy as np

from vocnlp.config import load_config
from vocnlp.models.trained import LinearTextClassifier, load_model
from vocnlp.pipeline import run_pipeline
from vocnlp.versions import dictionary_version


def test_manifest_records_versions_and_times_writing_the_outputs(tmp_path, small_csv, use_fake_embedder):
    cfg = load_config(None, {"embed.cache_dir": str(tmp_path / "c"), "classify.cx_dimension.method": "prototype",
                             "classify.journey_stage.method": "prototype", "sentiment.method": "lexicon",
                             "history.enabled": False})
    run_pipeline(small_csv, tmp_path / "run", cfg)
    manifest = json.loads((tmp_path / "run" / "manifest.json").read_text(encoding="utf-8"))
    libs = manifest["versions"]["libraries"]
    assert {"python", "numpy", "scikit-learn", "fugashi"} <= set(libs)
    assert manifest["versions"]["dictionary"] == dictionary_version()
    assert manifest["versions"]["dictionary"]["version"]  # UniDic's own version (2.1.2 for unidic-lite)
    timings = manifest["timings_s"]
    assert timings["outputs"] > 0  # the file on disk includes the time spent writing the outputs
    assert list(timings)[-1] == "outputs" and {"ingest", "embed", "topics", "insights"} <= set(timings)


def test_model_metadata_records_versions(tmp_path):
    texts = ["良い", "悪い", "普通"] * 4
    X = np.eye(3, dtype=np.float32)[[0, 1, 2] * 4]
    m = LinearTextClassifier(["negative", "neutral", "positive"], False).fit(texts, X, ["positive", "negative", "neutral"] * 4)
    m.save(tmp_path / "v1", {"task": "sentiment"})
    meta = load_model(tmp_path / "v1").metadata_
    assert meta["versions"]["dictionary"]["version"] == dictionary_version()["version"]
    assert "scikit-learn" in meta["versions"]["libraries"]
