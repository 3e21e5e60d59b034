#!/usr/bin/env bash
# Storefront scale on one machine (issue: a million items, millions of
# shoppers, tens of millions of events). Generates a synthetic store once
# (cached under build/scale-data), then times, each stage in its own process
# so that its peak resident memory is its own:
#   ingest     aisle-recommend stats: read interactions.csv and items.csv
#              (three times, the median)
#   retrieval  aisle-retrieval-bench: a plain read of an items x 128 matrix
#              (shaped like trained embeddings), 2,000 exact top-10 queries,
#              with an allow-list of 10% of the catalogue, and as one batch;
#              then an HnswIndex with the default settings, its build time
#              and the same queries at the default ef_search, with
#              their recall@10 against the exact lists
#   fit        aisle-recommend fit --model neural --epochs 1 on the store,
#              with the sampled softmax the catalogue's size chooses (its
#              default negatives) and --fit-hidden H (default 128: the
#              default 512 needs 8 tables of items x 512 floats, 16 GB on a
#              million items); fit_epoch_s is the epoch's own time, from the
#              fit's progress, without reading the store or saving the model
#   ease       benchmarks/ease_fit.sh on amazon-beauty, beside numpy, when
#              --beauty DIR (default ../shared/data/amazon-beauty) exists
#
# usage: benchmarks/scale.sh [--json] [--users N] [--items N] [--interactions N]
#                            [--queries N] [--threads N] [--beauty DIR]
#                            [--fit-hidden H] [--skip-fit]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${AISLE_BUILD_DIR:-$root/build}"
json=0 users=2000000 items=1000000 interactions=20000000 queries=2000 threads=2 fit_hidden=128 skip_fit=0
beauty="$root/../shared/data/amazon-beauty"
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json=1 ;;
    --users) users="${2-}"; shift ;;
    --items) items="${2-}"; shift ;;
    --interactions) interactions="${2-}"; shift ;;
    --queries) queries="${2-}"; shift ;;
    --threads) threads="${2-}"; shift ;;
    --beauty) beauty="${2-}"; shift ;;
    --fit-hidden) fit_hidden="${2-}"; shift ;;
    --skip-fit) skip_fit=1 ;;
    -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
    *) echo "scale.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  [ $# -gt 0 ] && shift
done
for n in "$users" "$items" "$interactions" "$queries" "$threads" "$fit_hidden"; do
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || { echo "scale.sh: counts take positive integers, not '$n'" >&2; exit 2; }
done

"$root/scripts/build" >/dev/null
store="$build_dir/scale-data/u$users-i$items-n$interactions"
if [ ! -f "$store/interactions.csv" ]; then
  [ "$json" = 1 ] || echo "generating $store" >&2
  "$build_dir/bin/aisle-recommend" synth --out "$store" --users "$users" --items "$items" \
    --interactions "$interactions" >&2
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Runs a stage's command, its stdout to $work/NAME.json, its peak RSS (GB) to $work/NAME.rss.
stage() {
  local name="$1"; shift
  [ "$json" = 1 ] || echo "stage $name" >&2
  /usr/bin/python3 - "$work/$name" "$@" <<'PY'
import os, subprocess, sys
out, cmd = sys.argv[1], sys.argv[2:]
with open(out + ".json", "w") as f:
    proc = subprocess.Popen(cmd, stdout=f)
    _, status, usage = os.wait4(proc.pid, 0)
code = os.waitstatus_to_exitcode(status)
if code != 0:
    sys.exit(f"scale.sh: {' '.join(cmd)} exited with {code}")
open(out + ".rss", "w").write(str(usage.ru_maxrss / 1e6))  # KB to GB
PY
}

export AISLE_NUM_THREADS="$threads"
# Three reads, the median quoted: a first read can wait on the kernel
# compacting memory for huge pages, the next ones not.
for run in 1 2 3; do
  stage "ingest$run" "$build_dir/bin/aisle-recommend" stats --data "$store" --json
done
if [ "$skip_fit" = 0 ]; then
  # stdout: the fit's progress lines (the epoch's time among them)
  stage fit bash -c '"$1" fit --data "$2" --model neural --epochs 1 --hidden "$3" --out "$4" --progress 2>&1 >/dev/null' \
    fit "$build_dir/bin/aisle-recommend" "$store" "$fit_hidden" "$work/fit.aisle"
fi
stage retrieval "$build_dir/bin/aisle-retrieval-bench" --items "$items" --dim 128 --queries "$queries"
if [ -f "$beauty/interactions.csv" ]; then
  stage ease "$root/benchmarks/ease_fit.sh" --data "$beauty" --protocol loo --threads "$threads" --json
fi

/usr/bin/python3 - "$work" "$json" "$interactions" "$fit_hidden" <<'PY'
import json, os, re, sys
work, as_json, rows, fit_hidden = sys.argv[1], sys.argv[2] == "1", int(sys.argv[3]), int(sys.argv[4])
def load(name):
    path = os.path.join(work, name + ".json")
    return (json.load(open(path)), float(open(os.path.join(work, name + ".rss")).read())) if os.path.exists(path) else (None, None)
def fit_stage():
    path = os.path.join(work, "fit.json")
    if not os.path.exists(path):
        return {}
    log = open(path).read()
    epoch = re.search(r"neural: epoch 1/1 loss ([0-9.naif-]+) \(([0-9.]+) s\)", log)
    sampled = re.search(r"sampled softmax over (\d+) negatives", log)
    examples = re.search(r"neural: (\d+) examples an epoch", log)
    if not epoch:
        sys.exit("scale.sh: no epoch time in the fit's progress:\n" + log)
    return {"fit_epoch_s": float(epoch.group(2)), "fit_loss": float(epoch.group(1)),
            "fit_examples": int(examples.group(1)) if examples else None,
            "fit_negatives": int(sampled.group(1)) if sampled else 0, "fit_hidden": fit_hidden,
            "fit_peak_rss_gb": float(open(os.path.join(work, "fit.rss")).read())}
fit = fit_stage()
runs = sorted((load(f"ingest{run}") for run in (1, 2, 3)), key=lambda r: r[0]["read_s"])
ingest, ingest_rss = runs[1][0], max(r[1] for r in runs)
retrieval, retrieval_rss = load("retrieval")
ann_default = next(e for e in retrieval["ann"]["by_ef"] if e["ef_search"] == retrieval["ann"]["default_ef_search"])
ease, _ = load("ease")
out = {
    "users": ingest["users"], "items": ingest["items"], "rows": rows, "interactions": ingest["interactions"],
    "ingest_s": ingest["read_s"], "ingest_rows_per_s": rows / ingest["read_s"], "ingest_peak_rss_gb": ingest_rss,
    "fit_epoch_s": fit.get("fit_epoch_s"), "fit_peak_rss_gb": fit.get("fit_peak_rss_gb"),
    "fit_examples": fit.get("fit_examples"), "fit_hidden": fit.get("fit_hidden"),
    "fit_negatives": fit.get("fit_negatives"), "fit_loss": fit.get("fit_loss"),
    "stream_gbps": retrieval["stream_gbps"], "exact_top10_ms_p50": retrieval["exact_top10_ms_p50"],
    "exact_scan_gbps": retrieval["exact_scan_gbps"], "exact_scan_of_stream": retrieval["exact_scan_of_stream"],
    "exact_filtered_top10_ms_p50": retrieval["exact_filtered_top10_ms_p50"],
    "exact_batch_ms_per_query": retrieval["exact_batch_ms_per_query"], "retrieval_peak_rss_gb": retrieval_rss,
    "ann_build_s": retrieval["ann"]["build_s"],
    "ann_ef_search": ann_default["ef_search"],
    "ann_top10_ms_p50": ann_default["top10_ms_p50"],
    "ann_recall_at_10": ann_default["recall_at_10"],
    "ann_filtered_top10_ms_p50": ann_default["filtered_top10_ms_p50"],
    "ann_filtered_recall_at_10": ann_default["filtered_recall_at_10"],
    "ease_beauty_fit_s": ease["ease_fit_s"] if ease else None,
    "numpy_ease_beauty_fit_s": ease["numpy_ease_fit_s"] if ease else None,
}
if as_json:
    print(json.dumps(out))
else:
    for key, value in out.items():
        print(f"{key:30} {value:.4g}" if isinstance(value, float) else f"{key:30} {value}")
PY
