"""Mutants mutmut cannot make or cannot run: it leaves decorated functions alone (Testimony's
hybrid consent methods, the view decorator ``roles_required``), made none of ``region_ids_for``,
and cannot tell which tests reach the PDF renderer's forked child (``_render_in_child``). Each
mutant below is applied to the working tree, the tests that guard it are run (SQLite, stopping
at the first failure), and the file is put back. A mutant is killed when a test fails.

    NAPO_TEST_BACKENDS=sqlite .venv/bin/python scripts/hand-mutants.py [WORD …]   (part of `make mutation`;
    with words, only the mutants whose names contain one)
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONSENT = "napo_tracker/testimonies/models.py"
CONSENT_TESTS = [
    "tests/testimonies/test_consent.py",
    "tests/testimonies/test_services.py",
    "tests/briefings/test_services.py",
    "tests/api",
]
GATE_TESTS = ["tests/security/test_access.py", "tests/test_security.py"]
SCOPE_TESTS = ["tests/security/test_scope.py", "tests/test_security.py", "tests/regions"]
PDF = "napo_tracker/pdf.py"
PDF_TESTS = ["tests/test_pdf.py", "tests/security/test_pdf_fetches.py"]

MUTANTS: list[tuple[str, str, str, str, list[str]]] = [
    # (name, file, original text, mutated text, tests)
    (
        "may_quote_to without consent",
        CONSENT,
        "bool(self.public_text) and consented",
        "bool(self.public_text)",
        CONSENT_TESTS,
    ),
    (
        "may_quote_to without a public text",
        CONSENT,
        "APPROVED and bool(self.public_text) and consented",
        "APPROVED and consented",
        CONSENT_TESTS,
    ),
    (
        "may_quote_to without approval",
        CONSENT,
        "return self.status == TestimonyStatus.APPROVED and bool(self.public_text) and consented",
        "return bool(self.public_text) and consented",
        CONSENT_TESTS,
    ),
    (
        "SQL consent rule without consent",
        CONSENT,
        '            cls.public_text != "",\n            cls.has_consent_for(audience),\n',
        '            cls.public_text != "",\n',
        CONSENT_TESTS,
    ),
    (
        "SQL consent rule takes an empty public text",
        CONSENT,
        '            cls.public_text != "",\n',
        "",
        CONSENT_TESTS,
    ),
    (
        "SQL consent rule takes no public text",
        CONSENT,
        "            cls.public_text.is_not(None),\n",
        "",
        CONSENT_TESTS,
    ),
    (
        "SQL consent rule without approval",
        CONSENT,
        "            cls.status == TestimonyStatus.APPROVED.value,\n",
        "",
        CONSENT_TESTS,
    ),
    (
        "consent to MPs read for the press",
        CONSENT,
        "if QuoteAudience.parse(audience) is QuoteAudience.MPS:",
        "if QuoteAudience.parse(audience) is not QuoteAudience.MPS:",
        CONSENT_TESTS,
    ),
    (
        "consent to the press read as consent to MPs",
        CONSENT,
        "        return self.has_press_consent\n",
        "        return self.has_mps_consent\n",
        CONSENT_TESTS,
    ),
    (
        "roles_required lets every role through",
        "napo_tracker/security.py",
        "            if current_user.role not in roles:\n                abort(403)\n",
        "",
        GATE_TESTS,
    ),
    (
        "roles_required lets anonymous visitors through",
        "napo_tracker/security.py",
        "            if not current_user.is_authenticated:\n                abort(401)\n",
        "",
        ["tests/security/test_access.py::test_roles_required_refuses_on_its_own_without_the_gate"],
    ),
    (
        "the render child without the safe fetcher",
        PDF,
        "url_fetcher=fetcher).render()",
        "url_fetcher=None).render()",
        PDF_TESTS,
    ),
    (
        "the render child without a memory cap",
        "napo_tracker/kernel/bounded.py",
        "        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))\n",
        "",
        ["tests/test_pdf.py"],
    ),
    (
        "the render child keeps <link rel=attachment>",
        PDF,
        "    document.metadata.attachments = []\n",
        "",
        PDF_TESTS,
    ),
    (
        "the render child keeps <a rel=attachment>",
        PDF,
        '        page.links = [link for link in page.links if link[0] != "attachment"]\n',
        "        pass\n",
        PDF_TESTS,
    ),
    (
        "region_ids_for: everyone sees every region",
        "napo_tracker/regions/scoping.py",
        "    return {region.id for region in user.regions}\n",
        "    return None\n",
        SCOPE_TESTS,
    ),
    (
        "region_ids_for: nobody sees every region",
        "napo_tracker/regions/scoping.py",
        "    if user.sees_all_regions:\n        return None\n",
        "",
        SCOPE_TESTS,
    ),
]


def main(only: list[str]) -> int:
    """Run every mutant, or those whose names contain one of ``only``."""
    env = {**os.environ, "NAPO_TEST_BACKENDS": os.environ.get("NAPO_TEST_BACKENDS", "sqlite")}
    pytest = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "not browser"]
    killed = 0
    chosen = [m for m in MUTANTS if not only or any(word in m[0] for word in only)]
    for name, relative, original, mutated, tests in chosen:
        path = ROOT / relative
        source = path.read_text()
        if source.count(original) != 1:
            print(f"NOT APPLIED  {name}: the original text is not in {relative} once")
            return 2
        path.write_text(source.replace(original, mutated))
        try:
            result = subprocess.run([*pytest, *tests], cwd=ROOT, env=env, capture_output=True, text=True)
        finally:
            path.write_text(source)
        caught = result.returncode != 0
        killed += caught
        print(f"{'killed  ' if caught else 'SURVIVED'}  {name}")
    print(f"hand mutants: {killed}/{len(chosen)} killed")
    return 0 if killed == len(chosen) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
