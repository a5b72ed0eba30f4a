"""THE authorization table: every URL × method × role (and anonymous, and a CAD API-key client).

One row per (METHOD, path template) of the URL conf and the OpenAPI schema; test_authz_matrix.py
discovers the endpoints from both and fails when one has no row here, or a row names an endpoint
that no longer exists. Each row is sent as every actor against the world of conftest.py (team A's
clinician and officer are on the call; team B's objects are someone else's), each request rolled back,
and must answer exactly the status written here.

How to read a row: ``allow(200, "dispatcher", ...)`` → those roles get 200, every other role 403,
anonymous 401, the CAD client (a service user with no role) 403; keyword overrides name single
actors (``officer=404``: hidden, not forbidden, DOMAIN.md §2). Path ids are the world's first object
of that name (team A's) unless ``ids`` picks another.

Admin pages are rules by role (ADMIN_MODELS): non-staff roles and anonymous are sent to the admin
sign-in (302); staff roles see a model's changelist / add page (200) or are refused (403). A model
registered in the admin later fails the test until it has an entry.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .conftest import ANON, CAD, USER_ROLES, World

STAFF = ("supervisor", "clinical_supervisor", "admin")
CLINICAL = ("clinician", "care_navigator", "clinical_supervisor")  # clinical content (DOMAIN.md §2)
OPERATIONS = tuple(r for r in USER_ROLES if r != "analyst")  # the live picture; analysts: aggregates
DISPATCH = ("dispatcher", "supervisor", "admin")
EVERYONE = USER_ROLES
# Program insight: aggregates for analysts (suppressed) and supervisors; drill-downs for supervisors.
INSIGHT = ("analyst", "supervisor", "clinical_supervisor")
# Everyone but analysts reads incident rows (exact times and beats identify people; analysts get aggregates).
INCIDENT_READERS = tuple(r for r in USER_ROLES if r != "analyst")


def allow(ok: int, *roles: str, denied: int = 403, anon: int = 401, cad: int = 403, **overrides: int) -> dict[str, int]:
    expected = {role: ok if role in roles else denied for role in USER_ROLES}
    expected.update({ANON: anon, CAD: cad})
    expected.update(overrides)
    return expected


def same(code: int) -> dict[str, int]:
    """Every actor, signed in or not, gets ``code`` (public pages)."""
    return {actor: code for actor in (*USER_ROLES, ANON, CAD)}


@dataclass(frozen=True)
class Row:
    expect: dict[str, int]
    body: Callable[[World], Any] | None = None
    query: dict[str, str] = field(default_factory=dict)
    ids: dict[str, int] = field(default_factory=dict)  # path parameter → index into world.ids[...]
    why: str = ""
    officer_never: str = ""  # text that must not be in the officer's answer (DOMAIN.md §2)


_CSSRS = ("1_wish_dead", "2_active_thoughts", "3_method", "4_intent", "5_plan", "6_behavior")
EIDO_EXAMPLE = Path(__file__).parents[2] / "apps" / "incidents" / "tests" / "data" / "eido_incident.json"


def _revision(w: World) -> int:
    from apps.clinical.models import Encounter

    return Encounter.objects.get(pk=w.ids["encounter_id"][0]).revision


def _eido(_w: World) -> Any:
    return json.loads(EIDO_EXAMPLE.read_text())


def _shift(w: World) -> dict[str, Any]:
    return {
        "team": w.extra["team_a"].pk,
        "starts_at": "2030-06-02T12:00:00Z",
        "ends_at": "2030-06-02T22:00:00Z",
        "members": [
            {"user": w.users["clinician"].pk, "role": "clinician"},
            {"user": w.users["officer"].pk, "role": "officer"},
        ],
    }


P = "/api/v1/"

ROWS: dict[tuple[str, str], Row] = {
    # --- public and sign-in -------------------------------------------------------------------------
    ("GET", "/healthz"): Row(same(200)),
    ("GET", "/api/schema/"): Row(
        {**same(200), CAD: 403}, why="public (no data); an API key is held to its scopes (cad:intake)"
    ),
    ("GET", "/api/docs/"): Row({**same(200), CAD: 403}),
    ("GET", "/calendar/{token}.ics"): Row(same(200), why="the secret token is the credential"),
    ("GET", "/{spa}"): Row(same(200), why="the PWA shell; it asks the API who is signed in"),
    ("GET", P + "auth/csrf/"): Row(same(200)),
    ("GET", P + "auth/session/"): Row({**same(200), CAD: 403}, why="anyone may ask whether they are signed in"),
    ("POST", P + "auth/login/"): Row(
        {**same(400), CAD: 403},
        body=lambda w: {"username": "nobody", "password": "wrong-password-1"},
        why="wrong credentials",
    ),
    ("POST", P + "auth/logout/"): Row({**same(204), CAD: 403}),
    ("POST", P + "auth/mfa/verify/"): Row(
        {**same(401), CAD: 403}, body=lambda w: {"code": "123456"}, why="no password step before"
    ),
    ("POST", P + "auth/mfa/enroll/"): Row(allow(400, *EVERYONE), body=lambda w: {}, why="replacing needs the password"),
    ("POST", P + "auth/mfa/enroll/confirm/"): Row(allow(400, *EVERYONE), body=lambda w: {"code": "1"}),
    # People only (session authentication): an API key never manages a second factor or a password,
    # and without an authentication header to offer DRF answers anonymous callers 403.
    ("GET", P + "auth/mfa/"): Row(allow(200, *EVERYONE, anon=403)),
    ("POST", P + "auth/mfa/recovery-codes/"): Row(
        allow(400, *EVERYONE, anon=403), body=lambda w: {"password": "not-the-password"}
    ),
    ("POST", P + "auth/password/"): Row(
        allow(400, *EVERYONE, anon=403), body=lambda w: {"old_password": "wrong", "new_password": "x"}
    ),
    ("POST", P + "auth/lock/"): Row(allow(204, *EVERYONE)),
    ("POST", P + "auth/unlock/"): Row(allow(400, *EVERYONE), body=lambda w: {"password": "wrong"}),
    ("GET", P + "auth/sessions/"): Row(allow(200, *EVERYONE)),
    ("DELETE", P + "auth/sessions/{session_id}/"): Row(
        allow(204, "officer", denied=404), why="the officer's other session; anyone else's is not found"
    ),
    ("GET", P + "me/"): Row(allow(200, *EVERYONE)),
    # --- security: lost phone -------------------------------------------------------------------------
    ("POST", P + "security/users/{user_id}/revoke-devices/"): Row(allow(200, "supervisor", "admin")),
    ("POST", P + "security/devices/{device_id}/revoke/"): Row(
        allow(200, "supervisor", "admin", "officer", denied=404), why="the officer owns the phone"
    ),
    # --- teams and shifts ---------------------------------------------------------------------------
    ("GET", P + "teams/on-duty/"): Row(allow(200, *OPERATIONS)),
    ("GET", P + "shifts/"): Row(allow(200, *EVERYONE)),
    ("POST", P + "shifts/"): Row(allow(201, "supervisor", "admin"), body=_shift),
    ("GET", P + "shifts/{shift_id}/"): Row(allow(200, *EVERYONE)),
    ("PUT", P + "shifts/{shift_id}/"): Row(allow(200, "supervisor", "admin"), body=_shift),
    ("DELETE", P + "shifts/{shift_id}/"): Row(allow(204, "supervisor", "admin")),
    # --- real time and push ---------------------------------------------------------------------------
    ("GET", P + "events/"): Row(allow(200, *EVERYONE)),
    ("POST", P + "events/receipts/"): Row(
        allow(404, *EVERYONE),
        body=lambda w: {"device": str(uuid.uuid4()), "stage": "delivered", "cursor": 999_999_999},
        why="past the permission check: no such event in this user's stream",
    ),
    ("GET", P + "delivery/board/"): Row(allow(200, "dispatcher", "supervisor")),
    ("POST", P + "push/subscriptions/"): Row(
        allow(201, *EVERYONE),
        body=lambda w: {
            "device": str(uuid.uuid4()),
            "endpoint": "https://push.example.com/send/abc",
            "keys": {
                "p256dh": "BNcRdreALRFXTkOOUHK1EtK2wtaz5Ry4YfYCA_0QTpQtUbVlUls0VJXg7A8u-Ts1XbjhazAkj7I99e8QcYP7DkM",
                "auth": "tBHItJI5svbpez7KI4CCXg",
            },
        },
    ),
    ("DELETE", P + "push/subscriptions/"): Row(allow(204, *EVERYONE), body=lambda w: {"device": str(uuid.uuid4())}),
    ("GET", P + "push/vapid-public-key/"): Row(allow(200, *EVERYONE)),
    # --- SMS and voice (apps.notifications) ---------------------------------------------------------
    # One's own number only (no id in the path). The matrix's server has no telephony provider: asking
    # for a code is 503 (nothing kept), confirming without a code waiting is 409.
    ("GET", P + "me/phone/"): Row(allow(200, *EVERYONE)),
    ("POST", P + "me/phone/"): Row(allow(503, *EVERYONE), body=lambda w: {"number": "+19195550142"}),
    ("DELETE", P + "me/phone/"): Row(allow(204, *EVERYONE)),
    ("POST", P + "me/phone/confirm/"): Row(allow(409, *EVERYONE), body=lambda w: {"code": "123456"}),
    # Twilio's webhooks: POST only, signed (the signature is the credential; tested in
    # apps/notifications/tests/test_replies.py). Any other method is 405 for everyone.
    ("GET", "/webhooks/twilio/sms/"): Row(same(405)),
    ("GET", "/webhooks/twilio/status/{notification_token}/"): Row(same(405)),
    ("GET", "/webhooks/twilio/voice/{notification_token}/"): Row(same(405)),
    ("GET", "/webhooks/twilio/voice/{notification_token}/gather/"): Row(same(405)),
    # --- incidents and assignments ------------------------------------------------------------------
    ("GET", P + "incidents/"): Row(allow(200, *INCIDENT_READERS)),
    ("POST", P + "incidents/"): Row(
        allow(201, *DISPATCH),
        body=lambda w: {"call_type": "SUICTHRT", "priority": 5, "address": "1 Main St, Durham, NC"},
    ),
    ("GET", P + "incidents/board/"): Row(allow(200, *DISPATCH)),
    ("GET", P + "incidents/closed/"): Row(allow(200, *INCIDENT_READERS)),  # the same readers as incidents/
    ("GET", P + "incidents/{incident_id}/"): Row(allow(200, *INCIDENT_READERS)),
    ("PATCH", P + "incidents/{incident_id}/"): Row(allow(200, *DISPATCH), body=lambda w: {"beat": "D2-01"}),
    ("POST", P + "incidents/{incident_id}/triage/"): Row(
        allow(200, *DISPATCH),
        body=lambda w: {"coresponse_eligible": True, "eligibility_reason": "crisis", "outcome": "dispatch_co_response"},
        ids={"incident_id": 2},
    ),
    ("GET", P + "incidents/{incident_id}/recommendations/"): Row(allow(200, *DISPATCH)),
    ("POST", P + "incidents/{incident_id}/assignments/"): Row(
        allow(201, *DISPATCH), body=lambda w: {"team": w.extra["team_c"].pk}, ids={"incident_id": 2}
    ),
    ("POST", P + "incidents/{incident_id}/reassign/"): Row(
        allow(201, *DISPATCH), body=lambda w: {"team": w.extra["team_c"].pk, "reason": "closer"}
    ),
    ("GET", P + "assignments/inbox/"): Row(allow(200, "clinician", "officer", *DISPATCH)),
    ("POST", P + "assignments/{assignment_id}/acknowledge/"): Row(allow(200, "clinician", "officer")),
    ("POST", P + "assignments/{assignment_id}/accept/"): Row(allow(200, "clinician", "officer")),
    ("POST", P + "assignments/{assignment_id}/decline/"): Row(
        allow(200, "clinician", "officer"), body=lambda w: {"reason": "on another call"}
    ),
    ("POST", P + "assignments/{assignment_id}/status/"): Row(
        allow(409, "clinician", "officer", *DISPATCH),
        body=lambda w: {"status": "on_scene"},
        why="past the permission check: not accepted yet",
    ),
    ("POST", P + "assignments/{assignment_id}/cancel/"): Row(
        allow(200, *DISPATCH), body=lambda w: {"reason": "caller called back"}
    ),
    ("POST", P + "cad/incidents"): Row(same(401) | {CAD: 201}, body=_eido, why="API keys only"),
    # --- clinical -----------------------------------------------------------------------------------
    ("GET", P + "clinical/persons/"): Row(allow(200, *CLINICAL), query={"q": "jordan"}),
    ("POST", P + "clinical/persons/"): Row(allow(201, *CLINICAL), body=lambda w: {"first_name": "New"}),
    ("GET", P + "clinical/persons/{person_id}/"): Row(allow(200, *CLINICAL)),
    ("PATCH", P + "clinical/persons/{person_id}/"): Row(
        allow(200, *CLINICAL), body=lambda w: {"revision": 1, "phone": "919-555-0100"}
    ),
    ("POST", P + "clinical/persons/{person_id}/merge/"): Row(
        allow(200, *CLINICAL), body=lambda w: {"duplicate_id": w.extra["duplicate_person"], "reason": "same person"}
    ),
    ("GET", P + "clinical/encounters/"): Row(allow(200, *OPERATIONS, admin=403)),
    ("POST", P + "clinical/encounters/"): Row(
        allow(201, *CLINICAL, denied=404, analyst=403, admin=403),
        body=lambda w: {"id": str(uuid.uuid4()), "kind": "walk_in"},
        why="operations roles pass the view and meet the service's not-found (no clinical write)",
    ),
    ("GET", P + "clinical/encounters/{encounter_id}/"): Row(
        allow(200, *OPERATIONS, denied=404, analyst=404, admin=404), why="officer: on the call; police-safe fields"
    ),
    ("PATCH", P + "clinical/encounters/{encounter_id}/"): Row(
        allow(200, *CLINICAL, denied=404), body=lambda w: {"revision": _revision(w), "ed_diverted": True}
    ),
    ("POST", P + "clinical/encounters/{encounter_id}/notes/"): Row(
        allow(201, *CLINICAL, denied=404), body=lambda w: {"id": str(uuid.uuid4()), "format": "dap"}
    ),
    ("POST", P + "clinical/encounters/{encounter_id}/screens/"): Row(
        allow(201, *CLINICAL, denied=404), body=lambda w: {f"q{q}": q[0] in "12" for q in _CSSRS}
    ),
    ("POST", P + "clinical/encounters/{encounter_id}/safety-plans/"): Row(
        allow(201, *CLINICAL, denied=404), body=lambda w: {"id": str(uuid.uuid4()), "warning_signs": "w"}
    ),
    ("POST", P + "clinical/encounters/{encounter_id}/dispositions/"): Row(
        allow(201, *CLINICAL, denied=404), body=lambda w: {"code": "citation"}
    ),
    ("PUT", P + "clinical/encounters/{encounter_id}/ivc/"): Row(
        allow(200, *CLINICAL, denied=404), body=lambda w: {"pathway": "petition_122c_261"}
    ),
    ("PUT", P + "clinical/encounters/{encounter_id}/officer-section/"): Row(
        allow(200, "officer", denied=404), body=lambda w: {"police_action": "none"}
    ),
    ("POST", P + "clinical/encounters/{encounter_id}/break-glass/"): Row(
        allow(201, "supervisor", denied=404, clinician=409),
        body=lambda w: {"reason": "Person missing, need contacts"},
        why="the clinician on the encounter already has access (409)",
    ),
    ("GET", P + "clinical/exports/encounters/"): Row(
        allow(200, "supervisor", "clinical_supervisor"),
        query={"start": "2026-01-01", "end": "2026-12-31"},
        why="rows per encounter: not for analysts (aggregates: insights/)",
    ),
    ("GET", P + "clinical/notes/{note_id}/"): Row(allow(200, *CLINICAL, denied=404)),
    ("PATCH", P + "clinical/notes/{note_id}/"): Row(
        allow(200, *CLINICAL, denied=404), body=lambda w: {"revision": 1, "sections": {"plan": "p2"}}
    ),
    ("POST", P + "clinical/notes/{note_id}/sign/"): Row(
        allow(200, "clinician", denied=404, care_navigator=400, clinical_supervisor=400),
        body=lambda w: {"revision": 1},
        why="only the author signs: other clinical roles pass access and fail the rule (400)",
    ),
    ("POST", P + "clinical/notes/{note_id}/cosign/"): Row(
        allow(200, "clinical_supervisor", denied=404), body=lambda w: {}, ids={"note_id": 1}
    ),
    ("POST", P + "clinical/notes/{note_id}/addenda/"): Row(
        allow(201, *CLINICAL, denied=404),
        body=lambda w: {"id": str(uuid.uuid4()), "kind": "addendum", "reason": "late entry", "text": "t"},
        ids={"note_id": 1},
    ),
    # --- referrals and follow-ups -------------------------------------------------------------------
    ("GET", P + "agencies/"): Row(allow(200, *CLINICAL, "supervisor")),
    ("GET", P + "referrals/"): Row(
        allow(200, *OPERATIONS, admin=403), why="'referral made' is visible to all roles (DOMAIN.md §2)"
    ),
    ("POST", P + "referrals/"): Row(
        allow(201, *CLINICAL),
        body=lambda w: {"type": "outpatient_mental_health", "encounter_id": str(w.ids["encounter_id"][0])},
    ),
    ("GET", P + "referrals/{referral_id}/"): Row(allow(200, *OPERATIONS, admin=403)),
    ("POST", P + "referrals/{referral_id}/status/"): Row(
        allow(200, *CLINICAL), body=lambda w: {"status": "scheduled", "scheduled_for": "2030-01-02T15:00:00Z"}
    ),
    ("POST", P + "encounters/{encounter_id}/referrals/"): Row(
        allow(201, *CLINICAL), body=lambda w: {"type": "outpatient_mental_health"}
    ),
    ("GET", P + "followups/"): Row(allow(200, *CLINICAL, "supervisor")),
    ("GET", P + "followups/overdue/"): Row(allow(200, "supervisor", "clinical_supervisor")),
    ("GET", P + "followups/{followup_id}/"): Row(allow(200, *CLINICAL, "supervisor")),
    ("POST", P + "followups/{followup_id}/attempts/"): Row(
        allow(201, *CLINICAL), body=lambda w: {"method": "phone", "outcome": "no_answer"}
    ),
    ("POST", P + "followups/{followup_id}/reassign/"): Row(
        allow(200, "supervisor", "clinical_supervisor"), body=lambda w: {"assignee_id": w.users["clinician"].pk}
    ),
    ("POST", P + "followups/{followup_id}/close/"): Row(allow(200, *CLINICAL), body=lambda w: {"reason": "moved away"}),
    ("GET", P + "reminders/"): Row(allow(200, *EVERYONE)),
    # --- program insight (docs/insights.md) ---------------------------------------------------------
    ("GET", P + "insights/catalogue/"): Row(allow(200, *INSIGHT)),
    ("GET", P + "insights/periods/"): Row(allow(200, *INSIGHT)),
    ("GET", P + "insights/dashboard/"): Row(allow(200, *INSIGHT), query={"period": "FY2025-Q2"}),
    ("GET", P + "insights/dashboard/csv/"): Row(allow(200, *INSIGHT), query={"period": "2025-02"}),
    ("GET", P + "insights/dashboard/xlsx/"): Row(allow(200, *INSIGHT), query={"period": "2025-02"}),
    ("GET", P + "insights/dashboard/print/"): Row(allow(200, *INSIGHT), query={"period": "2025-02"}),
    ("GET", P + "insights/live/"): Row(allow(200, "supervisor", "clinical_supervisor")),
    ("GET", P + "insights/drilldown/incidents/"): Row(
        allow(200, "supervisor", "clinical_supervisor"), query={"measure": "calls.total", "period": "FY2025"}
    ),
    ("GET", P + "insights/drilldown/encounters/"): Row(
        allow(200, "clinical_supervisor"), query={"measure": "outcomes.encounters", "key": "incident"}
    ),
    ("GET", P + "insights/reports/"): Row(allow(200, *INSIGHT)),
    ("POST", P + "insights/reports/"): Row(
        allow(201, *INSIGHT), body=lambda w: {"period": "FY2025-Q3"}, why="a quarter that is over, not frozen yet"
    ),
    ("GET", P + "insights/reports/{report_id}/"): Row(allow(200, *INSIGHT)),
    ("POST", P + "insights/reports/{report_id}/reopen/"): Row(
        allow(201, *INSIGHT), body=lambda w: {"reason": "late dispositions"}
    ),
    ("GET", P + "insights/reports/{report_id}/csv/"): Row(allow(200, *INSIGHT)),
    ("GET", P + "insights/reports/{report_id}/xlsx/"): Row(allow(200, *INSIGHT)),
    ("GET", P + "insights/reports/{report_id}/print/"): Row(allow(200, *INSIGHT)),
    # --- the admin site (model pages: ADMIN_MODELS below) ---------------------------------------------
    ("GET", "/admin/"): Row(allow(200, *STAFF, denied=302, anon=302, cad=302)),
    ("GET", "/admin/login/"): Row(allow(302, *STAFF, denied=200, anon=200, cad=200), why="staff are signed in"),
    ("GET", "/admin/logout/"): Row(allow(405, *STAFF, denied=302, anon=302, cad=302), why="sign-out is a POST"),
    ("GET", "/admin/password_change/"): Row(allow(200, *STAFF, denied=302, anon=302, cad=302)),
    ("GET", "/admin/password_change/done/"): Row(allow(200, *STAFF, denied=302, anon=302, cad=302)),
    ("GET", "/admin/jsi18n/"): Row(allow(200, *STAFF, denied=302, anon=302, cad=302)),
    ("GET", "/admin/autocomplete/"): Row(allow(403, *STAFF, denied=302, anon=302, cad=302), why="no model named"),
    ("GET", "/admin/r/{content_type_id}/{object_id}/"): Row(
        allow(404, *STAFF, denied=302, anon=302, cad=302), why="view on site: no such object"
    ),
    ("GET", "/admin/{app_label}/"): Row(
        allow(200, *STAFF, denied=302, anon=302, cad=302, admin=404), why="the admin role has no clinical models"
    ),
    # A ModelAdmin's own pages (beyond the standard ones of ADMIN_MODELS).
    ("GET", "/admin/accounts/user/{id}/password/"): Row(
        allow(200, "admin", denied=302, anon=302, cad=302, supervisor=403, clinical_supervisor=403),
        why="setting someone's password is a change of the user",
    ),
    ("GET", "/admin/shifts/shift/generate/"): Row(
        allow(200, "supervisor", "admin", denied=302, anon=302, cad=302, clinical_supervisor=403), why="adds shifts"
    ),
    ("GET", "/admin/shifts/shift/coverage/"): Row(allow(200, *STAFF, denied=302, anon=302, cad=302)),
    ("GET", "/admin/{url}"): Row(allow(404, *STAFF, denied=302, anon=302, cad=302), why="admin catch-all"),
}

# HEAD answers what GET answers (test_head_options_and_unsupported_methods), except here (findings,
# left as the code has them; docs/security.md):
HEAD_DIFFERS: dict[str, dict[str, int]] = {
    # Django's admin sign-in sends a signed-in user on to the index only for GET.
    "/admin/login/": {role: 200 for role in STAFF},
}

# --- Admin model pages: rules by role ---------------------------------------------------------------
# Every registered ModelAdmin answers for its changelist, add page, and one existing object's page
# (``<pk>/change/``), history and delete page (``admin_object_pages`` in test_authz_matrix.py); a model
# registered later fails the test until it has an entry here, with an object to open.
# ``view``: changelist, the object's page (read-only unless ``change``) and its history; ``add``: the add
# page; ``change``: may save the object's page (POST); ``delete``: the delete page and deleting. Every other
# staff role gets 403 there; non-staff roles, anonymous and the CAD client are sent to the admin sign-in.


@dataclass(frozen=True)
class AdminModel:
    obj: Callable[[World], Any]  # one existing object of the model (from the world, or made for the test)
    view: frozenset[str] = frozenset()
    add: frozenset[str] = frozenset()
    change: frozenset[str] = frozenset()
    delete: frozenset[str] = frozenset()
    # Roles the object's own policy hides it from (its ModelAdmin.get_object answers None): the history
    # page sends them back to the admin index as for a missing object (302, nothing shown); the object's
    # page still refuses them (403: Django checks the permission first).
    not_found: frozenset[str] = frozenset()


_NONE: frozenset[str] = frozenset()
_ALL_STAFF = frozenset(STAFF)
_SUP_ADMIN = frozenset({"supervisor", "admin"})
_ADMIN = frozenset({"admin"})
_SUPERVISORS = frozenset({"supervisor", "clinical_supervisor"})
# Audit trails: nobody changes or deletes a row, not even through the admin (DOMAIN.md §6; issue 8 item 7).
APPEND_ONLY = frozenset(
    {"clinical.accesslog", "notifications.inbound", "security.securityevent", "insights.reportsnapshot"}
)


def _first(label: str) -> Callable[[World], Any]:
    """The world's first object of a model the world's services create as they go (logs, events)."""

    def pick(_w: World) -> Any:
        from django.apps import apps

        obj = apps.get_model(label).objects.order_by("pk").first()
        assert obj is not None, f"the world has no {label}: make one for the admin pages"
        return obj

    return pick


def _get(label: str, **lookup: Any) -> Callable[[World], Any]:
    def pick(_w: World) -> Any:
        from django.apps import apps

        return apps.get_model(label).objects.get(**lookup)

    return pick


def _world_id(label: str, name: str) -> Callable[[World], Any]:
    def pick(w: World) -> Any:
        from django.apps import apps

        return apps.get_model(label).objects.get(pk=w.ids[name][0])

    return pick


def _break_glass(w: World) -> Any:
    from apps.clinical.models import BreakGlass, Encounter

    encounter = Encounter.objects.get(pk=w.ids["encounter_id"][1])
    expires = encounter.started_at + dt.timedelta(days=3650)
    return BreakGlass.objects.create(user=w.users["supervisor"], encounter=encounter, reason="r", expires_at=expires)


def _escalation(_w: World) -> Any:
    from django.utils import timezone

    from apps.realtime.models import Escalation

    now = timezone.now()
    due = {f"{step}_due_at": now + dt.timedelta(minutes=5) for step in ("push", "alert", "reassign")}
    return Escalation.objects.create(
        subject="offer:1", event_uid=uuid.uuid4(), team_label="CR-FZ-A", created_at=now, **due
    )


def _push_subscription(w: World) -> Any:
    from django.utils import timezone

    from apps.realtime.models import Device, PushSubscription

    now = timezone.now()
    return PushSubscription.objects.create(
        device=Device.objects.get(pk=w.ids["device_id"][0]),
        user=w.users["officer"],
        endpoint="https://push.example.com/send/admin",
        p256dh="p256dh",
        auth="auth",
        created_at=now,
        updated_at=now,
    )


def _phone_number(w: World) -> Any:
    from apps.notifications.models import PhoneNumber

    return PhoneNumber.objects.create(user=w.users["officer"], number="+19195550101")


def _notification(w: World) -> Any:
    from django.utils import timezone

    from apps.notifications.models import Notification

    now = timezone.now()
    return Notification.objects.create(
        subject="assignment:1", event_uid=uuid.uuid4(), user=w.users["officer"], channel="sms", due_at=now,
        next_attempt_at=now, ref="ACDE",
    )  # fmt: skip


def _inbound(w: World) -> Any:
    from django.utils import timezone

    from apps.notifications.models import Inbound

    return Inbound.objects.create(
        received_at=timezone.now(), channel="sms", dedupe_key="sms:SMmatrix", command="help", outcome="help"
    )


def _training_record(w: World) -> Any:
    import datetime as dt

    from apps.insights.models import TrainingRecord

    return TrainingRecord.objects.create(
        person=w.users["officer"], course="cit_40", hours=40, completed_on=dt.date(2024, 5, 1)
    )


def _lockout(_w: World) -> Any:
    from apps.security.models import Lockout

    return Lockout.objects.create(scope=Lockout.Scope.values[0], key="nobody", failures=3)


def _security_event(w: World) -> Any:
    from apps.security.audit import Kind, record

    event = record(Kind.LOGIN_FAILED, user=None, username="nobody", reason="admin matrix")
    assert event is not None
    return event


ADMIN_MODELS: dict[str, AdminModel] = {
    "accounts.apikey": AdminModel(_get("accounts.apikey", name="Fuzz CAD"), _ADMIN, _ADMIN, _ADMIN, _ADMIN),
    "accounts.user": AdminModel(_world_id("accounts.user", "user_id"), _SUP_ADMIN, _ADMIN, _ADMIN, _ADMIN),
    # Roles are groups made by migrations; nobody edits them by hand (superusers only, none here).
    "auth.group": AdminModel(_get("auth.group", name="officer")),
    "clinical.accesslog": AdminModel(_first("clinical.accesslog"), _SUPERVISORS),
    # Every field read-only; supervisors may save the page only for the "reviewed" action.
    "clinical.breakglass": AdminModel(_break_glass, _SUPERVISORS, change=_SUPERVISORS),
    # Supervisor: police-safe fields only (clinical role matrix); the admin role sees no clinical model.
    "clinical.encounter": AdminModel(_world_id("clinical.encounter", "encounter_id"), _SUPERVISORS, not_found=_ADMIN),
    "clinical.person": AdminModel(_world_id("clinical.person", "person_id"), frozenset({"clinical_supervisor"})),
    "incidents.calltype": AdminModel(_get("incidents.calltype", local_code="SUICTHRT"), _ALL_STAFF, *[_SUP_ADMIN] * 3),
    "incidents.dispositioncode": AdminModel(
        _get("incidents.dispositioncode", program_code="transport_ed"), _ALL_STAFF, *[_SUP_ADMIN] * 3
    ),
    "incidents.incident": AdminModel(_world_id("incidents.incident", "incident_id"), _ALL_STAFF),
    # The training log: supervisors (and the admin role) keep it, clinical supervisors read it.
    "insights.trainingrecord": AdminModel(_training_record, _ALL_STAFF, *[_SUP_ADMIN] * 3),
    # Frozen reports: listed with links to their exports; append-only (nobody edits or deletes one).
    "insights.reportsnapshot": AdminModel(_world_id("insights.reportsnapshot", "report_id"), _SUPERVISORS),
    "realtime.device": AdminModel(_world_id("realtime.device", "device_id"), _SUP_ADMIN),  # revoke: an action
    "realtime.escalation": AdminModel(_escalation),
    "realtime.event": AdminModel(_first("realtime.event")),
    "realtime.pushsubscription": AdminModel(_push_subscription),
    "notifications.inbound": AdminModel(_inbound, _SUP_ADMIN),  # the audit of replies: append-only
    "notifications.notification": AdminModel(_notification, _SUP_ADMIN),
    "notifications.phonenumber": AdminModel(_phone_number, *[_SUP_ADMIN] * 4),
    "referrals.agency": AdminModel(_world_id("referrals.agency", "agency_id"), *[_ALL_STAFF] * 4),
    "referrals.followup": AdminModel(_world_id("referrals.followup", "followup_id"), _ALL_STAFF, change=_ALL_STAFF),
    "reminders.reminder": AdminModel(_first("reminders.reminder")),
    "security.lockout": AdminModel(_lockout, _ADMIN, change=_ADMIN),  # "unlock" is an action (change)
    "security.securityevent": AdminModel(_security_event, _ADMIN),  # the security audit: the admin role
    "security.usersession": AdminModel(_world_id("security.usersession", "session_id"), _SUP_ADMIN),
    "shifts.shift": AdminModel(_world_id("shifts.shift", "shift_id"), _ALL_STAFF, *[_SUP_ADMIN] * 3),
    "teams.team": AdminModel(_world_id("teams.team", "team_id"), _ALL_STAFF, *[_SUP_ADMIN] * 3),
}

# Team B's objects (index 1 of the world's ids), asked for by everyone, team A's clinician and officer
# included: team A never sees team B's clinical records (404, not 403: their existence does not leak),
# and an officer sees a call that is not theirs without the subject (DOMAIN.md §2).
CROSS_TEAM: dict[tuple[str, str], Row] = {
    ("GET", P + "clinical/encounters/{encounter_id}/"): Row(
        allow(200, *OPERATIONS, denied=404, analyst=404, admin=404, clinician=404, officer=404),
        ids={"encounter_id": 1},
    ),
    ("PUT", P + "clinical/encounters/{encounter_id}/officer-section/"): Row(
        allow(200, denied=404), body=lambda w: {"police_action": "none"}, ids={"encounter_id": 1}
    ),
    ("POST", P + "clinical/encounters/{encounter_id}/notes/"): Row(
        allow(201, "care_navigator", "clinical_supervisor", denied=404),
        body=lambda w: {"id": str(uuid.uuid4()), "format": "dap"},
        ids={"encounter_id": 1},
    ),
    ("GET", P + "incidents/{incident_id}/"): Row(
        allow(200, *INCIDENT_READERS), ids={"incident_id": 1}, officer_never="Sam B"
    ),
    ("POST", P + "assignments/{assignment_id}/accept/"): Row(
        allow(403, "clinician", "officer"), ids={"assignment_id": 1}
    ),
}
