"""The officer section's fields, named once: the officer's part of an encounter (police action,
force and injuries, transport). Holds no clinical content.

Used by the service that saves it (which fields a write may set), the API's input and output
serializers, and the PWA (its TypeScript list and labels are generated from
``officer_section_spec()``; see docs/clinical.md). Adding a field here (and to the model) is the
whole change on the server side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from .models import OfficerSection

FieldKind = Literal["choice", "boolean", "text", "line"]


@dataclass(frozen=True)
class OfficerField:
    name: str
    label: str  # as the form shows it
    kind: FieldKind  # choice (one of ``choices``), boolean, text (multi-line), line (one line)
    max_length: int | None = None
    choices: tuple[tuple[str, str], ...] = ()  # (value, label)


OFFICER_SECTION_FIELDS: tuple[OfficerField, ...] = (
    OfficerField("police_action", "Police action", "choice", choices=tuple(OfficerSection.PoliceAction.choices)),
    OfficerField("use_of_force", "Use of force", "boolean"),
    OfficerField("use_of_force_description", "Use of force: what happened", "text", max_length=4000),
    OfficerField("subject_injured", "Subject injured", "boolean"),
    OfficerField("officer_injured", "Officer injured", "boolean"),
    OfficerField("injuries_description", "Injuries", "text", max_length=4000),
    OfficerField("transport", "Transport", "choice", choices=tuple(OfficerSection.Transport.choices)),
    OfficerField("transport_destination", "Transport destination", "line", max_length=200),
    OfficerField("ivc_custody", "IVC custody taken by police", "boolean"),
)
OFFICER_SECTION_FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in OFFICER_SECTION_FIELDS)


def officer_section_spec() -> list[dict[str, Any]]:
    """The list as JSON-ready data (for code generation): name, label, kind, max_length, choices."""
    return [
        {
            "name": f.name,
            "label": f.label,
            "kind": f.kind,
            "max_length": f.max_length,
            "choices": [{"value": value, "label": label} for value, label in f.choices],
        }
        for f in OFFICER_SECTION_FIELDS
    ]
