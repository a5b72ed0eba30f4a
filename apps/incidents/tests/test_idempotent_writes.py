"""Dispatch writes accept an optional Idempotency-Key: the phone outbox replays safely."""

from __future__ import annotations

from typing import Any

import pytest

from apps.incidents.models import Assignment, Incident

pytestmark = pytest.mark.django_db

BODY = {"address": "101 City Hall Plaza, Durham", "priority": 7, "call_type": "SUICTHRT", "source": "911"}


def test_incident_created_twice_with_one_key_is_one_incident(api: Any, dispatcher: Any) -> None:
    client = api(dispatcher)
    first = client.post("/api/v1/incidents/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.json()
    again = client.post("/api/v1/incidents/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 201
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["id"] == first.json()["id"]
    assert Incident.objects.count() == 1


def test_same_key_with_another_body_is_422_and_creates_nothing(api: Any, dispatcher: Any) -> None:
    client = api(dispatcher)
    assert client.post("/api/v1/incidents/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-2").status_code == 201
    other = client.post("/api/v1/incidents/", {**BODY, "priority": 2}, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 422
    assert "Idempotency-Key" in other.json()["errors"]
    assert Incident.objects.count() == 1


def test_without_a_key_each_post_is_its_own_write(api: Any, dispatcher: Any) -> None:
    client = api(dispatcher)
    assert client.post("/api/v1/incidents/", BODY, format="json").status_code == 201
    assert client.post("/api/v1/incidents/", BODY, format="json").status_code == 201
    assert Incident.objects.count() == 2


def test_an_accept_replayed_by_the_outbox_is_not_a_conflict(
    api: Any, dispatcher: Any, on_shift_a: Any, officer_a: Any
) -> None:
    created = api(dispatcher).post("/api/v1/incidents/", BODY, format="json").json()
    offer = api(dispatcher).post(
        f"/api/v1/incidents/{created['id']}/assignments/", {"team": on_shift_a.team_id}, format="json"
    )
    assert offer.status_code in (200, 201), offer.json()
    assignment_id = Assignment.objects.get(incident_id=created["id"]).pk
    phone = api(officer_a)
    first = phone.post(f"/api/v1/assignments/{assignment_id}/accept/", {}, format="json", HTTP_IDEMPOTENCY_KEY="acc")
    replay = phone.post(f"/api/v1/assignments/{assignment_id}/accept/", {}, format="json", HTTP_IDEMPOTENCY_KEY="acc")
    assert first.status_code == 200, first.json()
    assert replay.status_code == 200  # the stored answer, not "already accepted" 409
    assert replay.json()["status"] == "accepted"
