"""The clinical access log: one row per read, write, sign, export or break-glass (HIPAA 164.312(b)).

Written in the same transaction as a write (so a rolled-back write leaves no "write" row), and
right away for reads. Rows are never updated or deleted (a trigger enforces it on PostgreSQL).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from .models import AccessLog
from .policy import Actor


def access_log_record(
    *,
    actor: Actor,
    action: str,
    record_type: str,
    record_id: object,
    categories: Iterable[str] = (),
    encounter_id: uuid.UUID | None = None,
    person_id: uuid.UUID | None = None,
    break_glass: bool = False,
) -> AccessLog:
    return AccessLog.objects.create(
        user=actor.user,
        roles=",".join(sorted(actor.user.roles)),
        action=action,
        record_type=record_type,
        record_id=str(record_id)[:64],
        encounter_id=encounter_id,
        person_id=person_id,
        categories=",".join(sorted(set(categories))),
        break_glass=break_glass,
        ip=actor.ip,
        user_agent=actor.user_agent[:300],
    )
