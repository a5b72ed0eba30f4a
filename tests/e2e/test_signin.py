"""A team member signs in on a phone and lands on the team home with their shift and partner."""

from __future__ import annotations

from typing import Any

import pytest

from .auth import enter_password, sign_in
from .conftest import screenshot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_officer_signs_in_and_sees_shift_and_partner(phone: Any, on_shift_a: Any, officer_a: Any) -> None:
    page = phone().new_page()
    sign_in(page, officer_a.username)
    page.wait_for_url("**/team")
    page.get_by_text("CR-A").first.wait_for()
    page.get_by_text("Claire").first.wait_for()  # the partner, clinician_a
    screenshot(page, "team-home-officer")


def test_wrong_password_shows_an_error_and_stays_on_sign_in(phone: Any, officer_a: Any) -> None:
    page = phone().new_page()
    enter_password(page, officer_a.username, password="wrong-password")
    page.get_by_text("Wrong username or password").first.wait_for()
    assert "/team" not in page.url
