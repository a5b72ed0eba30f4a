"""A person's shifts as an iCalendar feed (RFC 5545) at a secret URL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import time_machine
from django.test import Client

from .conftest import ny

pytestmark = pytest.mark.django_db


def unfold(body: str) -> list[str]:
    return body.replace("\r\n ", "").split("\r\n")


def test_the_feed_lists_my_shifts_in_utc_with_crlf_lines(
    book: Callable[..., Any], clinician_a: Any, officer_a: Any
) -> None:
    night = book(ny(2026, 3, 7, 20), ny(2026, 3, 8, 8))
    with time_machine.travel(ny(2026, 3, 1, 9), tick=False):
        response = Client().get(f"/calendar/{clinician_a.calendar_token}.ics")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    body = response.content.decode()
    assert body.startswith("BEGIN:VCALENDAR\r\n")
    assert body.endswith("END:VCALENDAR\r\n")
    assert "\n" not in body.replace("\r\n", "")
    assert all(len(line.encode()) <= 75 for line in body.split("\r\n"))
    lines = unfold(body)
    assert "VERSION:2.0" in lines
    assert any(line.startswith("PRODID:") for line in lines)
    assert lines.count("BEGIN:VEVENT") == 1 == lines.count("END:VEVENT")
    assert "DTSTART:20260308T010000Z" in lines
    assert "DTEND:20260308T120000Z" in lines
    assert "DTSTAMP:20260301T140000Z" in lines
    assert f"UID:shift-{night.pk}-{clinician_a.pk}@testserver" in lines
    assert "SUMMARY:Shift CR-A" in lines
    assert f"DESCRIPTION:With {officer_a.display_name}" in lines


def test_the_feed_shows_only_my_own_shifts(
    book: Callable[..., Any], clinician_b: Any, officer_b: Any, team_b: Any, clinician_a: Any
) -> None:
    book(
        ny(2026, 3, 2, 8), ny(2026, 3, 2, 18), team=team_b, members=[(clinician_b, "clinician"), (officer_b, "officer")]
    )
    with time_machine.travel(ny(2026, 3, 1, 9), tick=False):
        body = Client().get(f"/calendar/{clinician_a.calendar_token}.ics").content.decode()
    assert "BEGIN:VEVENT" not in body


def test_long_names_are_folded_and_escaped(
    book: Callable[..., Any], make_user: Callable[..., Any], team_a: Any, clinician_a: Any
) -> None:
    officer = make_user("long_officer", "officer", first="Bartholomew, Jr; the Third", last="Montgomery-Fitzgerald" * 3)
    book(ny(2026, 3, 2, 8), ny(2026, 3, 2, 18), members=[(clinician_a, "clinician"), (officer, "officer")])
    with time_machine.travel(ny(2026, 3, 1, 9), tick=False):
        body = Client().get(f"/calendar/{clinician_a.calendar_token}.ics").content.decode()
    assert "\r\n " in body  # folded
    description = next(line for line in unfold(body) if line.startswith("DESCRIPTION:"))
    assert "Bartholomew\\, Jr\\; the Third" in description


def test_an_unknown_calendar_token_is_a_404() -> None:
    assert Client().get("/calendar/not-a-real-token.ics").status_code == 404


def test_a_deactivated_persons_calendar_is_a_404(clinician_a: Any) -> None:
    clinician_a.is_active = False
    clinician_a.save()
    assert Client().get(f"/calendar/{clinician_a.calendar_token}.ics").status_code == 404
