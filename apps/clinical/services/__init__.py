"""Every write to clinical records, one module per concept. Each write checks access, validates,
writes, audits and (where someone must know) emits an event, in one transaction: a refused write
leaves nothing behind.

Offline edits carry the revision they were based on; a stale revision raises ``StaleRevision``
(409 with the server's version, never a silent merge). Signed notes are never changed here, and
the database refuses it too on PostgreSQL (see migrations).

``grep -n "^def [a-z]" apps/clinical/services/*.py`` lists every way a clinical record changes.
Callers use this package (``from apps.clinical import services``; ``services.note_create``).
"""

from __future__ import annotations

from ..readiness import FORMAT_SECTIONS, SAFETY_PRECAUTIONS
from .break_glass import break_glass_open, break_glass_review
from .common import MAX_SECTION_CHARS, StaleRevision
from .dispositions import disposition_add
from .encounters import encounter_create, encounter_update
from .ivc import IVC_FIELDS, ivc_save, ivc_time_problems
from .notes import (
    addendum_create,
    note_content_hash,
    note_cosign,
    note_create,
    note_sign,
    note_sign_facts,
    note_sign_problems,
    note_update,
)
from .officer import officer_section_save
from .persons import PERSON_FIELDS, person_create, person_merge, person_update
from .safety_plans import safety_plan_create
from .screens import screen_record

__all__ = [
    "FORMAT_SECTIONS",
    "IVC_FIELDS",
    "MAX_SECTION_CHARS",
    "PERSON_FIELDS",
    "SAFETY_PRECAUTIONS",
    "StaleRevision",
    "addendum_create",
    "break_glass_open",
    "break_glass_review",
    "disposition_add",
    "encounter_create",
    "encounter_update",
    "ivc_save",
    "ivc_time_problems",
    "note_content_hash",
    "note_cosign",
    "note_create",
    "note_sign",
    "note_sign_facts",
    "note_sign_problems",
    "note_update",
    "officer_section_save",
    "person_create",
    "person_merge",
    "person_update",
    "safety_plan_create",
    "screen_record",
]
