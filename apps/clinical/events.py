"""Events of the clinical record (apps.realtime.registry): ids, the kind of record and, per
recipient, the risk level (clinical roles) or the high-risk flag (the officer). Never text; the
payload per recipient comes from apps/clinical/policy.py ``event_payload_for``."""

from __future__ import annotations

from apps.realtime.registry import BOOLEAN, INTEGER, STRING, UUID, EventType, enum, obj

from .models import Encounter

_PER_RECIPIENT = {"risk_level": enum("", *Encounter.Risk.values), "high_risk": BOOLEAN}

ENCOUNTER_CHANGED = EventType(
    "clinical.encounter_changed",
    "A record of an encounter changed (what: its kind, or just 'encounter'); to the people on it but the writer.",
    obj({"encounter_id": UUID, "event": enum("changed"), "what": STRING, "revision": INTEGER}, _PER_RECIPIENT),
)
ENCOUNTER_HIGH_RISK = EventType(
    "clinical.encounter_high_risk",
    "An encounter turned high risk (C-SSRS); to the clinical supervisors and the people on it.",
    obj({"encounter_id": UUID, "event": enum("high_risk")}, _PER_RECIPIENT),
)
BREAK_GLASS = EventType(
    "clinical.break_glass",
    "Someone opened an encounter outside their scope (break-glass); to the clinical supervisors.",
    obj({"break_glass_id": INTEGER, "encounter_id": UUID, "user_id": INTEGER}),
)

EVENTS = (ENCOUNTER_CHANGED, ENCOUNTER_HIGH_RISK, BREAK_GLASS)
