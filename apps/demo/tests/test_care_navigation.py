"""seed_demo's care navigation: an agency directory with numbers, and the navigator's people with a
realistic referral and follow-up history (overdue, due today, upcoming, reached, declined), made
through the services and made once."""

from __future__ import annotations

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from apps.clinical.models import ClinicalNote, Encounter, Person
from apps.demo import care, roster
from apps.referrals.models import Agency, FollowUp, FollowUpAttempt, Referral
from apps.referrals.selectors import bucket_filter

pytestmark = pytest.mark.django_db
NY = ZoneInfo("America/New_York")


@pytest.mark.parametrize("hour", [9, 23])
def test_the_navigator_has_people_to_call_at_every_stage(hour: int) -> None:
    with time_machine.travel(dt.datetime(2026, 6, 3, hour, 10, tzinfo=NY), tick=False):
        people = roster.seed_people()
        teams = roster.seed_teams(people)
        world = care.seed_care_navigation(people, teams)
        now = timezone.now()

        agencies = Agency.objects.filter(is_active=True)
        assert world.agencies == agencies.count() >= 7
        assert all(a.phone for a in agencies)
        navigator = people["navigator"]
        mine = FollowUp.objects.filter(assignee=navigator, person_id__in=care.person_ids())
        opened = mine.filter(status=FollowUp.Status.OPEN)
        assert world.open_followups == opened.count() == 5
        for bucket in ("overdue", "due_today", "upcoming"):
            assert opened.filter(bucket_filter(bucket, now)).exists(), bucket
        overdue = opened.get(bucket_filter("overdue", now))
        assert overdue.attempts.filter(outcome="no_answer").count() == 2 and overdue.failed_attempts == 2
        assert {f.status for f in mine.exclude(status=FollowUp.Status.OPEN)} == {"done", "closed"}
        # Whom to call, how, and what was referred: contact details, the referral's notes.
        hill = Person.objects.get(last_name="Hill")
        assert (hill.phone, hill.preferred_contact, hill.contact_consent) == ("919-555-0131", "call", "yes")
        assert Person.objects.get(last_name="Carter").contact_consent == "no"
        assert all(r.notes and r.agency_id for r in Referral.objects.filter(person_id__in=care.person_ids()))
        with connection.cursor() as cursor:
            pk = Person._meta.get_field("id").get_db_prep_value(uuid.UUID(str(hill.pk)), connection)
            cursor.execute("SELECT phone FROM clinical_person WHERE id = %s", [pk])
            assert "555" not in cursor.fetchone()[0]  # stored encrypted
        # The encounters are whole records: a signed note, a screen; the ones long past are closed.
        encounters = Encounter.objects.filter(person_id__in=care.person_ids())
        assert ClinicalNote.objects.filter(encounter__in=encounters, status="signed").count() == 6
        assert encounters.filter(closed_at__isnull=False).count() >= 5
        assert all(e.risk_level for e in encounters)

        counts = (
            Person.objects.count(),
            Referral.objects.count(),
            FollowUp.objects.count(),
            FollowUpAttempt.objects.count(),
        )
        care.seed_care_navigation(people, teams)
        assert (
            Person.objects.count(),
            Referral.objects.count(),
            FollowUp.objects.count(),
            FollowUpAttempt.objects.count(),
        ) == counts
