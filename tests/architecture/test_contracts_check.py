"""`make contracts-check` (scripts/export_contracts.py --check) fails on stale generated files and says
to run `make contracts`; the generated modules cover what the PWA imports from them."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("export_contracts", ROOT / "scripts" / "export_contracts.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def script(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    module = _script()
    monkeypatch.setattr(module, "OUT", tmp_path)
    return module


def test_current_files_pass(script: ModuleType, tmp_path: Path) -> None:
    files = {"a.ts": "export const A = 1;\n", "b.ts": "export const B = 2;\n"}
    script.write(files)
    assert script.check(files) == 0


def test_a_changed_missing_or_left_over_file_fails_and_names_make_contracts(
    script: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = {"a.ts": "export const A = 1;\n", "b.ts": "export const B = 2;\n"}
    script.write(files)
    (tmp_path / "a.ts").write_text("export const A = 3;\n")
    assert script.check(files) == 1
    out = capsys.readouterr()
    assert "-export const A = 3;" in out.out and "+export const A = 1;" in out.out  # the diff
    assert "Run `make contracts`" in out.err and "changed: a.ts" in out.err

    script.write(files)
    (tmp_path / "b.ts").unlink()
    assert script.check(files) == 1
    assert "changed: b.ts" in capsys.readouterr().err

    script.write(files)
    (tmp_path / "old.ts").write_text("export {};\n")
    assert script.check(files) == 1
    assert "not generated any more: old.ts" in capsys.readouterr().err


def test_write_removes_files_no_longer_generated(script: ModuleType, tmp_path: Path) -> None:
    (tmp_path / "old.ts").write_text("export {};\n")
    script.write({"a.ts": "export const A = 1;\n"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.ts"]
