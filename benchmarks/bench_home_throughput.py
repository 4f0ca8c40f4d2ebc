"""Throughput of logged-in pages against the fair yardstick, and of the yardstick against "hello".

The yardstick (benchmarks/yardstick_app.py) is a bare Flask + Flask-Login app that loads one
user from the same database with one query and renders a template as large as napo-tracker's
home page: what any logged-in page must at least cost. A "hello" app is measured too, for
reference only. All run under gunicorn with 2 sync workers on 127.0.0.1, over SQLite with the
demo data, measured in the same run by the same load generator.

The client logs in through the real login form as the demo London rep, follows the redirect
to the first page, and keeps every cookie the server set meanwhile: wrk then carries the
cookie header a browser would hold after its first page (one wrk thread, CONCURRENCY
connections, DURATION seconds per round; ``--client python`` uses Python processes). Every
response must be a 200 containing the page's marker text. Rounds are interleaved (ABAB, the
order reversed every other round) and each round gives one ratio per page; the report is
min / median / max of those ratios. Beside requests per second it reads the CPU time the
gunicorn workers spent per request (/proc): on a machine shared with other work, requests per
second also measure who else had the CPUs, CPU per request does not.

    python -m benchmarks.bench_home_throughput [--client wrk|python] [--duration 5] [--rounds 5]

Targets: the home page at least 50 % of the yardstick; a page without panels (the
change-password form) at least 80 %.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import secrets
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from benchmarks.common import fmt, ratios, spread, write_result
from napo_tracker.crypto import generate_key

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
HOME_TARGET = 0.50
BARE_PAGE_TARGET = 0.80
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


def cpu_seconds(master: subprocess.Popen) -> float:
    """User and system CPU time of a gunicorn master's workers so far (Linux /proc)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master.pid:  # the parent's pid
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def gunicorn(app_spec: str, port: int, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning", app_spec],
        cwd=ROOT,
        env=env,
    )


def _cookies(headers: list[tuple[str, str]]) -> dict[str, str]:
    found = {}
    for name, value in headers:
        if name.lower() == "set-cookie":
            pair = value.split(";")[0]
            key, _, content = pair.partition("=")
            found[key.strip()] = content
    return found


def _get_all(port: int, method: str, path: str, body: str | None = None, headers: dict[str, str] | None = None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read()
    finally:
        connection.close()


def browser_cookie(port: int, first_page: str = "/") -> str:
    """Log in through the real form, then open the first page, keeping every cookie the server
    sets on the way, as a browser does: the Cookie header it then sends with each page."""
    jar: dict[str, str] = {}

    def header() -> str:
        return "; ".join(f"{k}={v}" for k, v in jar.items())

    status, headers, body = _get_all(port, "GET", "/login")
    jar.update(_cookies(headers))
    found = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', body)
    assert found is not None, "no CSRF token on the login page"
    form = urllib.parse.urlencode({"csrf_token": found.group(1).decode(), "email": REP_EMAIL, "password": REP_PASSWORD})
    status, headers, _ = _get_all(
        port,
        "POST",
        "/login",
        form,
        {
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": header(),
            "Referer": f"http://127.0.0.1:{port}/login",
        },
    )
    if status != 302:
        raise RuntimeError(f"could not log in as the demo rep (status {status}); is the demo data loaded?")
    jar.update(_cookies(headers))
    status, headers, _ = _get_all(port, "GET", first_page, headers={"Cookie": header()})
    assert status == 200, status
    jar.update(_cookies(headers))
    return header()


def yardstick_cookie(port: int, user_id: int) -> str:
    status, headers, _ = _get_all(port, "GET", f"/start/{user_id}")
    assert status == 200, status
    return "; ".join(f"{k}={v}" for k, v in _cookies(headers).items())


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
    parser.add_argument("--duration", type=float, default=5, help="seconds per round and page (wrk)")
    parser.add_argument("--requests", type=int, default=1000, help="requests per round and page (python)")
    parser.add_argument("--concurrency", type=int, default=4, help="connections (wrk) or client processes")
    parser.add_argument("--rounds", type=int, default=5)
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

    home_port, yard_port, hello_port = free_port(), free_port(), free_port()
    servers = [gunicorn("wsgi:app", home_port, env), gunicorn("benchmarks.hello_app:app", hello_port, env)]
    try:
        wait_until_up(home_port, "/healthz", servers[0])
        wait_until_up(hello_port, "/", servers[1])
        cookie = browser_cookie(home_port)
        status, _, home_body = request(home_port, "GET", "/", headers={"Cookie": cookie})
        assert status == 200 and b"Welcome" in home_body
        # The yardstick renders a page as large as this home page, for the same user.
        with sqlite3.connect(workdir / "bench.sqlite") as connection:
            user_id = connection.execute("SELECT id FROM users WHERE email = ?", (REP_EMAIL,)).fetchone()[0]
        servers.append(
            gunicorn("benchmarks.yardstick_app:app", yard_port, {**env, "YARDSTICK_BYTES": str(len(home_body))})
        )
        wait_until_up(yard_port, f"/start/{user_id}", servers[2])
        yard_cookie = yardstick_cookie(yard_port, user_id)
        _, _, yard_body = request(yard_port, "GET", "/", headers={"Cookie": yard_cookie})
        print(f"page sizes: home {len(home_body):,} bytes, yardstick {len(yard_body):,} bytes", flush=True)

        pages = {
            "hello": (hello_port, "/", None, b"hello"),
            "yardstick": (yard_port, "/", yard_cookie, b"Welcome"),
            "home": (home_port, "/", cookie, b"Welcome"),
            "account": (home_port, "/account/password", cookie, b"Change your password"),
        }
        rounds: dict[str, list[dict]] = {name: [] for name in pages}
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

            for page in pages.values():  # warm up (imports, templates, pools)
                run(*page, warm_up=True)
            order = list(pages)
            for number in range(1, args.rounds + 1):
                for name in order if number % 2 else reversed(order):  # ABAB…, then BABA…
                    master = servers[{"hello": 1, "yardstick": 2}.get(name, 0)]
                    before = cpu_seconds(master)
                    result = run(*pages[name])
                    # CPU per request: what the page costs the server, whatever else the machine runs.
                    result["cpu_ms_per_request"] = round(
                        (cpu_seconds(master) - before) * 1000 / max(result["requests"] - result["errors"], 1), 3
                    )
                    rounds[name].append(result)
                    print(
                        f"round {number} {name:<9} {result['rps']:>8.1f} req/s, "
                        f"{result['cpu_ms_per_request']:.2f} ms "
                        f"CPU/request ({result['requests']} requests, {result['errors']} errors, "
                        f"{result['seconds']} s)",
                        flush=True,
                    )
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(10)

    def per_round(a: str, b: str) -> dict[str, float]:
        return ratios([r["rps"] for r in rounds[a]], [r["rps"] for r in rounds[b]])

    home = per_round("home", "yardstick")
    account = per_round("account", "yardstick")
    yard_hello = per_round("yardstick", "hello")

    def per_round_cpu(a: str, b: str) -> dict[str, float]:
        # Throughput on an idle machine is the inverse of CPU per request: b's over a's.
        return ratios([r["cpu_ms_per_request"] for r in rounds[b]], [r["cpu_ms_per_request"] for r in rounds[a]])

    home_cpu, account_cpu = per_round_cpu("home", "yardstick"), per_round_cpu("account", "yardstick")
    errors = sum(r["errors"] for rs in rounds.values() for r in rs)
    summary = {
        "benchmark": "home_throughput",
        "client": client,
        "concurrency": args.concurrency,
        **({"seconds_per_round": args.duration} if client == "wrk" else {"requests_per_round": args.requests}),
        "rounds": rounds,
        "rps_median": {name: statistics.median(r["rps"] for r in rs) for name, rs in rounds.items()},
        "home_over_yardstick": home,
        "account_over_yardstick": account,
        "yardstick_over_hello": yard_hello,
        "home_over_yardstick_by_cpu": home_cpu,
        "account_over_yardstick_by_cpu": account_cpu,
        "targets": {"home": HOME_TARGET, "account": BARE_PAGE_TARGET},
        "errors": errors,
        "page_bytes": {"home": len(home_body), "yardstick": len(yard_body)},
    }
    path = write_result("home_throughput", summary)
    for name, rs in rounds.items():
        print(f"{name:<10} {fmt(spread([r['rps'] for r in rs]), ' req/s', places=0)}  (min / median / max)")
    print(
        f"home / yardstick     {fmt(home, '', 100, 1)} %  (target ≥ {HOME_TARGET:.0%}) -> "
        f"{'met' if home['median'] >= HOME_TARGET else 'NOT met'}"
    )
    print(
        f"account / yardstick  {fmt(account, '', 100, 1)} %  (target ≥ {BARE_PAGE_TARGET:.0%}) -> "
        f"{'met' if account['median'] >= BARE_PAGE_TARGET else 'NOT met'}"
    )
    print(f"yardstick / hello    {fmt(yard_hello, '', 100, 1)} %  (reference)")
    print(
        f"by the workers' CPU per request (throughput on an idle machine): home / yardstick "
        f"{fmt(home_cpu, '', 100, 1)} %, account / yardstick {fmt(account_cpu, '', 100, 1)} %"
    )
    print(
        f"errors: {errors}; client: {client}, {args.concurrency} "
        f"{'connections' if client == 'wrk' else 'processes'}; results: {path}"
    )
    return 0 if errors == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
