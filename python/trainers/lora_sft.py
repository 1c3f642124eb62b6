#!/usr/bin/python3
"""Reference ftnode trainer in PyTorch: LoRA fine-tuning of a small decoder-only transformer on
Newton-format SFT data, answering with generated free text. Copy it as a starting point.

  * Tokenizer: GPT-2-style pieces (` ?word`, ` ?punctuation`, whitespace runs); the most frequent
    pieces of the training text get their own id, everything else falls back to bytes, so any text
    round-trips exactly and no vocabulary is downloaded.
  * Model: token + position embeddings, pre-LN blocks (causal multi-head attention, GELU MLP).
  * Base: `--base FILE` (a file `export-base` wrote, on this host) is loaded and frozen; without
    it the base is first fitted on the dataset's text (language modelling on prompt + answer) and
    stored inside each checkpoint. Either way the checkpoint records the base's sha256.
  * LoRA: rank-r adapters (B·A, B zero-initialised, scale alpha/r) on q, k, v, o and both MLP
    projections of every block; only they train, on the answer tokens.
  * Evaluation on the eval split (else a seeded 10% of train held out): eval_loss (answer tokens),
    exact_match and token_f1 of greedy generations. Checkpoint whenever eval_loss improves, and a
    `final` one at the end.
  * Resume: a checkpoint holds adapters, AdamW state, step and best loss; batch order is a pure
    function of (seed, phase, epoch), so a resumed run on CPU ends with the same weights.
  * `predict` (protocol extension, docs/trainer-protocol.md): generated text for each example.

Run by the worker (catalog `trainer: external`); `lora_sft.py export-base CKPT OUT` writes the base
of a checkpoint as a file for `--base`.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import math
import os
import re
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Optional, Sequence

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
if "--threads" in sys.argv[:-1]:  # BLAS/OpenMP pools are sized when torch loads: say it before the import
    for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(_v, sys.argv[sys.argv.index("--threads") + 1])

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

from ftnode_trainer import (InvalidConfig, InvalidDataset, PredictRequest, Session, SftExample,  # noqa: E402
                            example_from_predict, read_examples, run)

FORMAT = "ftnode-lora-sft/1"
BASE_FORMAT = "ftnode-lora-sft-base/1"
PAD, BOS, SEP, EOS, BYTE0 = 0, 1, 2, 3, 4
PIECE = re.compile(r" ?[A-Za-z0-9_]+| ?[^\sA-Za-z0-9_]+|\s+")


# ---- tokenizer ---------------------------------------------------------------------------------
class Tokenizer:
    def __init__(self, pieces: Sequence[str]) -> None:
        self.pieces = list(pieces)
        self.index = {p: BYTE0 + 256 + i for i, p in enumerate(self.pieces)}
        self.size = BYTE0 + 256 + len(self.pieces)

    @staticmethod
    def fit(texts: Sequence[str], max_pieces: int) -> "Tokenizer":
        counts = Counter(p for t in texts for p in PIECE.findall(t))
        # count ≥ 2: a piece seen once is cheaper as bytes than as an embedding row learnt from one example
        keep = sorted((p for p, c in counts.items() if c >= 2 and len(p.encode()) > 1), key=lambda p: (-counts[p], p))
        return Tokenizer(keep[:max_pieces])

    def encode(self, text: str) -> list[int]:
        out: list[int] = []
        for p in PIECE.findall(text):
            i = self.index.get(p)
            if i is not None:
                out.append(i)
            else:
                out.extend(BYTE0 + b for b in p.encode("utf-8"))
        return out

    def decode(self, ids: Sequence[int]) -> str:
        buf = bytearray()
        for i in ids:
            if BYTE0 <= i < BYTE0 + 256:
                buf.append(i - BYTE0)
            elif i >= BYTE0 + 256:
                buf.extend(self.pieces[i - BYTE0 - 256].encode("utf-8"))
        return buf.decode("utf-8", errors="replace")


# ---- model ---------------------------------------------------------------------------------------
@dataclass
class ModelConfig:
    vocab: int
    d_model: int = 64
    layers: int = 2
    heads: int = 4
    max_len: int = 128


class LoRALinear(nn.Module):
    """y = W x + b + (alpha / r) · B A x, with W, b frozen and B zero at the start (so y starts as the base's)."""

    def __init__(self, base: nn.Linear, rank: int, alpha: float, gen: torch.Generator) -> None:
        super().__init__()
        self.base = base
        self.scale = alpha / rank
        self.lora_a = nn.Parameter(torch.randn(rank, base.in_features, generator=gen) / math.sqrt(base.in_features))
        self.lora_b = nn.Parameter(torch.zeros(base.out_features, rank))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.base(x) + (x @ self.lora_a.t() @ self.lora_b.t()) * self.scale


class Block(nn.Module):
    def __init__(self, c: ModelConfig) -> None:
        super().__init__()
        self.heads = c.heads
        self.ln1, self.ln2 = nn.LayerNorm(c.d_model), nn.LayerNorm(c.d_model)
        self.q, self.k, self.v, self.o = (nn.Linear(c.d_model, c.d_model) for _ in range(4))
        self.fc1, self.fc2 = nn.Linear(c.d_model, 4 * c.d_model), nn.Linear(4 * c.d_model, c.d_model)

    def forward(self, x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        h = self.ln1(x)
        q, k, v = (p(h).view(b, t, self.heads, d // self.heads).transpose(1, 2) for p in (self.q, self.k, self.v))
        att = (q @ k.transpose(-2, -1)) / math.sqrt(d // self.heads)
        att = att.masked_fill(mask[:t, :t], float("-inf")).softmax(-1)
        x = x + self.o((att @ v).transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class DecoderLM(nn.Module):
    def __init__(self, c: ModelConfig) -> None:
        super().__init__()
        self.config = c
        self.tok = nn.Embedding(c.vocab, c.d_model)
        self.pos = nn.Embedding(c.max_len, c.d_model)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.ln = nn.LayerNorm(c.d_model)
        self.head = nn.Linear(c.d_model, c.vocab, bias=False)
        self.register_buffer("mask", torch.triu(torch.ones(c.max_len, c.max_len, dtype=torch.bool), 1), persistent=False)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        x = self.tok(ids) + self.pos(torch.arange(ids.shape[1], device=ids.device))
        for blk in self.blocks:
            x = blk(x, self.mask)
        return self.head(self.ln(x))


LORA_TARGETS = ("q", "k", "v", "o", "fc1", "fc2")


def add_lora(model: DecoderLM, rank: int, alpha: float, seed: int) -> None:
    for p in model.parameters():
        p.requires_grad_(False)
    gen = torch.Generator().manual_seed(seed + 1)
    for blk in model.blocks:
        for name in LORA_TARGETS:
            setattr(blk, name, LoRALinear(getattr(blk, name), rank, alpha, gen))


def adapter_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items() if ".lora_" in k}


def base_state(model: nn.Module) -> dict[str, torch.Tensor]:
    return {k.replace(".base.", "."): v.detach().cpu().clone() for k, v in model.state_dict().items() if ".lora_" not in k}


def tensors_sha256(state: dict[str, torch.Tensor]) -> str:
    h = hashlib.sha256()
    for k in sorted(state):
        h.update(k.encode())
        h.update(state[k].detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


# ---- data ------------------------------------------------------------------------------------------
def encode_example(tok: Tokenizer, ex: SftExample, max_len: int, max_answer: int) -> tuple[list[int], int]:
    """BOS prompt SEP answer EOS, the prompt cut from the left to fit; returns (ids, answer start)."""
    ans = tok.encode(ex.answer or "")[:max_answer] + [EOS]
    prompt = tok.encode(ex.prompt)[-(max_len - len(ans) - 2):]
    ids = [BOS] + prompt + [SEP]
    return ids + ans, len(ids)


def batch_tensors(rows: Sequence[tuple[list[int], int]], answer_only: bool, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    t = max(len(r[0]) for r in rows) - 1
    x = torch.full((len(rows), t), PAD, dtype=torch.long)
    y = torch.full((len(rows), t), -100, dtype=torch.long)  # -100: ignored by cross_entropy
    for i, (ids, start) in enumerate(rows):
        n = len(ids) - 1
        x[i, :n] = torch.tensor(ids[:-1])
        tgt = torch.tensor(ids[1:])
        if answer_only:
            tgt[: start - 1] = -100
        y[i, :n] = tgt
    return x.to(device), y.to(device), (y != -100).sum()


def order(n: int, seed: int, phase: int, epoch: int) -> list[int]:
    g = torch.Generator().manual_seed(seed * 1_000_003 + phase * 10_007 + epoch)
    return torch.randperm(n, generator=g).tolist()


def batch_at(rows: list, bs: int, seed: int, phase: int, step: int) -> list:
    """Rows of 1-based step `step` of a phase: batch (step-1) mod steps_per_epoch of its epoch's order."""
    per_epoch = math.ceil(len(rows) / bs)
    epoch, k = divmod(step - 1, per_epoch)
    perm = order(len(rows), seed, phase, epoch)
    return [rows[i] for i in perm[k * bs:(k + 1) * bs]]


# ---- evaluation and generation ----------------------------------------------------------------------
def norm(s: str) -> str:
    return " ".join(s.split())


def token_f1(pred: str, gold: str) -> float:
    p, g = norm(pred).lower().split(), norm(gold).lower().split()
    if not p or not g:
        return float(p == g)
    common = sum((Counter(p) & Counter(g)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(p), common / len(g)
    return 2 * precision * recall / (precision + recall)


@torch.no_grad()
def generate(model: DecoderLM, tok: Tokenizer, prompts: Sequence[str], max_new: int, device: torch.device) -> list[str]:
    """Greedy decoding; prompts of the same token length decode together (no padding needed)."""
    model.eval()
    max_len = model.config.max_len
    enc = [[BOS] + tok.encode(p)[-(max_len - max_new - 2):] + [SEP] for p in prompts]
    out: list[str] = [""] * len(prompts)
    groups: dict[int, list[int]] = {}
    for i, e in enumerate(enc):
        groups.setdefault(len(e), []).append(i)
    for idx in groups.values():
        x = torch.tensor([enc[i] for i in idx], device=device)
        finished = torch.zeros(len(idx), dtype=torch.bool, device=device)
        gen: list[torch.Tensor] = []
        for _ in range(max_new):
            nxt = model(x[:, -max_len:])[:, -1].argmax(-1)
            nxt = torch.where(finished, torch.full_like(nxt, EOS), nxt)
            gen.append(nxt)
            finished |= nxt == EOS
            x = torch.cat([x, nxt[:, None]], 1)
            if bool(finished.all()):
                break
        g = torch.stack(gen, 1).tolist() if gen else [[] for _ in idx]
        for j, i in enumerate(idx):
            ids = g[j]
            out[i] = tok.decode(ids[: ids.index(EOS)] if EOS in ids else ids)
    model.train()
    return out


@torch.no_grad()
def evaluate(model: DecoderLM, tok: Tokenizer, rows: list, examples: list[SftExample], hp: dict, device: torch.device) -> dict[str, float]:
    model.eval()
    total, count = 0.0, 0
    for i in range(0, len(rows), hp["batch_size"]):
        x, y, n = batch_tensors(rows[i:i + hp["batch_size"]], True, device)
        total += float(F.cross_entropy(model(x).flatten(0, 1), y.flatten(), ignore_index=-100, reduction="sum"))
        count += int(n)
    preds = generate(model, tok, [e.prompt for e in examples], hp["max_answer_tokens"] + 1, device)
    em = sum(norm(p) == norm(e.answer or "") for p, e in zip(preds, examples)) / len(examples)
    f1 = sum(token_f1(p, e.answer or "") for p, e in zip(preds, examples)) / len(examples)
    model.train()
    return {"eval_loss": total / max(1, count), "exact_match": em, "token_f1": f1}


# ---- hyperparameters and checkpoints ---------------------------------------------------------------
def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    a = argparse.ArgumentParser(prog="lora_sft.py", description=__doc__.split("\n")[0])
    a.add_argument("--base", help="base model file (export-base) on this host; default: fit one on the dataset")
    a.add_argument("--base-steps", type=int, default=400)
    a.add_argument("--steps", type=int, default=300, help="LoRA steps")
    a.add_argument("--batch-size", type=int, default=16)
    a.add_argument("--base-lr", type=float, default=6e-3)
    a.add_argument("--lr", type=float, default=1e-2, help="LoRA learning rate")
    a.add_argument("--rank", type=int, default=8)
    a.add_argument("--alpha", type=float, default=16.0)
    a.add_argument("--d-model", type=int, default=64)
    a.add_argument("--layers", type=int, default=2)
    a.add_argument("--heads", type=int, default=4)
    a.add_argument("--max-len", type=int, default=128)
    a.add_argument("--max-answer-tokens", type=int, default=32)
    a.add_argument("--vocab-pieces", type=int, default=2000)
    a.add_argument("--evals", type=int, default=5, help="evaluations during the LoRA phase")
    a.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: torch's default)")
    a.add_argument("--device", default="auto", help="auto (cuda when available), cpu or cuda")
    return a.parse_args(list(argv))


def device_for(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise InvalidConfig("--device cuda but torch.cuda.is_available() is false")
    return torch.device(name)


def load_base_file(path: str) -> tuple[dict, str]:
    try:
        with open(path, "rb") as f:
            raw = f.read()
        base = torch.load(io.BytesIO(raw), map_location="cpu")
    except OSError as e:
        raise InvalidConfig(f"base checkpoint {path}: {e}") from None
    if not isinstance(base, dict) or base.get("format") != BASE_FORMAT:
        raise InvalidConfig(f"base checkpoint {path} is not a {BASE_FORMAT} file (write one with `lora_sft.py export-base`)")
    return base, hashlib.sha256(raw).hexdigest()


def build(model_config: dict, pieces: list[str], state: dict[str, torch.Tensor]) -> tuple[DecoderLM, Tokenizer]:
    tok = Tokenizer(pieces)
    model = DecoderLM(ModelConfig(**model_config))
    model.load_state_dict(state)
    return model, tok


def load_checkpoint(path: str, base_arg: Optional[str]) -> tuple[dict, DecoderLM, Tokenizer]:
    ck = torch.load(path, map_location="cpu")
    if not isinstance(ck, dict) or ck.get("format") != FORMAT:
        raise InvalidConfig(f"{path} is not a {FORMAT} checkpoint")
    b = ck["base"]
    if b["source"] == "fitted":
        model, tok = build(b["model_config"], b["vocab"], b["state_dict"])
    else:
        if not base_arg:
            raise InvalidConfig("the checkpoint's adapters were trained on a --base file; pass the same --base")
        base, digest = load_base_file(base_arg)
        if digest != b["sha256"]:
            raise InvalidConfig(f"--base {base_arg} has sha256 {digest[:12]}…, the checkpoint was trained on {b['sha256'][:12]}…")
        model, tok = build(base["model_config"], base["vocab"], base["state_dict"])
    hp = ck["hyperparameters"]
    add_lora(model, hp["rank"], hp["alpha"], hp["seed"])
    model.load_state_dict({**model.state_dict(), **ck["adapters"]})
    return ck, model, tok


# ---- training --------------------------------------------------------------------------------------
def train(s: Session) -> None:
    args = parse_args(sys.argv[1:])
    if args.threads:
        torch.set_num_threads(args.threads)
    device = device_for(args.device)
    train_ex = read_examples(s.files("train"))
    eval_ex = read_examples(s.files("eval")) if s.files("eval") else []
    eval_source = "eval_split"
    if not eval_ex:
        perm = order(len(train_ex), s.seed, 9, 0)
        k = len(train_ex) // 10 if len(train_ex) >= 10 else 0
        eval_ex = [train_ex[i] for i in perm[:k]] or list(train_ex)
        train_ex = [train_ex[i] for i in sorted(perm[k:])] if k else train_ex
        eval_source = "held_out_10pct" if k else "train"
    torch.manual_seed(s.seed)

    resume = s.resume
    ck: Optional[dict] = None
    if resume:
        ck, model, tok = load_checkpoint(resume.path, args.base)
        hp = ck["hyperparameters"]
        base_info = ck["base"]
    else:
        hp = {"base_steps": 0 if args.base else args.base_steps, "lora_steps": args.steps, "batch_size": args.batch_size,
              "base_learning_rate": args.base_lr, "learning_rate": args.lr, "rank": args.rank, "alpha": args.alpha,
              "max_answer_tokens": args.max_answer_tokens, "seed": s.seed}
        if args.base:
            base, digest = load_base_file(args.base)
            model, tok = build(base["model_config"], base["vocab"], base["state_dict"])
            base_info = {"source": "catalog", "sha256": digest, "path": os.path.abspath(args.base)}
        else:
            tok = Tokenizer.fit([e.prompt + "\n" + (e.answer or "") for e in train_ex], args.vocab_pieces)
            model = DecoderLM(ModelConfig(tok.size, args.d_model, args.layers, args.heads, args.max_len))
            base_info = {"source": "fitted"}
    model.to(device)
    c = model.config
    rows = [encode_example(tok, e, c.max_len, hp["max_answer_tokens"]) for e in train_ex]
    eval_rows = [encode_example(tok, e, c.max_len, hp["max_answer_tokens"]) for e in eval_ex]
    total = hp["base_steps"] + hp["lora_steps"]
    hp["eval_interval"] = max(1, math.ceil(hp["lora_steps"] / max(1, args.evals)))
    s.hyperparameters({**hp, "train_examples": len(train_ex), "eval_examples": len(eval_ex), "eval_source": eval_source,
                       "vocab": tok.size, "d_model": c.d_model, "layers": c.layers, "heads": c.heads, "max_len": c.max_len,
                       "base": base_info["source"], "device": device.type})
    metrics_every = max(1, math.ceil(total / 50))
    step = resume.step if resume else 0
    clock = {"tokens": 0, "seconds": 0.0}

    if step < hp["base_steps"]:  # fit the base on the dataset's text (all weights, every token)
        opt = torch.optim.AdamW(model.parameters(), lr=hp["base_learning_rate"], weight_decay=0.01)
        step = loop(s, model, opt, rows, hp, device, 1, step, hp["base_steps"], 0, total, hp["base_learning_rate"], metrics_every, "base_loss", clock)
        if s.stop_requested:
            return s.done(step)
    if base_info["source"] == "fitted" and "sha256" not in base_info:
        st = base_state(model)
        base_info = {"source": "fitted", "sha256": tensors_sha256(st), "model_config": asdict(c), "vocab": tok.pieces, "state_dict": st}
    if not resume:
        add_lora(model, hp["rank"], hp["alpha"], hp["seed"])
        model.to(device)
    params = [p for n, p in model.named_parameters() if ".lora_" in n]
    opt = torch.optim.AdamW(params, lr=hp["learning_rate"], weight_decay=0.0)
    if ck:
        opt.load_state_dict(ck["optimizer"])
    best = ck["best_eval_loss"] if ck else math.inf
    save = Saver(s, model, opt, hp, base_info)
    while step < total and not s.stop_requested:
        end = min(total, hp["base_steps"] + (((step - hp["base_steps"]) // hp["eval_interval"]) + 1) * hp["eval_interval"])
        step = loop(s, model, opt, rows, hp, device, 2, step, end, hp["base_steps"], total, hp["learning_rate"], metrics_every, "loss", clock)
        if step == end and step < total:  # an evaluation, finished even if a stop arrives meanwhile
            s.eval_start(step)
            m = evaluate(model, tok, eval_rows, eval_ex, hp, device)
            s.eval_end(step, m)
            if m["eval_loss"] < best:
                best = m["eval_loss"]
                save(step, m, best)
    if s.stop_requested:
        return s.done(step)
    tps = clock["tokens"] / clock["seconds"] if clock["seconds"] else 0.0
    s.log(f"trained {clock['tokens']} tokens in {clock['seconds']:.2f} s ({tps:.0f} tokens/s on {device.type})")
    s.finalizing()
    s.eval_start(step)
    m = evaluate(model, tok, eval_rows, eval_ex, hp, device)
    s.eval_end(step, m)
    save(step, m, min(best, m["eval_loss"]), name="final")
    s.done(step, {**m, "train_tokens_per_second": tps})


def loop(s: Session, model: DecoderLM, opt: torch.optim.Optimizer, rows: list, hp: dict, device: torch.device, phase: int,
         step: int, end: int, offset: int, total: int, lr: float, metrics_every: int, key: str, clock: dict) -> int:
    """Trains steps step+1 … end of one phase (linear warm-up over 5%, then cosine decay to 10%)."""
    n_phase = (hp["base_steps"] if phase == 1 else hp["lora_steps"])
    acc, acc_n = 0.0, 0
    while step < end and not s.stop_requested:
        step += 1
        k = step - offset
        warm = max(1, n_phase // 20)
        cur = lr * (k / warm if k <= warm else 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * (k - warm) / max(1, n_phase - warm))))
        for g in opt.param_groups:
            g["lr"] = cur
        t0 = time.perf_counter()
        x, y, n = batch_tensors(batch_at(rows, hp["batch_size"], hp["seed"], phase, k), phase == 2, device)
        loss = F.cross_entropy(model(x).flatten(0, 1), y.flatten(), ignore_index=-100)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        lv = float(loss)
        clock["seconds"] += time.perf_counter() - t0
        clock["tokens"] += int((x != PAD).sum())
        acc, acc_n = acc + lv, acc_n + 1
        s.progress(step, total, phase="training")
        if step % metrics_every == 0 or step == end:
            s.metrics(step, {key: acc / acc_n, "learning_rate": cur})
            acc, acc_n = 0.0, 0
    return step


class Saver:
    def __init__(self, s: Session, model: DecoderLM, opt: torch.optim.Optimizer, hp: dict, base: dict) -> None:
        self.s, self.model, self.opt, self.hp, self.base = s, model, opt, hp, base

    def __call__(self, step: int, m: dict, best: float, name: Optional[str] = None) -> None:
        adapters = adapter_state(self.model)
        state = {"format": FORMAT, "step": step, "hyperparameters": self.hp, "base": self.base, "adapters": adapters,
                 "optimizer": self.opt.state_dict(), "best_eval_loss": best, "metrics": m}
        meta = {"format": FORMAT, "base_source": self.base["source"], "base_sha256": self.base["sha256"],
                "adapters_sha256": tensors_sha256(adapters), "generates": "text"}
        self.s.checkpoint(step, lambda p: torch.save(state, p), metrics=m, name=name, meta=meta)


# ---- predict and tools ------------------------------------------------------------------------------
def predict(req: PredictRequest) -> list[dict[str, Any]]:
    args = parse_args(sys.argv[1:])
    if args.threads:
        torch.set_num_threads(args.threads)
    device = device_for(args.device)
    examples = [example_from_predict(v, i + 1) for i, v in enumerate(req.examples)]
    ck, model, tok = load_checkpoint(req.checkpoint_path, args.base)
    model.to(device)
    texts = generate(model, tok, [e.prompt for e in examples], ck["hyperparameters"]["max_answer_tokens"] + 1, device)
    return [{"prediction": t} for t in texts]


def export_base(ckpt: str, out: str) -> None:
    ck = torch.load(ckpt, map_location="cpu")
    b = ck["base"]
    if b["source"] != "fitted":
        raise SystemExit(f"{ckpt} was trained on the base file {b.get('path')}; use that file")
    torch.save({"format": BASE_FORMAT, "model_config": b["model_config"], "vocab": b["vocab"], "state_dict": b["state_dict"]}, out)
    print(f"wrote {out} (base sha256 of its tensors {b['sha256'][:12]}…)")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "export-base":
        export_base(sys.argv[2], sys.argv[3])
    else:
        run(train, predict=predict, trainer="lora-sft")
