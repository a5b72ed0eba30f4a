"""The demo's calls: what is happening now, and a short history of closed calls.

**Now** (through the incident services, so timeline, events and the board are what a real call
makes): one call on scene with one of the teams on duty, so the board shows a busy team, and one
high-priority call waiting to be offered, with another team on duty free to take it. Seeding again
adds nothing while a demo call is still waiting; once someone has offered it, the next seed puts a new
call in the queue, so the main flow can always be tried at once.

**History** (the last ``HISTORY_DAYS`` days): closed calls written straight to the tables (a past is
not a series of API calls, and it must not ring anybody's phone): triage, an offer accepted and
cleared with plausible times, and the encounter's dispositions, so the closed-calls search and the
insight screens have something to show. Deterministic; written once.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.clinical.models import Disposition, Encounter
from apps.core.timefmt import local_datetime, local_today
from apps.incidents import services as incident_services
from apps.incidents.models import Assignment, CallType, Incident, TimelineEntry
from apps.incidents.selectors import TeamAvailability, TeamStatus, team_availability
from apps.teams.models import Team

DEMO_SOURCE = "demo"
HISTORY_SOURCE = "demo-history"
HISTORY_DAYS = 14


@dataclass(frozen=True)
class LiveCall:
    number: str
    call_type: str
    priority: int
    address: str
    extra: dict[str, object] = field(default_factory=dict)


# The call a team is working (on scene) and the calls that wait, one at a time, for a dispatcher.
ON_SCENE = LiveCall("DEMO-0002", "MNTL", 6, "500 W Chapel Hill St, Durham, NC", {"beat": "D2"})
WAITING: tuple[LiveCall, ...] = (
    LiveCall(
        "DEMO-0003",
        "SUICTHRT",
        8,
        "101 City Hall Plaza, Durham, NC",
        {"beat": "D1", "weapon_present": True, "weapon_kind": "kitchen knife", "subject_name": "Jordan Demo"},
    ),
    LiveCall("DEMO-0004", "WELFARE", 7, "2100 N Roxboro St, Durham, NC", {"beat": "D3"}),
    LiveCall("DEMO-0005", "EDP", 8, "300 N Duke St, Durham, NC", {"beat": "D1"}),
    LiveCall("DEMO-0006", "MNTL", 6, "1200 Broad St, Durham, NC", {"beat": "D4"}),
)


@dataclass
class LiveWorld:
    on_scene: Incident | None = None
    on_scene_team: str = ""
    waiting: list[Incident] = field(default_factory=list)
    created: int = 0
    notes: list[str] = field(default_factory=list)


def _create(call: LiveCall, *, by: User) -> Incident:
    return incident_services.incident_create(
        by=by,
        values={"call_type_code": call.call_type, "priority": call.priority, "address": call.address, **call.extra},
        cad_source=DEMO_SOURCE,
        cad_number=call.number,
    )


def _free(duties: list[TeamAvailability]) -> list[TeamAvailability]:
    return [d for d in duties if d.status == TeamStatus.AVAILABLE]


def seed_live_calls(people: dict[str, User]) -> LiveWorld:
    """One call on scene (when two teams are on duty and free) and one call waiting to be offered."""
    dispatcher = people["dispatcher"]
    world = LiveWorld()
    demo = Incident.objects.filter(cad_source=DEMO_SOURCE)

    on_scene = demo.filter(cad_number=ON_SCENE.number).first()
    if on_scene is None:
        free = _free(team_availability())
        # Only when a second team stays free for the waiting call: the point is to try the flow.
        if len(free) >= 2:
            on_scene = _create(ON_SCENE, by=dispatcher)
            world.created += 1
            duty = free[-1]
            incident_services.incident_triage(
                incident_id=on_scene.pk,
                by=dispatcher,
                eligible=True,
                eligibility_reason="Person in crisis, no weapon reported",
                outcome=Incident.TriageOutcome.DISPATCH_CO_RESPONSE,
            )
            offer = incident_services.assignment_offer(incident_id=on_scene.pk, team_id=duty.team.pk, by=dispatcher)
            member = duty.members[0].user
            incident_services.assignment_accept(assignment_id=offer.pk, by=member)
            for status in (Assignment.Status.EN_ROUTE, Assignment.Status.ON_SCENE):
                incident_services.assignment_status_update(assignment_id=offer.pk, by=member, status=status)
            on_scene.refresh_from_db()
        else:
            world.notes.append("fewer than two teams are free now: no demo call put on scene")
    world.on_scene = on_scene
    if on_scene is not None:
        active = Assignment.objects.filter(incident=on_scene, status__in=Assignment.ACTIVE).select_related("team")
        world.on_scene_team = next((a.team.call_sign for a in active), "")

    # A call waiting for a dispatcher: the oldest demo call still open with no assignment, else the
    # next one of WAITING not used yet.
    waiting = [
        i
        for i in demo.filter(status__in=Incident.OPEN_STATUSES, cad_number__in=[c.number for c in WAITING])
        .exclude(assignments__status__in=Assignment.ACTIVE)
        .order_by("received_at")
    ]
    if not waiting:
        used = set(demo.values_list("cad_number", flat=True))
        call = next((c for c in WAITING if c.number not in used), None)
        if call is None:
            world.notes.append("every demo call has been used: create one on the dispatch console")
        else:
            waiting = [_create(call, by=dispatcher)]
            world.created += 1
    world.waiting = waiting
    return world


# --- history ---------------------------------------------------------------------------------------

STREETS = (
    "E Main St",
    "W Chapel Hill St",
    "N Roxboro St",
    "Fayetteville St",
    "Holloway St",
    "N Duke St",
    "Broad St",
    "Alston Ave",
    "Hillsborough Rd",
    "University Dr",
)
# (call type, weight, typical priority)
HISTORY_CALLS = (
    ("WELFARE", 5, 4),
    ("MNTL", 5, 5),
    ("EDP", 3, 6),
    ("SUICTHRT", 3, 8),
    ("OD", 1, 9),
    ("INTOX", 2, 4),
)
# (disposition codes of the encounter, weight)
HISTORY_DISPOSITIONS = (
    (("resolved_on_scene",), 6),
    (("resolved_with_referral",), 5),
    (("transport_crisis_facility",), 2),
    (("transport_ed", "ems_transport"), 1),
    (("refused_services",), 1),
    (("ivc_initiated",), 1),
)


@dataclass
class History:
    calls: int = 0
    served: int = 0
    first_day: dt.date | None = None


def seed_history(people: dict[str, User], teams: dict[str, Team], *, days: int = HISTORY_DAYS) -> History:
    """Closed calls of the last ``days`` days (two or three a day), once."""
    if Incident.objects.filter(cad_source=HISTORY_SOURCE).exists():
        old = Incident.objects.filter(cad_source=HISTORY_SOURCE)
        first = old.order_by("received_at").values_list("received_at", flat=True).first()
        return History(
            calls=old.count(),
            served=old.filter(triage_outcome=Incident.TriageOutcome.DISPATCH_CO_RESPONSE).count(),
            first_day=timezone.localtime(first).date() if first else None,
        )
    rng = random.Random(15)
    dispatcher = people["dispatcher"]
    call_types = {c.local_code: c for c in CallType.objects.all()}
    today = local_today()
    now = timezone.now()
    history = History(first_day=today - dt.timedelta(days=days))
    with transaction.atomic():
        number = 0
        for back in range(days, 0, -1):
            day = today - dt.timedelta(days=back)
            for _ in range(rng.choice((2, 2, 3))):
                number += 1
                received = local_datetime(day, dt.time(rng.randrange(8, 22), rng.randrange(60)))
                if received + dt.timedelta(hours=2) >= now:
                    continue  # a call of the history is over by now
                code = rng.choices([c[0] for c in HISTORY_CALLS], weights=[c[1] for c in HISTORY_CALLS])[0]
                priority = next(p for c, _w, p in HISTORY_CALLS if c == code) + rng.choice((-1, 0, 0, 1))
                served = rng.random() < 0.8
                team = teams["CR-1" if received.hour < 19 and number % 2 else "CR-2"]
                if received.hour >= 19:
                    team = teams["CR-3" if number % 2 else "CR-4"]
                _history_call(
                    number=number,
                    received=received,
                    code=code,
                    priority=priority,
                    served=served,
                    team=team,
                    dispatcher=dispatcher,
                    call_type=call_types.get(code),
                    rng=rng,
                    people=people,
                )
                history.calls += 1
                history.served += int(served)
    return history


def _history_call(
    *,
    number: int,
    received: dt.datetime,
    code: str,
    priority: int,
    served: bool,
    team: Team,
    dispatcher: User,
    call_type: CallType | None,
    rng: random.Random,
    people: dict[str, User],
) -> None:
    minutes = dt.timedelta(minutes=1)
    triaged = received + rng.randrange(1, 4) * minutes
    offered = triaged + rng.randrange(1, 3) * minutes
    accepted = offered + dt.timedelta(seconds=rng.randrange(20, 90))
    en_route = accepted + minutes
    on_scene = en_route + rng.randrange(6, 18) * minutes
    cleared = on_scene + rng.randrange(25, 70) * minutes
    closed = cleared if served else triaged + 10 * minutes
    street = rng.choice(STREETS)
    incident = Incident.objects.create(
        cad_source=HISTORY_SOURCE,
        cad_number=f"D{received:%y%m%d}-{number:04d}",
        received_at=received,
        call_type=call_type,
        call_type_code=code,
        priority=max(0, min(10, priority)),
        address=f"{rng.randrange(100, 3000)} {street}, Durham, NC",
        beat=f"D{rng.randrange(1, 6)}",
        status=Incident.Status.CLOSED,
        coresponse_eligible=True,
        eligibility_reason="Behavioural-health call",
        triage_outcome=(
            Incident.TriageOutcome.DISPATCH_CO_RESPONSE if served else Incident.TriageOutcome.RESOLVED_BY_PHONE
        ),
        not_served_reason="" if served else Incident.NotServedReason.OTHER,
        not_served_note="" if served else "Caller safe after the diversion clinician's call",
        triaged_at=triaged,
        triaged_by=dispatcher,
        closed_at=closed,
        created_by=dispatcher,
    )
    entries = [
        TimelineEntry(
            incident=incident, at=received, actor=dispatcher, kind=TimelineEntry.Kind.CREATED, field="status",
            new_value=Incident.Status.ACTIVE,
        ),
        TimelineEntry(
            incident=incident, at=triaged, actor=dispatcher, kind=TimelineEntry.Kind.TRIAGED, field="triage_outcome",
            new_value=incident.triage_outcome,
        ),
    ]  # fmt: skip
    if not served:
        entries.append(
            TimelineEntry(
                incident=incident, at=closed, actor=dispatcher, kind=TimelineEntry.Kind.STATUS,
                field="status", old_value=Incident.Status.ACTIVE, new_value=Incident.Status.CLOSED,
            )
        )  # fmt: skip
        TimelineEntry.objects.bulk_create(entries)
        return
    seats = {m.role: m.user for m in team.memberships.select_related("user")}
    clinician, officer = seats.get("clinician"), seats.get("officer")
    member = clinician or officer
    assignment = Assignment.objects.create(
        incident=incident,
        team=team,
        status=Assignment.Status.CLEARED,
        offered_at=offered,
        offered_by=dispatcher,
        accepted_at=accepted,
        accepted_by=member,
        en_route_at=en_route,
        on_scene_at=on_scene,
        cleared_at=cleared,
    )
    field_name = f"assignment.{team.call_sign}"
    steps = [
        (offered, "", Assignment.Status.OFFERED),
        (accepted, Assignment.Status.OFFERED, Assignment.Status.ACCEPTED),
        (en_route, Assignment.Status.ACCEPTED, Assignment.Status.EN_ROUTE),
        (on_scene, Assignment.Status.EN_ROUTE, Assignment.Status.ON_SCENE),
        (cleared, Assignment.Status.ON_SCENE, Assignment.Status.CLEARED),
    ]
    for at, old, new in steps:
        entries.append(
            TimelineEntry(
                incident=incident, at=at, actor=dispatcher if new == Assignment.Status.OFFERED else member,
                kind=TimelineEntry.Kind.ASSIGNMENT, field=field_name, old_value=old, new_value=new,
                assignment=assignment,
            )
        )  # fmt: skip
    entries.append(
        TimelineEntry(
            incident=incident, at=cleared, actor=member, kind=TimelineEntry.Kind.STATUS,
            field="status", old_value=Incident.Status.RESOURCES_ONSCENE, new_value=Incident.Status.CLOSED,
            assignment=assignment,
        )
    )  # fmt: skip
    TimelineEntry.objects.bulk_create(entries)
    if clinician is None:
        return
    encounter = Encounter.objects.create(
        kind=Encounter.Kind.INCIDENT,
        incident=incident,
        team=team,
        clinician=clinician,
        officer=officer,
        started_at=on_scene,
        closed_at=cleared,
        created_by=clinician,
        created_at=on_scene,
        updated_at=cleared,
    )
    codes = rng.choices([d[0] for d in HISTORY_DISPOSITIONS], weights=[d[1] for d in HISTORY_DISPOSITIONS])[0]
    Disposition.objects.bulk_create(
        Disposition(
            encounter=encounter,
            code=c,
            apco_code=Disposition.APCO.get(c, ""),
            recorded_by=clinician,
            recorded_at=cleared,
        )
        for c in codes
    )
