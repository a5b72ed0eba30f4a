"""DOMAIN.md §2 as a test: every clinical endpoint and admin page, for every role.

Narrative carries MARKER and Part 2 content carries PART2_MARKER; police roles must never receive
either in any byte of any response, admin page or event payload.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from apps.clinical.models import ClinicalNote, Encounter, Person
from apps.realtime.models import Event
from apps.security.testing import mfa_force_login

from .conftest import MARKER, grant_part2, write

PART2_MARKER = "OTTER-PART2-5512"

SAFETY = dict.fromkeys(
    ("lethal_means_addressed", "not_left_alone", "supervisor_notified", "safety_plan_reviewed"), True
)
HIGH = {
    "q1_wish_dead": True,
    "q2_active_thoughts": True,
    "q3_method": True,
    "q4_intent": True,
    "q5_plan": True,
    "q6_behavior": False,
}


@dataclass
class World:
    users: dict[str, Any]
    encounter: Encounter
    note: ClinicalNote
    person: Person


@pytest.fixture
def world(
    api: Any,
    make_user: Any,
    clinician_a: Any,
    clinician_b: Any,
    officer_a: Any,
    officer_b: Any,
    dispatcher: Any,
    supervisor: Any,
    analyst: Any,
    clinical_supervisor: Any,
    care_navigator: Any,
    team_a: Any,
    on_shift_a: Any,
    on_shift_b: Any,
) -> World:
    author = grant_part2(clinician_a)
    c = api(author)
    pid = str(uuid.uuid4())
    assert (
        write(
            c, "post", "/api/v1/clinical/persons/", {"id": pid, "first_name": "Jordan", "last_name": "Rivers"}
        ).status_code
        == 201
    )
    eid = str(uuid.uuid4())
    res = write(
        c,
        "post",
        "/api/v1/clinical/encounters/",
        {"id": eid, "kind": "incident", "team_id": team_a.pk, "officer_id": officer_a.pk, "person_id": pid},
    )
    assert res.status_code == 201, res.json()
    assert write(c, "post", f"/api/v1/clinical/encounters/{eid}/screens/", HIGH).status_code == 201
    nid = str(uuid.uuid4())
    body = {
        "id": nid,
        "format": "soap",
        "sections": {"subjective": MARKER, "objective": "o", "assessment": "a", "plan": "p"},
        "diagnoses": [f"F32.9 {MARKER}"],
        "substance_use": PART2_MARKER,
        "safety_precautions": SAFETY,
    }
    assert write(c, "post", f"/api/v1/clinical/encounters/{eid}/notes/", body).status_code == 201
    assert (
        write(c, "post", f"/api/v1/clinical/encounters/{eid}/dispositions/", {"code": "transport_ed"}).status_code
        == 201
    )
    plan = {"id": str(uuid.uuid4()), "warning_signs": MARKER, "help_contacts": "Sister"}
    assert write(c, "post", f"/api/v1/clinical/encounters/{eid}/safety-plans/", plan).status_code == 201
    ivc = {"pathway": "petition_122c_261", "petitioner_name": "Sister", "petition_at": "2026-01-01T10:00:00Z"}
    assert write(c, "put", f"/api/v1/clinical/encounters/{eid}/ivc/", ivc).status_code == 200
    section = {"police_action": "none", "transport": "police", "transport_destination": "Crisis center"}
    assert (
        write(api(officer_a), "put", f"/api/v1/clinical/encounters/{eid}/officer-section/", section).status_code == 200
    )
    users = {
        "officer_a": officer_a,
        "officer_b": officer_b,
        "dispatcher": dispatcher,
        "clinician_a": author,
        "clinician_b": clinician_b,
        "care_navigator": care_navigator,
        "clinical_supervisor": clinical_supervisor,
        "supervisor": supervisor,
        "analyst": analyst,
    }
    return World(users, Encounter.objects.get(pk=eid), ClinicalNote.objects.get(pk=nid), Person.objects.get(pk=pid))


ROLES = [
    "officer_a",
    "officer_b",
    "dispatcher",
    "clinician_a",
    "clinician_b",
    "care_navigator",
    "clinical_supervisor",
    "supervisor",
    "analyst",
]
POLICE = {"officer_a", "officer_b", "dispatcher", "supervisor", "analyst"}  # never narrative / Part 2
CLINICAL = {"clinician_a", "care_navigator", "clinical_supervisor"}
PART2_READERS = {"clinician_a", "clinical_supervisor"}  # navigator is not authorised in this world

# Expected status per read endpoint and role.
READS: dict[str, dict[str, int]] = {
    "encounter_list": {r: 403 if r == "analyst" else 200 for r in ROLES},
    "encounter_detail": {
        **dict.fromkeys(ROLES, 404),
        **dict.fromkeys(
            ("officer_a", "dispatcher", "clinician_a", "care_navigator", "clinical_supervisor", "supervisor"), 200
        ),
    },
    "note_detail": {**dict.fromkeys(ROLES, 404), **dict.fromkeys(CLINICAL, 200)},
    "person_search": {**dict.fromkeys(ROLES, 403), **dict.fromkeys(CLINICAL | {"clinician_b"}, 200)},
    "person_detail": {**dict.fromkeys(ROLES, 403), **dict.fromkeys(CLINICAL | {"clinician_b"}, 200)},
}

# Keys of the encounter detail each role receives (beyond id / revision).
POLICE_SAFE_KEYS = {"kind", "person", "dispositions", "officer_section", "started_at", "team"}
CLINICAL_KEYS = {"risk_level", "screens", "ivc", "notes", "safety_plans"}


def _read_urls(w: World) -> dict[str, str]:
    return {
        "encounter_list": "/api/v1/clinical/encounters/",
        "encounter_detail": f"/api/v1/clinical/encounters/{w.encounter.pk}/",
        "note_detail": f"/api/v1/clinical/notes/{w.note.pk}/",
        "person_search": "/api/v1/clinical/persons/?q=jordan+rivers",
        "person_detail": f"/api/v1/clinical/persons/{w.person.pk}/",
    }


@pytest.mark.parametrize("role", ROLES)
def test_read_endpoints_answer_exactly_the_matrix(api: Any, world: World, role: str) -> None:
    client = api(world.users[role])
    for name, url in _read_urls(world).items():
        res = client.get(url)
        assert res.status_code == READS[name][role], (name, role, res.status_code)
        payload = res.content.decode()
        if role not in CLINICAL:
            assert MARKER not in payload, (name, role)
        if role not in PART2_READERS:
            assert PART2_MARKER not in payload, (name, role)
        if role in PART2_READERS and name in {"encounter_detail", "note_detail"}:
            assert PART2_MARKER in payload and "42 CFR Part 2" in payload
        if role in CLINICAL and name in {"encounter_detail", "note_detail", "person_detail"}:
            assert MARKER in payload, (name, role)


@pytest.mark.parametrize("role", ROLES)
def test_encounter_detail_carries_only_the_categories_of_the_role(api: Any, world: World, role: str) -> None:
    res = api(world.users[role]).get(f"/api/v1/clinical/encounters/{world.encounter.pk}/")
    if res.status_code == 404:
        return
    keys = set(res.json())
    assert keys >= POLICE_SAFE_KEYS
    if role in CLINICAL:
        assert keys >= CLINICAL_KEYS
        assert res.json()["risk_level"] == "high"
    else:
        assert not keys & CLINICAL_KEYS, keys & CLINICAL_KEYS
    # The only clinical fact an officer sees: "high risk" on the current (open) encounter.
    assert ("high_risk" in keys) == (role in CLINICAL | {"officer_a"})
    if role == "officer_a":
        assert res.json()["high_risk"] is True


def test_officer_loses_even_the_flag_once_the_encounter_is_closed(api: Any, world: World) -> None:
    c = api(world.users["clinician_a"])
    closed = write(
        c,
        "patch",
        f"/api/v1/clinical/encounters/{world.encounter.pk}/",
        {"revision": world.encounter.revision, "closed_at": "2026-11-27T00:00:00Z"},
    )
    if closed.status_code == 400:  # encounter started after that moment: close it now instead
        from django.utils import timezone

        closed = write(
            c,
            "patch",
            f"/api/v1/clinical/encounters/{world.encounter.pk}/",
            {"revision": world.encounter.revision, "closed_at": timezone.now().isoformat()},
        )
    assert closed.status_code == 200, closed.json()
    res = api(world.users["officer_a"]).get(f"/api/v1/clinical/encounters/{world.encounter.pk}/")
    assert res.status_code == 200
    assert "high_risk" not in res.json()
    assert "person" not in res.json() and "Jordan" not in res.content.decode()  # name only on the current call
    assert res.json()["officer_section"]["transport"] == "police"


WRITE_EXPECT = {
    # endpoint: roles that succeed (others 404 / 403, never 2xx)
    "note_create": CLINICAL,
    "screen": CLINICAL,
    "disposition": CLINICAL,
    "officer_section": {"officer_a"},
    "break_glass": {"supervisor", "clinician_b"},  # clinician_a already has access: 409
}


def _write_calls(w: World) -> dict[str, tuple[str, str, dict[str, Any]]]:
    e = w.encounter.pk
    return {
        "note_create": ("post", f"/api/v1/clinical/encounters/{e}/notes/", {"id": str(uuid.uuid4()), "format": "dap"}),
        "screen": ("post", f"/api/v1/clinical/encounters/{e}/screens/", HIGH),
        "disposition": ("post", f"/api/v1/clinical/encounters/{e}/dispositions/", {"code": "resolved_on_scene"}),
        "officer_section": (
            "put",
            f"/api/v1/clinical/encounters/{e}/officer-section/",
            {"revision": 1, "use_of_force": False},
        ),
        "break_glass": (
            "post",
            f"/api/v1/clinical/encounters/{e}/break-glass/",
            {"reason": "Person re-presenting in crisis, need history"},
        ),
    }


@pytest.mark.parametrize("role", ROLES)
def test_write_endpoints_answer_exactly_the_matrix(api: Any, world: World, role: str) -> None:
    client = api(world.users[role])
    for name, (method, url, body) in _write_calls(world).items():
        if name in {"disposition"} and role in CLINICAL:
            body = {
                "code": {"clinician_a": "citation", "care_navigator": "arrest", "clinical_supervisor": "ems_transport"}[
                    role
                ]
            }
        res = write(client, method, url, body)
        ok = role in WRITE_EXPECT[name]
        assert (200 <= res.status_code < 300) == ok, (name, role, res.status_code, res.content[:200])
        if not ok:
            expected = {409} if (name, role) == ("break_glass", "clinician_a") else {403, 404}
            assert res.status_code in expected, (name, role, res.status_code)
        if role not in CLINICAL:
            assert MARKER not in res.content.decode() and PART2_MARKER not in res.content.decode(), (name, role)


ADMIN_PAGES = {
    "encounter_list": "/admin/clinical/encounter/",
    "encounter_change": "/admin/clinical/encounter/{e}/change/",
    "accesslog_list": "/admin/clinical/accesslog/",
    "breakglass_list": "/admin/clinical/breakglass/",
    "person_list": "/admin/clinical/person/",
}
STAFF_ACCESS = {
    "supervisor": {"encounter_list", "encounter_change", "accesslog_list", "breakglass_list"},
    "clinical_supervisor": set(ADMIN_PAGES),
}


@pytest.mark.parametrize("role", ROLES)
def test_admin_pages_obey_the_matrix(world: World, role: str) -> None:
    client = Client()
    mfa_force_login(client, world.users[role])
    allowed = STAFF_ACCESS.get(role, set())
    for name, template in ADMIN_PAGES.items():
        res = client.get(template.format(e=world.encounter.pk))
        body = res.content.decode()
        if name in allowed:
            assert res.status_code == 200, (name, role, res.status_code)
        else:
            # Non-staff roles are sent to the admin login; staff without the role get 403.
            assert res.status_code in {302, 403}, (name, role, res.status_code)
        if role != "clinical_supervisor":
            assert MARKER not in body and PART2_MARKER not in body, (name, role)
    if role == "clinical_supervisor":
        body = client.get(ADMIN_PAGES["encounter_change"].format(e=world.encounter.pk)).content.decode()
        assert MARKER in body and PART2_MARKER in body


def test_event_payloads_to_police_roles_carry_ids_and_the_flag_only(world: World) -> None:
    officer_events = Event.objects.filter(user=world.users["officer_a"], type="clinical.encounter_high_risk")
    assert officer_events.count() == 1
    assert officer_events.get().data == {
        "encounter_id": str(world.encounter.pk),
        "event": "high_risk",
        "high_risk": True,
    }
    sup_events = Event.objects.filter(user=world.users["clinical_supervisor"], type="clinical.encounter_high_risk")
    assert sup_events.get().data["risk_level"] == "high"
    for event in Event.objects.all():
        text = str(event.data)
        assert MARKER not in text and PART2_MARKER not in text
    # Every write told the people on the encounter (not the writer, not other teams), by id only.
    changed = Event.objects.filter(type="clinical.encounter_changed")
    officer_changes = changed.filter(user=world.users["officer_a"])
    # Notes, screens, plans and IVC are named to the officer only as "encounter".
    assert {e.data["what"] for e in officer_changes} == {"encounter", "disposition"}
    for event in officer_changes:
        assert set(event.data) <= {"encounter_id", "event", "what", "revision", "high_risk"}, event.data
    assert not changed.filter(
        user__in=[world.users["clinician_b"], world.users["officer_b"], world.users["dispatcher"]]
    )
    assert {e.data["what"] for e in changed.filter(user=world.users["clinician_a"])} == {"officersection"}


def test_the_access_log_ignores_a_forged_forwarded_for_unless_behind_a_trusted_proxy(
    api: Any, world: World, settings: Any
) -> None:
    from apps.clinical.models import AccessLog

    url = f"/api/v1/clinical/notes/{world.note.pk}/"
    client = api(world.users["care_navigator"])
    settings.SECURITY_TRUSTED_PROXY_COUNT = 0
    assert client.get(url, REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="6.6.6.6").status_code == 200
    assert AccessLog.objects.order_by("-id").values_list("ip", flat=True)[0] == "10.1.2.3"
    settings.SECURITY_TRUSTED_PROXY_COUNT = 1
    assert client.get(url, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 203.0.113.9").status_code == 200
    assert AccessLog.objects.order_by("-id").values_list("ip", flat=True)[0] == "203.0.113.9"


def test_every_clinical_read_is_in_the_access_log(api: Any, world: World) -> None:
    from apps.clinical.models import AccessLog

    before = AccessLog.objects.count()
    res = api(world.users["care_navigator"]).get(
        f"/api/v1/clinical/notes/{world.note.pk}/", HTTP_USER_AGENT="PhoneApp/1.0", REMOTE_ADDR="10.1.2.3"
    )
    assert res.status_code == 200
    row = AccessLog.objects.order_by("-id").first()
    assert AccessLog.objects.count() == before + 1
    assert row is not None
    assert (row.user_id, row.action, row.record_type, row.record_id) == (
        world.users["care_navigator"].pk,
        "read",
        "note",
        str(world.note.pk),
    )
    assert row.ip == "10.1.2.3" and row.user_agent == "PhoneApp/1.0"
    assert "narrative" in row.categories and "part2" not in row.categories
    assert row.roles == "care_navigator"


def test_break_glass_opens_one_record_for_a_limited_time_and_is_flagged(
    api: Any, world: World, time_machine: Any
) -> None:
    from apps.clinical.models import AccessLog, BreakGlass

    sup = api(world.users["supervisor"])
    url = f"/api/v1/clinical/encounters/{world.encounter.pk}/"
    assert MARKER not in sup.get(url).content.decode()
    no_reason = write(sup, "post", url + "break-glass/", {"reason": ""})
    assert no_reason.status_code == 400
    ok = write(sup, "post", url + "break-glass/", {"reason": "Person missing, safety plan contacts needed now"})
    assert ok.status_code == 201
    res = sup.get(url)
    assert res.json()["break_glass"] is True
    assert MARKER in res.content.decode()
    assert PART2_MARKER not in res.content.decode()  # break-glass never opens Part 2
    assert AccessLog.objects.filter(user=world.users["supervisor"], break_glass=True, action="read").exists()
    assert BreakGlass.objects.get().reviewed_at is None  # waits for review
    time_machine.move_to(BreakGlass.objects.get().expires_at)
    assert MARKER not in sup.get(url).content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_the_deidentified_export_is_for_supervisors_and_is_logged(api: Any, world: World, role: str) -> None:
    from django.utils import timezone

    from apps.clinical.models import AccessLog

    today = timezone.localdate()
    res = api(world.users[role]).get(
        "/api/v1/clinical/exports/encounters/",
        {"start": (today - dt.timedelta(days=1)).isoformat(), "end": (today + dt.timedelta(days=1)).isoformat()},
    )
    if role not in {"supervisor", "clinical_supervisor"}:  # analysts: aggregates only (apps.insights)
        assert res.status_code == 403
        return
    assert res.status_code == 200, res.json()
    body = res.content.decode()
    for secret in (MARKER, PART2_MARKER, "Jordan", "Rivers", str(world.encounter.pk), str(world.person.pk)):
        assert secret not in body
    data = res.json()
    assert data["totals"]["encounters"] == 1
    assert data["totals"]["risk_levels"] == {"high": 1}
    assert "risk_level" not in data["rows"][0]
    assert data["rows"][0]["dispositions"] == [{"code": "transport_ed", "apco_code": "16"}]
    assert AccessLog.objects.filter(user=world.users[role], action="export").count() == 1


def test_export_refuses_a_backwards_range(api: Any, supervisor: Any) -> None:
    res = api(supervisor).get("/api/v1/clinical/exports/encounters/", {"start": "2026-02-01", "end": "2026-01-01"})
    assert res.status_code == 400 and "end" in res.json()["errors"]


def test_break_glass_by_a_clinician_of_another_team_reads_but_never_writes(api: Any, world: World) -> None:
    other = api(world.users["clinician_b"])
    url = f"/api/v1/clinical/encounters/{world.encounter.pk}/"
    assert other.get(url).status_code == 404
    assert (
        write(other, "post", url + "break-glass/", {"reason": "Same person on my call, needs history"}).status_code
        == 201
    )
    res = other.get(url)
    assert res.status_code == 200 and res.json()["break_glass"] is True
    assert MARKER in res.content.decode()
    assert other.get(f"/api/v1/clinical/notes/{world.note.pk}/").status_code == 200
    note = write(other, "post", url + "notes/", {"id": str(uuid.uuid4()), "format": "dap"})
    assert note.status_code == 404
    edit = write(other, "patch", f"/api/v1/clinical/notes/{world.note.pk}/", {"revision": 1, "sections": {"plan": "x"}})
    assert edit.status_code == 404


PERSON_WRITERS = CLINICAL | {"clinician_b"}


def _expected_more_writes(role: str) -> dict[str, int]:
    """Status per remaining write endpoint, in the order they run (a fresh world per role)."""
    clinical = role in CLINICAL
    return {
        "person_create": 201 if role in PERSON_WRITERS else 403,
        "person_patch": 200 if role in PERSON_WRITERS else 403,
        "person_merge": 200 if role in PERSON_WRITERS else 403,
        "encounter_patch": 200 if clinical else 404,
        "note_patch": 200 if clinical else 404,
        "safety_plan": 201 if clinical else 404,
        "ivc_update": 200 if clinical else 404,
        # Only the author signs: other clinical roles pass access and fail the rule (400).
        "note_sign": {"clinician_a": 200, "care_navigator": 400, "clinical_supervisor": 400}.get(role, 404),
        # Addenda only on signed notes: only the author's world has one signed by now.
        "addendum": {"clinician_a": 201, "care_navigator": 409, "clinical_supervisor": 409}.get(role, 404),
        # Co-sign: clinical supervisors only, and only a signed note (theirs is a draft: 409).
        "note_cosign": 409 if role == "clinical_supervisor" else 404,
    }


@pytest.mark.parametrize("role", ROLES)
def test_every_other_write_endpoint_answers_exactly_the_matrix(api: Any, world: World, role: str) -> None:
    client = api(world.users[role])
    e, n, p = world.encounter.pk, world.note.pk, world.person.pk
    duplicate = Person.objects.create(first_name="Jordan", last_name="Rivers Dup")

    def note_rev() -> int:
        return ClinicalNote.objects.get(pk=n).revision

    calls: dict[str, Any] = {
        "person_create": lambda: ("post", "/api/v1/clinical/persons/", {"first_name": "New"}),
        "person_patch": lambda: (
            "patch",
            f"/api/v1/clinical/persons/{p}/",
            {"revision": Person.objects.get(pk=p).revision, "phone": "919-555-0111"},
        ),
        "person_merge": lambda: (
            "post",
            f"/api/v1/clinical/persons/{p}/merge/",
            {"duplicate_id": str(duplicate.pk), "reason": "same"},
        ),
        "encounter_patch": lambda: (
            "patch",
            f"/api/v1/clinical/encounters/{e}/",
            {"revision": Encounter.objects.get(pk=e).revision, "ed_diverted": True},
        ),
        "note_patch": lambda: (
            "patch",
            f"/api/v1/clinical/notes/{n}/",
            {"revision": note_rev(), "sections": {"plan": "p2"}},
        ),
        "safety_plan": lambda: (
            "post",
            f"/api/v1/clinical/encounters/{e}/safety-plans/",
            {"id": str(uuid.uuid4()), "warning_signs": "w"},
        ),
        "ivc_update": lambda: ("put", f"/api/v1/clinical/encounters/{e}/ivc/", {"revision": 1, "outcome": "released"}),
        "note_sign": lambda: ("post", f"/api/v1/clinical/notes/{n}/sign/", {"revision": note_rev()}),
        "addendum": lambda: (
            "post",
            f"/api/v1/clinical/notes/{n}/addenda/",
            {"id": str(uuid.uuid4()), "kind": "addendum", "reason": "r", "text": "t"},
        ),
        "note_cosign": lambda: ("post", f"/api/v1/clinical/notes/{n}/cosign/", {}),
    }
    expected = _expected_more_writes(role)
    assert list(calls) == list(expected)
    for name, make in calls.items():
        method, url, body = make()
        res = write(client, method, url, body)
        assert res.status_code == expected[name], (name, role, res.status_code, res.content[:300])
        if role not in CLINICAL:
            text = res.content.decode()
            assert MARKER not in text and PART2_MARKER not in text, (name, role)
