"""The house stays acyclic (issue 19; docs/architecture.md).

``lint-imports`` checks the layer contracts (pyproject.toml). These tests add what it does not say in
one line: an import graph of ``apps/`` built from every import statement in the source, including
the ones inside functions, in which no two apps import each other and core imports no app; and a
proof that a forbidden import does fail ``lint-imports``.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ROOT / "apps"
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# Pairs allowed to import each other: none (issue 19 broke the last cycle). Keep it empty.
KNOWN_TWO_WAY: set[frozenset[str]] = set()


def _is_test_or_migration(path: Path) -> bool:
    parts = path.relative_to(APPS).parts
    return "tests" in parts or "migrations" in parts


def _imported_modules(node: ast.AST, module: str, is_package: bool) -> list[str]:
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if isinstance(node, ast.ImportFrom):
        if node.level:  # relative: resolve against this module's package
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = package[: len(package) - (node.level - 1)]
            target = ".".join([*base, node.module] if node.module else base)
        else:
            target = node.module or ""
        return [target, *(f"{target}.{alias.name}" for alias in node.names)]
    return []


def app_import_graph() -> dict[str, dict[str, list[str]]]:
    """{importing app: {imported app: ["path:line", ...]}} over every import statement of apps/
    (module level and inside functions), tests and migrations excluded."""
    graph: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(APPS.rglob("*.py")):
        if _is_test_or_migration(path):
            continue
        rel = path.relative_to(ROOT)
        is_package = path.name == "__init__.py"
        module = ".".join(rel.with_suffix("").parts[:-1] if is_package else rel.with_suffix("").parts)
        app = rel.parts[1]
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            for target in _imported_modules(node, module, is_package):
                parts = target.split(".")
                if len(parts) >= 2 and parts[0] == "apps" and parts[1] != app and (APPS / parts[1]).is_dir():
                    where = f"{rel}:{getattr(node, 'lineno', 0)}"
                    if where not in graph[app][parts[1]]:
                        graph[app][parts[1]].append(where)
    return graph


def test_the_graph_sees_imports_inside_functions() -> None:
    """The reader of the graph itself: a function-level import counts like a module-level one."""
    tree = ast.parse("def f():\n    from apps.incidents.models import Incident\n")
    found = [t for node in ast.walk(tree) for t in _imported_modules(node, "apps.core.x", False)]
    assert "apps.incidents.models" in found
    tree = ast.parse("from ..realtime import services\n")
    found = [t for node in ast.walk(tree) for t in _imported_modules(node, "apps.core.x", False)]
    assert found[0] == "apps.realtime"


def test_no_two_apps_import_each_other() -> None:
    graph = app_import_graph()
    two_way = {frozenset((a, b)): graph[a][b] + graph[b][a] for a in graph for b in graph[a] if a in graph.get(b, {})}
    new = {pair: where for pair, where in two_way.items() if pair not in KNOWN_TWO_WAY}
    assert not new, "apps importing each other (docs/architecture.md): " + "; ".join(
        f"{' <-> '.join(sorted(pair))} at {', '.join(where)}" for pair, where in new.items()
    )


def test_core_imports_no_app() -> None:
    core = app_import_graph().get("core", {})
    assert not core, f"core imports other apps: {dict(core)}"


def _lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own tool on our own tree
        [str(LINT_IMPORTS), "--no-cache", "--no-logo"],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed (make install)")
def test_a_forbidden_import_fails_lint_imports(tmp_path: Path) -> None:
    """The contracts are not decoration: the same config on a copy of the tree with one upward import
    (core → incidents, inside a function) is broken, and names the import."""
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "node_modules")
    for name in ("apps", "durham_coresponse"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")

    clean = _lint_imports(tmp_path)
    assert clean.returncode == 0, clean.stdout + clean.stderr

    timefmt = tmp_path / "apps" / "core" / "timefmt.py"
    upward = "\n\ndef _upward() -> object:\n    from apps.incidents import models\n\n    return models\n"
    timefmt.write_text(timefmt.read_text() + upward)
    broken = _lint_imports(tmp_path)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert "BROKEN" in broken.stdout
    assert "apps.core.timefmt -> apps.incidents.models" in broken.stdout
