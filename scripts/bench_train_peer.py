"""The training peer of `tdm-workbench bench tdm`: the same TDM in PyTorch eager.

Same sizes, the same step layout (cartpole: [sep, 5 observations, 1 action, reward]), the same
range-restricted loss (each learned position scored against its own 1024-bin range of the head:
observations and rewards learned, actions not), AdamW, float32, batch x context tokens per step.
The data are random tokens of that layout: the arithmetic of a step does not depend on them.
Prints one JSON line with tokens/s. Run by scripts/bench-train-peer.sh.
"""

import argparse
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

BINS = 1024
VOCAB = 3 * BINS + 1
SEP = 3 * BINS


class Block(nn.Module):
    def __init__(self, d, heads, ctx):
        super().__init__()
        self.heads = heads
        self.ln1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.ln2 = nn.LayerNorm(d)
        self.fc1 = nn.Linear(d, 4 * d)
        self.fc2 = nn.Linear(4 * d, d)

    def forward(self, x, bias):
        b, t, d = x.shape
        dh = d // self.heads
        qkv = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, dh)
        q, k, v = (qkv[:, :, i].transpose(1, 2) for i in range(3))
        scores = q @ k.transpose(-1, -2) / math.sqrt(dh) + bias
        att = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.proj(att)
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="tanh"))


class Tdm(nn.Module):
    def __init__(self, layers, d, heads, ctx):
        super().__init__()
        self.tok = nn.Embedding(VOCAB, d)
        self.pos = nn.Embedding(128, d)
        self.blocks = nn.ModuleList(Block(d, heads, ctx) for _ in range(layers))
        self.ln_f = nn.LayerNorm(d)
        self.head = nn.Linear(d, VOCAB)
        # ALiBi plus the causal mask, as the workbench's attention bias.
        slopes = torch.tensor([2.0 ** (-8.0 * (h + 1) / heads) for h in range(heads)])
        i = torch.arange(ctx)
        dist = (i[:, None] - i[None, :]).float()
        bias = -slopes[:, None, None] * dist
        self.register_buffer("bias", bias.masked_fill(dist < 0, float("-inf")))

    def loss(self, tokens, positions, groups):
        x = self.tok(tokens) + self.pos(positions)
        for block in self.blocks:
            x = block(x, self.bias)
        h = self.ln_f(x).flatten(0, 1)
        total, count = 0.0, 0
        for idx, targets, start in groups:
            logits = h[idx] @ self.head.weight[start:start + BINS].t() + self.head.bias[start:start + BINS]
            total = total + F.cross_entropy(logits, targets, reduction="sum")
            count += len(idx)
        return total / count


def batch(b, t, obs, act, gen):
    step = 1 + obs + act + 1
    kinds = torch.tensor([3] + [0] * obs + [1] * act + [2])  # 0 obs, 1 action, 2 reward, 3 sep
    offset = torch.randint(0, step, (b,), generator=gen)
    local = (torch.arange(t + 1)[None, :] + offset[:, None]) % step
    kind = kinds[local]
    tokens = torch.randint(0, BINS, (b, t + 1), generator=gen) + torch.where(
        kind == 1, BINS, torch.where(kind == 2, 2 * BINS, 0))
    tokens = torch.where(kind == 3, SEP, tokens)
    x, y, next_kind = tokens[:, :-1], tokens[:, 1:].flatten(), kind[:, 1:].flatten()
    groups = []
    for k, start in ((0, 0), (2, 2 * BINS)):
        idx = (next_kind == k).nonzero().squeeze(1)
        groups.append((idx, y[idx] - start, start))
    return x, local[:, :-1], groups


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--layers", type=int, required=True)
    p.add_argument("--width", type=int, required=True)
    p.add_argument("--heads", type=int, required=True)
    p.add_argument("--context", type=int, required=True)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--obs", type=int, default=5)
    p.add_argument("--act", type=int, default=1)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = Tdm(a.layers, a.width, a.heads, a.context)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=0.01)
    batches = [batch(a.batch, a.context, a.obs, a.act, gen) for _ in range(a.steps + 2)]

    def step(x, pos, groups):
        opt.zero_grad(set_to_none=True)
        loss = model.loss(x, pos, groups)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        return loss.item()

    for x, pos, groups in batches[:2]:  # warm-up, not timed
        step(x, pos, groups)
    start = time.perf_counter()
    for x, pos, groups in batches[2:]:
        loss = step(x, pos, groups)
    elapsed = time.perf_counter() - start
    print(json.dumps({
        "peer": f"pytorch {torch.__version__} eager",
        "threads": a.threads,
        "layers": a.layers, "width": a.width, "heads": a.heads, "context": a.context,
        "batch": a.batch, "steps": a.steps,
        "train_tokens_per_s": a.batch * a.context * a.steps / elapsed,
        "final_loss": loss,
    }))


if __name__ == "__main__":
    main()
