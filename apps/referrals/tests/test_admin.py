from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from apps.referrals.models import Agency, FollowUp
from apps.reminders.models import Reminder
from apps.security.testing import mfa_force_login

pytestmark = pytest.mark.django_db


def admin_client(user: Any) -> Client:
    client = Client()
    mfa_force_login(client, user)
    return client


def test_supervisor_edits_the_agency_directory(supervisor: Any) -> None:
    client = admin_client(supervisor)
    res = client.post(
        "/admin/referrals/agency/add/",
        {"name": "Alliance Health", "type": "outpatient_mental_health", "phone": "800-510-9132", "is_active": "on"},
    )
    assert res.status_code == 302, res.content[:500]
    agency = Agency.objects.get(name="Alliance Health")
    res = client.post(
        f"/admin/referrals/agency/{agency.pk}/change/",
        {"name": "Alliance Health", "type": "outpatient_mental_health", "hours": "24/7"},
    )
    assert res.status_code == 302
    agency.refresh_from_db()
    assert (agency.hours, agency.is_active) == ("24/7", False)


def test_clinicians_have_no_admin_access_to_agencies(clinician_a: Any) -> None:
    assert admin_client(clinician_a).get("/admin/referrals/agency/").status_code == 302  # to the login page


def test_followup_admin_filters_and_reassign_action(
    supervisor: Any, make_user: Callable[..., Any], encounter: Any, make_referral: Callable[..., Any]
) -> None:
    first = make_user("nav1", "care_navigator")
    make_referral(encounter, notes="ZEBRA-NARRATIVE-7731")
    followup = FollowUp.objects.get()
    assert followup.assignee == first
    second = make_user("nav2", "care_navigator", first="Quinn")
    client = admin_client(supervisor)
    for query in ("", "?bucket=upcoming", "?bucket=overdue", f"?assignee={first.pk}", "?status=open"):
        res = client.get(f"/admin/referrals/followup/{query}")
        assert res.status_code == 200, query
        assert "ZEBRA" not in res.content.decode()
    assert (
        f"/admin/referrals/followup/{followup.pk}/change/"
        in client.get("/admin/referrals/followup/?bucket=upcoming").content.decode()
    )
    assert (
        f"/admin/referrals/followup/{followup.pk}/change/"
        not in client.get("/admin/referrals/followup/?bucket=overdue").content.decode()
    )
    detail = client.get(f"/admin/referrals/followup/{followup.pk}/change/")
    assert detail.status_code == 200
    assert "ZEBRA" not in detail.content.decode()
    res = client.post(
        "/admin/referrals/followup/",
        {"action": f"reassign_to_{second.pk}", "_selected_action": [followup.pk]},
        follow=True,
    )
    assert res.status_code == 200
    followup.refresh_from_db()
    assert followup.assignee == second
    assert Reminder.objects.get(dedupe_key=f"followup:{followup.pk}:due:v2").recipient == second
    assert "Reassigned 1 follow-up" in res.content.decode()


def test_followups_cannot_be_added_or_deleted_in_admin(supervisor: Any, encounter: Any) -> None:
    followup = FollowUp.objects.create(
        encounter=encounter,
        reason="referral",
        policy_key=str(uuid.uuid4()),
        due_at=timezone.now() + dt.timedelta(days=1),
        assignee=supervisor,
    )
    client = admin_client(supervisor)
    assert client.get("/admin/referrals/followup/add/").status_code == 403
    assert client.get(f"/admin/referrals/followup/{followup.pk}/delete/").status_code == 403


def test_the_data_migration_grants_supervisors_the_agency_directory() -> None:
    from django.contrib.auth.models import Group

    # The autouse fixture re-applies the same grants; this checks the migration's list matches the roles.
    supervisor = set(Group.objects.get(name="supervisor").permissions.values_list("codename", flat=True))
    assert {"add_agency", "change_agency", "delete_agency", "view_agency", "view_followup"} <= supervisor
    assert not Group.objects.get(name="clinician").permissions.filter(content_type__app_label="referrals").exists()
