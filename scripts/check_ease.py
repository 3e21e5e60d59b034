#!/usr/bin/python3
"""An independent check of aisle's EASE figures: docs/evaluation.md's protocols and
EASE written again in numpy, sharing no code with the C++ library.

usage: /usr/bin/python3 scripts/check_ease.py DATA_DIR loo|users L2 [AISLE_EVAL_JSON]

Prints the metrics as JSON; with AISLE_EVAL_JSON (the output of
`aisle-recommend eval --model ease --l2 L2 --json`) it also prints the relative
difference of each metric and exits 1 when one differs by more than 1%.
"""
import csv
import json
import math
import sys

import numpy as np


def read_histories(path):
    rows = {}
    with open(path, newline="", encoding="utf-8") as f:
        for order, rec in enumerate(csv.DictReader(f)):
            rows.setdefault(rec["user"], []).append((int(rec["timestamp"]), order, rec["item"]))
    histories = {}
    for user, events in rows.items():
        events.sort()
        seen, items = set(), []
        for _, _, item in events:
            if item not in seen:
                seen.add(item)
                items.append(item)
        histories[user] = items
    return histories


def fnv1a64(text):
    h = 14695981039346656037
    for byte in text.encode("utf-8"):
        h ^= byte
        h = (h * 1099511628211) % (1 << 64)
    return h


def split(histories, protocol):
    """(fitted histories, [(history, targets)]) per docs/evaluation.md."""
    minimum = 3 if protocol == "loo" else 5
    kept = {u: items for u, items in histories.items() if len(items) >= minimum}
    fitted, queries = [], []
    for user in sorted(kept):
        items = kept[user]
        if protocol == "loo":
            fitted.append(items[:-1])
            queries.append((items[:-1], [items[-1]]))
        elif fnv1a64(user) % 5 == 0:
            cut = math.floor(0.8 * len(items))
            queries.append((items[:cut], items[cut:]))
        else:
            fitted.append(items)
    return fitted, queries


def ease_weights(fitted, catalogue, l2):
    index = {item: i for i, item in enumerate(catalogue)}
    x = np.zeros((len(fitted), len(catalogue)), dtype=np.float32)
    for r, items in enumerate(fitted):
        x[r, [index[i] for i in items]] = 1.0
    gram = (x.T @ x).astype(np.float64)  # co-occurrence counts: exact in float32
    gram[np.diag_indices_from(gram)] += l2
    p = np.linalg.inv(gram)
    b = -p / np.diag(p)
    b[np.diag_indices_from(b)] = 0.0
    return index, b


def evaluate(fitted, queries, protocol, l2):
    catalogue = sorted({i for items in fitted for i in items}, key=lambda s: s.encode("utf-8"))
    index, b = ease_weights(fitted, catalogue, l2)
    # Candidates are sorted by id bytes, so a stable sort on -score breaks ties by id.
    totals = np.zeros(2)
    for history, targets in queries:
        known = [index[i] for i in history if i in index]
        scores = b[known].sum(axis=0) if known else np.zeros(len(catalogue))
        candidate = np.ones(len(catalogue), dtype=bool)
        candidate[known] = False
        order = [catalogue[j] for j in np.argsort(-scores, kind="stable") if candidate[j]]
        rank_of = {item: r + 1 for r, item in enumerate(order[:100])}
        if protocol == "loo":
            rank = rank_of.get(targets[0], 10**9)
            totals += [rank <= 10, 1 / math.log2(1 + rank) if rank <= 10 else 0.0]
        else:
            hits20 = sum(1 for t in targets if rank_of.get(t, 10**9) <= 20)
            dcg = sum(1 / math.log2(1 + rank_of[t]) for t in targets if t in rank_of)
            idcg = sum(1 / math.log2(1 + i) for i in range(1, min(100, len(targets)) + 1))
            totals += [hits20 / min(20, len(targets)), dcg / idcg]
    names = ["HR@10", "NDCG@10"] if protocol == "loo" else ["Recall@20", "NDCG@100"]
    return {"users": len(queries), "metrics": dict(zip(names, (totals / len(queries)).tolist()))}


def main():
    if len(sys.argv) not in (4, 5) or sys.argv[2] not in ("loo", "users"):
        sys.exit(__doc__)
    data, protocol, l2 = sys.argv[1], sys.argv[2], float(sys.argv[3])
    fitted, queries = split(read_histories(data + "/interactions.csv"), protocol)
    result = evaluate(fitted, queries, protocol, l2)
    print(json.dumps(result))
    if len(sys.argv) == 5:
        with open(sys.argv[4], encoding="utf-8") as f:
            aisle = json.load(f)
        worst = 0.0
        for name, value in result["metrics"].items():
            diff = abs(aisle["metrics"][name] - value) / max(abs(value), 1e-12)
            worst = max(worst, diff)
            print(f"{name}: numpy {value:.6f} aisle {aisle['metrics'][name]:.6f} relative difference {diff:.2e}")
        sys.exit(1 if worst > 0.01 or aisle["users"] != result["users"] else 0)


if __name__ == "__main__":
    main()
