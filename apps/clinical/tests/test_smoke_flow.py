from __future__ import annotations

import uuid
from typing import Any

from .conftest import MARKER, write


def test_clinician_documents_and_signs_a_note(api: Any, clinician_a: Any, encounter_a: Any, note_a: Any) -> None:
    client = api(clinician_a)
    res = client.get(f"/api/v1/clinical/notes/{note_a.pk}/")
    assert res.status_code == 200, res.json()
    body = res.json()
    assert MARKER in body["sections"]["data"]
    assert "substance_use" not in body  # clinician without Part 2 authorisation
    res = write(client, "post", f"/api/v1/clinical/notes/{note_a.pk}/sign/", {"revision": 1})
    assert res.status_code == 200, res.json()
    assert res.json()["status"] == "signed"
    assert res.json()["integrity_ok"] is True
    res = client.get(f"/api/v1/clinical/encounters/{encounter_a.pk}/")
    assert res.status_code == 200
    assert res.json()["notes"][0]["status"] == "signed"
    _ = uuid
