"""The one sign-readiness rule (DOMAIN.md §4, "Signing"): what a draft note still lacks before it can
be signed, each with a label a person understands.

The rule is data, ``SIGN_REQUIREMENTS``, read by one small evaluator here (``sign_missing``, used by
``note_sign`` and the ``readiness`` of a note in the API) and by one in the PWA
(``frontend/src/lib/readiness.ts``), which gets the same list generated into
``frontend/src/generated/notes.ts`` (``make contracts``). The PWA never retypes the rule: it only knows
the four kinds of requirement below. Both evaluators are tested against the shared answer sets in
``contracts/sign_readiness_cases.json``.

A requirement applies when its ``when`` matches (the note's format is one of ``formats``, the
encounter's risk level one of ``risk_levels``; a missing key matches everything) and is met when:

- ``section``: the section named by ``arg`` holds non-blank text;
- ``screen``: the encounter has a C-SSRS screen;
- ``precaution``: the safety precaution named by ``arg`` is confirmed (true);
- ``disposition``: the encounter has at least one disposition.

Pure: no database, no Django. ``field`` is the key of the 400 answer's ``errors`` a missing item is
reported under.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# Structured sections per note format (ClinicalNote.Format values); all required before signing.
FORMAT_SECTIONS: dict[str, tuple[str, ...]] = {
    "soap": ("subjective", "objective", "assessment", "plan"),
    "dap": ("data", "assessment", "plan"),
    "birp": ("behavior", "intervention", "response", "plan"),
    "crisis_assessment": ("presenting_problem", "mental_status", "risk_assessment", "plan"),
    "follow_up_contact": ("contact_summary", "plan"),
}
# Safety precautions that must all be confirmed before a high-risk encounter's note is signed.
SAFETY_PRECAUTION_LABELS: dict[str, str] = {
    "lethal_means_addressed": "Lethal means addressed",
    "not_left_alone": "Person not left alone",
    "supervisor_notified": "Supervisor notified",
    "safety_plan_reviewed": "Safety plan reviewed",
}
SAFETY_PRECAUTIONS: tuple[str, ...] = tuple(SAFETY_PRECAUTION_LABELS)
CSSRS_FORMATS: tuple[str, ...] = ("crisis_assessment",)
HIGH_RISK: tuple[str, ...] = ("high",)


def section_label(section: str) -> str:
    """``presenting_problem`` → ``Presenting problem`` (the heading the form shows)."""
    return section.replace("_", " ").capitalize()


@dataclass(frozen=True)
class Requirement:
    code: str
    label: str
    kind: str  # section | screen | precaution | disposition
    field: str
    arg: str = ""
    formats: tuple[str, ...] = ()
    risk_levels: tuple[str, ...] = ()

    def spec(self) -> dict[str, Any]:
        """The JSON form generated for the PWA."""
        when: dict[str, list[str]] = {}
        if self.formats:
            when["formats"] = list(self.formats)
        if self.risk_levels:
            when["risk_levels"] = list(self.risk_levels)
        return {
            "code": self.code,
            "label": self.label,
            "kind": self.kind,
            "field": self.field,
            "arg": self.arg,
            "when": when,
        }


def _requirements() -> tuple[Requirement, ...]:
    # One requirement per section of each format, in the form's order (so the missing list reads
    # like the form); a section's code is the same in every format that has it.
    reqs: list[Requirement] = [
        Requirement(
            code=f"section:{section}",
            label=f"Write the “{section_label(section)}” section",
            kind="section",
            field="sections",
            arg=section,
            formats=(fmt,),
        )
        for fmt, sections in FORMAT_SECTIONS.items()
        for section in sections
    ]
    reqs.append(
        Requirement(
            code="screen",
            label="Complete the C-SSRS screen (a crisis assessment needs one)",
            kind="screen",
            field="cssrs",
            formats=CSSRS_FORMATS,
        )
    )
    reqs.extend(
        Requirement(
            code=f"precaution:{key}",
            label=f"High risk: confirm “{label}”",
            kind="precaution",
            field="safety_precautions",
            arg=key,
            risk_levels=HIGH_RISK,
        )
        for key, label in SAFETY_PRECAUTION_LABELS.items()
    )
    reqs.append(
        Requirement(
            code="disposition",
            label="High risk: record a disposition decision",
            kind="disposition",
            field="dispositions",
            risk_levels=HIGH_RISK,
        )
    )
    return tuple(reqs)


SIGN_REQUIREMENTS: tuple[Requirement, ...] = _requirements()


@dataclass(frozen=True)
class SignFacts:
    """What the rule looks at: the note's content and three facts of its encounter."""

    format: str
    sections: Mapping[str, Any]
    safety_precautions: Mapping[str, Any]
    has_screen: bool
    risk_level: str | None
    disposition_count: int


def _applies(req: Requirement, facts: SignFacts) -> bool:
    if req.formats and facts.format not in req.formats:
        return False
    return not (req.risk_levels and (facts.risk_level or "") not in req.risk_levels)


def _met(req: Requirement, facts: SignFacts) -> bool:
    if req.kind == "section":
        return bool(str(facts.sections.get(req.arg) or "").strip())
    if req.kind == "screen":
        return facts.has_screen
    if req.kind == "precaution":
        return facts.safety_precautions.get(req.arg) is True
    if req.kind == "disposition":
        return facts.disposition_count > 0
    raise ValueError(f"unknown requirement kind {req.kind!r}")


def sign_missing(facts: SignFacts, requirements: Sequence[Requirement] = SIGN_REQUIREMENTS) -> list[Requirement]:
    """The requirements not met, in the rule's order (empty: the note may be signed)."""
    return [r for r in requirements if _applies(r, facts) and not _met(r, facts)]


def missing_as_errors(missing: Sequence[Requirement]) -> dict[str, list[str]]:
    """The 400 answer's ``errors``: the labels, grouped by field."""
    errors: dict[str, list[str]] = {}
    for req in missing:
        errors.setdefault(req.field, []).append(f"{req.label}.")
    return errors


def readiness_payload(missing: Sequence[Requirement]) -> dict[str, Any]:
    """``{"ready": bool, "missing": [{"code", "label"}]}`` for the API."""
    return {"ready": not missing, "missing": [{"code": r.code, "label": r.label} for r in missing]}
