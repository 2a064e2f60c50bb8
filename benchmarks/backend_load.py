"""Load on the ML backend: latency percentiles and errors at 1/20/50 concurrent clients.

Each request opens a new connection (as a burst of Label Studio workers does), so an
overflowing listen backlog shows up as errors. /predict (one corpus release per task) is
measured against /health (no model work) in the same run, on the same server.

  python benchmarks/backend_load.py                      # starts `python -m backend` on a free port
  python benchmarks/backend_load.py --url http://127.0.0.1:9090   # an already running backend
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def listen_overflows() -> int | None:
    """The kernel's TcpExt ListenOverflows counter (machine-wide), None where /proc has none."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return None
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith("TcpExt:"):
            return int(dict(zip(names.split()[1:], values.split()[1:]))["ListenOverflows"])
    return None


def one(host: str, port: int, method: str, path: str, body: bytes | None) -> tuple[float, str | None]:
    t = time.perf_counter()
    try:
        c = http.client.HTTPConnection(host, port, timeout=60)
        c.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
        r = c.getresponse()
        r.read()
        c.close()
        err = None if r.status == 200 else f"HTTP {r.status}"
    except OSError as e:  # ConnectionResetError, refused, timeout
        err = type(e).__name__
    return time.perf_counter() - t, err


def summary(out: list[tuple[float, str | None]], wall: float) -> dict:
    lat = sorted(t for t, _ in out)
    errors = [e for _, e in out if e]

    def pct(p: float) -> float:
        return lat[min(len(lat) - 1, int(p / 100 * len(lat)))] * 1000

    return {"requests": len(out), "errors": len(errors), "error_kinds": sorted(set(errors)), "p50_ms": pct(50),
            "p95_ms": pct(95), "p99_ms": pct(99), "max_ms": lat[-1] * 1000, "req_per_s": len(out) / wall}


def run(host: str, port: int, method: str, path: str, body: bytes | None, concurrency: int, n: int) -> tuple[dict, dict]:
    """The load's figures, and those of one more client asking /health every 20 ms meanwhile."""
    before = listen_overflows()
    done = threading.Event()
    probes: list[tuple[float, str | None]] = []

    def probe() -> None:
        while not done.is_set():
            probes.append(one(host, port, "GET", "/health", None))
            time.sleep(0.02)

    prober = threading.Thread(target=probe)
    t0 = time.perf_counter()
    prober.start()
    with ThreadPoolExecutor(concurrency) as ex:
        out = list(ex.map(lambda _: one(host, port, method, path, body), range(n)))
    wall = time.perf_counter() - t0
    done.set()
    prober.join()
    after = listen_overflows()
    return ({**summary(out, wall), "listen_overflows": None if before is None else after - before},
            summary(probes, wall))


def start_backend(threads: int) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, "-m", "backend", "--port", str(port), "--threads", str(threads)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if one("127.0.0.1", port, "GET", "/health", None)[1] is None:
            return proc, port
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the backend did not answer /health in 60 s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running backend (default: start one)")
    ap.add_argument("--requests", type=int, default=200, help="requests per level and route")
    ap.add_argument("--concurrency", default="1,20,50")
    ap.add_argument("--threads", type=int, default=4, help="worker threads of the started backend")
    ap.add_argument("--tasks", type=int, default=1, help="tasks per /predict request (Label Studio sends a page)")
    args = ap.parse_args()
    from kzclassify.corpus import read_corpus
    releases = sorted((r.text for r in read_corpus(ROOT / "data" / "akorda_kk.txt")), key=len)
    text = releases[len(releases) // 2]  # the median-length release
    body = json.dumps({"tasks": [{"id": i + 1, "data": {"text": text}} for i in range(args.tasks)]}).encode()
    proc = None
    if args.url:
        u = urlsplit(args.url)
        host, port = u.hostname, u.port
    else:
        proc, port = start_backend(args.threads)
        host = "127.0.0.1"
    try:
        print(f"backend {host}:{port}; /predict body: {args.tasks} task(s), each a {len(text):,}-character release; "
              f"{args.requests} requests per row, a new connection each")
        print(f"{'route':9} {'conc':>4} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'req/s':>7} "
              f"{'errors':>6}  listen overflows (machine-wide) | one more client's /health meanwhile: p50, p99 ms, errors")
        for c in (int(x) for x in args.concurrency.split(",")):
            for method, path, b in (("GET", "/health", None), ("POST", "/predict", body)):
                r, h = run(host, port, method, path, b, c, args.requests)
                print(f"{path:9} {c:>4} {r['p50_ms']:8.1f} {r['p95_ms']:8.1f} {r['p99_ms']:8.1f} {r['max_ms']:8.1f} "
                      f"{r['req_per_s']:7.1f} {r['errors']:>6}  {r['listen_overflows']} "
                      f"{' '.join(r['error_kinds'])} | {h['p50_ms']:.1f}, {h['p99_ms']:.1f}, {h['errors']}", flush=True)
    finally:
        if proc:
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
