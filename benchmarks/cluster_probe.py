#!/usr/bin/python3
"""Probes a scripts/serve-cluster cluster for benchmarks/cluster_failover.sh.

Each command prints one JSON object:
  affinity FRONT USERS_FILE           each shopper asked 3 times through nginx: the
                                      replica of each, and how many got more than one
  live FRONT N                        N new shoppers each post 3 events through nginx;
                                      their replicas and items
  moved FRONT LIVE_JSON DEAD          after DEAD was killed: the live shoppers it owned,
                                      asked through nginx: which replica answers now, and
                                      whose events were lost (a popularity fallback)
  freshness PORT_A PORT_B N           an event posted on replica A, then recommend on
                                      replica B until it is used: milliseconds, N times
"""
import http.client
import json
import sys
import time


def call(port, method, path, body=None, shopper=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if shopper:
        headers["X-Aisle-User"] = shopper
    connection.request(method, path, json.dumps(body) if body is not None else None, headers)
    response = connection.getresponse()
    data = response.read()
    replica = response.getheader("X-Aisle-Replica")
    connection.close()
    return response.status, json.loads(data) if data else None, replica


def affinity(front, users_file):
    users = [line.strip() for line in open(users_file) if line.strip()]
    replicas, split = {}, 0
    for user in users:
        seen = set()
        for _ in range(3):
            status, _, replica = call(front, "POST", "/v1/recommend", {"user": user, "k": 10}, shopper=user)
            if status != 200:
                raise SystemExit(f"affinity: recommend for {user} answered {status}")
            seen.add(replica)
        split += len(seen) > 1
        replicas[user] = sorted(seen)[0]
    counts = {}
    for r in replicas.values():
        counts[r] = counts.get(r, 0) + 1
    return {"shoppers": len(users), "shoppers_on_several_replicas": split, "per_replica": counts, "replica_of": replicas}


def live(front, n, items):
    shoppers = {}
    for i in range(n):
        user = f"live-shopper-{i}"
        events = [{"user": user, "item": items[(i * 7 + j) % len(items)]} for j in range(3)]
        status, _, replica = call(front, "POST", "/v1/events", {"events": events}, shopper=user)
        if status != 202:
            raise SystemExit(f"live: events for {user} answered {status}")
        shoppers[user] = replica
    return {"replica_of": shoppers}


def moved(front, live_json, dead):
    owned = [u for u, r in json.load(open(live_json))["replica_of"].items() if r == dead]
    answered_by, lost, still_dead = {}, 0, 0
    for user in owned:
        status, body, replica = call(front, "POST", "/v1/recommend", {"user": user, "k": 10}, shopper=user)
        if status != 200:
            raise SystemExit(f"moved: recommend for {user} answered {status}")
        answered_by[replica] = answered_by.get(replica, 0) + 1
        still_dead += replica == dead
        lost += bool(body["popularity_fallback"])
    return {"shoppers_of_dead_replica": len(owned), "now_answered_by": answered_by,
            "answered_by_dead": still_dead, "histories_lost": lost}


def freshness(port_a, port_b, n, items):
    waits = []
    for i in range(n):
        user = f"fresh-shopper-{time.time_ns()}-{i}"
        status, _, _ = call(port_a, "POST", "/v1/events", {"user": user, "item": items[i % len(items)]})
        if status != 202:
            raise SystemExit(f"freshness: event answered {status}")
        acknowledged = time.perf_counter()
        while True:
            _, body, _ = call(port_b, "POST", "/v1/recommend", {"user": user, "k": 10})
            if not body["popularity_fallback"]:
                break
            if time.perf_counter() - acknowledged > 5:
                raise SystemExit(f"freshness: replica B did not use {user}'s event within 5 s")
        waits.append((time.perf_counter() - acknowledged) * 1000)
    waits.sort()
    return {"trials": n, "freshness_ms_p50": round(waits[len(waits) // 2], 3), "freshness_ms_max": round(waits[-1], 3)}


def catalogue(port):
    status, body, _ = call(port, "POST", "/v1/recommend", {"user": "nobody-at-all", "k": 50})
    return [entry["item"] for entry in body["items"]]


def main(argv):
    command = argv[1] if len(argv) > 1 else ""
    if command == "affinity":
        out = affinity(int(argv[2]), argv[3])
    elif command == "live":
        out = live(int(argv[2]), int(argv[3]), catalogue(int(argv[2])))
    elif command == "moved":
        out = moved(int(argv[2]), argv[3], argv[4])
    elif command == "freshness":
        out = freshness(int(argv[2]), int(argv[3]), int(argv[4]), catalogue(int(argv[2])))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
