"""Under CI=true a missing browser or redis-server fails the run; on a developer's machine it is skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run_browser_journey(ci: bool) -> subprocess.CompletedProcess:
    return _run_tests(ci, ["tests/test_browser_foundation.py"], NAPO_CHROMIUM="/nonexistent/chromium")


def _run_tests(ci: bool, args: list[str], **settings: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env.update(NAPO_TEST_BACKENDS="sqlite", **settings)
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", *args, "-q", "-p", "no:cacheprovider", "-rfs"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_missing_browser_fails_under_ci_and_skips_otherwise():
    under_ci = _run_browser_journey(ci=True)
    assert under_ci.returncode == 1, under_ci.stdout
    assert "Chromium not found at /nonexistent/chromium" in under_ci.stdout
    assert "(required under CI=true)" in under_ci.stdout

    locally = _run_browser_journey(ci=False)
    assert locally.returncode == 0, locally.stdout
    assert "1 skipped" in locally.stdout


def test_a_missing_redis_server_fails_under_ci_and_skips_otherwise():
    args = ["tests/jobs/test_queue.py", "-k", "health_reports_the_queue"]
    under_ci = _run_tests(True, args, NAPO_REDIS_SERVER="/nonexistent/redis-server")
    assert under_ci.returncode == 1, under_ci.stdout
    assert "redis-server not found" in under_ci.stdout and "(required under CI=true)" in under_ci.stdout

    locally = _run_tests(False, args, NAPO_REDIS_SERVER="/nonexistent/redis-server")
    assert locally.returncode == 0, locally.stdout
    assert "1 skipped" in locally.stdout
