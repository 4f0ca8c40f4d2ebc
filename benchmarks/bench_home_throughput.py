"""Throughput of the logged-in home page against a bare Flask "hello" app.

Both run under gunicorn with 2 sync workers on 127.0.0.1, measured in the same run by the
same load generator. With ``--client wrk`` (the default when ``wrk`` is installed: Debian's
``apt-get install wrk``) one wrk thread keeps CONCURRENCY connections busy for DURATION
seconds per round; being C, it leaves the CPUs to the servers, which a Python client on a
2-CPU machine does not. With ``--client python``, CONCURRENCY client processes each send
their share of REQUESTS requests one after another. Either way every request opens a new
connection, as gunicorn's sync workers close them, and every response must be a 200
containing the expected text. Rounds alternate between the apps and the median of each is
compared. The home page is napo-tracker's real one, over SQLite with the demo data, as the
demo London rep. For reference it also measures a logged-in page with no domain panels
(the change-password form), which shows what the foundation alone (login gate, session,
user loading, headers, base layout) costs.

    python -m benchmarks.bench_home_throughput [--client wrk|python] [--duration 10]
                                               [--requests 2000] [--concurrency 4] [--rounds 3]

Target: the home page reaches at least 40 % of the bare app's requests per second.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from napo_tracker.crypto import generate_key

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
BIN = Path(sys.executable).parent
TARGET = 0.40
REP_EMAIL = "rep.london@demo.napo-tracker.test"
REP_PASSWORD = "amber ferry window 63"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def request(
    port: int, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
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
        cwd=ROOT,
        env=env,
    )


def log_in(port: int) -> str:
    """Log in through the real form; returns the Cookie header of the logged-in session."""
    status, headers, body = request(port, "GET", "/login")
    cookie = headers["set-cookie"].split(";")[0]
    found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
    assert found is not None, "no CSRF token on the login page"
    token = found.group(1).decode()
    form = urllib.parse.urlencode({"csrf_token": token, "email": REP_EMAIL, "password": REP_PASSWORD})
    status, headers, _ = request(
        port,
        "POST",
        "/login",
        form,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": cookie,
            "Referer": f"http://127.0.0.1:{port}/login",
        },
    )
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


def measure(
    pool: ProcessPoolExecutor,
    port: int,
    path: str,
    cookie: str | None,
    requests: int,
    concurrency: int,
    must_contain: bytes,
) -> dict:
    share = requests // concurrency
    started = time.perf_counter()
    results = list(pool.map(_client, [(port, path, cookie, share, must_contain)] * concurrency))
    elapsed = time.perf_counter() - started
    ok = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    return {"requests": ok + errors, "errors": errors, "seconds": round(elapsed, 3), "rps": round(ok / elapsed, 1)}


# wrk counts only transport errors; this script also fails any response that is not a 200
# containing the marker (a logged-out session would otherwise be a fast 302).
WRK_SCRIPT = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) marker = args[1]; bad = 0 end
function response(status, headers, body)
  if status ~= 200 or not string.find(body, marker, 1, true) then bad = bad + 1 end
end
function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do total = total + thread:get("bad") end
  io.write(string.format("NAPO requests=%d bad=%d errors=%d seconds=%f\\n", summary.requests, total,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6))
end
"""


def measure_wrk(
    script: Path, port: int, path: str, cookie: str | None, duration: float, concurrency: int, must_contain: bytes
) -> dict:
    command = ["wrk", "-t", "1", "-c", str(concurrency), "-d", f"{duration:g}s", "-s", str(script)]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    command += [f"http://127.0.0.1:{port}{path}", "--", must_contain.decode()]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    summary = re.search(r"^NAPO (.*)$", output, re.M)
    assert summary is not None, output
    fields = dict(item.split("=", 1) for item in summary.group(1).split())
    requests, seconds = int(fields["requests"]), float(fields["seconds"])
    errors = int(fields["bad"]) + int(fields["errors"])
    return {
        "requests": requests,
        "errors": errors,
        "seconds": round(seconds, 3),
        "rps": round((requests - errors) / seconds, 1),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--client",
        choices=("auto", "wrk", "python"),
        default="auto",
        help="load generator: wrk (when installed) or Python processes",
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per round and app (wrk)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per round and app (python)")
    parser.add_argument("--concurrency", type=int, default=4, help="connections (wrk) or client processes")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    elif client == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (Debian: apt-get install wrk)")
    workdir = Path(tempfile.mkdtemp(prefix="napo-bench-"))
    env = {
        **os.environ,
        "NAPO_CONFIG": "development",
        "NAPO_SECRET_KEY": secrets.token_urlsafe(48),
        "NAPO_DATA_KEYS": generate_key(),
        "NAPO_DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite'}",
        "NAPO_INSTANCE_FILES_DIR": str(workdir / "files"),
        "PYTHONUNBUFFERED": "1",
    }
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
            if client == "wrk":
                script = workdir / "check.lua"
                script.write_text(WRK_SCRIPT)

                def run(port: int, path: str, session: str | None, marker: bytes, warm_up: bool = False) -> dict:
                    return measure_wrk(
                        script, port, path, session, 2 if warm_up else args.duration, args.concurrency, marker
                    )
            else:

                def run(port: int, path: str, session: str | None, marker: bytes, warm_up: bool = False) -> dict:
                    return measure(
                        pool, port, path, session, 200 if warm_up else args.requests, args.concurrency, marker
                    )

            # Warm up both (imports, template compilation, connection pools).
            run(hello_port, "/", None, b"hello", warm_up=True)
            run(home_port, "/", cookie, b"Welcome", warm_up=True)
            for number in range(1, args.rounds + 1):
                for name, port, path, session, marker in (
                    ("hello", hello_port, "/", None, b"hello"),
                    ("home", home_port, "/", cookie, b"Welcome"),
                    ("account", home_port, "/account/password", cookie, b"Change your password"),
                ):
                    result = run(port, path, session, marker)
                    rounds[name].append(result)
                    print(
                        f"round {number} {name:<7} {result['rps']:>8.1f} req/s "
                        f"({result['requests']} requests, {result['errors']} errors, {result['seconds']} s)",
                        flush=True,
                    )
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
        "benchmark": "home_throughput",
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "client": client,
        "concurrency": args.concurrency,
        "rounds": rounds,
        **({"seconds_per_round": args.duration} if client == "wrk" else {"requests_per_round": args.requests}),
        "hello_rps": hello_rps,
        "home_rps": home_rps,
        "account_rps": account_rps,
        "ratio": round(ratio, 3),
        "account_ratio": round(account_rps / hello_rps, 3),
        "target": TARGET,
        "errors": errors,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "home_throughput.json").write_text(json.dumps(summary, indent=2))
    print(f"\nbare Flask hello : {hello_rps:8.1f} req/s (median of {args.rounds})")
    print(f"logged-in home   : {home_rps:8.1f} req/s (median of {args.rounds})")
    print(
        f"change password  : {account_rps:8.1f} req/s (no domain panels: the foundation alone), "
        f"{account_rps / hello_rps:.1%} of hello"
    )
    print(f"ratio home/hello : {ratio:8.1%}  (target ≥ {TARGET:.0%}) -> {'met' if ratio >= TARGET else 'NOT met'}")
    print(
        f"load average     : {summary['load_average']} on {summary['cpus']} CPUs; errors: {errors}; "
        f"client: {client}, {args.concurrency} {'connections' if client == 'wrk' else 'processes'}"
    )
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
