"""Races on PostgreSQL: real threads, each with its own connection, released together."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection

from apps.clinical.policy import Actor
from apps.core.errors import Conflict
from apps.referrals import services
from apps.referrals.models import FollowUp, FollowUpAttempt, Referral, ReferralStatusChange

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*calls: Callable[[], Any]) -> list[Any]:
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[i] = call()
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_last_failed_attempts_at_once_close_once(
    care_navigator: Any, make_user: Callable[..., Any], encounter: Any, make_referral: Callable[..., Any]
) -> None:
    make_referral(encounter)
    followup = FollowUp.objects.get()
    other = make_user("nav2", "care_navigator")
    for _ in range(5):
        FollowUp.objects.filter(pk=followup.pk).update(status="open", failed_attempts=2, closed_reason="")
        FollowUpAttempt.objects.all().delete()
        outcomes = race(
            *[
                lambda user=user: services.followup_attempt_log(
                    actor=Actor(user=user), followup_id=followup.pk, method="phone", outcome="no_answer"
                )
                for user in (care_navigator, other)
            ]
        )
        assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "FollowUpAttempt"]
        followup.refresh_from_db()
        assert (followup.status, followup.failed_attempts) == ("closed", 3)
        assert FollowUpAttempt.objects.count() == 1


def test_two_status_changes_at_once_one_wins(
    clinician_a: Any, care_navigator: Any, encounter: Any, make_referral: Callable[..., Any]
) -> None:
    rid = make_referral(encounter)["id"]
    for _ in range(5):
        Referral.objects.filter(pk=rid).update(status="made")
        ReferralStatusChange.objects.exclude(to_status="made").delete()
        outcomes = race(
            lambda: services.referral_status_set(actor=Actor(user=clinician_a), referral_id=rid, status="linked"),
            lambda: services.referral_status_set(actor=Actor(user=care_navigator), referral_id=rid, status="declined"),
        )
        conflicts = [o for o in outcomes if isinstance(o, Conflict)]
        assert len(conflicts) == 1, outcomes
        final = Referral.objects.get(pk=rid).status
        assert final in ("linked", "declined")
        assert conflicts[0].extra["current"] == {"status": final}
        assert ReferralStatusChange.objects.filter(referral_id=rid).exclude(to_status="made").count() == 1
