#!/usr/bin/env bash
# EASE's tuned fit, aisle against the same tuning in numpy (Debian's
# python3-numpy on OpenBLAS, benchmarks/ease_numpy.py), on one data set and
# protocol, both on the same threads in the same run. Each side fits once:
# a tuned fit is many seconds of large products, where one run's time is a
# steady figure. Prints both fit times, their ratio, the l2 each chose and
# both sides' metrics (which must agree: the same split, tuning and model).
#
# usage: benchmarks/ease_fit.sh --data DIR [--protocol loo|users] [--threads N] [--json]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${AISLE_BUILD_DIR:-$root/build}"
json=0 protocol=loo threads=2 data=
while [ $# -gt 0 ]; do
  case "$1" in
    --json) json=1 ;;
    --data) data="${2-}"; shift ;;
    --protocol) protocol="${2-}"; shift ;;
    --threads) threads="${2-}"; shift ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "ease_fit.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  [ $# -gt 0 ] && shift
done
[ -f "$data/interactions.csv" ] || { echo "ease_fit.sh: no interactions.csv in '$data' (--data DIR)" >&2; exit 2; }
[[ "$protocol" =~ ^(loo|users)$ ]] || { echo "ease_fit.sh: --protocol takes loo or users, not '$protocol'" >&2; exit 2; }
[[ "$threads" =~ ^[1-9][0-9]*$ ]] || { echo "ease_fit.sh: --threads takes a positive integer, not '$threads'" >&2; exit 2; }

"$root/scripts/install-deps" --with-torch >/dev/null
"$root/scripts/build" >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

[ "$json" = 1 ] || echo "aisle: tuned EASE on $data ($protocol, $threads threads)" >&2
AISLE_NUM_THREADS="$threads" "$build_dir/bin/aisle-recommend" eval --data "$data" --protocol "$protocol" \
  --model ease --json >"$work/aisle.json"
[ "$json" = 1 ] || echo "numpy: the same tuning (np.linalg.inv per tried l2)" >&2
OPENBLAS_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" /usr/bin/python3 "$root/benchmarks/ease_numpy.py" \
  "$data" "$protocol" >"$work/numpy.json"

/usr/bin/python3 - "$work/aisle.json" "$work/numpy.json" "$json" "$data" "$protocol" "$threads" <<'PY'
import json, os, sys
aisle, numpy_ = (json.load(open(p)) for p in sys.argv[1:3])
as_json, data, protocol, threads = sys.argv[3] == "1", sys.argv[4], sys.argv[5], int(sys.argv[6])
worst = max(abs(aisle["metrics"][k] - v) / max(abs(v), 1e-12) for k, v in numpy_["metrics"].items())
out = {
    "dataset": os.path.basename(os.path.normpath(data)), "protocol": protocol, "threads": threads,
    "ease_fit_s": aisle["fit_s"], "numpy_ease_fit_s": numpy_["fit_s"],
    "numpy_over_aisle": numpy_["fit_s"] / aisle["fit_s"],
    "l2": aisle["params"]["l2"], "numpy_l2": numpy_["l2"],
    "metrics": aisle["metrics"], "numpy_metrics": numpy_["metrics"], "metrics_worst_relative_difference": worst,
}
if as_json:
    print(json.dumps(out))
else:
    print(f"{out['dataset']} {protocol}: aisle {out['ease_fit_s']:.1f} s (l2 {out['l2']:g}), "
          f"numpy {out['numpy_ease_fit_s']:.1f} s (l2 {out['numpy_l2']:g}): {out['numpy_over_aisle']:.2f}x; "
          f"metrics differ by {worst:.1e} at most")
PY
