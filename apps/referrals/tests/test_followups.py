from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from apps.clinical.models import Encounter
from apps.referrals.models import FollowUp, FollowUpAttempt, Referral
from apps.referrals.services import followup_policy_sweep, followup_reminder_is_obsolete
from apps.reminders.models import Reminder
from apps.reminders.services import reminders_sweep

from .conftest import write

pytestmark = pytest.mark.django_db

UTC = dt.UTC


def open_keys(followup: FollowUp) -> set[str]:
    return set(
        Reminder.objects.filter(
            subject_type="referrals.followup", subject_id=str(followup.pk), status="scheduled"
        ).values_list("dedupe_key", flat=True)
    )


def attempt(client: Any, followup: FollowUp, outcome: str, **extra: Any) -> Any:
    return write(
        client, "post", f"/api/v1/followups/{followup.pk}/attempts/", {"method": "phone", "outcome": outcome, **extra}
    )


# --- the policy ---------------------------------------------------------------------------------------


def test_a_referral_creates_a_48h_follow_up_for_the_care_navigator_with_reminders(
    care_navigator: Any, clinical_supervisor: Any, encounter: Any, make_referral: Callable[..., Any]
) -> None:
    made = make_referral(encounter)
    followup = FollowUp.objects.get()
    referral = Referral.objects.get(pk=made["id"])
    assert followup.reason == "referral"
    assert followup.referral == referral
    assert followup.assignee == care_navigator
    assert followup.due_at == referral.made_at + dt.timedelta(hours=48)
    assert open_keys(followup) == {
        f"followup:{followup.pk}:before",
        f"followup:{followup.pk}:due",
        f"followup:{followup.pk}:overdue:{clinical_supervisor.pk}",
    }
    due = Reminder.objects.get(dedupe_key=f"followup:{followup.pk}:due")
    assert (due.recipient, due.kind, due.due_at, due.url) == (
        care_navigator,
        "follow_up_due",
        followup.due_at,
        f"/followups/{followup.pk}",
    )
    escalation = Reminder.objects.get(kind="follow_up_overdue_escalation")
    assert escalation.recipient == clinical_supervisor
    assert escalation.due_at == followup.due_at + dt.timedelta(hours=4)
    # Titles stay generic: nothing about the person, the referral type or the risk.
    assert set(Reminder.objects.values_list("title", flat=True)) <= {
        "Follow-up coming due",
        "Follow-up due",
        "Follow-up overdue",
    }


def test_escalation_goes_to_supervisors_when_there_is_no_clinical_supervisor(
    care_navigator: Any, supervisor: Any, encounter: Any, make_referral: Callable[..., Any]
) -> None:
    make_referral(encounter)
    assert Reminder.objects.get(kind="follow_up_overdue_escalation").recipient == supervisor


def test_without_care_navigators_the_clinician_gets_the_follow_up(
    clinician_a: Any, encounter: Any, make_referral: Callable[..., Any]
) -> None:
    make_referral(encounter)
    assert FollowUp.objects.get().assignee == clinician_a


def test_follow_ups_go_to_the_least_loaded_care_navigator(
    make_user: Callable[..., Any], encounter: Any, make_referral: Callable[..., Any]
) -> None:
    first = make_user("nav1", "care_navigator")
    second = make_user("nav2", "care_navigator")
    inactive = make_user("nav3", "care_navigator")
    inactive.is_active = False
    inactive.save()
    for _ in range(4):
        make_referral(encounter)
    loads = {u: FollowUp.objects.filter(assignee=u).count() for u in (first, second, inactive)}
    assert loads == {first: 2, second: 2, inactive: 0}


@override_settings(
    REFERRALS_FOLLOWUP_POLICY={
        "high_risk_contact_hours": 12,
        "ivc_released_contact_hours": 24,
        "referral_contact_hours": 72,
        "ed_linkage_check_days": [3],
    }
)
def test_the_policy_is_configurable(care_navigator: Any, encounter: Any, make_referral: Callable[..., Any]) -> None:
    made = make_referral(encounter)
    referral = Referral.objects.get(pk=made["id"])
    assert FollowUp.objects.get().due_at == referral.made_at + dt.timedelta(hours=72)


def test_high_risk_encounter_gets_a_24h_contact_at_once_and_the_sweep_adds_nothing(
    api: Any, clinician_a: Any, care_navigator: Any, encounter: Encounter
) -> None:
    res = write(
        api(clinician_a),
        "post",
        f"/api/v1/clinical/encounters/{encounter.pk}/screens/",
        {
            "q1_wish_dead": True,
            "q2_active_thoughts": True,
            "q3_method": True,
            "q4_intent": True,
            "q5_plan": False,
            "q6_behavior": False,
        },
    )
    assert res.status_code == 201, res.json()
    encounter.refresh_from_db()
    assert encounter.risk_level == "high"
    assert FollowUp.objects.count() == 1  # made with the screen, in its transaction
    assert followup_policy_sweep() == 0  # the sweep (or a second beat) is only a safety net
    followup = FollowUp.objects.get()
    assert (followup.reason, followup.assignee) == ("high_risk", care_navigator)
    assert followup.due_at == encounter.started_at + dt.timedelta(hours=24)


def test_ed_transport_gets_linkage_checks_at_7_and_30_days(
    api: Any, clinician_a: Any, care_navigator: Any, encounter: Encounter
) -> None:
    res = write(
        api(clinician_a), "post", f"/api/v1/clinical/encounters/{encounter.pk}/dispositions/", {"code": "ems_transport"}
    )
    assert res.status_code == 201, res.json()
    recorded = encounter.dispositions.get().recorded_at
    assert followup_policy_sweep() == 0  # both were made with the disposition
    assert sorted(FollowUp.objects.values_list("reason", "due_at")) == [
        ("ed_linkage", recorded + dt.timedelta(days=7)),
        ("ed_linkage", recorded + dt.timedelta(days=30)),
    ]


def test_a_referral_on_a_high_risk_encounter_also_creates_the_24h_contact(
    api: Any, clinician_a: Any, care_navigator: Any, encounter: Encounter, make_referral: Callable[..., Any]
) -> None:
    write(
        api(clinician_a),
        "post",
        f"/api/v1/clinical/encounters/{encounter.pk}/screens/",
        {
            "q1_wish_dead": True,
            "q2_active_thoughts": True,
            "q3_method": False,
            "q4_intent": False,
            "q5_plan": True,
            "q6_behavior": False,
        },
    )
    make_referral(encounter)
    assert sorted(FollowUp.objects.values_list("reason", flat=True)) == ["high_risk", "referral"]


def test_release_after_ivc_gets_a_24h_contact(
    api: Any, clinician_a: Any, care_navigator: Any, encounter: Encounter
) -> None:
    res = write(
        api(clinician_a),
        "put",
        f"/api/v1/clinical/encounters/{encounter.pk}/ivc/",
        {"pathway": "emergency_122c_262", "outcome": "released"},
    )
    assert res.status_code == 200, res.json()
    assert FollowUp.objects.get().reason == "ivc_released"
    assert followup_policy_sweep() == 0


# --- attempts -------------------------------------------------------------------------------------------


@pytest.fixture
def followup(
    care_navigator: Any, clinical_supervisor: Any, encounter: Any, make_referral: Callable[..., Any]
) -> FollowUp:
    make_referral(encounter)
    return FollowUp.objects.get()


def test_reached_completes_the_follow_up_and_cancels_its_reminders(
    api: Any, care_navigator: Any, followup: FollowUp
) -> None:
    res = attempt(api(care_navigator), followup, "reached", note="Doing better")
    assert res.status_code == 201, res.json()
    body = res.json()
    assert body["status"] == "done"
    assert [(a["outcome"], a["note"]) for a in body["attempts"]] == [("reached", "Doing better")]
    assert open_keys(followup) == set()
    assert Referral.objects.get().status == "made"  # reached is not linked


def test_linked_completes_the_follow_up_and_links_the_referral(
    api: Any, care_navigator: Any, followup: FollowUp
) -> None:
    assert attempt(api(care_navigator), followup, "linked").status_code == 201
    referral = Referral.objects.get()
    assert referral.status == "linked"
    assert referral.status_changed_by == care_navigator
    assert list(referral.changes.values_list("to_status", flat=True)) == ["made", "linked"]


def test_declined_closes_the_follow_up_and_the_referral(api: Any, care_navigator: Any, followup: FollowUp) -> None:
    assert attempt(api(care_navigator), followup, "declined").json()["status"] == "closed"
    assert Referral.objects.get().status == "declined"


def test_three_failed_attempts_close_the_follow_up_as_unreachable(
    api: Any, care_navigator: Any, followup: FollowUp
) -> None:
    client = api(care_navigator)
    assert attempt(client, followup, "no_answer").json()["status"] == "open"
    assert attempt(client, followup, "wrong_number", method="text").json()["status"] == "open"
    assert open_keys(followup)  # still reminded while open
    body = attempt(client, followup, "no_answer").json()
    assert (body["status"], body["failed_attempts"]) == ("closed", 3)
    assert body["closed_reason"] == "Unreachable after 3 failed attempts"
    assert open_keys(followup) == set()
    assert Referral.objects.get().status == "unreachable"


@override_settings(REFERRALS_MAX_FAILED_ATTEMPTS=1)
def test_the_failed_attempt_limit_is_a_setting(api: Any, care_navigator: Any, followup: FollowUp) -> None:
    assert attempt(api(care_navigator), followup, "no_answer").json()["status"] == "closed"


def test_an_attempt_on_a_finished_follow_up_is_409(api: Any, care_navigator: Any, followup: FollowUp) -> None:
    attempt(api(care_navigator), followup, "reached")
    res = attempt(api(care_navigator), followup, "no_answer")
    assert res.status_code == 409
    assert res.json()["current"]["status"] == "done"
    assert FollowUpAttempt.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"method": "phone", "outcome": "ghosted"}, "outcome"),
        ({"method": "pigeon", "outcome": "reached"}, "method"),
        ({"method": "phone", "outcome": "reached", "note": "x" * 2001}, "note"),
        ({"method": "phone", "outcome": "reached", "at": "2026-01-01T10:00:00"}, "at"),
        ({"method": "phone", "outcome": "reached", "at": "2099-01-01T10:00:00Z"}, "at"),
        ({"method": "phone", "outcome": "reached", "extra": 1}, "extra"),
    ],
)
def test_bad_attempts_are_400_and_change_nothing(
    api: Any, care_navigator: Any, followup: FollowUp, body: dict[str, Any], field: str
) -> None:
    res = write(api(care_navigator), "post", f"/api/v1/followups/{followup.pk}/attempts/", body)
    assert res.status_code == 400, res.json()
    assert field in res.json()["errors"]
    followup.refresh_from_db()
    assert (followup.status, followup.failed_attempts) == ("open", 0)
    assert FollowUpAttempt.objects.count() == 0


def test_unknown_follow_up_is_404(api: Any, care_navigator: Any) -> None:
    assert (
        write(
            api(care_navigator), "post", "/api/v1/followups/999999/attempts/", {"method": "phone", "outcome": "reached"}
        ).status_code
        == 404
    )
    assert api(care_navigator).get("/api/v1/followups/999999/").status_code == 404


def test_officers_cannot_reach_follow_ups(api: Any, officer_a: Any, followup: FollowUp) -> None:
    assert api(officer_a).get("/api/v1/followups/").status_code == 403
    assert api(officer_a).get(f"/api/v1/followups/{followup.pk}/").status_code == 403
    assert attempt(api(officer_a), followup, "reached").status_code == 403


def test_clinician_of_another_team_gets_404(api: Any, clinician_b: Any, on_shift_b: Any, followup: FollowUp) -> None:
    assert api(clinician_b).get(f"/api/v1/followups/{followup.pk}/").status_code == 404
    assert attempt(api(clinician_b), followup, "reached").status_code == 404
    assert api(clinician_b).get("/api/v1/followups/").json()["results"] == []


# --- close and reassign ----------------------------------------------------------------------------------


def test_closing_needs_a_reason(api: Any, care_navigator: Any, followup: FollowUp) -> None:
    url = f"/api/v1/followups/{followup.pk}/close/"
    for body in ({}, {"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}):
        res = write(api(care_navigator), "post", url, body)
        assert res.status_code == 400, body
        assert "reason" in res.json()["errors"]
    assert FollowUp.objects.get().status == "open"
    res = write(api(care_navigator), "post", url, {"reason": "Moved out of state"})
    assert res.status_code == 200
    assert (res.json()["status"], res.json()["closed_reason"]) == ("closed", "Moved out of state")
    assert open_keys(followup) == set()
    again = write(api(care_navigator), "post", url, {"reason": "again"})
    assert again.status_code == 409
    assert again.json()["current"]["status"] == "closed"


def test_supervisor_reassigns_and_the_reminders_follow(
    api: Any,
    supervisor: Any,
    care_navigator: Any,
    make_user: Callable[..., Any],
    followup: FollowUp,
    clinical_supervisor: Any,
) -> None:
    other = make_user("nav2", "care_navigator")
    res = write(api(supervisor), "post", f"/api/v1/followups/{followup.pk}/reassign/", {"assignee_id": other.pk})
    assert res.status_code == 200, res.json()
    assert res.json()["assignee"]["id"] == other.pk
    assert open_keys(followup) == {
        f"followup:{followup.pk}:before:v2",
        f"followup:{followup.pk}:due:v2",
        f"followup:{followup.pk}:overdue:{clinical_supervisor.pk}",
    }
    assert Reminder.objects.get(dedupe_key=f"followup:{followup.pk}:due:v2").recipient == other
    assert Reminder.objects.get(dedupe_key=f"followup:{followup.pk}:due").status == "cancelled"


def test_reassign_refusals(
    api: Any, care_navigator: Any, clinical_supervisor: Any, officer_a: Any, followup: FollowUp
) -> None:
    url = f"/api/v1/followups/{followup.pk}/reassign/"
    assert write(api(care_navigator), "post", url, {"assignee_id": care_navigator.pk}).status_code == 403
    res = write(api(clinical_supervisor), "post", url, {"assignee_id": officer_a.pk})
    assert res.status_code == 400
    assert "assignee_id" in res.json()["errors"]
    assert write(api(clinical_supervisor), "post", url, {"assignee_id": 987654}).status_code == 400
    assert write(api(clinical_supervisor), "post", url, {"assignee_id": "me"}).status_code == 400
    assert FollowUp.objects.get().assignee == care_navigator


def test_obsolescence_check_cancels_reminders_of_a_finished_or_reassigned_follow_up(
    followup: FollowUp, care_navigator: Any, make_user: Callable[..., Any]
) -> None:
    due = Reminder.objects.get(dedupe_key=f"followup:{followup.pk}:due")
    escalation = Reminder.objects.get(kind="follow_up_overdue_escalation")
    assert not followup_reminder_is_obsolete(due)
    FollowUp.objects.filter(pk=followup.pk).update(assignee=make_user("nav2", "care_navigator"))
    assert followup_reminder_is_obsolete(due)
    assert not followup_reminder_is_obsolete(escalation)
    FollowUp.objects.filter(pk=followup.pk).update(status="done")
    assert followup_reminder_is_obsolete(escalation)


def test_the_sweep_does_not_send_a_reminder_for_a_follow_up_done_behind_its_back(
    followup: FollowUp, care_navigator: Any
) -> None:
    # Done without going through the service (e.g. a reminder claimed in the same instant).
    FollowUp.objects.filter(pk=followup.pk).update(status="done")
    with time_machine.travel(followup.due_at + dt.timedelta(hours=5), tick=False):
        reminders_sweep()
    statuses = set(Reminder.objects.filter(subject_id=str(followup.pk)).values_list("status", flat=True))
    assert statuses == {"cancelled"}


# --- the queue --------------------------------------------------------------------------------------------


NOW = dt.datetime(2026, 11, 27, 20, 0, tzinfo=UTC)  # 15:00 in Durham (EST); Durham's day ends 05:00Z


def _make(encounter: Encounter, assignee: Any, due: dt.datetime, **extra: Any) -> FollowUp:
    return FollowUp.objects.create(
        encounter=encounter,
        person_id=encounter.person_id,
        reason="referral",
        policy_key=str(uuid.uuid4()),
        due_at=due,
        assignee=assignee,
        **extra,
    )


def test_buckets_use_durhams_day(api: Any, care_navigator: Any, encounter: Encounter) -> None:
    overdue = _make(encounter, care_navigator, NOW - dt.timedelta(hours=1))
    later_today = _make(encounter, care_navigator, NOW + dt.timedelta(hours=3))
    tonight = _make(encounter, care_navigator, dt.datetime(2026, 11, 28, 4, 30, tzinfo=UTC))  # 23:30 EST, UTC tomorrow
    tomorrow = _make(encounter, care_navigator, dt.datetime(2026, 11, 28, 6, 0, tzinfo=UTC))
    _make(encounter, care_navigator, NOW - dt.timedelta(hours=2), status="done")
    client = api(care_navigator)
    with time_machine.travel(NOW, tick=False):
        ids = {
            b: [r["id"] for r in client.get(f"/api/v1/followups/?bucket={b}").json()["results"]]
            for b in ("overdue", "due_today", "upcoming")
        }
        everything = [r["id"] for r in client.get("/api/v1/followups/").json()["results"]]
    assert ids == {"overdue": [overdue.pk], "due_today": [later_today.pk, tonight.pk], "upcoming": [tomorrow.pk]}
    assert everything == [overdue.pk, later_today.pk, tonight.pk, tomorrow.pk]


def test_assignee_filter_me_and_by_id(
    api: Any, care_navigator: Any, make_user: Callable[..., Any], encounter: Encounter
) -> None:
    other = make_user("nav2", "care_navigator")
    mine = _make(encounter, care_navigator, NOW)
    theirs = _make(encounter, other, NOW)
    client = api(care_navigator)
    assert [r["id"] for r in client.get("/api/v1/followups/?assignee=me").json()["results"]] == [mine.pk]
    assert [r["id"] for r in client.get(f"/api/v1/followups/?assignee={other.pk}").json()["results"]] == [theirs.pk]
    bad = client.get("/api/v1/followups/?assignee=nobody&bucket=someday")
    assert bad.status_code == 400
    assert set(bad.json()["errors"]) == {"assignee", "bucket"}


def test_queue_rows_carry_what_a_navigator_needs(api: Any, care_navigator: Any, followup: FollowUp) -> None:
    [row] = api(care_navigator).get("/api/v1/followups/?assignee=me").json()["results"]
    assert row["person"]["name"] == "Pat Doe"
    assert (row["reason"], row["referral_type"], row["agency"]) == (
        "referral",
        "outpatient_mental_health",
        "Durham Center Access",
    )
    assert row["attempt_count"] == 0


def test_supervisor_sees_the_overdue_view_without_clinical_details(
    api: Any, supervisor: Any, care_navigator: Any, encounter: Encounter
) -> None:
    late = _make(encounter, care_navigator, NOW - dt.timedelta(days=1))
    _make(encounter, care_navigator, NOW + dt.timedelta(days=1))
    with time_machine.travel(NOW, tick=False):
        res = api(supervisor).get("/api/v1/followups/overdue/")
        assert api(care_navigator).get("/api/v1/followups/overdue/").status_code == 403
    [row] = res.json()["results"]
    assert row["id"] == late.pk
    assert "reason" not in row
    assert "person" not in row


def test_queue_query_count_is_constant(
    api: Any,
    care_navigator: Any,
    make_user: Callable[..., Any],
    encounter: Encounter,
    agency: Any,
    django_assert_num_queries: Any,
) -> None:
    client = api(care_navigator)
    assert encounter.person is not None
    referral = Referral.objects.create(
        person=encounter.person,
        encounter=encounter,
        type="housing",
        agency=agency,
        made_by=care_navigator,
        status_changed_by=care_navigator,
    )
    _make(encounter, care_navigator, NOW, referral=referral)
    client.get("/api/v1/followups/")
    # count, page, the attempts of the page (the navigator's card), access-log insert
    with django_assert_num_queries(4):
        client.get("/api/v1/followups/")
    for i in range(10):
        _make(encounter, make_user(f"n{i}", "care_navigator"), NOW + dt.timedelta(minutes=i), referral=referral)
    with django_assert_num_queries(4):
        res = client.get("/api/v1/followups/")
    assert res.json()["count"] == 11


def test_overdue_view_query_count_is_constant(
    api: Any, supervisor: Any, care_navigator: Any, encounter: Encounter, django_assert_num_queries: Any
) -> None:
    _make(encounter, care_navigator, timezone.now() - dt.timedelta(hours=1))
    client = api(supervisor)
    client.get("/api/v1/followups/overdue/")
    with django_assert_num_queries(2):  # count, page (no details: no access log)
        client.get("/api/v1/followups/overdue/")
    for _ in range(10):
        _make(encounter, care_navigator, timezone.now() - dt.timedelta(hours=2))
    with django_assert_num_queries(2):
        assert client.get("/api/v1/followups/overdue/").json()["count"] == 11


def test_the_assignee_gets_a_followup_assigned_event_with_ids_only(
    api: Any, supervisor: Any, make_user: Callable[..., Any], followup: FollowUp, care_navigator: Any
) -> None:
    from apps.realtime.models import Event

    [event] = Event.objects.filter(user=care_navigator, type="followup.assigned")
    assert event.data == {
        "followup_id": followup.pk,
        "due_at": followup.due_at.isoformat(),
        "url": f"/followups/{followup.pk}",
    }
    other = make_user("nav2", "care_navigator")
    write(api(supervisor), "post", f"/api/v1/followups/{followup.pk}/reassign/", {"assignee_id": other.pk})
    assert Event.objects.filter(user=other, type="followup.assigned").count() == 1


def test_the_beat_task_runs_the_policy_sweep(
    api: Any, clinician_a: Any, care_navigator: Any, encounter: Encounter
) -> None:
    from django.conf import settings

    from apps.referrals.tasks import followup_policy_sweep_task

    write(
        api(clinician_a), "post", f"/api/v1/clinical/encounters/{encounter.pk}/dispositions/", {"code": "transport_ed"}
    )
    FollowUp.objects.all().delete()  # as if the write had missed them (the sweep is the safety net)
    assert settings.CELERY_BEAT_SCHEDULE["referrals-followup-policy-sweep"]["task"] == followup_policy_sweep_task.name
    assert followup_policy_sweep_task.delay().get() == 2
    assert FollowUp.objects.filter(reason="ed_linkage").count() == 2


def test_old_triggers_outside_the_look_back_are_left_alone(
    api: Any, clinician_a: Any, care_navigator: Any, encounter: Encounter
) -> None:
    write(
        api(clinician_a), "post", f"/api/v1/clinical/encounters/{encounter.pk}/dispositions/", {"code": "transport_ed"}
    )
    FollowUp.objects.all().delete()  # as if the write had missed them (the sweep is the safety net)
    assert followup_policy_sweep(now=timezone.now() + dt.timedelta(hours=73)) == 0
    assert followup_policy_sweep(now=timezone.now() + dt.timedelta(hours=71)) == 2
