"""The demo's care navigation: an agency directory with phone numbers, and a handful of people seen in
the last days whose referrals the navigator is working, at every stage (overdue after two missed calls,
due today after one text, coming up, one who does not want to be called, one linked and one who
declined).

Everything goes through the clinical and referrals services (what the app does): people with contact
details (the phone stored encrypted), encounters with a signed note, a C-SSRS screen, dispositions and a
safety plan, referrals with notes, and the follow-ups the policy makes of them, with their attempts. The
numbers are 555-01xx numbers (reserved for fiction). Idempotent: the ids are derived from fixed names,
and a person already there is left as is.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.clinical import cssrs
from apps.clinical import services as clinical
from apps.clinical.models import Encounter, Person
from apps.clinical.policy import Actor
from apps.core.timefmt import local_day_bounds, to_local
from apps.referrals import services as referrals
from apps.referrals.models import Agency, FollowUp
from apps.teams.models import Team

REFERRAL_AFTER = dt.timedelta(minutes=40)  # the referral is made at the end of the visit
NAMESPACE = uuid.UUID("6f1c2a52-7d3e-4b8e-9a41-2f0c1d3b5e77")

# name, type, phone, address, hours. The insight history may have made some of these already (by
# name): their empty contact fields are filled in.
AGENCIES: list[tuple[str, str, str, str, str]] = [
    ("Durham Center Access", "crisis_facility", "919-555-0120", "309 Crutchfield St, Durham", "Open 24/7"),
    (
        "Alliance Health",
        "outpatient_mental_health",
        "919-555-0121",
        "5200 W Paramount Pkwy, Morrisville",
        "Mon-Fri 8-5",
    ),
    ("Lincoln Community Health", "primary_care", "919-555-0122", "1301 Fayetteville St, Durham", "Mon-Sat 8-6"),
    (
        "Freedom House Recovery",
        "substance_use_treatment",
        "919-555-0123",
        "104 New Stateside Dr, Chapel Hill",
        "Open 24/7",
    ),
    ("Urban Ministries", "housing", "919-555-0124", "410 Liberty St, Durham", "Intake daily 9-4"),
    ("Durham Peer Support Network", "peer_support", "919-555-0125", "2100 W Main St, Durham", "Drop-in Tue-Sat 10-6"),
    ("988 Suicide & Crisis Lifeline", "988_mobile_crisis", "988", "", "Call or text, 24/7"),
]


def _answers(q1: bool, q2: bool, q3: bool | None = None, q4: bool | None = None) -> cssrs.Answers:
    q5 = None if q3 is None else False
    return cssrs.Answers(
        q1_wish_dead=q1,
        q2_active_thoughts=q2,
        q3_method=q3,
        q4_intent=q4,
        q5_plan=q5,
        q6_behavior=False,
        q6a_past_3_months=None,
    )


ANSWERS = {
    "low": _answers(True, False),
    "moderate": _answers(True, True, True, False),
    "high": _answers(True, True, True, True),
}
PRECAUTIONS = dict.fromkeys(
    ("lethal_means_addressed", "not_left_alone", "supervisor_notified", "safety_plan_reviewed"), True
)


@dataclass(frozen=True)
class Case:
    """One person and the encounter that referred them: ``hours_ago`` when seen; ``attempts`` are
    (hours after the referral, method, outcome, note)."""

    first: str
    last: str
    phone: str
    preferred: str
    consent: str
    team: str
    risk: str
    dispositions: tuple[str, ...]
    referral: str
    agency: str
    notes: str
    hours_ago: float
    note: dict[str, str]
    attempts: tuple[tuple[float, str, str, str], ...] = field(default=())
    # "today": seen so that the referral's 48-hour follow-up falls due later today (whatever the hour).
    due: str = ""


CASES: list[Case] = [
    Case(
        "Marcus",
        "Hill",
        "919-555-0131",
        "call",
        "yes",
        "CR-1",
        "moderate",
        ("resolved_with_referral",),
        "outpatient_mental_health",
        "Alliance Health",
        "Prefers afternoons. Intake line asks for his Medicaid ID.",
        70,
        {
            "subjective": "Lost his job last month; not sleeping.",
            "objective": "Calm, tired, good eye contact.",
            "assessment": "Depressed mood, passive thoughts with a method, no intent.",
            "plan": "Outpatient referral, safety plan.",
        },
        ((20, "phone", "no_answer", "Voicemail full."), (45, "phone", "no_answer", "Rang out twice.")),
    ),
    Case(
        "Alicia",
        "Moreno",
        "919-555-0132",
        "text",
        "yes",
        "CR-2",
        "low",
        ("resolved_with_referral",),
        "peer_support",
        "Durham Peer Support Network",
        "Wants a peer who speaks Spanish. Drop-in Tuesday.",
        40,
        {
            "subjective": "Feeling alone since moving here.",
            "objective": "Engaged, tearful at times.",
            "assessment": "Low risk; isolation.",
            "plan": "Peer support referral; text check-in.",
        },
        ((6, "text", "no_answer", "Texted the drop-in hours; no reply yet."),),
        due="today",
    ),
    Case(
        "Terrence",
        "Boyd",
        "919-555-0133",
        "call",
        "yes",
        "CR-1",
        "high",
        ("transport_crisis_facility",),
        "crisis_facility",
        "Durham Center Access",
        "Admitted for observation; ask for the charge nurse.",
        14,
        {
            "subjective": "Said he had a plan for tonight.",
            "objective": "Agitated, then calmer; cooperative.",
            "assessment": "High risk: intent with plan.",
            "plan": "Voluntary transport to Durham Center Access.",
        },
    ),
    Case(
        "Denise",
        "Carter",
        "",
        "visit",
        "no",
        "CR-2",
        "low",
        ("refused_services",),
        "housing",
        "Urban Ministries",
        "No phone. Usually at the library on Main St mornings.",
        6,
        {
            "subjective": "Did not want help today.",
            "objective": "Alert, declined to talk further.",
            "assessment": "Low risk.",
            "plan": "Housing referral left with her; outreach visit.",
        },
    ),
    Case(
        "Samuel",
        "Price",
        "919-555-0135",
        "call",
        "yes",
        "CR-1",
        "moderate",
        ("resolved_with_referral",),
        "primary_care",
        "Lincoln Community Health",
        "Needs his blood-pressure medicines refilled too.",
        110,
        {
            "subjective": "Out of medicines for a week.",
            "objective": "Anxious, BP 160/100 per EMS.",
            "assessment": "Moderate risk; medical needs.",
            "plan": "Primary care referral; call in 48 h.",
        },
        ((30, "phone", "reached", "Appointment booked for Thursday."),),
    ),
    Case(
        "Keisha",
        "Lane",
        "919-555-0136",
        "text",
        "yes",
        "CR-2",
        "low",
        ("resolved_with_referral",),
        "outpatient_mental_health",
        "Alliance Health",
        "Has used Alliance before; prefers a woman counsellor.",
        130,
        {
            "subjective": "Panic attacks at work.",
            "objective": "Calm by the end of the visit.",
            "assessment": "Low risk.",
            "plan": "Outpatient referral.",
        },
        ((20, "text", "declined", "Says she will call them herself."),),
    ),
]


@dataclass(frozen=True)
class CareWorld:
    agencies: int
    people: int
    open_followups: int


def _id(*parts: str) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(parts))


def seed_agencies() -> int:
    """The directory the referral form lists: made, or their empty contact fields filled in."""
    for name, kind, phone, address, hours in AGENCIES:
        agency, _ = Agency.objects.get_or_create(name=name, defaults={"type": kind})
        changed = [
            f for f, v in (("phone", phone), ("address", address), ("hours", hours)) if v and not getattr(agency, f)
        ]
        for f in changed:
            setattr(agency, f, dict(phone=phone, address=address, hours=hours)[f])
        if changed:
            agency.save(update_fields=changed)
    return Agency.objects.filter(is_active=True).count()


def _seed_case(case: Case, *, people: dict[str, User], teams: dict[str, Team], now: dt.datetime) -> None:
    from apps.demo import roster

    clinician_name, officer_name = roster.TEAMS[case.team]
    clinician, navigator = Actor(user=people[clinician_name]), Actor(user=people["navigator"])
    pid = _id("person", case.first, case.last)
    if Person.objects.filter(pk=pid).exists():
        return
    seen = now - dt.timedelta(hours=case.hours_ago)
    if case.due == "today":
        left = local_day_bounds(to_local(now).date())[1] - now
        contact = dt.timedelta(hours=float(str(settings.REFERRALS_FOLLOWUP_POLICY["referral_contact_hours"])))
        seen = now - contact + left / 2 - REFERRAL_AFTER
    person = clinical.person_create(
        actor=clinician,
        person_id=pid,
        data={
            "first_name": case.first,
            "last_name": case.last,
            "phone": case.phone,
            "preferred_contact": case.preferred,
            "contact_consent": case.consent,
        },
    )
    eid, nid = _id("encounter", str(pid)), _id("note", str(pid))
    clinical.encounter_create(
        actor=clinician,
        encounter_id=eid,
        kind="walk_in" if case.risk == "low" else "incident",
        person_id=person.pk,
        team_id=teams[case.team].pk,
        officer_id=people[officer_name].pk,
        started_at=seen,
    )
    clinical.screen_record(actor=clinician, encounter_id=eid, answers=ANSWERS[case.risk])
    for code in case.dispositions:
        clinical.disposition_add(actor=clinician, encounter_id=eid, code=code)
    clinical.safety_plan_create(
        actor=clinician,
        encounter_id=eid,
        plan_id=_id("plan", str(pid)),
        data={
            "warning_signs": "Not sleeping; pulling away from family.",
            "internal_coping": "Music, a walk around the block.",
            "help_contacts": "A sister; a neighbour.",
            "professionals_agencies": f"988; {case.agency}.",
            "lethal_means_counselling_done": case.risk != "low",
        },
    )
    data: dict[str, object] = {"sections": case.note}
    if case.risk == "high":
        data["safety_precautions"] = PRECAUTIONS
    note = clinical.note_create(actor=clinician, encounter_id=eid, note_id=nid, fmt="soap", data=data)
    clinical.note_sign(actor=clinician, note_id=nid, revision=note.revision)
    agency = Agency.objects.get(name=case.agency)
    referral = referrals.referral_create(
        actor=clinician,
        encounter_id=eid,
        referral_id=_id("referral", str(pid)),
        type=case.referral,
        agency_id=agency.pk,
        person_id=person.pk,
        notes=case.notes,
        made_at=seen + REFERRAL_AFTER,
    )
    closed = seen + dt.timedelta(hours=1, minutes=30)
    if closed < now:  # the team cleared the call; the follow-up goes on
        revision = Encounter.objects.values_list("revision", flat=True).get(pk=eid)
        clinical.encounter_update(actor=clinician, encounter_id=eid, revision=revision, data={"closed_at": closed})
    followup = FollowUp.objects.get(referral=referral)
    for hours, method, outcome, text in case.attempts:
        at = referral.made_at + dt.timedelta(hours=hours)
        if at < now:
            referrals.followup_attempt_log(
                actor=navigator, followup_id=followup.pk, method=method, outcome=outcome, at=at, note=text
            )


def person_ids() -> list[uuid.UUID]:
    return [_id("person", c.first, c.last) for c in CASES]


def seed_care_navigation(people: dict[str, User], teams: dict[str, Team]) -> CareWorld:
    """Agencies, and the navigator's people and follow-ups (once per person)."""
    now = timezone.now()
    with transaction.atomic():
        agencies = seed_agencies()
    for case in CASES:
        with transaction.atomic():
            _seed_case(case, people=people, teams=teams, now=now)
    pids = person_ids()
    return CareWorld(
        agencies=agencies,
        people=Person.objects.filter(pk__in=pids).count(),
        open_followups=FollowUp.objects.filter(person_id__in=pids, status=FollowUp.Status.OPEN).count(),
    )
