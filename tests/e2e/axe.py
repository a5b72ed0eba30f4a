"""axe-core, injected from the frontend's node_modules (an npm devDependency; nothing is downloaded)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

AXE = Path(__file__).resolve().parents[2] / "frontend" / "node_modules" / "axe-core" / "axe.min.js"


def serious_violations(page: Any) -> list[str]:
    """Serious or critical WCAG violations on the page as it is now (empty when none)."""
    if not AXE.is_file():
        pytest.fail(f"{AXE} is missing: run `npm ci` in frontend/")
    # Evaluated over the DevTools protocol, not added as a <script>: the page's CSP refuses inline
    # script (and would report the attempt as a violation).
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8"))
    found = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations
              .filter(v => v.impact === "serious" || v.impact === "critical")
              .map(v => {
                const where = v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | ");
                return `${v.impact} ${v.id}: ${v.help} @ ${where}`;
              });
        }"""
    )
    return list(found)
