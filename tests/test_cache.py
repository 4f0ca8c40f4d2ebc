"""The chart cache: charts drawn once for the same figures, shared through a real Redis
between workers, each process's own copy bounded, and pages that still answer with Redis down."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal

import pytest

from napo_tracker import cache, charts

from .conftest import unavailable


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory) -> Iterator[str]:
    """A real redis-server of this machine, in a temporary folder, for this module."""
    binary = shutil.which("redis-server")
    if binary is None:
        unavailable("redis-server not found (make test installs Debian's redis-server)")
    port = _free_port()
    folder = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(folder)],
        stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


@pytest.fixture
def drawings(monkeypatch) -> Iterator[list[str]]:
    """The titles of the charts actually drawn by matplotlib during the test."""
    drawn: list[str] = []
    draw = charts._draw_bar_chart

    def counting(title, *args):
        drawn.append(title)
        return draw(title, *args)

    monkeypatch.setattr(charts, "_draw_bar_chart", counting)
    cache.clear_local()
    yield drawn
    cache.clear_local()


def bar(title: str = "WMT %", values=(Decimal("131.5"), None)) -> str:
    return charts.bar_chart_svg(title, ["London", "Wales"], list(values), unit="percent", thresholds=(100,))


def test_the_same_figures_are_drawn_once_and_new_figures_anew(app, drawings):
    first = bar()
    assert bar() == first and drawings == ["WMT %"]
    changed = bar(values=(Decimal("131.6"), None))  # one figure moved: another chart
    assert changed != first and drawings == ["WMT %", "WMT %"]


def test_each_process_keeps_a_bounded_copy():
    local = cache.LocalCache(size=2)
    for key in ("a", "b", "c"):
        local.set(key, key.upper())
    assert local.get("a") is None and local.get("b") == "B" and local.get("c") == "C"


@pytest.fixture
def app_overrides(request) -> dict:
    return {"REDIS_URL": request.getfixturevalue("redis_url")} if "shared" in request.node.name else {}


def test_workers_share_charts_through_redis_shared(app, drawings, redis_url):
    cache._redis(redis_url).flushdb()  # the module's Redis served the other database's run too
    first = bar("Shared chart")
    cache.clear_local()  # another worker: its own memory is empty, Redis is not
    assert bar("Shared chart") == first and drawings == ["Shared chart"]


def test_pages_answer_while_redis_is_down(app, client, world, login_as, drawings):
    app.config["REDIS_URL"] = f"redis://127.0.0.1:{_free_port()}/0"  # nothing listens there
    cache._redis_down_until.clear()
    login_as(world.official)
    assert client.get("/cases/figures").status_code == 200
    assert bar("While Redis is down") and "While Redis is down" in drawings
    cache._redis_down_until.clear()
