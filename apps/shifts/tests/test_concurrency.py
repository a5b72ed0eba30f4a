"""Two supervisors booking the same person at the same moment: only one booking wins."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from apps.security.testing import mfa_force_login
from apps.shifts.models import Shift
from apps.shifts.services import MemberSpec, shift_create
from apps.teams.models import Team

from .conftest import ny


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keep the role groups
def test_two_simultaneous_overlapping_bookings_of_one_person_leave_one_shift(make_user: Callable[..., Any]) -> None:
    clinician = make_user("busy_clinician", "clinician")
    officers = [make_user(f"officer_{i}", "officer") for i in range(2)]
    teams = [Team.objects.create(call_sign=f"CR-{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def book(i: int) -> None:
        try:
            barrier.wait(timeout=10)
            shift_create(
                team=teams[i],
                starts_at=ny(2026, 6, 1, 8 + i),
                ends_at=ny(2026, 6, 1, 18 + i),
                members=[MemberSpec(clinician, "clinician"), MemberSpec(officers[i], "officer")],
            )
            outcomes.append("created")
        except ValidationError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=book, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(outcomes) == ["created", "refused"]
    assert Shift.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keep the role groups
def test_two_supervisors_saving_overlapping_shifts_in_the_admin_leave_one(make_user: Callable[..., Any]) -> None:
    from django.test import Client

    from .test_admin import add_form

    clinician = make_user("busy_clinician", "clinician")
    officers = [make_user(f"officer_{i}", "officer") for i in range(2)]
    supervisors = [make_user(f"sup_{i}", "supervisor") for i in range(2)]
    teams = [Team.objects.create(call_sign=f"CR-{i}") for i in range(2)]
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def save(i: int) -> None:
        try:
            client = Client()
            mfa_force_login(client, supervisors[i])
            form = add_form(
                teams[i],
                ny(2026, 6, 1, 8 + i),
                ny(2026, 6, 1, 18 + i),
                (clinician, "clinician"),
                (officers[i], "officer"),
            )
            barrier.wait(timeout=10)
            response = client.post("/admin/shifts/shift/add/", form)
            assert not response.get("Location", "").startswith("/admin/login/")
            statuses.append(response.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert sorted(statuses) == [200, 302]  # one saved (redirect), one shown the clash
    assert Shift.objects.count() == 1
