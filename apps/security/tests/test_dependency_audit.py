"""`make audit` (scripts/audit_deps.py): a known-vulnerable pin fails it, our lock passes, the
allow-list needs a reason per advisory."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from django.conf import settings

SCRIPT = Path(settings.BASE_DIR) / "scripts" / "audit_deps.py"


def audit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own script with fixed arguments
        [sys.executable, str(SCRIPT), *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=str(settings.BASE_DIR),
        check=False,
    )


def test_a_known_vulnerable_django_pin_fails_the_audit(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("django==3.2.0\n")
    result = audit("--requirements", str(requirements))  # pip-audit first, the snapshot where it cannot
    assert result.returncode == 1, result.stdout + result.stderr
    assert "VULNERABLE django==3.2.0" in result.stdout
    assert "FAILED" in result.stdout


def test_the_locked_dependencies_pass_and_the_offline_fallback_says_so_loudly() -> None:
    result = audit("--offline")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no known vulnerabilities" in result.stdout
    assert "OFFLINE safety-db snapshot" in result.stdout
    assert "pinned dependencies from uv.lock" in result.stdout


def test_a_reviewed_advisory_in_the_allowlist_is_reported_not_failed(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("django==3.2.3\n")  # four advisories in the snapshot
    first = audit("--offline", "--requirements", str(requirements))
    assert first.returncode == 1
    ids = [line.split()[3] for line in first.stdout.splitlines() if line.startswith("audit: VULNERABLE")]
    assert ids
    allowlist = tmp_path / "allow.toml"
    allowlist.write_text("".join(f'[[allow]]\nid = "{i}"\nreason = "reviewed in a test"\n' for i in ids))
    allowed = audit("--offline", "--requirements", str(requirements), "--allowlist", str(allowlist))
    assert allowed.returncode == 0, allowed.stdout
    assert "allowed" in allowed.stdout and "reviewed in a test" in allowed.stdout


def test_an_allowlist_entry_without_a_reason_is_a_configuration_error(tmp_path: Path) -> None:
    allowlist = tmp_path / "allow.toml"
    allowlist.write_text('[[allow]]\nid = "pyup.io-1"\n')
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("django==5.2.8\n")
    result = audit("--offline", "--requirements", str(requirements), "--allowlist", str(allowlist))
    assert result.returncode == 2
    assert "needs an id and a reason" in result.stderr


def test_an_unpinned_requirement_is_refused(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("django>=3\n")
    result = audit("--offline", "--requirements", str(requirements))
    assert result.returncode == 2
    assert "not pinned" in result.stderr
