"""The accessibility check of the browser tests: axe-core, from npm, run inside each page.

``make test`` installs axe-core with npm into ``tests/a11y/node_modules`` (the version is
pinned in ``tests/a11y/package-lock.json``); no CDN, no network at test time. The script is
added to a browser context as an init script, which the pages' Content-Security-Policy does
not govern, so the pages are checked exactly as they are served.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from playwright.sync_api import BrowserContext, Page

AXE_JS = Path(__file__).resolve().parent / "a11y" / "node_modules" / "axe-core" / "axe.min.js"
# WCAG 2.0, 2.1 and 2.2, levels A and AA: the rules axe tags with these.
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa"]
BLOCKING = ("serious", "critical")


def axe_available() -> bool:
    return AXE_JS.is_file()


def install_axe(context: BrowserContext) -> None:
    """Every page of ``context`` gets axe-core before its own scripts run."""
    if not axe_available():
        from .conftest import unavailable

        unavailable(f"axe-core not found at {AXE_JS} (make test runs npm ci in tests/a11y)")
    context.add_init_script(path=os.fspath(AXE_JS))


def violations(page: Page) -> list[dict[str, Any]]:
    """axe's WCAG A and AA violations on the page as it stands, each with its impact and nodes."""
    return page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: " + n.failureSummary.split("\\n")[1]),
            }));
        }""",
        WCAG_TAGS,
    )


def serious_violations(page: Page) -> list[dict[str, Any]]:
    return [v for v in violations(page) if v["impact"] in BLOCKING]


def describe(found: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for where, items in found.items():
        for item in items:
            lines.append(f"{where}: {item['impact']} {item['id']} ({item['help']})")
            lines.extend(f"    {node}" for node in item["nodes"])
    return "\n".join(lines)
