"""Hand-made records with exact timestamps, for the measure fixtures.

Written straight to the models (not through the services) on purpose: a fixture must put a call at
23:59:59 local on a DST day or an acceptance exactly 20 s after the offer, which the services (that
stamp ``now``) cannot. Local times are given as naive wall-clock datetimes in America/New_York.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from apps.clinical.models import Disposition, Encounter, IvcRecord, OfficerSection, Person
from apps.core.timefmt import local_zone
from apps.incidents.models import Assignment, Incident, TimelineEntry
from apps.realtime.models import Escalation
from apps.referrals.models import FollowUp, FollowUpAttempt, Referral, ReferralStatusChange
from apps.shifts.models import Shift, ShiftMember
from apps.teams.models import Team


def local(
    year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0, *, fold: int = 0
) -> dt.datetime:
    """An aware instant from a local wall-clock time (``fold=1``: the second 01:xx of a fall-back night)."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=local_zone(), fold=fold)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)


def after(moment: dt.datetime, seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else moment + dt.timedelta(seconds=seconds)


@dataclass
class Builder:
    user: Any
    teams: dict[str, Team] = field(default_factory=dict)

    def team(self, call_sign: str, kind: str = Team.Kind.CO_RESPONSE) -> Team:
        if call_sign not in self.teams:
            self.teams[call_sign] = Team.objects.create(call_sign=call_sign, name=call_sign, kind=kind)
        return self.teams[call_sign]

    def incident(
        self,
        received: dt.datetime,
        *,
        source: str = "911",
        call_type: str = "SUICTHRT",
        priority: int = 5,
        eligible: bool | None = True,
        outcome: str = "dispatch_co_response",
        reason: str = "",
        triaged_after: float | None = 60,
    ) -> Incident:
        triaged_at = after(received, triaged_after) if eligible is not None else None
        incident = Incident.objects.create(
            received_at=received,
            source=source,
            call_type_code=call_type,
            priority=priority,
            address="1 Main St",
            coresponse_eligible=eligible,
            triage_outcome=outcome if eligible is not None else "",
            not_served_reason=reason,
            triaged_at=triaged_at,
            created_by=self.user,
        )
        if triaged_at is not None:
            TimelineEntry.objects.create(incident=incident, at=triaged_at, kind=TimelineEntry.Kind.TRIAGED)
        return incident

    def assignment(
        self,
        incident: Incident,
        team: Team,
        *,
        offered_after: float = 120,
        acknowledged_after: float | None = None,
        accepted_after: float | None = None,
        on_scene_after: float | None = None,
        transporting_after: float | None = None,
        cleared_after: float | None = None,
        status: str | None = None,
        ended_after: float | None = None,
        shift: Shift | None = None,
    ) -> Assignment:
        """Times in seconds: ``offered_after`` from the call, the others from the offer."""
        offered = incident.received_at + dt.timedelta(seconds=offered_after)
        stamps = {
            "acknowledged_at": after(offered, acknowledged_after),
            "accepted_at": after(offered, accepted_after),
            "on_scene_at": after(offered, on_scene_after),
            "transporting_at": after(offered, transporting_after),
            "cleared_at": after(offered, cleared_after),
            "ended_at": after(offered, ended_after),
        }
        if status is None:
            status = next(
                (
                    s
                    for s, f in (
                        ("cleared", "cleared_at"),
                        ("transporting", "transporting_at"),
                        ("on_scene", "on_scene_at"),
                        ("accepted", "accepted_at"),
                        ("acknowledged", "acknowledged_at"),
                    )
                    if stamps[f] is not None
                ),
                "offered",
            )
        return Assignment.objects.create(
            incident=incident,
            team=team,
            status=status,
            offered_at=offered,
            offered_by=self.user,
            shift=shift,
            **stamps,
        )

    def escalation(self, assignment: Assignment, *stages: str) -> Escalation:
        at = assignment.offered_at
        fired = {f"{s}_fired_at": at + dt.timedelta(seconds=30) for s in stages}
        return Escalation.objects.create(
            subject=f"assignment:{assignment.pk}",
            event_uid=uuid.uuid4(),
            team_label=assignment.team.call_sign,
            created_at=at,
            push_due_at=at + dt.timedelta(seconds=20),
            alert_due_at=at + dt.timedelta(seconds=60),
            reassign_due_at=at + dt.timedelta(seconds=120),
            **fired,
        )

    def person(self, name: str = "P") -> Person:
        return Person.objects.create(first_name=name, created_by=self.user)

    def encounter(
        self,
        started: dt.datetime,
        *,
        team: Team | None = None,
        incident: Incident | None = None,
        person: Person | None = None,
        kind: str = Encounter.Kind.INCIDENT,
        risk: str = "",
        dispositions: tuple[str, ...] = (),
        arrest_diverted: bool = False,
        ed_diverted: bool = False,
        officer: dict[str, Any] | None = None,
        ivc_pathway: str | None = None,
    ) -> Encounter:
        encounter = Encounter.objects.create(
            kind=kind,
            incident=incident,
            person=person,
            team=team,
            started_at=started,
            risk_level=risk,
            arrest_diverted=arrest_diverted,
            ed_diverted=ed_diverted,
            created_by=self.user,
        )
        for code in dispositions:
            Disposition.objects.create(
                encounter=encounter, code=code, apco_code=Disposition.APCO.get(code, ""), recorded_by=self.user
            )
        if officer is not None:
            OfficerSection.objects.create(encounter=encounter, updated_by=self.user, **officer)
        if ivc_pathway is not None:
            IvcRecord.objects.create(encounter=encounter, pathway=ivc_pathway, updated_by=self.user)
        return encounter

    def referral(self, encounter: Encounter, made: dt.datetime, *, linked_after_days: float | None = None) -> Referral:
        assert encounter.person is not None
        referral = Referral.objects.create(
            person=encounter.person,
            encounter=encounter,
            type="outpatient_mental_health",
            made_at=made,
            made_by=self.user,
            status_changed_by=self.user,
            status_changed_at=made,
        )
        ReferralStatusChange.objects.create(referral=referral, to_status="made", at=made, by=self.user)
        if linked_after_days is not None:
            linked = made + dt.timedelta(days=linked_after_days)
            Referral.objects.filter(pk=referral.pk).update(status="linked", status_changed_at=linked)
            ReferralStatusChange.objects.create(
                referral=referral, from_status="made", to_status="linked", at=linked, by=self.user
            )
        return referral

    def followup(
        self,
        encounter: Encounter,
        due: dt.datetime,
        *,
        reason: str = FollowUp.Reason.REFERRAL,
        attempts: tuple[tuple[float, str], ...] = (),
    ) -> FollowUp:
        """``attempts``: (hours after the due time, outcome), e.g. (-3, "reached")."""
        followup = FollowUp.objects.create(
            person=encounter.person,
            encounter=encounter,
            reason=reason,
            policy_key=f"test:{uuid.uuid4()}",
            due_at=due,
            assignee=self.user,
        )
        for hours, outcome in attempts:
            FollowUpAttempt.objects.create(
                followup=followup, at=due + dt.timedelta(hours=hours), method="phone", outcome=outcome, by=self.user
            )
        return followup

    def shift(self, team: Team, starts: dt.datetime, hours: float = 10, *, officers: tuple[Any, ...] = ()) -> Shift:
        shift = Shift.objects.create(team=team, starts_at=starts, ends_at=starts + dt.timedelta(hours=hours))
        for officer in officers:
            ShiftMember.objects.create(shift=shift, user=officer, role=ShiftMember.Role.OFFICER)
        return shift


def now() -> dt.datetime:
    return timezone.now()
