#!/usr/bin/env bash
# Side by side: aisle against PyTorch (Debian's python3-torch) on the classic
# 784-128-128-10 model, same data (Fashion-MNIST), batch sizes and threads.
# Rounds alternate aisle's and PyTorch's measurements. Within a round each
# side reports the median of five timed windows of about 0.1 s (the same
# statistic on both sides, so that one window hit by a neighbour on a shared
# machine moves neither); every figure is then the median over rounds (5 by
# default, about two minutes). PyTorch runs in each of its two good thread
# set-ups (OMP_WAIT_POLICY=PASSIVE, OPENBLAS_NUM_THREADS=1) and keeps its
# best. The same rounds time a training step of aisle-classify's CNN (--arch
# cnn) at batch 128, on the onednn backend its training uses by default,
# against the same network in PyTorch (cnn_train_ratio).
# The 10-epoch training time is the median of three runs of one seed.
#
# Then the transformer recommender against the same architecture in PyTorch
# (benchmarks/compare_transformer.py) on one interactions.csv: training
# sequences a second over one epoch from fresh weights (one fit a side: an
# epoch is over a minute in PyTorch) and one history's scores over the
# catalogue (the median of 200 queries), PyTorch again in its better thread
# set-up. --rec-data names the data set's folder; by default a
# synthetic store of amazon-beauty's shape (22,363 users, 12,101 items,
# 198,502 rows) made by aisle-recommend synth.
#
# usage: benchmarks/compare.sh [--json] [--rounds N] [--threads N] [--data DIR] [--rec-data DIR]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${AISLE_BUILD_DIR:-$root/build}"
json=0 rounds=5 threads=2 data=/usr/share/datasets/fashion-mnist rec_data=
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json=1 ;;
    --rounds) rounds="${2-}"; shift ;;
    --threads) threads="${2-}"; shift ;;
    --data) data="${2-}"; shift ;;
    --rec-data) rec_data="${2-}"; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "compare.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  [ $# -gt 0 ] && shift
done
[ -d "$data" ] || { echo "compare.sh: no Fashion-MNIST folder at '$data' (--data DIR)" >&2; exit 2; }
[ -z "$rec_data" ] || [ -f "$rec_data/interactions.csv" ] || {
  echo "compare.sh: no interactions.csv in '$rec_data' (--rec-data DIR)" >&2; exit 2; }
for number in "$rounds" "$threads"; do
  [[ "$number" =~ ^[1-9][0-9]*$ ]] || { echo "compare.sh: --rounds and --threads take a positive integer, not '$number'" >&2; exit 2; }
done

"$root/scripts/install-deps" --with-torch
"$root/scripts/build" >/dev/null
bin="$build_dir/bin"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

log() { [ "$json" = 1 ] || echo "$@" >&2; }

for round in $(seq 1 "$rounds"); do
  log "round $round/$rounds: FMA peak"
  AISLE_NUM_THREADS="$threads" "$bin/aisle-fma-peak" "$threads" >"$work/peak.$round"
  log "round $round/$rounds: aisle"
  # backend:2 is the native backend, aisle's default.
  AISLE_NUM_THREADS="$threads" AISLE_BENCH_DATA="$data" "$bin/aisle-bench" \
    --benchmark_filter='BM_(TrainStep/backend:2/batch:128|CnnTrainStep/backend:0/batch:128|Predict/backend:2/batch:(1|256))/' \
    --benchmark_min_time=0.1 --benchmark_repetitions=5 --benchmark_report_aggregates_only=true \
    --benchmark_format=json >"$work/aisle.$round" 2>/dev/null
  log "round $round/$rounds: PyTorch"
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$root/benchmarks/compare_pytorch.py" \
    --data "$data" --threads "$threads" >"$work/torch-passive.$round"
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$root/benchmarks/compare_pytorch.py" \
    --data "$data" --threads "$threads" >"$work/torch-openblas1.$round"
  log "round $round/$rounds: PyTorch, the CNN"
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 "$root/benchmarks/compare_pytorch.py" --arch cnn \
    --data "$data" --threads "$threads" >"$work/torch-cnn-passive.$round"
  OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$root/benchmarks/compare_pytorch.py" --arch cnn \
    --data "$data" --threads "$threads" >"$work/torch-cnn-openblas1.$round"
done

# Three runs of the same seed: the same weights each time, and the median time.
for run in 1 2 3; do
  log "10 epochs of the classic model on Fashion-MNIST ($run/3)"
  AISLE_NUM_THREADS="$threads" "$bin/aisle-classify" train --data "$data" --epochs 10 --json \
    --out "$work/fashion.model" >"$work/epochs.$run.jsonl"
done

if [ -z "$rec_data" ]; then
  rec_data="$work/beauty-shaped"
  "$bin/aisle-recommend" synth --out "$rec_data" --users 22363 --items 12101 --interactions 198502 >/dev/null
fi
log "transformer: aisle"
AISLE_NUM_THREADS="$threads" "$bin/aisle-transformer-bench" --data "$rec_data" --fits 1 >"$work/transformer-aisle"
for setup in passive openblas1; do
  log "transformer: PyTorch ($setup)"
  if [ "$setup" = passive ]; then environment=(OMP_WAIT_POLICY=PASSIVE); else environment=(OPENBLAS_NUM_THREADS=1); fi
  env "${environment[@]}" /usr/bin/python3 "$root/benchmarks/compare_transformer.py" \
    --data "$rec_data" --threads "$threads" --fits 1 >"$work/transformer-torch-$setup"
done

/usr/bin/python3 - "$work" "$rounds" "$json" <<'PY'
import json, statistics, sys
work, rounds, as_json = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
med = statistics.median
FORWARD_FLOP_PER_SAMPLE = 2 * (784 * 128 + 128 * 128 + 128 * 10)
TRAIN_FLOP_PER_SAMPLE = 2 * FORWARD_FLOP_PER_SAMPLE + 2 * (128 * 128 + 128 * 10)

def aisle_round(r):
    out = {}
    for b in json.load(open(f"{work}/aisle.{r}"))["benchmarks"]:
        if b.get("aggregate_name") != "median":
            continue
        name = b["name"]
        if "CnnTrainStep" in name:
            out["cnn_train"] = b["samples/s"]
        elif "TrainStep" in name:
            out["train"] = b["samples/s"]
        elif "batch:1/" in name:
            out["predict1_us"] = b["real_time"] / 1000.0 if b["time_unit"] == "ns" else b["real_time"]
        elif "batch:256" in name:
            out["predict256"] = b["samples/s"]
    return out

aisle = [aisle_round(r) for r in range(1, rounds + 1)]
torch = []
for r in range(1, rounds + 1):
    runs = [json.loads(open(f"{work}/torch-{c}.{r}").read()) for c in ("passive", "openblas1")]
    torch.append({"train": max(x["train_b128_sps"] for x in runs),
                  "predict1_us": min(x["predict1_us"] for x in runs),
                  "predict256": max(x["predict_b256_sps"] for x in runs),
                  "cnn_train": max(json.loads(open(f"{work}/torch-cnn-{c}.{r}").read())["train_b128_sps"]
                                   for c in ("passive", "openblas1"))})
peak = med(float(open(f"{work}/peak.{r}").read()) for r in range(1, rounds + 1))
def training_run(path):
    lines = [json.loads(l) for l in open(path) if l.strip()]
    seconds = sum(e["seconds"] for e in lines if not e.get("final"))
    final = [e for e in lines if e.get("final")]
    return seconds, final[0]["test_accuracy"] if final else None

runs = [training_run(f"{work}/epochs.{run}.jsonl") for run in (1, 2, 3)]
fashion_s = med(seconds for seconds, _ in runs)
fashion_accuracy = runs[0][1]

a_train, t_train = med(x["train"] for x in aisle), med(x["train"] for x in torch)
a_p1, t_p1 = med(x["predict1_us"] for x in aisle), med(x["predict1_us"] for x in torch)
a_p256, t_p256 = med(x["predict256"] for x in aisle), med(x["predict256"] for x in torch)
a_cnn, t_cnn = med(x["cnn_train"] for x in aisle), med(x["cnn_train"] for x in torch)
result = {
    "train_b128_ratio": a_train / t_train,
    "predict1_latency_ratio": t_p1 / a_p1,
    "predict_b256_ratio": a_p256 / t_p256,
    "cnn_train_ratio": a_cnn / t_cnn,
    "aisle_cnn_train_b128_sps": a_cnn, "torch_cnn_train_b128_sps": t_cnn,
    "train_b128_frac_peak": a_train * TRAIN_FLOP_PER_SAMPLE * 1e-9 / peak,
    "predict_b256_frac_peak": a_p256 * FORWARD_FLOP_PER_SAMPLE * 1e-9 / peak,
    "fashion_10_epochs_s": fashion_s,
    "fashion_test_accuracy": fashion_accuracy,
    "fashion_10_epochs_runs_s": [seconds for seconds, _ in runs],
    "aisle_train_b128_sps": a_train, "torch_train_b128_sps": t_train,
    "aisle_predict1_us": a_p1, "torch_predict1_us": t_p1,
    "aisle_predict_b256_sps": a_p256, "torch_predict_b256_sps": t_p256,
    "peak_gflops": peak, "rounds": rounds,
}
transformer_aisle = json.load(open(f"{work}/transformer-aisle"))
transformer_torch = [json.load(open(f"{work}/transformer-torch-{s}")) for s in ("passive", "openblas1")]
t_train_sps = max(x["train_sequences_per_s"] for x in transformer_torch)
t_predict1_us = min(x["predict1_us"] for x in transformer_torch)
result.update({
    "transformer_train_ratio": transformer_aisle["train_sequences_per_s"] / t_train_sps,
    "transformer_predict1_ratio": t_predict1_us / transformer_aisle["predict1_us"],
    "aisle_transformer_train_sps": transformer_aisle["train_sequences_per_s"],
    "torch_transformer_train_sps": t_train_sps,
    "aisle_transformer_predict1_us": transformer_aisle["predict1_us"],
    "torch_transformer_predict1_us": t_predict1_us,
})
if as_json:
    print(json.dumps(result))
else:
    print(f"{'figure':<28}{'aisle':>14}{'PyTorch':>14}{'ratio':>10}")
    print(f"{'train b128 (samples/s)':<28}{a_train:>14,.0f}{t_train:>14,.0f}{a_train / t_train:>9.2f}x")
    print(f"{'predict 1 (us)':<28}{a_p1:>14.2f}{t_p1:>14.2f}{t_p1 / a_p1:>9.2f}x")
    print(f"{'predict b256 (samples/s)':<28}{a_p256:>14,.0f}{t_p256:>14,.0f}{a_p256 / t_p256:>9.2f}x")
    print(f"{'CNN train b128 (samples/s)':<28}{a_cnn:>14,.0f}{t_cnn:>14,.0f}{a_cnn / t_cnn:>9.2f}x")
    print(f"training at {result['train_b128_frac_peak']:.1%} and batch-256 predict at "
          f"{result['predict_b256_frac_peak']:.1%} of the {peak:.0f} GFLOP/s FMA peak")
    print(f"10 epochs on Fashion-MNIST: {fashion_s:.2f} s of training (median of "
          f"{', '.join(f'{seconds:.2f}' for seconds, _ in runs)}), test accuracy {fashion_accuracy}")
    a_seq, a_us = result["aisle_transformer_train_sps"], result["aisle_transformer_predict1_us"]
    print(f"{'transformer train (seq/s)':<28}{a_seq:>14,.0f}{t_train_sps:>14,.0f}"
          f"{result['transformer_train_ratio']:>9.2f}x")
    print(f"{'transformer predict 1 (us)':<28}{a_us:>14.1f}{t_predict1_us:>14.1f}"
          f"{result['transformer_predict1_ratio']:>9.2f}x")
PY
