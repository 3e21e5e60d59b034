#!/usr/bin/python3
"""PyTorch's side of the side-by-side comparison: the classic 784-128-128-10
model (ReLU, softmax via cross-entropy on logits, Adam 1e-3) on real
Fashion-MNIST rows, at the same batch sizes and thread count as aisle-bench.

Prints one JSON object: train samples/s at batch 128, single-sample predict
latency in microseconds, batch-256 predict samples/s (each the median of
--repeats timed windows). With --arch cnn, the convolutional network of
aisle-classify --arch cnn instead, and only its train samples/s at batch 128. Run with Debian's /usr/bin/python3 (python3-torch).
The thread environment (OMP_WAIT_POLICY, OPENBLAS_NUM_THREADS) is the
caller's: benchmarks/compare.sh tries PyTorch's configurations.
"""
import argparse
import gzip
import json
import os
import statistics
import struct
import time

import numpy as np
import torch


def read_idx_images(path):
    with gzip.open(path, "rb") as f:
        magic, count, rows, cols = struct.unpack(">IIII", f.read(16))
        if magic != 0x803:
            raise SystemExit(f"{path}: not an IDX image file")
        data = np.frombuffer(f.read(count * rows * cols), dtype=np.uint8)
    return data.reshape(count, rows * cols).astype(np.float32) / 255.0


def read_idx_labels(path):
    with gzip.open(path, "rb") as f:
        magic, count = struct.unpack(">II", f.read(8))
        if magic != 0x801:
            raise SystemExit(f"{path}: not an IDX label file")
        return np.frombuffer(f.read(count), dtype=np.uint8).astype(np.int64)


def classic_model():
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Linear(784, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 128), torch.nn.ReLU(),
        torch.nn.Linear(128, 10))


def cnn_model():
    """aisle-classify's --arch cnn: 'same' padding, ReLU, dropout 0.3 before the last layer."""
    torch.manual_seed(0)
    return torch.nn.Sequential(
        torch.nn.Unflatten(1, (1, 28, 28)),
        torch.nn.Conv2d(1, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Conv2d(32, 64, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
        torch.nn.Flatten(), torch.nn.Linear(3136, 128), torch.nn.ReLU(), torch.nn.Dropout(0.3),
        torch.nn.Linear(128, 10))


def median_rate(run_window, repeats, units_per_window):
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        run_window()
        rates.append(units_per_window / (time.perf_counter() - start))
    return statistics.median(rates)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=None,
                        help="training steps per timed window (default 200, 20 for the CNN)")
    parser.add_argument("--arch", choices=("mlp", "cnn"), default="mlp")
    args = parser.parse_args()
    if args.steps is None:
        args.steps = 20 if args.arch == "cnn" else 200

    torch.set_num_threads(args.threads)
    x = torch.from_numpy(read_idx_images(os.path.join(args.data, "train-images-idx3-ubyte.gz")))
    y = torch.from_numpy(read_idx_labels(os.path.join(args.data, "train-labels-idx1-ubyte.gz")))

    model = cnn_model() if args.arch == "cnn" else classic_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=2e-3 if args.arch == "cnn" else 1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    batch = 128
    batches = [(x[i:i + batch], y[i:i + batch]) for i in range(0, batch * args.steps, batch)]

    def train_window():
        for xb, yb in batches:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()

    train_window()  # warm-up
    train_sps = median_rate(train_window, args.repeats, batch * len(batches))
    if args.arch == "cnn":
        print(json.dumps({"torch_version": torch.__version__, "threads": args.threads, "arch": "cnn",
                          "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
                          "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
                          "train_b128_sps": train_sps}))
        return

    model.eval()
    one = x[:1].clone()
    many = x[:256].clone()
    with torch.no_grad():
        def predict1_window():
            for _ in range(2000):
                torch.softmax(model(one), dim=1)

        def predict256_window():
            for _ in range(200):
                torch.softmax(model(many), dim=1)

        predict1_window()
        predict1_per_s = median_rate(predict1_window, args.repeats, 2000)
        predict256_window()
        predict256_sps = median_rate(predict256_window, args.repeats, 256 * 200)

    print(json.dumps({
        "torch_version": torch.__version__,
        "threads": args.threads,
        "omp_wait_policy": os.environ.get("OMP_WAIT_POLICY", ""),
        "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
        "train_b128_sps": train_sps,
        "predict1_us": 1e6 / predict1_per_s,
        "predict_b256_sps": predict256_sps,
    }))


if __name__ == "__main__":
    main()
