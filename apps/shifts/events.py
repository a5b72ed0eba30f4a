"""Events of the roster (apps.realtime.registry): a supervisor created, changed or deleted a shift."""

from __future__ import annotations

from apps.realtime.registry import DATETIME, INTEGER, STRING, EventType, array, obj

_SHIFT = obj(
    {
        "shift_id": INTEGER,
        "team_id": INTEGER,
        "team_call_sign": STRING,
        "starts_at": DATETIME,
        "ends_at": DATETIME,
        "member_ids": array(INTEGER),
    }
)

SHIFT_CREATED = EventType("shift.created", "A shift was created; to dispatchers, supervisors and its members.", _SHIFT)
SHIFT_UPDATED = EventType(
    "shift.updated",
    "A shift's team, times or members changed; to dispatchers, supervisors and its members before and after.",
    _SHIFT,
)
SHIFT_DELETED = EventType(
    "shift.deleted", "A shift was deleted; to dispatchers, supervisors and its former members.", _SHIFT
)

EVENTS = (SHIFT_CREATED, SHIFT_UPDATED, SHIFT_DELETED)
