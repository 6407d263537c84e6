#!/usr/bin/env python3
"""Hostile load against the real `ember serve` on loopback.

Starts `ember serve` with the car-evaluation example, drives N keep-alive connections (default
64) for a bounded time with about 10% malformed requests (bad CSV, wrong arity, bad types,
bad JSON, an oversized body, an unknown content type) and 90% good ones, and reports the
answers by status, the server's RSS (VmRSS from /proc/PID/status) before and after, and the
size of its log. Exits 1 if any answer was a 5xx or a good request did not get 200.

    EMBER_BIN=target/release/ember python3 benches/hostile_load.py --duration 30
    EMBER_BIN=target/debug/ember python3 benches/hostile_load.py --duration 5

Only the standard library; loopback only.
"""

import argparse
import collections
import http.client
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "examples/car-evaluation/model")
SCHEMA = os.path.join(ROOT, "examples/car-evaluation/schema.json")
INPUT = os.path.join(ROOT, "examples/car-evaluation/input.csv")
COLUMNS = ["buying", "maint", "doors", "persons", "lug_boot", "safety"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def wait_ping(port, within):
    deadline = time.time() + within
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/ping")
            if c.getresponse().status == 200:
                return True
        except OSError:
            time.sleep(0.1)
    return False


def load_rows():
    with open(INPUT) as f:
        lines = [l.strip() for l in f if l.strip()]
    return lines[1:]  # without the header


def good_request(rows, rnd):
    picked = [rnd.choice(rows) for _ in range(rnd.randint(1, 10))]
    if rnd.random() < 0.2:
        data = [r.split(",") for r in picked]
        return "good-json", "application/json", json.dumps({"data": data}).encode()
    return "good-csv", "text/csv", "\n".join(picked).encode()


OVERSIZE = b"low,med,4,2,big,high\n" * (7 * 1024 * 1024 // 21 + 1)  # over the 6 MB default


def bad_request(rows, rnd):
    row = rnd.choice(rows)
    kind = rnd.choice(
        ["bad-csv", "arity", "bad-type", "bad-json", "bad-json", "content-type", "oversize"]
        if rnd.random() < 0.1
        else ["bad-csv", "arity", "bad-type", "bad-json", "content-type"]
    )
    if kind == "bad-csv":
        return kind, "text/csv", (row + ',"unterminated\nnext').encode()
    if kind == "arity":
        return kind, "text/csv", ",".join(row.split(",")[:4]).encode()
    if kind == "bad-type":  # a label no StringIndexer saw, with a newline in it
        return kind, "text/csv", ",".join(row.split(",")[:5] + ['"pur\nple"']).encode()
    if kind == "bad-json":
        return kind, "application/json", b'{"data": ["low", "med", '
    if kind == "content-type":
        return kind, "application/x-nonsense", row.encode()
    return kind, "text/csv", OVERSIZE


def driver(port, until, rows, seed, counts, lock, failures):
    rnd = random.Random(seed)
    conn = None
    local = collections.Counter()
    while time.time() < until:
        if conn is None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        if rnd.random() < 0.1:
            kind, ctype, body = bad_request(rows, rnd)
        else:
            kind, ctype, body = good_request(rows, rnd)
        try:
            conn.request("POST", "/invocations", body=body, headers={"Content-Type": ctype})
            resp = conn.getresponse()
            text = resp.read()
            local[(kind, resp.status)] += 1
            if kind.startswith("good") and resp.status != 200 and len(failures) < 5:
                failures.append((kind, resp.status, text[:200]))
            if resp.getheader("connection", "").lower() == "close" or resp.will_close:
                conn.close()
                conn = None
        except (OSError, http.client.HTTPException) as e:
            # e.g. the server closed the connection after a 413 while the body was still going
            local[(kind, type(e).__name__)] += 1
            conn.close()
            conn = None
    with lock:
        counts.update(local)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--duration", type=float, default=20.0, help="seconds of load (default 20)")
    ap.add_argument("--connections", type=int, default=64, help="connections (default 64)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("serve_args", nargs="*", help="more `ember serve` arguments (after --)")
    args = ap.parse_args()
    binary = os.environ.get("EMBER_BIN", os.path.join(ROOT, "target/release/ember"))
    if not os.path.exists(binary):
        sys.exit(f"no ember binary at {binary} (set EMBER_BIN)")
    port = free_port()
    env = dict(os.environ)
    with open(SCHEMA) as f:
        env["SAGEMAKER_SPARKML_SCHEMA"] = f.read()
    env.setdefault("RUST_LOG", "info")
    log = tempfile.NamedTemporaryFile(prefix="ember-hostile-", suffix=".log", delete=False)
    server = subprocess.Popen(
        [binary, "serve", "--model", MODEL, "--host", "127.0.0.1", "--port", str(port)]
        + args.serve_args,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        if not wait_ping(port, 60):
            sys.exit("the server did not answer /ping")
        rss_before = rss_kib(server.pid)
        rows = load_rows()
        counts, lock, failures = collections.Counter(), threading.Lock(), []
        started = time.time()
        until = started + args.duration
        threads = [
            threading.Thread(
                target=driver, args=(port, until, rows, args.seed * 1000 + i, counts, lock, failures)
            )
            for i in range(args.connections)
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=args.duration + 120)
        elapsed = time.time() - started
        ping_ok = wait_ping(port, 5)
        rss_after = rss_kib(server.pid)
        alive = server.poll() is None
    finally:
        server.terminate()
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
    log_bytes = os.path.getsize(log.name)

    by_status = collections.Counter()
    for (kind, status), n in counts.items():
        by_status[status] += n
    total = sum(n for (k, s), n in counts.items() if isinstance(s, int))
    print(f"{args.connections} connections, {elapsed:.1f} s, {total} answers, {total / elapsed:.0f}/s")
    print("answers by status:", ", ".join(f"{s}: {n}" for s, n in sorted(by_status.items(), key=str)))
    print("by kind and status:")
    for (kind, status), n in sorted(counts.items(), key=str):
        print(f"  {kind:14} {status!s:22} {n}")
    print(f"server RSS: {rss_before} KiB before, {rss_after} KiB after")
    print(f"server log: {log_bytes} bytes ({log.name})")
    print(f"server alive after the load: {alive}; /ping after: {ping_ok}; exit status {server.returncode}")
    five = sum(n for s, n in by_status.items() if isinstance(s, int) and s >= 500)
    good_not_200 = sum(n for (k, s), n in counts.items() if k.startswith("good") and s != 200)
    for f in failures:
        print("  a good request failed:", f)
    print(f"5xx: {five}; good requests without 200: {good_not_200}")
    sys.exit(0 if five == 0 and good_not_200 == 0 and alive and ping_ok else 1)


if __name__ == "__main__":
    main()
