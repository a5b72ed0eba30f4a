"""Notes: offline-safe creation, revisions, signing rules, immutability and addenda."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.db import connection

from apps.clinical.models import Addendum, ClinicalNote, Encounter

from .conftest import MARKER, write

SOAP = {"subjective": "s", "objective": "o", "assessment": "a", "plan": "p"}


def test_offline_replay_of_the_same_write_creates_one_note(api: Any, clinician_a: Any, encounter_a: Encounter) -> None:
    client = api(clinician_a)
    nid, key = str(uuid.uuid4()), str(uuid.uuid4())
    body = {"id": nid, "format": "soap", "sections": {"subjective": MARKER}}
    url = f"/api/v1/clinical/encounters/{encounter_a.pk}/notes/"
    first = write(client, "post", url, body, key=key)
    second = write(client, "post", url, body, key=key)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert second["Idempotent-Replayed"] == "true"
    assert ClinicalNote.objects.filter(pk=nid).count() == 1


def test_same_key_with_a_different_body_is_422_and_changes_nothing(
    api: Any, clinician_a: Any, encounter_a: Encounter
) -> None:
    client = api(clinician_a)
    key, url = str(uuid.uuid4()), f"/api/v1/clinical/encounters/{encounter_a.pk}/notes/"
    assert write(client, "post", url, {"id": str(uuid.uuid4()), "format": "dap"}, key=key).status_code == 201
    res = write(client, "post", url, {"id": str(uuid.uuid4()), "format": "birp"}, key=key)
    assert res.status_code == 422
    assert ClinicalNote.objects.count() == 1


def test_a_write_without_idempotency_key_is_refused(api: Any, clinician_a: Any, encounter_a: Encounter) -> None:
    res = api(clinician_a).post(
        f"/api/v1/clinical/encounters/{encounter_a.pk}/notes/",
        {"id": str(uuid.uuid4()), "format": "dap"},
        format="json",
    )
    assert res.status_code == 400
    assert "Idempotency-Key" in res.json()["errors"]
    assert not ClinicalNote.objects.exists()


def test_a_second_create_with_the_same_note_id_never_overwrites(
    api: Any, clinician_a: Any, note_a: ClinicalNote
) -> None:
    res = write(
        api(clinician_a),
        "post",
        f"/api/v1/clinical/encounters/{note_a.encounter_id}/notes/",
        {"id": str(note_a.pk), "format": "soap", "sections": {"plan": "other"}},
    )
    assert res.status_code == 409
    note_a.refresh_from_db()
    assert note_a.format == "dap"


def test_a_stale_revision_is_409_with_the_servers_version(api: Any, clinician_a: Any, note_a: ClinicalNote) -> None:
    client = api(clinician_a)
    url = f"/api/v1/clinical/notes/{note_a.pk}/"
    ok = write(client, "patch", url, {"revision": 1, "sections": {"plan": "Phone version"}})
    assert ok.status_code == 200, ok.json()
    assert ok.json()["revision"] == 2
    stale = write(client, "patch", url, {"revision": 1, "sections": {"plan": "Laptop version"}})
    assert stale.status_code == 409
    assert stale.json()["current"]["revision"] == 2
    assert stale.json()["current"]["sections"]["plan"] == "Phone version"
    note_a.refresh_from_db()
    assert note_a.sections["plan"] == "Phone version"
    assert MARKER in note_a.sections["data"]  # partial update kept the other sections


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"revision": 1, "sections": {"subjective": "not a DAP section"}}, "sections"),
        ({"revision": 1, "sections": {"plan": "x" * 20_001}}, "sections.plan"),
        ({"revision": 1, "diagnoses": "F32"}, "diagnoses"),
        (
            {"revision": 1, "safety_precautions": {"lethal_means_addressed": "yes"}},
            "safety_precautions.lethal_means_addressed",
        ),
        ({"sections": {"plan": "x"}}, "revision"),
    ],
)
def test_bad_note_edits_are_refused(api: Any, clinician_a: Any, note_a: ClinicalNote, body: Any, field: str) -> None:
    res = write(api(clinician_a), "patch", f"/api/v1/clinical/notes/{note_a.pk}/", body)
    assert res.status_code == 400, res.json()
    assert field in res.json()["errors"], res.json()
    note_a.refresh_from_db()
    assert note_a.revision == 1


def test_signing_needs_every_section_of_the_format(api: Any, clinician_a: Any, encounter_a: Encounter) -> None:
    client = api(clinician_a)
    nid = str(uuid.uuid4())
    write(client, "post", f"/api/v1/clinical/encounters/{encounter_a.pk}/notes/", {"id": nid, "format": "soap"})
    write(client, "patch", f"/api/v1/clinical/notes/{nid}/", {"revision": 1, "sections": {"subjective": "s"}})
    res = write(client, "post", f"/api/v1/clinical/notes/{nid}/sign/", {"revision": 2})
    assert res.status_code == 400
    # In words, not keys: every missing section named by its heading.
    assert res.json()["errors"]["sections"] == [
        "Write the “Objective” section.",
        "Write the “Assessment” section.",
        "Write the “Plan” section.",
    ]
    assert ClinicalNote.objects.get(pk=nid).status == "draft"
    # The draft carries the same list (the rule the app disables Sign with).
    draft = client.get(f"/api/v1/clinical/notes/{nid}/").json()
    assert draft["readiness"] == {
        "ready": False,
        "missing": [
            {"code": "section:objective", "label": "Write the “Objective” section"},
            {"code": "section:assessment", "label": "Write the “Assessment” section"},
            {"code": "section:plan", "label": "Write the “Plan” section"},
        ],
    }


HIGH = {
    "q1_wish_dead": True,
    "q2_active_thoughts": True,
    "q3_method": True,
    "q4_intent": True,
    "q5_plan": True,
    "q6_behavior": False,
}


def test_high_risk_needs_safety_precautions_and_a_disposition_before_signing(
    api: Any, clinician_a: Any, encounter_a: Encounter
) -> None:
    client = api(clinician_a)
    nid = str(uuid.uuid4())
    write(client, "post", f"/api/v1/clinical/encounters/{encounter_a.pk}/screens/", HIGH)
    write(
        client,
        "post",
        f"/api/v1/clinical/encounters/{encounter_a.pk}/notes/",
        {"id": nid, "format": "soap", "sections": SOAP},
    )
    res = write(client, "post", f"/api/v1/clinical/notes/{nid}/sign/", {"revision": 1})
    assert res.status_code == 400
    assert res.json()["errors"] == {
        "safety_precautions": [
            "High risk: confirm “Lethal means addressed”.",
            "High risk: confirm “Person not left alone”.",
            "High risk: confirm “Supervisor notified”.",
            "High risk: confirm “Safety plan reviewed”.",
        ],
        "dispositions": ["High risk: record a disposition decision."],
    }
    assert client.get(f"/api/v1/clinical/encounters/{encounter_a.pk}/").json()["prompts"] == [
        "safety_precautions",
        "disposition",
    ]
    checklist = dict.fromkeys(
        ("lethal_means_addressed", "not_left_alone", "supervisor_notified", "safety_plan_reviewed"), True
    )
    write(client, "patch", f"/api/v1/clinical/notes/{nid}/", {"revision": 1, "safety_precautions": checklist})
    res = write(
        client,
        "post",
        f"/api/v1/clinical/encounters/{encounter_a.pk}/dispositions/",
        {"code": "transport_crisis_facility"},
    )
    assert res.status_code == 201
    assert res.json()["dispositions"][0]["apco_code"] == "16"
    # Confirmed and decided: nothing is prompted any more, and the draft is ready.
    encounter = client.get(f"/api/v1/clinical/encounters/{encounter_a.pk}/").json()
    assert encounter["prompts"] == []
    assert encounter["notes"][0]["readiness"] == {"ready": True, "missing": []}
    res = write(client, "post", f"/api/v1/clinical/notes/{nid}/sign/", {"revision": 2})
    assert res.status_code == 200, res.json()
    assert res.json()["status"] == "signed"
    assert len(res.json()["content_hash"]) == 64
    assert "readiness" not in res.json()
    assert res.json()["signed_by_name"] == clinician_a.display_name


def test_a_signed_note_cannot_be_edited_or_resigned(api: Any, clinician_a: Any, note_a: ClinicalNote) -> None:
    client = api(clinician_a)
    assert write(client, "post", f"/api/v1/clinical/notes/{note_a.pk}/sign/", {"revision": 1}).status_code == 200
    res = write(
        client, "patch", f"/api/v1/clinical/notes/{note_a.pk}/", {"revision": 2, "sections": {"plan": "changed"}}
    )
    assert res.status_code == 409
    assert res.json()["current"]["status"] == "signed"
    assert write(client, "post", f"/api/v1/clinical/notes/{note_a.pk}/sign/", {"revision": 2}).status_code == 409
    note_a.refresh_from_db()
    assert note_a.sections["plan"] == "Referral"


def test_addenda_need_a_reason_and_append_to_signed_notes(
    api: Any, clinician_a: Any, clinical_supervisor: Any, note_a: ClinicalNote
) -> None:
    client = api(clinician_a)
    url = f"/api/v1/clinical/notes/{note_a.pk}/addenda/"
    draft = write(client, "post", url, {"id": str(uuid.uuid4()), "kind": "correction", "reason": "typo", "text": "x"})
    assert draft.status_code == 409  # drafts are edited directly
    write(client, "post", f"/api/v1/clinical/notes/{note_a.pk}/sign/", {"revision": 1})
    no_reason = write(client, "post", url, {"id": str(uuid.uuid4()), "kind": "correction", "reason": " ", "text": "x"})
    assert no_reason.status_code == 400
    assert "reason" in no_reason.json()["errors"]
    bad_kind = write(client, "post", url, {"id": str(uuid.uuid4()), "kind": "rewrite", "reason": "r", "text": "x"})
    assert bad_kind.status_code == 400
    ok = write(
        client,
        "post",
        url,
        {"id": str(uuid.uuid4()), "kind": "late_entry", "reason": "Recalled later", "text": "Also said Y"},
    )
    assert ok.status_code == 201, ok.json()
    assert [a["kind"] for a in ok.json()["addenda"]] == ["late_entry"]
    assert Addendum.objects.count() == 1
    # A clinical supervisor co-signs; the signer cannot.
    assert write(client, "post", f"/api/v1/clinical/notes/{note_a.pk}/cosign/").status_code == 404
    res = write(api(clinical_supervisor), "post", f"/api/v1/clinical/notes/{note_a.pk}/cosign/")
    assert res.status_code == 200, res.json()
    assert res.json()["cosigned_by"] == clinical_supervisor.pk
    assert res.json()["integrity_ok"] is True


def test_only_the_author_signs(api: Any, make_user: Any, on_shift_a: Any, note_a: ClinicalNote, team_a: Any) -> None:
    from apps.teams.models import TeamMembership

    colleague = make_user("colleague", "clinician")
    TeamMembership.objects.create(team=team_a, user=colleague, role="clinician")
    res = write(api(colleague), "post", f"/api/v1/clinical/notes/{note_a.pk}/sign/", {"revision": 1})
    assert res.status_code == 400
    assert "signer" in res.json()["errors"]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_database_refuses_raw_updates_and_deletes_of_a_signed_note(
    api: Any, clinician_a: Any, note_a: ClinicalNote
) -> None:
    from django.db import IntegrityError, transaction

    write(api(clinician_a), "post", f"/api/v1/clinical/notes/{note_a.pk}/sign/", {"revision": 1})
    for sql in (
        "UPDATE clinical_clinicalnote SET sections = 'tampered' WHERE id = %s",
        "UPDATE clinical_clinicalnote SET status = 'draft' WHERE id = %s",
        "UPDATE clinical_clinicalnote SET content_hash = 'x' WHERE id = %s",
        "DELETE FROM clinical_clinicalnote WHERE id = %s",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [note_a.pk])
    write(
        api(clinician_a),
        "post",
        f"/api/v1/clinical/notes/{note_a.pk}/addenda/",
        {"id": str(uuid.uuid4()), "kind": "addendum", "reason": "more", "text": "Extra"},
    )
    for sql in (
        "DELETE FROM clinical_accesslog",
        "UPDATE clinical_accesslog SET user_agent = 'x'",
        "UPDATE clinical_addendum SET reason = 'rewritten'",
        "UPDATE clinical_addendum SET text = 'rewritten'",
        "DELETE FROM clinical_addendum",
    ):
        with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql)
    # Co-signing (the one permitted change) still works through the trigger.
    ClinicalNote.objects.filter(pk=note_a.pk).update(cosigned_by=clinician_a, cosigned_at=note_a.created_at)
    with pytest.raises(IntegrityError), transaction.atomic():
        ClinicalNote.objects.filter(pk=note_a.pk).update(cosigned_by=None, cosigned_at=None)
    note_a.refresh_from_db()
    assert note_a.status == "signed"
    assert note_a.sections["plan"] == "Referral"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_devices_creating_one_note_id_at_once_get_201_and_409_never_500(
    api: Any, clinician_a: Any, encounter_a: Encounter
) -> None:
    import threading

    for _ in range(3):
        nid = str(uuid.uuid4())
        barrier = threading.Barrier(4)
        codes: list[int] = []

        def device(nid: str = nid, barrier: threading.Barrier = barrier, codes: list[int] = codes) -> None:
            try:
                client = api(clinician_a)
                barrier.wait()
                body = {"id": nid, "format": "dap", "sections": {"data": "x"}}
                codes.append(
                    write(client, "post", f"/api/v1/clinical/encounters/{encounter_a.pk}/notes/", body).status_code
                )
            finally:
                connection.close()

        threads = [threading.Thread(target=device) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(codes) == [201, 409, 409, 409], codes
        assert ClinicalNote.objects.filter(pk=nid).count() == 1


def test_a_clinician_without_part2_authorisation_can_neither_read_nor_clear_it(
    api: Any, make_user: Any, team_a: Any, note_a: ClinicalNote
) -> None:
    from apps.teams.models import TeamMembership

    colleague = make_user("colleague", "clinician")
    TeamMembership.objects.create(team=team_a, user=colleague, role="clinician")
    c = api(colleague)
    body = c.get(f"/api/v1/clinical/notes/{note_a.pk}/").json()
    assert "substance_use" not in body and "alcohol" not in str(body)
    res = write(c, "patch", f"/api/v1/clinical/notes/{note_a.pk}/", {"revision": 1, "substance_use": ""})
    assert res.status_code == 400 and "substance_use" in res.json()["errors"]
    note_a.refresh_from_db()
    assert "alcohol" in note_a.substance_use


def test_the_server_version_in_a_409_is_committed_state_and_its_read_is_logged(
    api: Any, clinician_a: Any, note_a: ClinicalNote
) -> None:
    from apps.clinical.models import AccessLog

    client = api(clinician_a)
    url = f"/api/v1/clinical/notes/{note_a.pk}/"
    write(client, "patch", url, {"revision": 1, "sections": {"plan": "Phone version"}})
    reads_before = AccessLog.objects.filter(action="read", record_type="note").count()
    stale = write(client, "patch", url, {"revision": 1, "sections": {"plan": "Laptop version"}})
    assert stale.status_code == 409
    assert stale.json()["current"]["sections"]["plan"] == "Phone version"
    assert AccessLog.objects.filter(action="read", record_type="note").count() == reads_before + 1
