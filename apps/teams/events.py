"""Events of teams (apps.realtime.registry): a supervisor created, changed or deleted a team."""

from __future__ import annotations

from apps.realtime.registry import BOOLEAN, INTEGER, STRING, EventType, array, obj

_TEAM = obj(
    {
        "team_id": INTEGER,
        "call_sign": STRING,
        "name": STRING,
        "kind": STRING,
        "is_active": BOOLEAN,
        "member_ids": array(INTEGER),
    }
)

TEAM_CREATED = EventType("team.created", "A team was created; to dispatchers, supervisors and its members.", _TEAM)
TEAM_UPDATED = EventType(
    "team.updated",
    "A team's call sign, name, kind, activity or members changed; to dispatchers, supervisors and its members.",
    _TEAM,
)
TEAM_DELETED = EventType(
    "team.deleted", "A team was deleted; to dispatchers, supervisors and its former members.", _TEAM
)

EVENTS = (TEAM_CREATED, TEAM_UPDATED, TEAM_DELETED)
