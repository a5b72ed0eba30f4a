"""Every referrals / care-navigation endpoint × every role (and anonymous): the expected status code.

The clinician and officer are team A's (the encounter's team); every other role is a fresh user.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.accounts.roles import ALL_ROLES
from apps.referrals.models import FollowUp

from .conftest import write

pytestmark = pytest.mark.django_db

ANON = "anonymous"
WRITERS = {"clinician", "care_navigator", "clinical_supervisor"}
READERS = WRITERS | {"officer", "dispatcher", "supervisor"}
QUEUE = WRITERS | {"supervisor"}
SUPERVISORS = {"supervisor", "clinical_supervisor"}

# endpoint → (method, path template, body, allowed roles, success status)
ENDPOINTS: dict[str, tuple[str, str, dict[str, Any], set[str], int]] = {
    "agency directory": ("get", "/api/v1/agencies/", {}, WRITERS | SUPERVISORS, 200),
    "list referrals": ("get", "/api/v1/referrals/", {}, READERS, 200),
    "read a referral": ("get", "/api/v1/referrals/{referral}/", {}, READERS, 200),
    "make a referral": ("post", "/api/v1/referrals/", {"encounter_id": "{encounter}", "type": "housing"}, WRITERS, 201),
    "make a referral on the encounter": (
        "post",
        "/api/v1/encounters/{encounter}/referrals/",
        {"type": "housing"},
        WRITERS,
        201,
    ),
    "change a referral's status": (
        "post",
        "/api/v1/referrals/{referral}/status/",
        {"status": "scheduled"},
        WRITERS,
        200,
    ),
    "the queue": ("get", "/api/v1/followups/", {}, QUEUE, 200),
    "the overdue view": ("get", "/api/v1/followups/overdue/", {}, SUPERVISORS, 200),
    "read a follow-up": ("get", "/api/v1/followups/{followup}/", {}, QUEUE, 200),
    "log an attempt": (
        "post",
        "/api/v1/followups/{followup}/attempts/",
        {"method": "phone", "outcome": "no_answer"},
        WRITERS,
        201,
    ),
    "reassign": ("post", "/api/v1/followups/{followup}/reassign/", {"assignee_id": "{navigator}"}, SUPERVISORS, 200),
    "close": ("post", "/api/v1/followups/{followup}/close/", {"reason": "Moved away"}, WRITERS, 200),
}
CASES = [pytest.param(name, role, id=f"{name} as {role}") for name in ENDPOINTS for role in [*sorted(ALL_ROLES), ANON]]


def _fill(value: Any, ids: dict[str, Any]) -> Any:
    if isinstance(value, str) and value.startswith("{") and value.endswith("}"):
        return ids[value[1:-1]]
    return value


@pytest.mark.parametrize(("endpoint", "role"), CASES)
def test_endpoint_answers_each_role_with_the_expected_status(
    endpoint: str,
    role: str,
    api: Callable[[Any], APIClient],
    make_user: Callable[..., Any],
    clinician_a: Any,
    officer_a: Any,
    encounter: Any,
    make_referral: Callable[..., Any],
) -> None:
    navigator = make_user("navigator_x", "care_navigator")
    referral = make_referral(encounter)
    ids = {
        "encounter": str(encounter.pk),
        "referral": referral["id"],
        "followup": FollowUp.objects.get().pk,
        "navigator": navigator.pk,
    }
    personas = {"clinician": clinician_a, "officer": officer_a}
    user = None if role == ANON else personas.get(role) or make_user(f"matrix_{role}", role)
    method, template, body, allowed, success = ENDPOINTS[endpoint]
    url = template.format(**ids)
    client = api(user)
    if method == "get":
        res = client.get(url)
    else:
        res = write(client, method, url, {k: _fill(v, ids) for k, v in body.items()}, key=str(uuid.uuid4()))
    expected = 401 if role == ANON else success if role in allowed else 403
    assert res.status_code == expected, res.content[:300]
