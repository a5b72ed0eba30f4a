"""Row labels of the breakdowns (the categories people read), from the models' choices and code tables."""

from __future__ import annotations

from dataclasses import dataclass

from apps.clinical.models import Disposition, Encounter, IvcRecord
from apps.incidents.models import CallType, Incident
from apps.teams.models import Team

from .compute import NOT_SCREENED
from .models import TrainingRecord

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class Category:
    key: str
    label: str
    extra: tuple[tuple[str, str], ...] = ()


def _choices(choices: list[tuple[str, str]], *extra: tuple[str, str]) -> list[Category]:
    return [Category(str(v), str(label)) for v, label in [*choices, *extra]]


def label_sets() -> dict[str, list[Category]]:
    """Every category of every breakdown, in display order (rows with no data show 0)."""
    call_types = [
        Category(c.local_code, c.description, (("apco", c.apco_code),))
        for c in CallType.objects.filter(is_active=True).order_by("local_code")
    ]
    apco = sorted({code for code in Disposition.APCO.values() if code})
    return {
        "source": _choices(Incident.Source.choices),
        "call_type": call_types,
        "priority": [Category(str(p), f"Priority {p}") for p in range(10, -1, -1)],
        "hour_of_week": [
            Category(str(d * 24 + h), f"{DAYS[d]} {h:02d}:00", (("day", DAYS[d]), ("hour", str(h))))
            for d in range(7)
            for h in range(24)
        ],
        "eligibility": [
            Category("yes", "Eligible"),
            Category("no", "Not eligible"),
            Category("unknown", "Not triaged"),
        ],
        "triage_outcome": _choices(Incident.TriageOutcome.choices, ("none", "Not triaged")),
        "not_served_reason": _choices(
            Incident.NotServedReason.choices,
            ("dispatched_not_on_scene", "Dispatched, no team on scene"),
            ("not_recorded", "No reason recorded"),
        ),
        "encounter_kind": [c for c in _choices(Encounter.Kind.choices) if c.key != Encounter.Kind.FOLLOW_UP],
        "disposition": [
            Category(str(v), str(label), (("apco", Disposition.APCO.get(str(v), "")),))
            for v, label in Disposition.Code.choices
        ],
        "apco": [Category(code, f"APCO {code}") for code in apco] + [Category("none", "No APCO code")],
        "risk": _choices(Encounter.Risk.choices, (NOT_SCREENED, "Not screened")),
        "ivc_pathway": _choices(IvcRecord.Pathway.choices),
        "course": _choices(TrainingRecord.Course.choices),
    }


def team_labels() -> dict[int, str]:
    return {t.pk: t.call_sign for t in Team.objects.only("id", "call_sign")}
