"""Fixtures: the local fake of Twilio (configured as this process's provider), verified numbers, an
offer to team A that nobody has seen, and signed webhook posts through Django's test client."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from twilio.request_validator import RequestValidator

from apps.notifications.models import PhoneNumber
from apps.notifications.tests.fake_twilio import ACCOUNT_SID, AUTH_TOKEN, FakeTwilio, FakeTwilioServer, configure

TESTSERVER = "http://testserver"
OFFICER_PHONE = "+19195550101"
CLINICIAN_PHONE = "+19195550102"


@pytest.fixture
def fake_twilio(settings: Any) -> Iterator[FakeTwilio]:
    with FakeTwilioServer() as fake:
        configure(settings, fake, TESTSERVER)
        yield fake


def verify_phone(user: Any, number: str) -> PhoneNumber:
    phone, _ = PhoneNumber.objects.update_or_create(
        user=user, defaults={"number": number, "verified_at": timezone.now(), "sms_opted_out_at": None}
    )
    return phone


@pytest.fixture
def phones(officer_a: Any, clinician_a: Any) -> dict[str, str]:
    verify_phone(officer_a, OFFICER_PHONE)
    verify_phone(clinician_a, CLINICIAN_PHONE)
    return {"officer": OFFICER_PHONE, "clinician": CLINICIAN_PHONE}


INCIDENT = {
    "call_type_code": "SUICTHRT",
    "priority": 8,
    "address": "101 City Hall Plaza, Durham, NC",
    "subject_name": "Jordan Example",
    "weapon_present": True,
    "weapon_kind": "knife",
}


@pytest.fixture
def incident(dispatcher: Any) -> Any:
    from apps.incidents.services import incident_create

    return incident_create(by=dispatcher, values=INCIDENT)


@pytest.fixture
def offer(incident: Any, on_shift_a: Any, dispatcher: Any) -> Any:
    """Incident offered to team A; its escalation row started (as incidents does at offer time)."""
    from apps.incidents.services import assignment_offer
    from apps.realtime.escalation import escalation_sweep

    assignment = assignment_offer(incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
    escalation_sweep()  # discovers it (or incidents already started it)
    return assignment


def escalation_of(assignment: Any) -> Any:
    from apps.realtime.models import Escalation

    return Escalation.objects.get(subject=f"assignment:{assignment.pk}")


def at(assignment: Any, seconds: float) -> dt.datetime:
    offered: dt.datetime = escalation_of(assignment).created_at
    return offered + dt.timedelta(seconds=seconds)


@pytest.fixture
def twilio_post() -> Callable[..., Any]:
    """``twilio_post(url_name, params, kwargs=..., signature=...)``: a webhook signed like Twilio's."""

    def post(
        name: str, params: dict[str, str], *, kwargs: dict[str, Any] | None = None, signature: str | None = None
    ) -> Any:
        path = reverse(name, kwargs=kwargs)
        params = {"AccountSid": ACCOUNT_SID, **params}
        sig = (
            RequestValidator(AUTH_TOKEN).compute_signature(TESTSERVER + path, params)
            if signature is None
            else signature
        )
        return Client().post(path, params, HTTP_X_TWILIO_SIGNATURE=sig)

    return post
