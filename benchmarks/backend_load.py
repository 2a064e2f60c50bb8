"""Load on the ML backend: latency percentiles and errors at 1/20/50 concurrent clients.

Each request opens a new connection (as a burst of Label Studio workers does), so an
overflowing listen backlog shows up as errors. /predict (one corpus release per task) is
measured against /health (no model work) in the same run, on the same server.

  python benchmarks/backend_load.py                      # starts `python -m backend` on a free port
  python benchmarks/backend_load.py --url http://127.0.0.1:9090   # an already running backend

Attacks (issue 22), each on the backend of an older commit and on this tree's, in the same run:

  python benchmarks/backend_load.py --scenario slow,large --before efc4d17

``slow``: --slow-clients connections each sending one header line every --every seconds (reconnecting
when closed) for --duration seconds, while one client asks /health every 0.5 s (10 s timeout).
``large``: --large-clients concurrent /predict bodies of --large-mb MB (one release and an unused
padding field), while one client sends a one-task /predict. Each row gives the backend's peak memory (VmHWM) and the probe's latencies.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import socket
import subprocess
import sys
import tarfile
import tempfile
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


# sent on every request: a backend of this tree needs them (set in the backends this script starts), an
# older one ignores them
CREDENTIALS = {"BASIC_AUTH_USER": "bench", "BASIC_AUTH_PASS": "bench-pass"}
AUTH = "Basic " + base64.b64encode(b"bench:bench-pass").decode()


def one(host: str, port: int, method: str, path: str, body: bytes | None,
        timeout: float = 60) -> tuple[float, str | None]:
    t = time.perf_counter()
    try:
        c = http.client.HTTPConnection(host, port, timeout=timeout)
        c.request(method, path, body=body, headers={"Authorization": AUTH, **(
            {"Content-Type": "application/json"} if body is not None else {})})
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


def start_backend(threads: int, root: Path = ROOT) -> tuple[subprocess.Popen, int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(root), **CREDENTIALS}
    proc = subprocess.Popen([sys.executable, "-m", "backend", "--port", str(port), "--threads", str(threads)],
                            cwd=root, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        if one("127.0.0.1", port, "GET", "/health", None)[1] is None:
            return proc, port
        time.sleep(0.3)
    proc.kill()
    raise SystemExit("the backend did not answer /health in 60 s")


def peak_rss_mb(pid: int) -> float | None:
    """The process's peak resident memory (VmHWM) in MB, None where /proc has none."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def probing(host: str, port: int, method: str, path: str, body: bytes | None, every: float, timeout: float):
    """A thread asking ``path`` every ``every`` s until the returned event is set; its (latency, error) list."""
    done, out = threading.Event(), []

    def loop() -> None:
        while not done.is_set():
            out.append(one(host, port, method, path, body, timeout))
            done.wait(every)

    t = threading.Thread(target=loop, daemon=True)
    t.start()
    return done, out, t


def slow_clients(host: str, port: int, n: int, every: float, duration: float) -> dict:
    """``n`` connections trickling one header line every ``every`` s, reopened when the server closes them."""
    stop = time.time() + duration
    socks: list[socket.socket | None] = [None] * n
    opened = closed = 0
    line = 0
    while time.time() < stop:
        for i in range(n):
            s = socks[i]
            try:
                if s is None:
                    s = socket.create_connection((host, port), timeout=2)
                    s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
                    socks[i] = s
                    opened += 1
                else:
                    s.sendall(f"X-Slow-{line}: 1\r\n".encode())
            except OSError:  # refused, timed out (backlog full) or closed by the server: reopen next round
                closed += s is not None
                if s is not None:
                    s.close()
                socks[i] = None
        line += 1
        time.sleep(max(0.0, min(every, stop - time.time())))
    for s in socks:
        if s is not None:
            s.close()
    return {"opened": opened, "closed_by_server": closed}


def scenario_slow(host, port, args) -> tuple[dict, dict]:
    done, probes, t = probing(host, port, "GET", "/health", None, 0.5, 10)
    t0 = time.perf_counter()
    info = slow_clients(host, port, args.slow_clients, args.every, args.duration)
    done.set()
    t.join()
    return info, summary(probes, time.perf_counter() - t0)


def scenario_large(host, port, args, text: str) -> tuple[dict, dict]:
    small = json.dumps({"tasks": [{"id": 1, "data": {"text": text}}]}, ensure_ascii=False).encode()
    # one release, padded with an unused data field to --large-mb: the cost is the body, not the analysis
    pad = max(0, int(args.large_mb * 2**20) - len(small) - 20)
    body = json.dumps({"tasks": [{"id": 1, "data": {"text": text, "pad": "x" * pad}}]}, ensure_ascii=False).encode()
    done, probes, t = probing(host, port, "POST", "/predict", small, 0.5, 300)
    t0 = time.perf_counter()
    with ThreadPoolExecutor(args.large_clients) as ex:
        out = list(ex.map(lambda _: one(host, port, "POST", "/predict", body, 600), range(args.large_clients)))
    wall = time.perf_counter() - t0
    done.set()
    t.join()
    kinds = sorted({e or "200" for _, e in out})
    return ({"body_mb": len(body) / 2**20, "wall_s": wall, "answers": " ".join(kinds)}, summary(probes, wall))


def checkout(ref: str, into: Path) -> Path:
    """The tree of git ``ref`` (with its models) unpacked into ``into``."""
    data = subprocess.run(["git", "archive", "--format=tar", ref], cwd=ROOT, capture_output=True, check=True).stdout
    import io
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(into, filter="data")
    return into


def attacks(args, text: str) -> None:
    """Each scenario on a fresh backend of ``--before`` (if given) and of this tree, one after the other."""
    trees = []
    with tempfile.TemporaryDirectory() as td:
        if args.before:
            trees.append((f"before ({args.before})", checkout(args.before, Path(td))))
        trees.append(("after (this tree)", ROOT))
        print(f"{'scenario':8} {'backend':22} {'peak MB':>8}  probe: {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8} "
              f"{'errors':>6}/{'n':<4} details")
        for name in args.scenario.split(","):
            for label, root in trees:
                proc, port = start_backend(args.threads, root)
                try:
                    base = peak_rss_mb(proc.pid)
                    if name == "slow":
                        info, probe = scenario_slow("127.0.0.1", port, args)
                    else:
                        info, probe = scenario_large("127.0.0.1", port, args, text)
                    peak = peak_rss_mb(proc.pid)
                finally:
                    proc.terminate()
                    proc.wait(30)
                print(f"{name:8} {label:22} {peak or 0:8.0f}  probe: {probe['p50_ms']:8.0f} {probe['p99_ms']:8.0f} "
                      f"{probe['max_ms']:8.0f} {probe['errors']:>6}/{probe['requests']:<4} "
                      f"{' '.join(probe['error_kinds'])} | idle {base or 0:.0f} MB; "
                      + ", ".join(f"{k} {v:.1f}" if isinstance(v, float) else f"{k} {v}" for k, v in info.items()),
                      flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", help="a running backend (default: start one)")
    ap.add_argument("--requests", type=int, default=200, help="requests per level and route")
    ap.add_argument("--concurrency", default="1,20,50")
    ap.add_argument("--threads", type=int, default=4, help="worker threads of the started backend")
    ap.add_argument("--tasks", type=int, default=1, help="tasks per /predict request (Label Studio sends a page)")
    ap.add_argument("--scenario", default="load", help="load (latency table), or attacks: slow,large")
    ap.add_argument("--before", help="git ref whose backend the attacks also run on, first (e.g. efc4d17)")
    ap.add_argument("--slow-clients", type=int, default=200)
    ap.add_argument("--every", type=float, default=10.0, help="seconds between a slow client's header lines")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds the slow clients keep at it")
    ap.add_argument("--large-clients", type=int, default=6)
    ap.add_argument("--large-mb", type=float, default=63.0)
    args = ap.parse_args()
    from kzclassify.corpus import read_corpus
    releases = sorted((r.text for r in read_corpus(ROOT / "data" / "akorda_kk.txt")), key=len)
    text = releases[len(releases) // 2]  # the median-length release
    if args.scenario != "load":
        return attacks(args, text)
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
