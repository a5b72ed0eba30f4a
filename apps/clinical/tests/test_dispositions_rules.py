"""Dispositions follow the program's rules for what may be recorded together (disposition_rules.py)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.clinical.disposition_rules import ALL_CODES, CONFLICTS, conflicts_with
from apps.clinical.models import Disposition, Encounter

from .conftest import write

pytestmark = pytest.mark.django_db


def test_conflicts_are_symmetric_and_never_with_itself() -> None:
    for code, others in CONFLICTS.items():
        assert code not in others
        for other, reason in others.items():
            assert code in CONFLICTS[other], (code, other)
            assert reason[0].islower() and not reason.endswith(".")  # "Not with “X”: <reason>."
    assert set(CONFLICTS) == set(ALL_CODES) == set(Disposition.Code.values)


@pytest.mark.parametrize(
    ("first", "second", "allowed"),
    [
        ("resolved_on_scene", "arrest", False),
        ("resolved_on_scene", "resolved_with_referral", False),
        ("unable_to_locate", "refused_services", False),
        ("cancelled", "resolved_on_scene", False),
        ("transport_ed", "transport_crisis_facility", False),
        ("arrest", "citation", False),
        ("citation", "jail_booking", False),
        ("refused_services", "resolved_with_referral", False),
        ("arrest", "jail_booking", True),
        ("ems_transport", "ivc_initiated", True),
        ("resolved_on_scene", "citation", True),
        ("refused_services", "ivc_initiated", True),
        ("transport_ed", "ems_transport", True),
    ],
)
def test_program_rules(first: str, second: str, allowed: bool) -> None:
    assert (conflicts_with(second, [first]) == []) is allowed
    assert (conflicts_with(first, [second]) == []) is allowed


def test_a_contradicting_disposition_is_refused_with_the_reason_and_the_recorded_ones(
    api: Any, clinician_a: Any, encounter_a: Encounter
) -> None:
    client = api(clinician_a)
    url = f"/api/v1/clinical/encounters/{encounter_a.pk}/dispositions/"
    assert write(client, "post", url, {"code": "resolved_on_scene"}).status_code == 201
    res = write(client, "post", url, {"code": "arrest"})
    assert res.status_code == 409
    body = res.json()
    assert body["message"] == "“Arrest” cannot be recorded with “Resolved on scene”."
    assert body["errors"]["code"] == ["Not with “Resolved on scene”: the person left the scene."]
    assert body["current"]["dispositions"] == ["resolved_on_scene"]
    # A compatible one is still recorded; nothing of the refused one was written.
    assert write(client, "post", url, {"code": "citation"}).status_code == 201
    assert list(encounter_a.dispositions.values_list("code", flat=True)) == ["resolved_on_scene", "citation"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_devices_recording_contradicting_outcomes_at_once_keep_one(
    api: Any, clinician_a: Any, encounter_a: Encounter
) -> None:
    """The encounter row is locked while the rule is checked: of "resolved on scene" and "arrest" sent
    at the same moment, exactly one is recorded and the other is a 409, every time."""
    import threading

    from django.db import connection

    url = f"/api/v1/clinical/encounters/{encounter_a.pk}/dispositions/"
    for _ in range(5):
        Disposition.objects.filter(encounter=encounter_a).delete()
        barrier = threading.Barrier(2)
        codes: list[int] = []

        def device(code: str, barrier: threading.Barrier = barrier, codes: list[int] = codes) -> None:
            try:
                client = api(clinician_a)
                barrier.wait()
                codes.append(write(client, "post", url, {"code": code}).status_code)
            finally:
                connection.close()

        threads = [threading.Thread(target=device, args=(c,)) for c in ("resolved_on_scene", "arrest")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [201, 409], codes
        assert Disposition.objects.filter(encounter=encounter_a).count() == 1
