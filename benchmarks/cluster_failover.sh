#!/usr/bin/env bash
# Replicas behind nginx, under load, losing one: scripts/serve-cluster with 3
# replicas and the Redis event store, driven by wrk with real queries (a
# data set's users, each request carrying X-Aisle-User) at 64 connections.
#   1. affinity: with every replica up, each of 300 shoppers asked 3 times
#      through nginx is answered by one replica only;
#   2. live events: 200 new shoppers post events through nginx;
#   3. failover: wrk for --duration seconds; a quarter of the way in, the
#      replica owning the most live shoppers is killed (SIGKILL). Reported:
#      failed_fraction (non-2xx and socket errors over requests), and, after,
#      where the dead replica's shoppers are answered and whether their live
#      events were still used (histories_lost);
#   4. freshness: an event posted on one replica, then recommend on another
#      until it is used, 100 times (milliseconds);
#   5. rolling reload: wrk again while scripts/serve-cluster --reload swaps the
#      model on each replica in turn (reload_failed).
#
# usage: benchmarks/cluster_failover.sh [--data DIR] [--duration 20] [--connections 64] [--json]
#   --data DIR  interactions.csv folder (default ../shared/data/amazon-beauty; a synthetic
#               store when it is missing)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/../shared/data/amazon-beauty"
duration=20 connections=64 json=0
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="${2:?--data needs a folder}"; shift ;;
    --duration) duration="${2:?}"; shift ;;
    --connections) connections="${2:?}"; shift ;;
    --json) json=1 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "cluster_failover.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
say() { echo "cluster_failover.sh: $*" >&2; }

"$root/scripts/install-deps" --with-load-test
"$root/scripts/build" >/dev/null
bin="$root/build/bin"
work="$(mktemp -d)"
cluster=("$root/scripts/serve-cluster" --state "$work/cluster")
cleanup() {
  "${cluster[@]}" --stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
probe() { /usr/bin/python3 "$root/benchmarks/cluster_probe.py" "$@"; }
field() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

if [ ! -f "$data/interactions.csv" ]; then
  say "no $data/interactions.csv: a synthetic store instead"
  data="$work/store"
  "$bin/aisle-recommend" synth --out "$data" --users 20000 --items 5000 >/dev/null
fi
cache="$root/build/bench-cache"
mkdir -p "$cache"
key="$(basename "$data")-$(stat -c %Y "$data/interactions.csv")"
model="$cache/$key-ease.model" other="$cache/$key-ease-l2-1000.model"
[ -f "$model" ] || { say "fitting EASE on $data, once"; "$bin/aisle-recommend" fit --data "$data" --model ease --out "$model" >&2; }
[ -f "$other" ] || { say "fitting a second EASE (l2 1000), once"; "$bin/aisle-recommend" fit --data "$data" --model ease --l2 1000 --out "$other" >&2; }

# Real queries: 2,000 of the data's shoppers, by id, each with its header.
awk -F, 'NR > 1 && !seen[$1]++ { print $1 }' "$data/interactions.csv" | shuf --random-source=<(yes) >"$work/all-users"
head -2000 "$work/all-users" >"$work/users"
awk '{ printf "%s\t{\"user\":\"%s\",\"k\":10}\n", $1, $1 }' "$work/users" >"$work/bodies.jsonl"
head -300 "$work/users" >"$work/affinity-users"

front="$(free_port)"
"${cluster[@]}" --model "$model" --replicas 3 --events redis --port "$front"
replica_pid() { awk -v name="$1" '$1 == name { print $2 }' "$work/cluster/pids"; }
ports=($(cat "$work/cluster/replica-ports"))

say "1. affinity: 300 shoppers, 3 requests each, through nginx"
affinity="$(probe affinity "$front" "$work/affinity-users")"
say "2. live events: 200 new shoppers post 3 events each, through nginx"
probe live "$front" 200 >"$work/live.json"
dead="$(/usr/bin/python3 -c 'import json,sys,collections; print(collections.Counter(json.load(open(sys.argv[1]))["replica_of"].values()).most_common(1)[0][0])' "$work/live.json")"

run_wrk() {  # SECONDS
  BODIES_FILE="$work/bodies.jsonl" wrk -t2 -c"$connections" -d"$1s" --latency \
    -s "$root/benchmarks/serve/requests.lua" "http://127.0.0.1:$front/v1/recommend" | sed -n 's/^WRK_RESULT //p'
}
say "3. failover: wrk ${duration}s at $connections connections; $dead is killed after $((duration / 4))s"
run_wrk "$duration" >"$work/failover.json" &
wrk_pid=$!
sleep $((duration / 4))
kill -9 "$(replica_pid "$dead")"
wait "$wrk_pid"
failover="$(cat "$work/failover.json")"
moved="$(probe moved "$front" "$work/live.json" "$dead")"

say "4. freshness: an event on one replica, used by another (Redis store)"
alive=()
for i in 1 2 3; do [ "replica-$i" = "$dead" ] || alive+=("${ports[$((i - 1))]}"); done
freshness="$(probe freshness "${alive[0]}" "${alive[1]}" 100)"

say "5. rolling reload of the live replicas under load"
"${cluster[@]}" --stop >/dev/null 2>&1
"${cluster[@]}" --model "$model" --replicas 3 --events redis --port "$front"
run_wrk 10 >"$work/reload.json" &
wrk_pid=$!
sleep 3
"${cluster[@]}" --reload "$other"
wait "$wrk_pid"
reload="$(cat "$work/reload.json")"

/usr/bin/python3 - "$affinity" "$failover" "$moved" "$freshness" "$reload" "$dead" "$json" <<'PY'
import json, sys
affinity, failover, moved, freshness, reload = (json.loads(a) for a in sys.argv[1:6])
dead, as_json = sys.argv[6], sys.argv[7] == "1"
out = {
    "replicas": 3,
    "affinity_shoppers": affinity["shoppers"],
    "affinity_violations": affinity["shoppers_on_several_replicas"],
    "shoppers_per_replica": affinity["per_replica"],
    "requests": failover["requests"],
    "rps": failover["rps"],
    "p99_ms": failover["p99_ms"],
    "failed_requests": failover["errors"],
    "failed_fraction": round(failover["errors"] / max(failover["requests"], 1), 6),
    "killed_replica": dead,
    "moved_shoppers": moved["shoppers_of_dead_replica"],
    "moved_to": moved["now_answered_by"],
    "answered_by_dead_replica": moved["answered_by_dead"],
    "histories_lost": moved["histories_lost"],
    "freshness_ms_p50": freshness["freshness_ms_p50"],
    "freshness_ms_max": freshness["freshness_ms_max"],
    "reload_requests": reload["requests"],
    "reload_failed": reload["errors"],
}
if as_json:
    print(json.dumps(out))
else:
    for k, v in out.items():
        print(f"{k:26s} {v}")
PY
