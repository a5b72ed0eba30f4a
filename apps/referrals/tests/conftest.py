from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient


def write(client: APIClient, method: str, url: str, body: Any = None, *, key: str | None = None) -> Any:
    """A write as the PWA outbox sends it: JSON with an Idempotency-Key."""
    return getattr(client, method)(
        url, body if body is not None else {}, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4())
    )


@pytest.fixture(autouse=True)
def role_groups(db: Any) -> None:
    """A ``transaction=True`` test flushes the role groups and the grants our data migration made;
    recreate them so personas hold their roles and supervisors their admin permissions."""
    from django.contrib.auth.models import Group, Permission

    from apps.accounts.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)
    grants = {"agency": ("add", "change", "delete", "view"), "followup": ("change", "view")}
    codenames = [f"{action}_{model}" for model, actions in grants.items() for action in actions]
    permissions = list(Permission.objects.filter(content_type__app_label="referrals", codename__in=codenames))
    for role in ("supervisor", "clinical_supervisor", "admin"):
        Group.objects.get(name=role).permissions.add(*permissions)


@pytest.fixture
def clinical_supervisor(make_user: Callable[..., Any]) -> Any:
    return make_user("clin_sup", "clinical_supervisor", first="Cora")


@pytest.fixture
def care_navigator(make_user: Callable[..., Any]) -> Any:
    user = make_user("navigator", "care_navigator", first="Nia")
    user.email = "nia@example.org"
    user.save(update_fields=["email"])
    return user


@pytest.fixture
def agency(db: Any) -> Any:
    from apps.referrals.models import Agency

    return Agency.objects.create(name="Durham Center Access", type="crisis_facility", phone="919-560-7305")


@pytest.fixture
def person(api: Callable[[Any], APIClient], clinician_a: Any) -> Any:
    from apps.clinical.models import Person

    pid = uuid.uuid4()
    res = write(
        api(clinician_a), "post", "/api/v1/clinical/persons/", {"id": str(pid), "first_name": "Pat", "last_name": "Doe"}
    )
    assert res.status_code == 201, res.json()
    return Person.objects.get(pk=pid)


@pytest.fixture
def make_encounter(
    api: Callable[[Any], APIClient], clinician_a: Any, officer_a: Any, team_a: Any, on_shift_a: Any, person: Any
) -> Callable[..., Any]:
    """An open incident encounter of team A about ``person`` (through the clinical API)."""
    from apps.clinical.models import Encounter

    def make(by: Any = None, *, with_person: bool = True) -> Encounter:
        eid = uuid.uuid4()
        body = {"id": str(eid), "kind": "incident", "team_id": team_a.pk, "officer_id": officer_a.pk}
        if with_person:
            body["person_id"] = str(person.pk)
        res = write(api(by or clinician_a), "post", "/api/v1/clinical/encounters/", body)
        assert res.status_code == 201, res.json()
        return Encounter.objects.get(pk=eid)

    return make


@pytest.fixture
def encounter(make_encounter: Callable[..., Any]) -> Any:
    return make_encounter()


@pytest.fixture
def make_referral(api: Callable[[Any], APIClient], clinician_a: Any, agency: Any) -> Callable[..., Any]:
    def make(encounter: Any, **extra: Any) -> dict[str, Any]:
        body = {"type": "outpatient_mental_health", "agency_id": agency.pk, **extra}
        res = write(api(clinician_a), "post", f"/api/v1/encounters/{encounter.pk}/referrals/", body)
        assert res.status_code == 201, res.json()
        return dict(res.json())

    return make
