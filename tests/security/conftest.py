"""A realistic world for the fuzzer and the authorization matrix: every role, two teams on shift,
incidents with assignments, encounters with notes, screens, plans and dispositions, a referral with
its follow-up, a CAD API key. Built through the same services and APIs the app uses.

Requests in these tests go through the whole Django stack (middleware, CSRF, sessions) with a real
session per role, as a phone or browser would send them; never ``force_authenticate``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

# The roles as the matrix and the fuzzer see them: every role of apps.accounts.roles, anonymous, and
# a CAD machine client signing in with an API key.
USER_ROLES = (
    "dispatcher",
    "clinician",
    "officer",
    "care_navigator",
    "supervisor",
    "clinical_supervisor",
    "analyst",
    "admin",
)
ANON = "anon"
CAD = "cad"
ALL_ACTORS = (*USER_ROLES, ANON, CAD)

CSRF_TOKEN = "fuzzmatrixcsrftokenfuzzmatrixcsr"  # 32 characters: an unmasked CSRF secret


@dataclass
class World:
    users: dict[str, Any]
    cad_key: str
    # Path parameter name → ids of real objects (first: the one the matrix uses).
    ids: dict[str, list[Any]] = field(default_factory=dict)
    # Extra facts the matrix needs (e.g. team B's objects, the calendar token).
    extra: dict[str, Any] = field(default_factory=dict)


def _write(client: APIClient, method: str, url: str, body: Any) -> Any:
    res = getattr(client, method)(url, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert res.status_code < 300, (url, res.status_code, res.content[:500])
    return res.json() if res.content else None


def build_world(make_user: Callable[..., Any]) -> World:
    from django.contrib.auth.models import Permission

    from apps.accounts.models import ApiKey, User
    from apps.incidents import services as incidents
    from apps.referrals.models import Agency, FollowUp
    from apps.shifts.services import MemberSpec, shift_create
    from apps.teams.models import Team

    users = {role: make_user(f"{role}_x", role) for role in USER_ROLES}
    users["clinician_b"] = make_user("clinician_b_x", "clinician")
    users["officer_b"] = make_user("officer_b_x", "officer")
    users["clinician_c"] = make_user("clinician_c_x", "clinician")
    users["officer_c"] = make_user("officer_c_x", "officer")
    users["admin"].is_superuser = False  # the admin role, not a superuser: the role must carry it
    users["clinician"].user_permissions.add(
        Permission.objects.get(codename="view_part2", content_type__app_label="clinical")
    )
    users["clinician"] = User.objects.get(pk=users["clinician"].pk)
    team_a = Team.objects.create(call_sign="CR-FZ-A", name="Fuzz team A")
    team_b = Team.objects.create(call_sign="CR-FZ-B", name="Fuzz team B")
    team_c = Team.objects.create(call_sign="CR-FZ-C", name="Fuzz team C (on duty, free)")
    now = timezone.now()
    shift_a = shift_create(
        team=team_a,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=9),
        members=[MemberSpec(users["clinician"], "clinician"), MemberSpec(users["officer"], "officer")],
    )
    shift_b = shift_create(
        team=team_b,
        starts_at=now - dt.timedelta(hours=2),
        ends_at=now + dt.timedelta(hours=6),
        members=[MemberSpec(users["clinician_b"], "clinician"), MemberSpec(users["officer_b"], "officer")],
    )
    shift_create(
        team=team_c,
        starts_at=now - dt.timedelta(hours=1),
        ends_at=now + dt.timedelta(hours=7),
        members=[MemberSpec(users["clinician_c"], "clinician"), MemberSpec(users["officer_c"], "officer")],
    )

    values = {
        "call_type_code": "SUICTHRT",
        "priority": 8,
        "address": "101 City Hall Plaza, Durham, NC",
        "subject_name": "Jordan Example",
        "weapon_present": True,
        "weapon_kind": "knife",
    }
    incident_a = incidents.incident_create(by=users["dispatcher"], values=values)
    offered_a = incidents.assignment_offer(incident_id=incident_a.pk, team_id=team_a.pk, by=users["dispatcher"])
    incident_b = incidents.incident_create(by=users["dispatcher"], values={**values, "subject_name": "Sam B"})
    offered_b = incidents.assignment_offer(incident_id=incident_b.pk, team_id=team_b.pk, by=users["dispatcher"])
    incidents.assignment_accept(assignment_id=offered_b.pk, by=users["officer_b"])
    incident_new = incidents.incident_create(by=users["dispatcher"], values={**values, "subject_name": "Alex New"})

    def api(user: Any) -> APIClient:
        client = APIClient()
        client.force_authenticate(user=user)
        return client

    clin = api(users["clinician"])
    person = _write(clin, "post", "/api/v1/clinical/persons/", {"first_name": "Jordan", "last_name": "Rivers"})
    duplicate = _write(clin, "post", "/api/v1/clinical/persons/", {"first_name": "Jordan", "last_name": "Rivers2"})
    enc = _write(
        clin,
        "post",
        "/api/v1/clinical/encounters/",
        {
            "id": str(uuid.uuid4()),
            "kind": "incident",
            "team_id": team_a.pk,
            "officer_id": users["officer"].pk,
            "person_id": person["id"],
            "incident_id": incident_a.pk,
        },
    )
    eid = enc["id"]
    screen = {"q1_wish_dead": True, "q2_active_thoughts": True, "q3_method": True, "q4_intent": False}
    _write(
        clin, "post", f"/api/v1/clinical/encounters/{eid}/screens/", {**screen, "q5_plan": False, "q6_behavior": False}
    )
    note = _write(
        clin,
        "post",
        f"/api/v1/clinical/encounters/{eid}/notes/",
        {
            "id": str(uuid.uuid4()),
            "format": "dap",
            "sections": {"data": "Tearful", "assessment": "Acute distress", "plan": "Referral"},
            "diagnoses": ["F32.9"],
        },
    )
    signed = _write(
        clin,
        "post",
        f"/api/v1/clinical/encounters/{eid}/notes/",
        {
            "id": str(uuid.uuid4()),
            "format": "dap",
            "sections": {"data": "Calmer", "assessment": "Stable", "plan": "Follow-up"},
        },
    )
    _write(clin, "post", f"/api/v1/clinical/encounters/{eid}/dispositions/", {"code": "resolved_on_scene"})
    _write(
        clin,
        "post",
        f"/api/v1/clinical/encounters/{eid}/safety-plans/",
        {"id": str(uuid.uuid4()), "warning_signs": "Not sleeping", "help_contacts": "Sister"},
    )
    signed_note = _write(clin, "post", f"/api/v1/clinical/notes/{signed['id']}/sign/", {"revision": signed["revision"]})
    enc_b = _write(
        api(users["clinician_b"]),
        "post",
        "/api/v1/clinical/encounters/",
        {"id": str(uuid.uuid4()), "kind": "incident", "team_id": team_b.pk, "officer_id": users["officer_b"].pk},
    )
    agency = Agency.objects.create(name="Durham Center Access", type="crisis_facility", phone="919-560-7305")
    referral = _write(
        clin,
        "post",
        f"/api/v1/encounters/{eid}/referrals/",
        {"type": "outpatient_mental_health", "agency_id": agency.pk},
    )
    followup = FollowUp.objects.filter(referral_id=referral["id"]).order_by("pk").first()
    assert followup is not None, "a referral schedules its follow-up"

    cad_user = make_user("cad-fuzz")
    _key, raw = ApiKey.generate(name="Fuzz CAD", user=cad_user)
    users[CAD] = cad_user

    from apps.realtime.models import Device
    from apps.security.models import UserSession

    device = Device.objects.create(id=uuid.uuid4(), user=users["officer"], label="Officer's phone", last_seen_at=now)
    session_cookies(users["officer"])  # a second sign-in of the officer, to be signed out by id
    officer_session = UserSession.objects.filter(user=users["officer"]).latest("pk")

    from apps.insights.services import report_freeze

    report = report_freeze(user=users["supervisor"], period_key="FY2025-Q2")

    world = World(users=users, cad_key=raw)
    world.ids = {
        "incident_id": [incident_a.pk, incident_b.pk, incident_new.pk],
        "assignment_id": [offered_a.pk, offered_b.pk],
        "encounter_id": [uuid.UUID(eid), uuid.UUID(enc_b["id"])],
        "note_id": [uuid.UUID(note["id"]), uuid.UUID(signed_note["id"])],
        "person_id": [uuid.UUID(person["id"]), uuid.UUID(duplicate["id"])],
        "referral_id": [uuid.UUID(referral["id"])],
        "followup_id": [followup.pk],
        "shift_id": [shift_a.pk, shift_b.pk],
        "team_id": [team_a.pk, team_b.pk],
        "user_id": [users["officer"].pk, users["clinician"].pk],
        "agency_id": [agency.pk],
        "session_id": [officer_session.pk],
        "device_id": [device.pk],
        "report_id": [report.pk],
    }
    world.extra = {
        "team_a": team_a,
        "team_b": team_b,
        "team_c": team_c,
        "duplicate_person": duplicate["id"],
        "signed_note_revision": signed_note["revision"],
    }
    return world


@pytest.fixture
def world(db: Any, make_user: Callable[..., Any]) -> World:
    return build_world(make_user)


def session_cookies(user: Any) -> dict[str, str]:
    """Cookies of a real, fully signed-in browser session of ``user`` (second factor verified, as
    after POST auth/mfa/verify/), plus a CSRF cookie."""
    from apps.security.testing import mfa_force_login

    client = mfa_force_login(Client(), user)
    return {settings.SESSION_COOKIE_NAME: client.cookies[settings.SESSION_COOKIE_NAME].value, "csrftoken": CSRF_TOKEN}


def actor_credentials(world: World, actor: str) -> tuple[dict[str, str], dict[str, str]]:
    """(headers, cookies) that make a request come from ``actor``."""
    headers = {"X-CSRFToken": CSRF_TOKEN}
    if actor == ANON:
        return headers, {"csrftoken": CSRF_TOKEN}
    if actor == CAD:
        return {"Authorization": f"Api-Key {world.cad_key}"}, {}
    return headers, session_cookies(world.users[actor])


@contextmanager
def rolled_back() -> Iterator[None]:
    """Run one request and undo its writes, so every request meets the same world.

    A savepoint, not ``atomic()``: services use ``atomic(durable=True)``, which refuses to nest in an
    ordinary atomic block but is fine inside the test case's transaction.
    """
    sid = transaction.savepoint()
    try:
        yield
    finally:
        transaction.savepoint_rollback(sid)


@pytest.fixture(autouse=True)
def push_configured(settings: Any) -> Iterator[None]:
    """Web Push set up as in production (else the VAPID key endpoint rightly answers 503)."""
    from apps.realtime.push import vapid_keys, vapid_keys_generate

    keys = vapid_keys_generate()
    settings.WEBPUSH_VAPID_PRIVATE_KEY = keys["private_key"]
    settings.WEBPUSH_VAPID_PUBLIC_KEY = keys["public_key"]
    vapid_keys.cache_clear()
    yield
    vapid_keys.cache_clear()
