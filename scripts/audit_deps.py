#!/usr/bin/env python3
"""Audit the locked Python dependencies for known vulnerabilities (`make audit`, part of `make test`).

1. Export the lock (``uv export --frozen --no-hashes --all-groups``), or read ``--requirements FILE``.
2. Ask pip-audit (PyPI's JSON API / OSV). Every dependency it audits is judged by it.
3. Every dependency pip-audit could not audit (its service unreachable: on our build machines PyPI's
   per-version JSON answers 404 and api.osv.dev does not resolve, so pip-audit "passes" having
   skipped everything) is checked against the OFFLINE safety-db snapshot installed with the dev
   dependencies. That snapshot is old (see its date in the output): it catches old, known-bad pins
   (e.g. django==3.2.0) but not newer advisories. The output says so loudly; CI with network access
   gets the real check from pip-audit.
4. Findings listed in ``scripts/audit_allowlist.toml`` (each with a reason) are reported, not failed.

Exit status: 0 clean, 1 vulnerable dependencies, 2 usage or configuration error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parent.parent
ALLOWLIST = ROOT / "scripts" / "audit_allowlist.toml"


class ConfigError(Exception):
    """Usage or configuration problem: exit status 2."""


@dataclass(frozen=True)
class Finding:
    package: str
    version: str
    advisory_id: str
    aliases: tuple[str, ...]
    summary: str
    source: str  # "pip-audit" or "safety-db snapshot"

    def ids(self) -> set[str]:
        return {self.advisory_id, *self.aliases}


def find_uv() -> str:
    for candidate in (shutil.which("uv"), str(ROOT / ".tools" / "bin" / "uv")):
        if candidate and Path(candidate).is_file():
            return candidate
    raise ConfigError("audit: uv not found (make install bootstraps it into .tools/)")


def export_lock() -> str:
    result = subprocess.run(
        [find_uv(), "export", "--frozen", "--no-hashes", "--all-groups", "--no-emit-project", "--no-header"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise ConfigError(f"audit: uv export failed:\n{result.stderr}")
    return result.stdout


def parse_pins(text: str) -> dict[str, str]:
    """{canonical name: version} for every ``name==version`` line (markers and comments ignored)."""
    pins: dict[str, str] = {}
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith(("-", "--")):
            continue
        try:
            req = Requirement(line)
        except InvalidRequirement:
            raise ConfigError(f"audit: cannot parse requirement line: {raw!r}") from None
        exact = [s for s in req.specifier if s.operator in ("==", "===")]
        if not exact:
            raise ConfigError(f"audit: {req.name} is not pinned (==); audit a lock, not ranges")
        pins[canonicalize_name(req.name)] = exact[0].version
    return pins


def run_pip_audit(requirements: Path, timeout: float) -> tuple[list[Finding], set[str], str]:
    """(findings, names pip-audit could NOT audit, note). On any failure: nothing audited."""
    exe = Path(sys.executable).with_name("pip-audit")
    cmd = [str(exe) if exe.is_file() else "pip-audit"]
    cmd += ["-r", str(requirements), "--no-deps", "--disable-pip", "--progress-spinner", "off", "-f", "json"]
    try:
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        data = json.loads(result.stdout)
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        return [], {"*"}, f"pip-audit did not answer ({type(exc).__name__})"
    findings: list[Finding] = []
    skipped: set[str] = set()
    for dep in data.get("dependencies", []):
        name = canonicalize_name(str(dep.get("name", "")))
        if dep.get("skip_reason"):
            skipped.add(name)
            continue
        for vuln in dep.get("vulns", []):
            findings.append(
                Finding(
                    package=name,
                    version=str(dep.get("version", "")),
                    advisory_id=str(vuln.get("id", "")),
                    aliases=tuple(str(a) for a in vuln.get("aliases", [])),
                    summary=str(vuln.get("description", ""))[:200],
                    source="pip-audit",
                )
            )
    audited = len(data.get("dependencies", [])) - len(skipped)
    return findings, skipped, f"pip-audit audited {audited}, could not audit {len(skipped)}"


def load_snapshot() -> tuple[dict[str, list[dict[str, object]]], str]:
    # Located without importing it: safety_db/__init__.py opens a relative path and fails on import.
    spec = importlib.util.find_spec("safety_db")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("audit: the offline safety-db snapshot is not installed (uv sync installs it)")
    path = Path(next(iter(spec.submodule_search_locations))) / "insecure_full.json"
    data = json.loads(path.read_text())
    meta = data.pop("$meta", {})
    stamp = meta.get("timestamp") if isinstance(meta, dict) else None
    when = dt.datetime.fromtimestamp(int(stamp), tz=dt.UTC).date().isoformat() if stamp else "unknown date"
    try:
        from importlib.metadata import version

        when += f", package safety-db {version('safety-db')}"
    except Exception:  # noqa: S110 - the date alone is enough
        pass
    return {canonicalize_name(k): v for k, v in data.items()}, when


def snapshot_findings(pins: dict[str, str], names: set[str]) -> list[Finding]:
    db, _ = load_snapshot()
    findings = []
    for name in sorted(names):
        if name not in pins or name not in db:
            continue
        try:
            version = Version(pins[name])
        except InvalidVersion:
            continue
        for adv in db[name]:
            specs = adv.get("specs") or [adv.get("v", "")]
            for spec in specs if isinstance(specs, list) else [specs]:
                try:
                    hit = version in SpecifierSet(str(spec), prereleases=True)
                except InvalidSpecifier:
                    continue
                if hit:
                    cve = str(adv.get("cve") or "")
                    findings.append(
                        Finding(
                            package=name,
                            version=pins[name],
                            advisory_id=str(adv.get("id", "")),
                            aliases=(cve,) if cve else (),
                            summary=str(adv.get("advisory", ""))[:200],
                            source="safety-db snapshot",
                        )
                    )
                    break
    return findings


def load_allowlist(path: Path) -> dict[str, str]:
    """{advisory id: reason}; an entry without a reason is a configuration error."""
    if not path.is_file():
        return {}
    data = tomllib.loads(path.read_text())
    allowed: dict[str, str] = {}
    for entry in data.get("allow", []):
        adv_id = str(entry.get("id", "")).strip()
        reason = str(entry.get("reason", "")).strip()
        if not adv_id or not reason:
            raise ConfigError(f"audit: every entry in {path.name} needs an id and a reason: {entry!r}")
        allowed[adv_id] = reason
    return allowed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requirements", "-r", type=Path, help="audit this pinned file instead of uv.lock")
    parser.add_argument("--allowlist", type=Path, default=ALLOWLIST)
    parser.add_argument("--offline", action="store_true", help="skip pip-audit; use only the snapshot")
    parser.add_argument("--timeout", type=float, default=float(os.environ.get("AUDIT_PIP_AUDIT_TIMEOUT", "120")))
    args = parser.parse_args(argv)

    text = args.requirements.read_text() if args.requirements else export_lock()
    pins = parse_pins(text)
    allowed = load_allowlist(args.allowlist)
    source = str(args.requirements) if args.requirements else "uv.lock"
    print(f"audit: {len(pins)} pinned dependencies from {source}")

    findings: list[Finding]
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text("".join(f"{n}=={v}\n" for n, v in sorted(pins.items())))
        if args.offline:
            findings, skipped, note = [], {"*"}, "pip-audit skipped (--offline)"
        else:
            findings, skipped, note = run_pip_audit(req, args.timeout)
    print(f"audit: {note}")
    offline_names = set(pins) if "*" in skipped else skipped & set(pins)
    if offline_names:
        _, when = load_snapshot()
        bar = "!" * 100
        print(bar)
        print(
            f"!! {len(offline_names)} of {len(pins)} dependencies were checked ONLY against the OFFLINE safety-db "
            f"snapshot ({when}).\n!! It knows no advisory published after that date. Run this where pip-audit "
            "can reach PyPI/OSV for a current check."
        )
        print(bar)
        findings += snapshot_findings(pins, offline_names)

    failing = []
    for f in sorted(findings, key=lambda f: (f.package, f.advisory_id)):
        reason = next((allowed[i] for i in f.ids() if i in allowed), None)
        label = f"{f.package}=={f.version} {f.advisory_id} {' '.join(f.aliases)} [{f.source}]"
        if reason:
            print(f"audit: allowed  {label}: {reason}")
        else:
            failing.append(f)
            print(f"audit: VULNERABLE {label}\n         {f.summary}")
    if failing:
        print(f"audit: FAILED: {len(failing)} known vulnerabilities in {len({f.package for f in failing})} packages")
        return 1
    print("audit: no known vulnerabilities")
    return 0


def run(argv: list[str] | None = None) -> int:
    try:
        return main(argv)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(run())
