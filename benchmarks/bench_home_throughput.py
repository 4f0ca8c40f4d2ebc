"""Throughput of the logged-in home page against a bare Flask "hello" app.

Both run under gunicorn with 2 sync workers on 127.0.0.1, measured in the same run by the
same load loop: CONCURRENCY client processes, each sending its share of REQUESTS requests
one after another (a new connection per request, as gunicorn's sync workers close them).
Rounds alternate between the apps and the median of each is compared. The home page is
napo-tracker's real one, over SQLite with the demo data, as the demo London rep. For
reference it also measures a logged-in page with no domain panels (the change-password
form), which shows what the foundation alone (login gate, session, user loading, headers,
base layout) costs.

    python -m benchmarks.bench_home_throughput [--requests 2000] [--concurrency 4] [--rounds 3]

Target: the home page reaches at least 40 % of the bare app's requests per second.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BIN = Path(sys.executable).parent
TARGET = 0.40
REP_EMAIL = "rep.london@demo.napo-tracker.test"
REP_PASSWORD = "demo-rep-pass-1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(port: int, method: str, path: str, body: str | None = None,
            headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def wait_until_up(port: int, path: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited with {process.returncode}")
        try:
            status, _, _ = request(port, "GET", path)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"server on port {port} did not answer {path} within {timeout:.0f} s")


def gunicorn(app_spec: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", app_spec],
        cwd=ROOT, env=env)


def log_in(port: int) -> str:
    """Log in through the real form; returns the Cookie header of the logged-in session."""
    status, headers, body = request(port, "GET", "/login")
    cookie = headers["set-cookie"].split(";")[0]
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body).group(1).decode()
    form = urllib.parse.urlencode({"csrf_token": token, "email": REP_EMAIL, "password": REP_PASSWORD})
    status, headers, _ = request(port, "POST", "/login", form, {
        "Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie,
        "Referer": f"http://127.0.0.1:{port}/login"})
    if status != 302 or "set-cookie" not in headers:
        raise RuntimeError(f"could not log in as the demo rep (status {status}); is the demo data loaded?")
    return headers["set-cookie"].split(";")[0]


def _client(args: tuple[int, str, str | None, int, bytes]) -> tuple[int, int]:
    port, path, cookie, count, must_contain = args
    headers = {"Cookie": cookie} if cookie else {}
    ok = errors = 0
    for _ in range(count):
        status, _, body = request(port, "GET", path, headers=headers)
        if status == 200 and must_contain in body:
            ok += 1
        else:
            errors += 1
    return ok, errors


def measure(pool: ProcessPoolExecutor, port: int, path: str, cookie: str | None, requests: int,
            concurrency: int, must_contain: bytes) -> dict:
    share = requests // concurrency
    started = time.perf_counter()
    results = list(pool.map(_client, [(port, path, cookie, share, must_contain)] * concurrency))
    elapsed = time.perf_counter() - started
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    return {"requests": ok + errors, "errors": errors, "seconds": round(elapsed, 3),
            "rps": round(ok / elapsed, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per round and app")
    parser.add_argument("--concurrency", type=int, default=4, help="client processes")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="napo-bench-"))
    env = {**os.environ, "NAPO_CONFIG": "development", "NAPO_SECRET_KEY": secrets.token_urlsafe(48),
           "NAPO_DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite'}",
           "NAPO_INSTANCE_FILES_DIR": str(workdir / "files"), "PYTHONUNBUFFERED": "1"}
    flask = [str(BIN / "flask"), "--app", "napo_tracker"]
    print("Preparing a database with the demo data…", flush=True)
    for command in (["db", "upgrade"], ["demo", "load"]):
        subprocess.run(flask + command, cwd=ROOT, env=env, check=True, capture_output=True)

    home_port, hello_port = free_port(), free_port()
    servers = [gunicorn("wsgi:app", home_port, env), gunicorn("benchmarks.hello_app:app", hello_port, env)]
    try:
        wait_until_up(home_port, "/healthz", servers[0])
        wait_until_up(hello_port, "/", servers[1])
        cookie = log_in(home_port)
        rounds: dict[str, list[dict]] = {"hello": [], "home": [], "account": []}
        with ProcessPoolExecutor(max_workers=args.concurrency) as pool:
            # Warm up both (imports, template compilation, connection pools).
            measure(pool, hello_port, "/", None, 200, args.concurrency, b"hello")
            measure(pool, home_port, "/", cookie, 200, args.concurrency, b"Welcome")
            for number in range(1, args.rounds + 1):
                for name, port, path, session, marker in (
                        ("hello", hello_port, "/", None, b"hello"),
                        ("home", home_port, "/", cookie, b"Welcome"),
                        ("account", home_port, "/account/password", cookie, b"Change your password")):
                    result = measure(pool, port, path, session, args.requests, args.concurrency, marker)
                    rounds[name].append(result)
                    print(f"round {number} {name:<7} {result['rps']:>8.1f} req/s "
                          f"({result['requests']} requests, {result['errors']} errors, {result['seconds']} s)",
                          flush=True)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(10)

    hello_rps = statistics.median(r["rps"] for r in rounds["hello"])
    home_rps = statistics.median(r["rps"] for r in rounds["home"])
    account_rps = statistics.median(r["rps"] for r in rounds["account"])
    errors = sum(r["errors"] for rs in rounds.values() for r in rs)
    ratio = home_rps / hello_rps
    summary = {
        "benchmark": "home_throughput", "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(), "load_average": [round(x, 2) for x in os.getloadavg()],
        "requests_per_round": args.requests, "concurrency": args.concurrency, "rounds": rounds,
        "hello_rps": hello_rps, "home_rps": home_rps, "account_rps": account_rps, "ratio": round(ratio, 3),
        "account_ratio": round(account_rps / hello_rps, 3), "target": TARGET,
        "errors": errors,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "home_throughput.json").write_text(json.dumps(summary, indent=2))
    print(f"\nbare Flask hello : {hello_rps:8.1f} req/s (median of {args.rounds})")
    print(f"logged-in home   : {home_rps:8.1f} req/s (median of {args.rounds})")
    print(f"change password  : {account_rps:8.1f} req/s (no domain panels: the foundation alone), "
          f"{account_rps / hello_rps:.1%} of hello")
    print(f"ratio home/hello : {ratio:8.1%}  (target ≥ {TARGET:.0%}) -> {'met' if ratio >= TARGET else 'NOT met'}")
    print(f"load average     : {summary['load_average']} on {summary['cpus']} CPUs; errors: {errors}")
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
