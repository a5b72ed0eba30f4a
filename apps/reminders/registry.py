"""Obsolescence checks: before a reminder goes out, its subject's owner may say "no longer needed".

A subsystem registers one check per subject type, usually in its ``AppConfig.ready()``::

    from apps.reminders.registry import register_obsolescence_check

    def followup_is_obsolete(reminder: Reminder) -> bool:
        return not FollowUp.objects.filter(pk=reminder.subject_id, completed_at__isnull=True).exists()

    register_obsolescence_check("referrals.followup", followup_is_obsolete)

The sweep calls the check right before sending; ``True`` cancels the reminder instead (status
``cancelled``, ``last_error`` says why). A check that raises is treated as "not obsolete": a missed
cancellation sends one needless reminder, a missed reminder may miss a follow-up.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .models import Reminder

log = logging.getLogger(__name__)

ObsolescenceCheck = Callable[["Reminder"], bool]

_checks: dict[str, ObsolescenceCheck] = {}


def register_obsolescence_check(subject_type: str, check: ObsolescenceCheck) -> None:
    """Register ``check(reminder) -> bool`` for reminders whose ``subject_type`` is ``subject_type``."""
    _checks[subject_type] = check


def unregister_obsolescence_check(subject_type: str) -> None:
    _checks.pop(subject_type, None)


def reminder_is_obsolete(reminder: Reminder) -> bool:
    check = _checks.get(reminder.subject_type)
    if check is None:
        return False
    try:
        return bool(check(reminder))
    except Exception:
        log.exception("obsolescence check for %s failed; sending %s anyway", reminder.subject_type, reminder.pk)
        return False
