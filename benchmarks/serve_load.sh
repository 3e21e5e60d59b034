#!/usr/bin/env bash
# Load test of aisle-serve: fits (once, cached) an EASE model on a data set,
# starts aisle-serve and, in the same run, nginx serving a small static JSON
# file (the machine's HTTP ceiling), both on loopback, and drives each with
# wrk for the same time at the same connections. aisle-serve gets POST
# /v1/recommend bodies for real users and histories drawn from the data.
# Then, with --reload (default on), the same load again while the model is
# reloaded every 0.5 s alternating two files (a second EASE with another
# l2), counting failed requests and the versions /v1/models reported.
#
# usage: benchmarks/serve_load.sh [--data DIR] [--duration S] [--connections N]
#                                 [--threads N] [--no-reload] [--serve-args "ARGS"] [--json]
#   --data DIR   interactions.csv (+ items.csv) folder (default ../shared/data/amazon-beauty)
#   --serve-args extra aisle-serve options, e.g. '--compute-threads 2'
#   --json       print one JSON object (serve_rps, serve_p50_ms, serve_p99_ms,
#                serve_errors, nginx_rps, ratio_to_nginx, healthz_rps, reload_*) instead
#                of text; healthz_rps is aisle-serve's GET /healthz at the same load:
#                the HTTP layer's own ceiling, with no model work
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/../shared/data/amazon-beauty"
duration=10 connections=64 threads=2 reload=1 json=0 serve_args=
while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="${2:?--data needs a folder}"; shift ;;
    --duration) duration="${2:?}"; shift ;;
    --connections) connections="${2:?}"; shift ;;
    --threads) threads="${2:?}"; shift ;;
    --no-reload) reload=0 ;;
    --serve-args) serve_args="${2?--serve-args needs a value}"; shift ;;
    --json) json=1 ;;
    -h|--help) sed -n '2,22p' "$0"; exit 0 ;;
    *) echo "serve_load.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -f "$data/interactions.csv" ] || { echo "serve_load.sh: no interactions.csv in $data" >&2; exit 2; }
say() { echo "serve_load.sh: $*" >&2; }

"$root/scripts/install-deps" --with-load-test
"$root/scripts/build" >/dev/null
bin="$root/build/bin"
work="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  [ -f "$work/nginx.pid" ] && kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# The models, cached by data folder and the data's modification time.
cache="$root/build/bench-cache"
mkdir -p "$cache"
key="$(basename "$data")-$(stat -c %Y "$data/interactions.csv")"
model="$cache/$key-ease.model" other="$cache/$key-ease-l2-1000.model"
if [ ! -f "$model" ]; then
  say "fitting EASE (l2 tuned) on $data, once: a few minutes"
  "$bin/aisle-recommend" fit --data "$data" --model ease --out "$model" >&2
fi
if [ "$reload" = 1 ] && [ ! -f "$other" ]; then
  say "fitting a second EASE (l2 1000) for the reload phase, once"
  "$bin/aisle-recommend" fit --data "$data" --model ease --l2 1000 --out "$other" >&2
fi

# Request bodies: 2,000 users' own ids and 2,000 histories of 1-5 consecutive
# items cut from users' sequences, shuffled with a fixed seed.
awk -F, -v seed=7 'NR == 1 { next }
  { user[$1] = 1; seq[$1] = seq[$1] (seq[$1] == "" ? "" : "\t") $2 }
  END {
    srand(seed); n = 0
    for (u in user) { users[++n] = u }
    for (i = 1; i <= 2000 && i <= n; i++) {
      u = users[int(rand() * n) + 1]
      printf "{\"user\":\"%s\",\"k\":10}\n", u
      m = split(seq[u], items, "\t"); len = int(rand() * 5) + 1; if (len > m) len = m
      start = int(rand() * (m - len + 1)) + 1; h = ""
      for (j = start; j < start + len; j++) h = h (h == "" ? "" : ",") "\"" items[j] "\""
      printf "{\"history\":[%s],\"k\":10}\n", h
    }
  }' "$data/interactions.csv" | shuf --random-source=<(yes) >"$work/bodies.jsonl"

free_port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# aisle-serve, ready when /readyz says so.
serve_port="$(free_port)"
# shellcheck disable=SC2086  # serve_args is a list of options
"$bin/aisle-serve" --model "$model" --port "$serve_port" $serve_args 2>"$work/serve.log" &
pids+=($!)
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$serve_port/readyz" >/dev/null 2>&1 && break
  kill -0 "${pids[0]}" 2>/dev/null || { cat "$work/serve.log" >&2; exit 1; }
  sleep 0.1
done
curl -sf "http://127.0.0.1:$serve_port/readyz" >/dev/null || { say "aisle-serve did not get ready"; cat "$work/serve.log" >&2; exit 1; }

# nginx on loopback serving a static JSON file of the size of an answer.
nginx_port="$(free_port)"
mkdir -p "$work/www" "$work/nginx-temp"
head -c 600 /dev/zero | tr '\0' ' ' | sed 's/^/{"items":"/; s/$/"}/' >"$work/www/static.json"
cat >"$work/nginx.conf" <<CONF
worker_processes auto;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $work/nginx-temp; proxy_temp_path $work/nginx-temp;
  fastcgi_temp_path $work/nginx-temp; uwsgi_temp_path $work/nginx-temp; scgi_temp_path $work/nginx-temp;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:$nginx_port;
    root $work/www;
    default_type application/json;
  }
}
CONF
nginx -c "$work/nginx.conf" -p "$work"
for _ in $(seq 1 50); do curl -sf "http://127.0.0.1:$nginx_port/static.json" >/dev/null 2>&1 && break; sleep 0.1; done

run_wrk() {  # URL [BODIES_FILE] -> the WRK_RESULT JSON
  BODIES_FILE="${2:-}" wrk -t"$threads" -c"$connections" -d"${duration}s" --latency \
    -s "$root/benchmarks/serve/requests.lua" "$1" | sed -n 's/^WRK_RESULT //p'
}
field() { /usr/bin/python3 -c 'import json,sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }

say "wrk on aisle-serve: ${duration}s, $connections connections"
serve="$(run_wrk "http://127.0.0.1:$serve_port/v1/recommend" "$work/bodies.jsonl")"
say "wrk on aisle-serve's /healthz: ${duration}s, $connections connections"
healthz="$(run_wrk "http://127.0.0.1:$serve_port/healthz")"
say "wrk on nginx's static file: ${duration}s, $connections connections"
nginx="$(run_wrk "http://127.0.0.1:$nginx_port/static.json")"

reload_result='{}'
if [ "$reload" = 1 ]; then
  say "wrk on aisle-serve again, reloading the model every 0.5 s"
  (
    files=("$other" "$model") i=0
    : >"$work/reloads" ; : >"$work/versions"
    while [ ! -f "$work/wrk-done" ]; do
      curl -s "http://127.0.0.1:$serve_port/v1/models" | grep -o '"version":"[0-9a-f]*"' >>"$work/versions"
      code="$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
        -d "{\"model\":\"rec\",\"path\":\"${files[$((i % 2))]}\"}" "http://127.0.0.1:$serve_port/admin/reload")"
      echo "$code" >>"$work/reloads"
      curl -s "http://127.0.0.1:$serve_port/v1/models" | grep -o '"version":"[0-9a-f]*"' >>"$work/versions"
      i=$((i + 1))
      sleep 0.5
    done
  ) &
  reloader=$!
  during="$(run_wrk "http://127.0.0.1:$serve_port/v1/recommend" "$work/bodies.jsonl")"
  touch "$work/wrk-done"
  wait "$reloader"
  reloads_ok="$(grep -c '^200$' "$work/reloads" || true)"
  reloads_failed="$(grep -vc '^200$' "$work/reloads" || true)"
  versions="$(sort -u "$work/versions" | grep -c . || true)"
  reload_result="{\"reload_phase_rps\": $(field "$during" rps), \"reload_phase_p99_ms\": $(field "$during" p99_ms), \"reload_phase_errors\": $(field "$during" errors), \"reloads_ok\": $reloads_ok, \"reloads_failed\": $reloads_failed, \"versions_seen\": $versions}"
fi

/usr/bin/python3 - "$serve" "$nginx" "$reload_result" "$healthz" "$json" "$data" "$connections" "$duration" "$serve_args" <<'PY'
import json, sys
serve, nginx, reload, healthz = (json.loads(a) for a in sys.argv[1:5])
as_json, data, connections, duration, serve_args = sys.argv[5] == "1", sys.argv[6], sys.argv[7], sys.argv[8], sys.argv[9]
out = {
    "data": data, "connections": int(connections), "duration_s": float(duration), "serve_args": serve_args,
    "serve_rps": round(serve["rps"], 1), "serve_p50_ms": round(serve["p50_ms"], 3),
    "serve_p99_ms": round(serve["p99_ms"], 3), "serve_errors": serve["errors"],
    "nginx_rps": round(nginx["rps"], 1), "nginx_p99_ms": round(nginx["p99_ms"], 3),
    "ratio_to_nginx": round(serve["rps"] / nginx["rps"], 3) if nginx["rps"] else None,
    "healthz_rps": round(healthz["rps"], 1), "healthz_p99_ms": round(healthz["p99_ms"], 3),
    "healthz_ratio_to_nginx": round(healthz["rps"] / nginx["rps"], 3) if nginx["rps"] else None,
}
out.update(reload)
lines = [
    f"aisle-serve  {out['serve_rps']:>10,.0f} req/s  p50 {out['serve_p50_ms']:.2f} ms  "
    f"p99 {out['serve_p99_ms']:.2f} ms  errors {out['serve_errors']}",
    f"nginx static {out['nginx_rps']:>10,.0f} req/s  p99 {out['nginx_p99_ms']:.2f} ms",
    f"aisle-serve /healthz {out['healthz_rps']:>10,.0f} req/s  p99 {out['healthz_p99_ms']:.2f} ms "
    f"(the HTTP layer alone: {out['healthz_ratio_to_nginx']} of nginx)",
    f"ratio to nginx: {out['ratio_to_nginx']}",
]
if reload:
    lines.append(
        f"under reloads every 0.5 s: {reload['reload_phase_rps']:,.0f} req/s, p99 {reload['reload_phase_p99_ms']:.2f} ms, "
        f"errors {reload['reload_phase_errors']}, reloads ok {reload['reloads_ok']}, failed {reload['reloads_failed']}, "
        f"versions seen {reload['versions_seen']}")
print(json.dumps(out) if as_json else "\n".join(lines))
PY
