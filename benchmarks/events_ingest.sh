#!/usr/bin/env bash
# Event ingest of aisle-serve: POST /v1/events with batches of events (random
# shoppers and catalogue items) from wrk, into the embedded log (the
# default) or a Redis store that the script starts on loopback with
# appendfsync always. Every 202 means the batch was on disk, so the figure
# is durable events per second. Checks at the end that the store holds
# every acknowledged event (/metrics' aisle_event_store_events).
#
# usage: benchmarks/events_ingest.sh [--store log|redis] [--batch 100] [--duration 10]
#                                    [--connections 16] [--threads 2] [--json]
#   --json  one JSON object: events_per_s, requests_per_s, batch, p50_ms, p99_ms,
#           errors, stored_events, acknowledged_events, store
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
store=log batch=100 duration=10 connections=16 threads=2 json=0
while [ $# -gt 0 ]; do
  case "$1" in
    --store) store="${2:?--store takes log or redis}"; shift ;;
    --batch) batch="${2:?}"; shift ;;
    --duration) duration="${2:?}"; shift ;;
    --connections) connections="${2:?}"; shift ;;
    --threads) threads="${2:?}"; shift ;;
    --json) json=1 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "events_ingest.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ "$store" = log ] || [ "$store" = redis ] || { echo "events_ingest.sh: --store takes log or redis, not '$store'" >&2; exit 2; }
say() { echo "events_ingest.sh: $*" >&2; }

"$root/scripts/install-deps" --with-load-test
"$root/scripts/build" >/dev/null
bin="$root/build/bin"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# A small catalogue's model: the events' items are its items.
"$bin/aisle-recommend" synth --out "$work/store" --users 2000 --items 1000 >/dev/null
"$bin/aisle-recommend" fit --data "$work/store" --model pop --no-user-data --out "$work/model" >/dev/null

events="$work/events"
if [ "$store" = redis ]; then
  redis_port="$(free_port)"
  mkdir -p "$work/redis"
  redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$work/redis" --appendonly yes --appendfsync always \
    --save "" --daemonize no >"$work/redis.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
  events="redis://127.0.0.1:$redis_port"
fi

serve_port="$(free_port)"
"$bin/aisle-serve" --model "$work/model" --port "$serve_port" --events "$events" 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 1 300); do
  curl -sf "http://127.0.0.1:$serve_port/readyz" >/dev/null 2>&1 && break
  kill -0 "${pids[-1]}" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done

# 500 bodies of $batch events each: 100,000 shoppers, the catalogue's items.
awk -v batch="$batch" -v seed=7 'BEGIN {
  srand(seed)
  for (b = 0; b < 500; b++) {
    line = "{\"events\":["
    for (i = 0; i < batch; i++)
      line = line (i ? "," : "") sprintf("{\"user\":\"u%d\",\"item\":\"item-%05d\"}", int(rand() * 100000), int(rand() * 1000))
    print line "]}"
  }
}' >"$work/bodies.jsonl"

say "wrk: POST /v1/events, $batch events a request, ${duration}s, $connections connections, store $store"
result="$(BODIES_FILE="$work/bodies.jsonl" wrk -t"$threads" -c"$connections" -d"${duration}s" --latency \
  -s "$root/benchmarks/serve/requests.lua" "http://127.0.0.1:$serve_port/v1/events" | sed -n 's/^WRK_RESULT //p')"
stored="$(curl -sf "http://127.0.0.1:$serve_port/metrics" | sed -n 's/^aisle_event_store_events //p')"

/usr/bin/python3 - "$result" "$batch" "$stored" "$store" "$json" <<'PY'
import json, sys
wrk, batch, stored, store, as_json = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5] == "1"
acknowledged = (wrk["requests"] - wrk["errors"]) * batch
out = {"store": store, "batch": batch, "events_per_s": round(wrk["rps"] * batch),
       "requests_per_s": wrk["rps"], "p50_ms": wrk["p50_ms"], "p99_ms": wrk["p99_ms"], "errors": wrk["errors"],
       "acknowledged_events": acknowledged, "stored_events": stored}
if as_json:
    print(json.dumps(out))
else:
    for k, v in out.items():
        print(f"{k:20s} {v}")
# wrk counts requests it sent; one cut off by the end of the run may be
# stored without its 202 being counted, never the other way round.
if stored < acknowledged:
    print(f"events_ingest.sh: the store holds {stored} events, fewer than the {acknowledged} acknowledged", file=sys.stderr)
    sys.exit(1)
PY
