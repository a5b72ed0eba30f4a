"""Roles are Django groups made by a migration; is_staff follows the roles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.contrib.auth.models import Group

from apps.accounts.models import User
from apps.accounts.services import user_set_roles
from apps.core.errors import Invalid

pytestmark = pytest.mark.django_db

ROLES = {
    "dispatcher",
    "clinician",
    "clinical_supervisor",
    "officer",
    "care_navigator",
    "supervisor",
    "analyst",
    "admin",
}


def test_the_migration_creates_one_group_per_role() -> None:
    assert set(Group.objects.values_list("name", flat=True)) >= ROLES


def test_supervisors_may_manage_shifts_and_teams_but_not_accounts() -> None:
    perms = set(Group.objects.get(name="supervisor").permissions.values_list("codename", flat=True))
    assert {"add_shift", "change_shift", "delete_shift", "view_shift", "add_team", "view_user"} <= perms
    assert "change_user" not in perms
    assert "add_apikey" not in perms


def test_a_person_may_hold_several_roles(make_user: Callable[..., Any]) -> None:
    user = make_user("diversion", "dispatcher", "clinician")
    assert user.roles == frozenset({"dispatcher", "clinician"})
    assert user.has_role("clinician")
    assert not user.has_role("officer")


@pytest.mark.parametrize(
    ("roles", "is_staff"),
    [
        ((), False),
        (("clinician",), False),
        (("officer", "dispatcher", "analyst", "care_navigator"), False),
        (("supervisor",), True),
        (("clinical_supervisor", "clinician"), True),
        (("admin",), True),
    ],
)
def test_is_staff_is_derived_from_the_roles(
    make_user: Callable[..., Any], roles: tuple[str, ...], is_staff: bool
) -> None:
    user = make_user("someone", *roles)
    assert user.is_staff is is_staff


def test_removing_the_last_staff_role_removes_admin_access(make_user: Callable[..., Any]) -> None:
    user = make_user("sup", "supervisor", "clinician")
    user_set_roles(user=user, roles=["clinician"])
    assert user.roles == frozenset({"clinician"})
    assert User.objects.get(pk=user.pk).is_staff is False


def test_setting_roles_keeps_groups_that_are_not_roles(make_user: Callable[..., Any]) -> None:
    user = make_user("member", "officer")
    extra = Group.objects.create(name="newsletter")
    user.groups.add(extra)
    user_set_roles(user=user, roles=["clinician"])
    assert set(user.groups.values_list("name", flat=True)) == {"newsletter", "clinician"}


def test_an_unknown_role_is_refused_and_nothing_changes(make_user: Callable[..., Any]) -> None:
    user = make_user("member", "officer")
    with pytest.raises(Invalid) as info:
        user_set_roles(user=user, roles=["officer", "sheriff"])
    assert info.value.errors == {"roles": ["Unknown role: sheriff"]}
    assert User.objects.get(pk=user.pk).roles == frozenset({"officer"})


def test_every_person_gets_a_distinct_calendar_token(make_user: Callable[..., Any]) -> None:
    a, b = make_user("a"), make_user("b")
    assert a.calendar_token and b.calendar_token
    assert a.calendar_token != b.calendar_token
