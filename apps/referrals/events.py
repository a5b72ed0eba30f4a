"""Events of care navigation (apps.realtime.registry): ids and times only, never the reason."""

from __future__ import annotations

from apps.realtime.registry import DATETIME, INTEGER, STRING, EventType, obj

FOLLOWUP_ASSIGNED = EventType(
    "followup.assigned",
    "A follow-up was assigned to the recipient (created or reassigned); to its assignee.",
    obj({"followup_id": INTEGER, "due_at": DATETIME, "url": STRING}),
)

EVENTS = (FOLLOWUP_ASSIGNED,)
