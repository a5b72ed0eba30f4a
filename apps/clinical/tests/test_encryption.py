"""Encryption at rest: the raw columns hold Fernet tokens; keys rotate; bad keys stop startup."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet, InvalidToken
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from apps.clinical.apps import ClinicalConfig
from apps.clinical.models import Addendum, ClinicalNote, SafetyPlan
from apps.core.crypto import token_is_current
from apps.core.models import IdempotencyRecord

from .conftest import MARKER, write


def raw(sql: str, *params: Any) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def test_raw_note_columns_hold_ciphertext_not_plaintext(note_a: ClinicalNote) -> None:
    [(sections, diagnoses, substance)] = raw(
        "SELECT sections, diagnoses, substance_use FROM clinical_clinicalnote WHERE id = %s",
        note_a.pk.hex if connection.vendor == "sqlite" else note_a.pk,
    )
    for column in (sections, diagnoses, substance):
        assert column.startswith("gAAAAA")
    assert MARKER not in sections
    assert "F32.9" not in diagnoses
    assert "alcohol" not in substance
    assert MARKER in ClinicalNote.objects.get(pk=note_a.pk).sections["data"]


def test_no_table_holds_the_planted_narrative_in_plaintext(
    api: Any, clinician_a: Any, note_a: ClinicalNote, encounter_a: Any
) -> None:
    write(
        api(clinician_a),
        "post",
        f"/api/v1/clinical/encounters/{encounter_a.pk}/safety-plans/",
        {"id": "5d7b0e2e-7d42-4d8e-9b43-1f2f4a1f0c11", "warning_signs": f"Isolating {MARKER}"},
    )
    assert SafetyPlan.objects.count() == 1
    # The idempotency store keeps the echoed response: encrypted too.
    assert IdempotencyRecord.objects.exists()
    tables = ["clinical_clinicalnote", "clinical_safetyplan", "core_idempotencyrecord", "clinical_accesslog"]
    for table in tables:
        for row in raw(f"SELECT * FROM {table}"):  # noqa: S608 - fixed table names
            assert MARKER not in " ".join(str(v) for v in row), table


def test_rotation_reencrypts_and_old_key_reads_until_then(
    api: Any, clinician_a: Any, note_a: ClinicalNote, settings: Any
) -> None:
    old_key = settings.NOTE_ENCRYPTION_KEYS[0]
    write(api(clinician_a), "post", f"/api/v1/clinical/notes/{note_a.pk}/sign/", {"revision": 1})
    write(
        api(clinician_a),
        "post",
        f"/api/v1/clinical/notes/{note_a.pk}/addenda/",
        {"id": "2f0e8a52-3d4c-4f6b-8a55-8f1d0b6f3a10", "kind": "addendum", "reason": "more", "text": "Extra"},
    )
    pk = note_a.pk.hex if connection.vendor == "sqlite" else note_a.pk
    [(before,)] = raw("SELECT sections FROM clinical_clinicalnote WHERE id = %s", pk)

    new_key = Fernet.generate_key().decode()
    settings.NOTE_ENCRYPTION_KEYS = [new_key, old_key]
    assert ClinicalNote.objects.get(pk=note_a.pk).sections["plan"] == "Referral"  # old key still reads
    assert not token_is_current(before)

    from apps.clinical.management.commands.rotate_note_keys import rotate_all

    counts = rotate_all(batch_size=1)  # batches of one: exercises the keyset pagination
    assert counts["clinical_clinicalnote"] == 1 and counts["clinical_addendum"] == 1
    assert rotate_all() == dict.fromkeys(counts, 0)  # re-running finds nothing left to rotate
    call_command("rotate_note_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115

    [(after,)] = raw("SELECT sections FROM clinical_clinicalnote WHERE id = %s", pk)
    assert after != before
    assert token_is_current(after)
    settings.NOTE_ENCRYPTION_KEYS = [new_key]  # old key retired
    note = ClinicalNote.objects.get(pk=note_a.pk)
    assert note.sections["plan"] == "Referral"
    assert Addendum.objects.get().text == "Extra"
    # Rotation changed only ciphertext: the signed content hash still matches.
    from apps.clinical.services import note_content_hash

    assert note.status == "signed"
    assert note_content_hash(note) == note.content_hash

    settings.NOTE_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(InvalidToken):
        ClinicalNote.objects.get(pk=note_a.pk)


@pytest.mark.parametrize("keys", [[], ["not-a-fernet-key"], ["", " "]])
def test_missing_or_invalid_key_stops_startup_with_a_clear_message(settings: Any, keys: list[str]) -> None:
    settings.NOTE_ENCRYPTION_KEYS = keys
    config = ClinicalConfig.create("apps.clinical")
    with pytest.raises(ImproperlyConfigured, match="NOTE_ENCRYPTION_KEYS"):
        config.ready()
