#!/usr/bin/python3
"""PyTorch's side of the transformer comparison (aisle-transformer-bench is
aisle's): the architecture of aisle's `transformer` recommender, on the same
interactions.csv, at the same sizes and thread count.

  - item and learned position embeddings (x = E[item] sqrt(d) + P[position]),
    dropout on the input;
  - N pre-norm blocks: x + Dropout(Attention(LayerNorm(x))), then
    x + Dropout(Linear(GELU(Linear(LayerNorm(x))))), the feed-forward as wide
    as the model; causal attention with padding masked as keys, Q/K/V from
    one projection;
  - a final LayerNorm, the scores against the item table (tied) plus a bias;
  - cross-entropy over the whole catalogue at every position with a next
    item, Adam.

An epoch's batches are made as aisle makes them: users with two or more
items, the last max_length + 1 items of each, shuffled, sorted by length
within windows of 32 batches, each batch padded to its longest row, so both
sides do the same arithmetic.

Prints one JSON object: the median one-epoch time over --fits fresh models
(sequences a second), and the median latency of one history's scores over
the catalogue (microseconds) for --queries histories. Run with Debian's
/usr/bin/python3 (python3-torch); the thread environment is the caller's.
"""
import argparse
import csv
import json
import math
import os
import random
import statistics
import time

import torch
import torch.nn.functional as F


def read_histories(path):
    """Each user's distinct items in (timestamp, file order); item ids as indices."""
    rows = {}
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        for line, row in enumerate(reader):
            timestamp = int(row["timestamp"]) if row.get("timestamp") not in (None, "") else 0
            rows.setdefault(row["user"], []).append((timestamp, line, row["item"]))
    item_index, histories = {}, []
    for user in sorted(rows):
        seen, history = set(), []
        for _, _, item in sorted(rows[user]):
            if item in seen:
                continue
            seen.add(item)
            history.append(item_index.setdefault(item, len(item_index)))
        histories.append(history)
    return histories, len(item_index)


class Block(torch.nn.Module):
    def __init__(self, dim, heads, dropout):
        super().__init__()
        self.heads = heads
        self.norm1 = torch.nn.LayerNorm(dim)
        self.qkv = torch.nn.Linear(dim, 3 * dim)
        self.out = torch.nn.Linear(dim, dim)
        self.norm2 = torch.nn.LayerNorm(dim)
        self.inner = torch.nn.Linear(dim, dim)
        self.outer = torch.nn.Linear(dim, dim)
        self.dropout = torch.nn.Dropout(dropout)

    def forward(self, x, allowed):
        batch, length, dim = x.shape
        head_dim = dim // self.heads
        q, k, v = self.qkv(self.norm1(x)).split(dim, dim=-1)
        shape = (batch, length, self.heads, head_dim)
        q, k, v = (t.reshape(shape).transpose(1, 2) for t in (q, k, v))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(head_dim)
        weights = torch.softmax(scores.masked_fill(~allowed, float("-inf")), dim=-1)
        context = (weights @ v).transpose(1, 2).reshape(batch, length, dim)
        x = x + self.dropout(self.out(context))
        return x + self.dropout(self.outer(F.gelu(self.inner(self.norm2(x)))))


class Transformer(torch.nn.Module):
    def __init__(self, items, dim, blocks, heads, max_length, dropout):
        super().__init__()
        self.dim, self.max_length = dim, max_length
        self.items = torch.nn.Embedding(items, dim)
        self.positions = torch.nn.Embedding(max_length, dim)
        self.output_bias = torch.nn.Parameter(torch.zeros(items))
        self.blocks = torch.nn.ModuleList(Block(dim, heads, dropout) for _ in range(blocks))
        self.final_norm = torch.nn.LayerNorm(dim)
        self.dropout = torch.nn.Dropout(dropout)

    def hidden(self, items, valid):
        """items, valid: [batch, length], the newest item last (left-padded)."""
        length = items.shape[1]
        positions = torch.arange(self.max_length - length, self.max_length)
        x = self.items(items.clamp(min=0)) * math.sqrt(self.dim) + self.positions(positions)
        x = self.dropout(x * valid.unsqueeze(-1))
        causal = torch.ones(length, length, dtype=torch.bool).tril()
        # Padding is masked as a key; a padded query sees itself, so that its
        # softmax is defined (its output is never scored).
        allowed = (causal & valid[:, None, None, :]) | torch.eye(length, dtype=torch.bool)
        for block in self.blocks:
            x = block(x, allowed)
        return self.final_norm(x)

    def scores(self, hidden):
        # addmm: the bias added inside the product, not in a second pass over
        # the [positions x catalogue] scores.
        return F.linear(hidden, self.items.weight, self.output_bias)


def lay_out(sequences, max_length, with_targets):
    shift = 1 if with_targets else 0
    length = max(1, max(min(len(s) - shift, max_length) for s in sequences))
    items = torch.full((len(sequences), length), -1, dtype=torch.long)
    targets = torch.full((len(sequences), length), -1, dtype=torch.long)
    for b, s in enumerate(sequences):
        inputs = max(0, min(len(s) - shift, max_length))
        first = len(s) - shift - inputs
        if inputs:
            items[b, length - inputs:] = torch.tensor(s[first:first + inputs])
            if with_targets:
                targets[b, length - inputs:] = torch.tensor(s[first + 1:first + 1 + inputs])
    return items, items >= 0, targets


def exclude_earlier_items(logits, item_ids, targets, scored):
    """aisle's TransformerOptions::exclude_history: each scored position's
    softmax leaves out the items at or before it in its sequence, except its
    target. In place on the scores (addmm's backward does not read them)."""
    length = item_ids.shape[1]
    earlier = torch.tril(torch.ones(length, length, dtype=torch.bool))  # [t, j]: j <= t
    pairs = (earlier.unsqueeze(0) & (item_ids.unsqueeze(1) >= 0)
             & (item_ids.unsqueeze(1) != targets.unsqueeze(2)) & scored.unsqueeze(2))
    row_of = torch.cumsum(scored.flatten(), 0).view(scored.shape) - 1  # each position's row among the scored
    b, t, j = pairs.nonzero(as_tuple=True)
    logits.index_put_((row_of[b, t], item_ids[b, j]), torch.tensor(float("-inf")))


def epoch_batches(histories, trainable, batch_size, max_length, rng):
    rng.shuffle(trainable)
    window = batch_size * 32
    for begin in range(0, len(trainable), window):
        trainable[begin:begin + window] = sorted(
            trainable[begin:begin + window], key=lambda r: min(len(histories[r]), max_length + 1))
    batches = [trainable[b:b + batch_size] for b in range(0, len(trainable), batch_size)]
    rng.shuffle(batches)
    return batches


def train_one_epoch(histories, items, args, seed):
    torch.manual_seed(seed)
    model = Transformer(items, args.dim, args.blocks, args.heads, args.max_length, args.dropout)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    trainable = [r for r, h in enumerate(histories) if len(h) >= 2]
    start = time.perf_counter()
    model.train()
    for batch in epoch_batches(histories, trainable, args.batch_size, args.max_length, random.Random(seed)):
        item_ids, valid, targets = lay_out([histories[r] for r in batch], args.max_length, True)
        hidden = model.hidden(item_ids, valid)
        scored = targets >= 0
        logits = model.scores(hidden[scored])
        exclude_earlier_items(logits, item_ids, targets, scored)
        loss = F.cross_entropy(logits, targets[scored])
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start, model, len(trainable)


def median_predict1_us(model, histories, args):
    model.eval()
    rng = random.Random(7)
    micros = []
    with torch.inference_mode():
        for _ in range(args.queries):
            history = histories[rng.randrange(len(histories))]
            start = time.perf_counter()
            item_ids, valid, _ = lay_out([history], args.max_length, False)
            model.scores(model.hidden(item_ids, valid)[:, -1])
            micros.append((time.perf_counter() - start) * 1e6)
    return statistics.median(micros)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", required=True, help="a folder with interactions.csv")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--fits", type=int, default=3)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--dim", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--heads", type=int, default=1)
    parser.add_argument("--max-length", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=128)
    parser.add_argument("--dropout", type=float, default=0.5)
    args = parser.parse_args()
    if args.dim % args.heads:
        raise SystemExit("compare_transformer.py: --dim must be a multiple of --heads")

    torch.set_num_threads(args.threads)
    histories, items = read_histories(os.path.join(args.data, "interactions.csv"))
    epochs, model, sequences = [], None, 0
    for fit in range(args.fits):
        seconds, model, sequences = train_one_epoch(histories, items, args, seed=42 + fit)
        epochs.append(seconds)
    epoch_s = statistics.median(epochs)
    print(json.dumps({"sequences": sequences, "items": items, "epoch_s": epoch_s,
                      "train_sequences_per_s": sequences / epoch_s,
                      "predict1_us": median_predict1_us(model, histories, args)}))


if __name__ == "__main__":
    main()
