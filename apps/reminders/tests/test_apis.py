"""GET /api/v1/reminders/: a person's own reminders, for the PWA; the admin list and beat schedule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from apps.reminders.models import Reminder
from apps.reminders.services import reminders_sweep
from apps.security.testing import mfa_force_login

pytestmark = pytest.mark.django_db

URL = "/api/v1/reminders/"
MINUTE = dt.timedelta(minutes=1)


def test_a_person_sees_only_their_own_upcoming_reminders(
    api: Callable[[Any], Any], schedule: Callable[..., Reminder], clinician_a: Any, clinician_b: Any
) -> None:
    later = schedule(clinician_a, due_in=dt.timedelta(hours=2))
    sooner = schedule(clinician_a, due_in=dt.timedelta(hours=1))
    schedule(clinician_b, due_in=dt.timedelta(hours=1))
    cancelled = schedule(clinician_a, due_in=dt.timedelta(hours=1))
    Reminder.objects.filter(pk=cancelled.pk).update(status="cancelled")

    response = api(clinician_a).get(URL)

    assert response.status_code == 200
    body = response.json()
    assert [r["id"] for r in body["results"]] == [sooner.pk, later.pk]
    assert set(body["results"][0]) == {
        "id", "kind", "title", "url", "due_at", "status", "sent_at", "subject_type", "subject_id",
    }  # fmt: skip


def test_sent_reminders_are_listed_latest_first(
    api: Callable[[Any], Any], schedule: Callable[..., Reminder], clinician_a: Any
) -> None:
    sent = schedule(clinician_a, due_in=-MINUTE)
    upcoming = schedule(clinician_a, due_in=dt.timedelta(hours=1))
    reminders_sweep()
    client = api(clinician_a)
    assert [r["id"] for r in client.get(URL, {"state": "sent"}).json()["results"]] == [sent.pk]
    assert {r["id"] for r in client.get(URL, {"state": "all"}).json()["results"]} == {sent.pk, upcoming.pk}
    assert client.get(URL, {"state": "sent"}).json()["results"][0]["status"] == "sent"


def test_an_unknown_state_is_a_400_with_a_field_error(api: Callable[[Any], Any], clinician_a: Any) -> None:
    response = api(clinician_a).get(URL, {"state": "whenever"})
    assert response.status_code == 400
    assert "state" in response.json()["errors"]


def test_anonymous_callers_are_refused(api: Callable[[Any], Any]) -> None:
    assert api(None).get(URL).status_code in (401, 403)


def test_the_list_costs_a_fixed_number_of_queries(
    api: Callable[[Any], Any],
    schedule: Callable[..., Reminder],
    clinician_a: Any,
    django_assert_max_num_queries: Any,
) -> None:
    for hours in range(1, 21):
        schedule(clinician_a, due_in=dt.timedelta(hours=hours))
    client = api(clinician_a)
    with django_assert_max_num_queries(3):
        assert len(client.get(URL).json()["results"]) == 20


def test_the_admin_lists_reminders_and_shows_the_beat_schedule(
    schedule: Callable[..., Reminder], clinician_a: Any, make_user: Callable[..., Any]
) -> None:
    reminder = schedule(clinician_a, due_in=-MINUTE)
    reminders_sweep()
    admin_user = make_user("root_admin", "admin")
    admin_user.is_superuser = admin_user.is_staff = True
    admin_user.save()
    client = Client()
    mfa_force_login(client, admin_user)

    page = client.get("/admin/reminders/reminder/", {"status__exact": "sent"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "reminders-sweep" in html and "reminders.sweep" in html
    assert f"/admin/reminders/reminder/{reminder.pk}/change/" in html

    detail = client.get(f"/admin/reminders/reminder/{reminder.pk}/change/")
    assert detail.status_code == 200
    assert "E-mail" in detail.content.decode()  # the read-only delivery records
    for due in ("past", "hour", "day", "later"):
        assert client.get("/admin/reminders/reminder/", {"due": due}).status_code == 200


def test_the_admin_cancel_action_cancels_only_scheduled_rows(
    schedule: Callable[..., Reminder], clinician_a: Any, make_user: Callable[..., Any]
) -> None:
    sent = schedule(clinician_a, due_in=-MINUTE)
    reminders_sweep()
    upcoming = schedule(clinician_a, due_in=dt.timedelta(hours=1))
    admin_user = make_user("root_admin", "admin")
    admin_user.is_superuser = admin_user.is_staff = True
    admin_user.save()
    client = Client()
    mfa_force_login(client, admin_user)
    response = client.post(
        "/admin/reminders/reminder/",
        {"action": "cancel_selected", "_selected_action": [sent.pk, upcoming.pk]},
    )
    assert response.status_code == 302
    statuses = dict(Reminder.objects.values_list("pk", "status"))
    assert statuses == {sent.pk: "sent", upcoming.pk: "cancelled"}
