"""Under CI=true a missing browser fails the run; on a developer's machine it is skipped."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _run_browser_journey(ci: bool) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key != "CI"}
    env.update(NAPO_CHROMIUM="/nonexistent/chromium", NAPO_TEST_BACKENDS="sqlite")
    if ci:
        env["CI"] = "true"
    return subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_browser_foundation.py", "-q", "-p", "no:cacheprovider", "-rfs"],
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
