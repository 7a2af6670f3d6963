"""axe-core in the browser tests: an accessibility audit of the page as it is now.

`vendor/axe.min.js` is axe-core 4.10.3 from the npm registry (`npm pack axe-core@4.10.3`, MPL-2.0, licence beside
it; sha-256 880970c081707360e64f34cea25ff91892f5bc95675b0776925b9709dd8a68bb): vendored, so that `make test`
needs no network. It is evaluated through the DevTools protocol, which the pages' Content-Security-Policy (no
inline or foreign scripts) does not apply to, so the pages are audited exactly as served."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
FAILING_IMPACTS = {"serious", "critical"}


@cache
def _source() -> str:
    return AXE.read_text(encoding="utf-8")


def violations(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on `page` (every WCAG 2.x A/AA rule and its best practices), each with its nodes."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(_source())
    result: dict[str, Any] = page.evaluate("axe.run(document, { resultTypes: ['violations'] })")
    found: list[dict[str, Any]] = result["violations"]
    return found


def describe(violation: dict[str, Any]) -> str:
    targets = ", ".join(" ".join(node["target"]) for node in violation["nodes"][:3])
    return f"{violation['impact']}: {violation['id']} ({violation['help']}) at {targets}"
