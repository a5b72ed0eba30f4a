from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

MARKER = "ZEBRA-NARRATIVE-7731"  # planted in clinical text; must never reach police roles


def write(client: APIClient, method: str, url: str, body: Any = None, *, key: str | None = None) -> Any:
    """A write as the PWA outbox sends it: JSON with an Idempotency-Key."""
    return getattr(client, method)(
        url, body if body is not None else {}, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4())
    )


def grant_part2(user: Any) -> Any:
    """Authorise ``user`` for 42 CFR Part 2 content; returns a fresh instance (permission cache)."""
    from django.contrib.auth.models import Permission

    from apps.accounts.models import User

    user.user_permissions.add(Permission.objects.get(codename="view_part2", content_type__app_label="clinical"))
    return User.objects.get(pk=user.pk)


@pytest.fixture
def clinical_supervisor(make_user: Callable[..., Any]) -> Any:
    return make_user("clin_sup", "clinical_supervisor", first="Cora")


@pytest.fixture
def care_navigator(make_user: Callable[..., Any]) -> Any:
    return make_user("navigator", "care_navigator", first="Nia")


@pytest.fixture
def encounter_a(api: Callable[[Any], APIClient], clinician_a: Any, officer_a: Any, team_a: Any, on_shift_a: Any) -> Any:
    """An open incident encounter of team A, with officer_a on it."""
    from apps.clinical.models import Encounter

    eid = uuid.uuid4()
    res = write(
        api(clinician_a),
        "post",
        "/api/v1/clinical/encounters/",
        {"id": str(eid), "kind": "incident", "team_id": team_a.pk, "officer_id": officer_a.pk},
    )
    assert res.status_code == 201, res.json()
    return Encounter.objects.get(pk=eid)


@pytest.fixture
def note_a(api: Callable[[Any], APIClient], clinician_a: Any, encounter_a: Any) -> Any:
    from apps.clinical.models import ClinicalNote

    nid = uuid.uuid4()
    res = write(
        api(grant_part2(clinician_a)),
        "post",
        f"/api/v1/clinical/encounters/{encounter_a.pk}/notes/",
        {
            "id": str(nid),
            "format": "dap",
            "sections": {"data": f"Person tearful {MARKER}", "assessment": "Acute distress", "plan": "Referral"},
            "diagnoses": ["F32.9 major depressive disorder"],
            "substance_use": "Daily alcohol use, 10 drinks",
        },
    )
    assert res.status_code == 201, res.json()
    return ClinicalNote.objects.get(pk=nid)


@pytest.fixture(autouse=True)
def role_groups(db: Any) -> None:
    """A ``transaction=True`` test flushes the role groups the accounts migration made; recreate
    them so later tests' personas really hold their roles."""
    from django.contrib.auth.models import Group

    from apps.accounts.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)
