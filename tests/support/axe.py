"""axe-core, the accessibility engine (npm, installed by the Makefile in
tests/web/axe/), run inside a Playwright page: `serious_violations(page)` and
`assert_accessible(page)`.

The script is evaluated through the DevTools protocol, so the pages' own
Content-Security-Policy (script-src 'self', no inline script) does not stop
it and needs no exception for the tests. axe's default rules run (WCAG 2.x
A and AA, best practices) and its experimental ones (`label-content-name-mismatch`
is one); a violation of impact serious or critical fails.
"""
from __future__ import annotations

from functools import lru_cache
from typing import List

from bot.core.paths import ROOT

AXE_DIR = ROOT / "tests" / "web" / "axe"
AXE_SCRIPT = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")


@lru_cache(maxsize=1)
def axe_source() -> str:
    if not AXE_SCRIPT.exists():
        raise AssertionError(f"{AXE_SCRIPT.relative_to(ROOT)} is missing: `make test` installs it "
                             f"(cd {AXE_DIR.relative_to(ROOT)} && npm ci --no-audit --no-fund)")
    return AXE_SCRIPT.read_text(encoding="utf-8")


def violations(page) -> List[dict]:
    """axe's violations on the page as it is now: [{"id", "impact", "help", "nodes": [target...]}]."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source() + "\n;undefined")
    return page.evaluate("""async () => {
        const options = {resultTypes: ['violations'], rules: {}};
        // axe's default rule set (WCAG 2.x A and AA, best practices) and its experimental rules.
        for (const rule of axe.getRules(['experimental'])) options.rules[rule.ruleId] = {enabled: true};
        const result = await axe.run(document, options);
        return result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary}))}));
    }""")


def serious_violations(page) -> List[dict]:
    return [v for v in violations(page) if v["impact"] in FAILING_IMPACTS]


def describe(found: List[dict]) -> str:
    return "\n".join(f"- {v['id']} ({v['impact']}): {v['help']}\n"
                     + "\n".join(f"    {n['target']}: {n['summary']}" for n in v["nodes"][:5]) for v in found)


def assert_accessible(page, what: str) -> None:
    """No serious or critical axe-core violation on `page` now (`what` names the state in the message)."""
    found = serious_violations(page)
    assert not found, f"axe-core on {what}:\n{describe(found)}"
