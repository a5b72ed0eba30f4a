"""Offers expire: an offer nobody accepted within INCIDENTS_OFFER_EXPIRE_SECONDS (default 300) expires
exactly once (the timer is a beat sweep; each offer is claimed by a conditional UPDATE), the incident
is back to Active, the board and the team are told, the escalation stops."""

from __future__ import annotations

import datetime as dt
import threading
from functools import partial
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from apps.core.errors import Conflict
from apps.incidents import services
from apps.incidents.models import Assignment, Incident, TimelineEntry
from apps.incidents.tasks import assignments_expire_due_task
from apps.realtime.models import Escalation, Event

S = dt.timedelta(seconds=1)
DEADLINE = dt.timedelta(seconds=300)


def test_the_default_deadline_is_five_minutes() -> None:
    assert settings.INCIDENTS_OFFER_EXPIRE_SECONDS == 300
    assert settings.CELERY_BEAT_SCHEDULE["incidents-offers-expire"]["task"] == "incidents.assignments_expire_due"


@pytest.mark.django_db
def test_an_offer_is_not_expired_before_its_deadline(offered: Assignment) -> None:
    assert services.assignments_expire_due(now=offered.offered_at + DEADLINE - S) == 0
    with pytest.raises(Conflict) as refused:
        services.assignment_expire(assignment_id=offered.pk, now=offered.offered_at + DEADLINE - S)
    assert refused.value.extra["current"]["status"] == "offered"
    offered.refresh_from_db()
    assert offered.status == Assignment.Status.OFFERED


@pytest.mark.django_db
@pytest.mark.parametrize("seen", [False, True], ids=["offered", "acknowledged"])
def test_an_unanswered_offer_expires_at_its_deadline_and_the_incident_is_active_again(
    offered: Assignment, officer_a: Any, clinician_a: Any, dispatcher: Any, seen: bool
) -> None:
    if seen:
        services.assignment_acknowledge(assignment_id=offered.pk, by=officer_a)
    assert services.assignments_expire_due(now=offered.offered_at + DEADLINE) == 1
    offered.refresh_from_db()
    assert offered.status == Assignment.Status.EXPIRED
    assert offered.end_reason == "no answer" and offered.ended_at is not None and offered.ended_by is None
    assert Incident.objects.get(pk=offered.incident_id).status == Incident.Status.ACTIVE
    entry = TimelineEntry.objects.get(assignment=offered, new_value="expired (no answer)")
    assert entry.actor is None
    # The board and both phones are told (the PWA drops an inactive status from the team's inbox).
    for user in (dispatcher, officer_a, clinician_a):
        (event,) = Event.objects.filter(user=user, type="assignment.expired")
        assert event.data["status"] == "expired" and event.data["reason"] == "no answer"
        assert event.data["assignment_id"] == offered.pk
    esc = Escalation.objects.get(subject=f"assignment:{offered.pk}")
    assert esc.resolved_at is not None and esc.resolution == "expired"
    # Nothing left to expire; the incident can be offered again.
    assert services.assignments_expire_due(now=offered.offered_at + 2 * DEADLINE) == 0
    again = services.assignment_offer(incident_id=offered.incident_id, team_id=offered.team_id, by=dispatcher)
    assert again.status == Assignment.Status.OFFERED


@pytest.mark.django_db
def test_an_accepted_or_cancelled_offer_never_expires(offered: Assignment, officer_a: Any) -> None:
    services.assignment_accept(assignment_id=offered.pk, by=officer_a)
    assert services.assignments_expire_due(now=offered.offered_at + 10 * DEADLINE) == 0
    with pytest.raises(Conflict):
        services.assignment_expire(assignment_id=offered.pk, now=offered.offered_at + 10 * DEADLINE)
    offered.refresh_from_db()
    assert offered.status == Assignment.Status.ACCEPTED
    assert not Event.objects.filter(type="assignment.expired").exists()


@pytest.mark.django_db
def test_the_deadline_is_a_setting(offered: Assignment, settings: Any) -> None:
    settings.INCIDENTS_OFFER_EXPIRE_SECONDS = 60
    assert services.assignments_expire_due(now=offered.offered_at + 59 * S) == 0
    assert services.assignments_expire_due(now=offered.offered_at + 60 * S) == 1


@pytest.mark.django_db
def test_the_beat_task_runs_the_sweep(offered: Assignment) -> None:
    Assignment.objects.filter(pk=offered.pk).update(offered_at=offered.offered_at - DEADLINE)
    assert assignments_expire_due_task() == 1
    assert Assignment.objects.get(pk=offered.pk).status == Assignment.Status.EXPIRED


# --- real concurrency (PostgreSQL, threads with their own connections) ---------------------------------


@pytest.fixture
def _migration_data(transactional_db: Any) -> None:
    """Flushed tables (transactional test): put back the role groups the migrations made."""
    from django.contrib.auth.models import Group

    from apps.accounts.roles import ALL_ROLES

    for role in ALL_ROLES:
        Group.objects.get_or_create(name=role)


def _race(*calls: Any) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = calls[i]()
        except Exception as exc:  # collected and asserted on
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


ROUNDS = 10


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_migration_data")
def test_two_sweepers_at_once_expire_an_offer_exactly_once(
    make_incident: Any, on_shift_a: Any, dispatcher: Any, officer_a: Any, clinician_a: Any
) -> None:
    for _ in range(ROUNDS):
        offer = services.assignment_offer(incident_id=make_incident().pk, team_id=on_shift_a.team_id, by=dispatcher)
        now = offer.offered_at + DEADLINE
        results = _race(*[partial(services.assignments_expire_due, now=now) for _ in range(2)])
        assert sorted(results) == [0, 1], results  # one sweeper claimed it, the other found nothing left
        assert Assignment.objects.get(pk=offer.pk).status == Assignment.Status.EXPIRED
        assert TimelineEntry.objects.filter(assignment=offer, new_value="expired (no answer)").count() == 1
        for user in (dispatcher, officer_a, clinician_a):
            expired = Event.objects.filter(user=user, type="assignment.expired", data__assignment_id=offer.pk)
            assert expired.count() == 1
        assert Incident.objects.get(pk=offer.incident_id).status == Incident.Status.ACTIVE


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_migration_data")
def test_an_accept_racing_the_sweeper_either_wins_or_finds_the_offer_expired(
    make_incident: Any, on_shift_a: Any, dispatcher: Any, officer_a: Any
) -> None:
    for _ in range(ROUNDS):
        offer = services.assignment_offer(incident_id=make_incident().pk, team_id=on_shift_a.team_id, by=dispatcher)
        swept, accepted = _race(
            partial(services.assignments_expire_due, now=offer.offered_at + DEADLINE),
            partial(services.assignment_accept, assignment_id=offer.pk, by=officer_a),
        )
        status = Assignment.objects.get(pk=offer.pk).status
        if isinstance(accepted, Assignment):
            assert (swept, status) == (0, Assignment.Status.ACCEPTED)
            services.assignment_cancel(assignment_id=offer.pk, by=dispatcher, reason="test round over")
        else:
            assert isinstance(accepted, Conflict) and accepted.extra["current"]["status"] == "expired"
            assert (swept, status) == (1, Assignment.Status.EXPIRED)
        ended = Event.objects.filter(
            data__assignment_id=offer.pk, type__in=["assignment.accepted", "assignment.expired"]
        )
        assert set(ended.values_list("type", flat=True)) == {f"assignment.{status}"}
