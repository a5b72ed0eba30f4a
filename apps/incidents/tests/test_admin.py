"""The admin: supervisors edit the mapping tables; incidents are searchable and read-only."""

from __future__ import annotations

from typing import Any

from django.test import Client

from apps.incidents.models import CallType, DispositionCode, Incident
from apps.security.testing import mfa_force_login


def _login(user: Any) -> Client:
    client = Client()
    mfa_force_login(client, user)
    return client


def test_seeded_mapping_tables(db: Any) -> None:
    codes = set(CallType.objects.values_list("local_code", flat=True))
    assert {"EDP", "MNTL", "MTLV", "SUICIDE", "SUICTHRT", "WELFARE", "OD", "INTOX", "PERUNCON", "TROUBLE"} <= codes
    assert {"DISORD", "TRESPASS", "BARICADE"} <= codes
    assert DispositionCode.objects.get(program_code="arrest").apco_code == "03"
    assert DispositionCode.objects.get(program_code="ems_transport").apco_code == "45"
    assert DispositionCode.objects.count() == 14


def test_supervisor_edits_a_call_type_in_the_admin(supervisor: Any) -> None:
    client = _login(supervisor)
    ct = CallType.objects.get(local_code="WELFARE")
    url = f"/admin/incidents/calltype/{ct.pk}/change/"
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {"local_code": "WELFARE", "description": "Welfare check", "apco_code": "WELF", "is_behavioral_health": "on",
         "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    ct.refresh_from_db()
    assert ct.apco_code == "WELF"
    assert client.get("/admin/incidents/dispositioncode/add/").status_code == 200


def test_incidents_are_searchable_and_read_only_in_the_admin(supervisor: Any, offered: Any) -> None:
    client = _login(supervisor)
    listing = client.get("/admin/incidents/incident/?q=City+Hall&status__exact=Active")
    assert listing.status_code == 200
    assert f"/admin/incidents/incident/{offered.incident_id}/change/" in listing.content.decode()
    page = client.get(f"/admin/incidents/incident/{offered.incident_id}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "offered" in html  # the assignment inline
    assert 'name="_save"' not in html  # read-only: no save button
    response = client.post(f"/admin/incidents/incident/{offered.incident_id}/change/", {"priority": 1})
    assert response.status_code == 403
    assert Incident.objects.get(pk=offered.incident_id).priority == 8


def test_dispatcher_is_not_staff(dispatcher: Any) -> None:
    response = _login(dispatcher).get("/admin/incidents/calltype/")
    assert response.status_code == 302  # to the admin login
