"""Incident fixtures: a hand-made incident, an incident offered to team A, a CAD API key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from apps.incidents import services
from apps.incidents.models import Assignment, Incident

DEFAULTS: dict[str, Any] = {
    "call_type_code": "SUICTHRT",
    "priority": 8,
    "priority_local": "P1",
    "address": "101 City Hall Plaza, Durham, NC",
    "subject_name": "Jordan Example",
    "weapon_present": True,
    "weapon_kind": "knife",
}


@pytest.fixture
def make_incident(dispatcher: Any) -> Callable[..., Incident]:
    def make(**values: Any) -> Incident:
        return services.incident_create(by=dispatcher, values={**DEFAULTS, **values})

    return make


@pytest.fixture
def incident(make_incident: Callable[..., Incident]) -> Incident:
    return make_incident()


@pytest.fixture
def offered(incident: Incident, on_shift_a: Any, dispatcher: Any) -> Assignment:
    """The incident offered to team A (on shift)."""
    return services.assignment_offer(incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)


@pytest.fixture
def cad_user(make_user: Callable[..., Any]) -> Any:
    return make_user("cad-durham")


@pytest.fixture
def cad_key(cad_user: Any) -> str:
    from apps.accounts.models import ApiKey

    _key, raw = ApiKey.generate(name="Durham CAD", user=cad_user)
    return raw
