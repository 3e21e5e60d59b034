#!/usr/bin/python3
"""EASE with its l2 tuned as aisle tunes it, in numpy: the side-by-side for
benchmarks/ease_fit.sh. It shares no code with the C++ library; the protocol
split and the metrics come from scripts/check_ease.py.

usage: /usr/bin/python3 benchmarks/ease_numpy.py DATA_DIR loo|users [--grid 1,10,...]

The tuning follows src/rec/ease.cpp: a validation split carved from the fitted
rows (loo: every row of 3+ items loses its last; users: rows whose splitmix64
hash of their position is 0 mod 5 are folded in 80/20), the grid climbed from
its middle towards better NDCG (@10 for loo, @100 for users), then one solve on
all fitted rows. Each solve is np.linalg.inv in float32, as the reference EASE
code does it. Prints one JSON object: fit_s (tuning and final solve), l2,
l2_validation, metrics on the protocol's queries.
"""
import json
import math
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from check_ease import read_histories, split  # noqa: E402

MASK = (1 << 64) - 1
DEFAULT_GRID = [1, 10, 50, 100, 200, 500, 1000, 2000, 5000]


def splitmix64(x):
    x = (x + 0x9E3779B97F4A7C15) & MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK
    return x ^ (x >> 31)


def validation_split(fitted, protocol):
    minimum = 3 if protocol == "loo" else 5
    rows, queries = [], []
    for position, items in enumerate(fitted):
        if len(items) < minimum:
            rows.append(items)
        elif protocol == "loo":
            rows.append(items[:-1])
            queries.append((items[:-1], items[-1:]))
        elif splitmix64(position) % 5 == 0:
            cut = len(items) * 8 // 10
            queries.append((items[:cut], items[cut:]))
        else:
            rows.append(items)
    return rows, queries


def gram(rows, index):
    x = np.zeros((len(rows), len(index)), dtype=np.float32)
    for r, items in enumerate(rows):
        x[r, [index[i] for i in items]] = 1.0
    return x.T @ x


def weights(g, l2):
    g = g.copy()
    g[np.diag_indices_from(g)] += l2
    p = np.linalg.inv(g)
    b = -p / np.diag(p)
    b[np.diag_indices_from(b)] = 0.0
    return b


def evaluate(b, rows, queries, index, protocol):
    """The protocol's two metrics over queries; candidates are the items of
    rows minus the query's history, ties broken by id (index order)."""
    fitted_items = np.zeros(len(index), dtype=bool)
    for items in rows:
        fitted_items[[index[i] for i in items]] = True
    totals = np.zeros(2)
    for history, targets in queries:
        known = [index[i] for i in history if i in index]
        scores = b[known].sum(axis=0) if known else np.zeros(len(index), dtype=np.float32)
        candidate = fitted_items.copy()
        candidate[known] = False
        scores = np.where(candidate, scores, -np.inf)
        ids = np.arange(len(index))

        def rank(t):
            s = scores[t]
            return 1 + int(np.count_nonzero(scores > s) + np.count_nonzero((scores == s) & (ids < t)))

        target_ids = [index[t] for t in targets]
        if protocol == "loo":
            t = target_ids[0]
            r = rank(t) if candidate[t] else 10**9
            totals += [r <= 10, 1 / math.log2(1 + r) if r <= 10 else 0.0]
        else:
            ranks = [rank(t) if candidate[t] else 10**9 for t in target_ids]
            hits20 = sum(1 for r in ranks if r <= 20)
            dcg = sum(1 / math.log2(1 + r) for r in ranks if r <= 100)
            idcg = sum(1 / math.log2(1 + i) for i in range(1, min(100, len(targets)) + 1))
            totals += [hits20 / min(20, len(targets)), dcg / idcg]
    names = ["HR@10", "NDCG@10"] if protocol == "loo" else ["Recall@20", "NDCG@100"]
    return dict(zip(names, (totals / max(1, len(queries))).tolist()))


def climb(grid, measure):
    grid = sorted(set(grid))
    values = {}

    def value(i):
        if i not in values:
            values[i] = measure(grid[i])
        return values[i]

    start = best = (len(grid) - 1) // 2
    for step in (+1, -1):
        while 0 <= best + step < len(grid) and value(best + step) > value(best):
            best += step
        if best != start:
            break
    return grid[best], sorted((grid[i], v) for i, v in values.items())


def main():
    args = sys.argv[1:]
    if len(args) not in (2, 4) or args[1] not in ("loo", "users") or (len(args) == 4 and args[2] != "--grid"):
        sys.exit(__doc__)
    data, protocol = args[0], args[1]
    grid = [float(v) for v in args[3].split(",")] if len(args) == 4 else DEFAULT_GRID
    fitted, queries = split(read_histories(os.path.join(data, "interactions.csv")), protocol)
    catalogue = sorted({i for items in fitted for i in items} | {t for _, ts in queries for t in ts},
                       key=lambda s: s.encode("utf-8"))
    index = {item: i for i, item in enumerate(catalogue)}

    start = time.perf_counter()
    rows, validation = validation_split(fitted, protocol)
    g = gram(rows, index)
    metric = "NDCG@10" if protocol == "loo" else "NDCG@100"
    l2, measured = climb(grid, lambda l2: evaluate(weights(g, l2), rows, validation, index, protocol)[metric])
    b = weights(gram(fitted, index), l2)
    fit_s = time.perf_counter() - start
    metrics = evaluate(b, fitted, queries, index, protocol)
    print(json.dumps({"fit_s": fit_s, "l2": l2, "l2_validation": measured, "users": len(queries),
                      "metrics": metrics, "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "default")}))


if __name__ == "__main__":
    main()
