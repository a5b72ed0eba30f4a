"""Break-glass: time-limited emergency access to one encounter, reviewed by a supervisor."""

from __future__ import annotations

import datetime as dt
import uuid

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.errors import Conflict, Invalid, NotFound
from apps.realtime.services import event_emit

from ..audit import access_log_record
from ..models import AccessLog, BreakGlass, Encounter
from ..policy import BREAK_GLASS_ROLES, Actor, Category, categories_for, encounter_scope_q
from .common import require_roles


@transaction.atomic
def break_glass_open(*, actor: Actor, encounter_id: uuid.UUID, reason: str) -> BreakGlass:
    """Open one encounter outside the user's scope for CLINICAL_BREAK_GLASS_MINUTES, with a reason.
    Logged, flagged for review, and the clinical supervisors are told (ids only)."""
    require_roles(actor.user, BREAK_GLASS_ROLES, "Encounter")
    if not (reason or "").strip() or len(reason.strip()) < 10:
        raise Invalid("Break-glass needs a reason.", errors={"reason": ["Give the emergency reason (10+ characters)."]})
    if len(reason) > 500:
        raise Invalid("Reason too long.", errors={"reason": ["At most 500 characters."]})
    encounter = Encounter.objects.filter(pk=encounter_id).first()
    if encounter is None:
        raise NotFound("Encounter not found.")
    scope = encounter_scope_q(actor.user)
    if (
        scope is not None
        and Encounter.objects.filter(scope, pk=encounter.pk).exists()
        and Category.NARRATIVE in categories_for(actor.user, encounter)
    ):
        raise Conflict("You already have access to this encounter; no break-glass needed.", current=None)
    now = timezone.now()
    grant = BreakGlass.objects.create(
        user=actor.user,
        encounter=encounter,
        reason=reason.strip(),
        opened_at=now,
        expires_at=now + dt.timedelta(minutes=settings.CLINICAL_BREAK_GLASS_MINUTES),
    )
    access_log_record(
        actor=actor,
        action=AccessLog.Action.BREAK_GLASS,
        record_type="encounter",
        record_id=encounter.pk,
        encounter_id=encounter.pk,
        person_id=encounter.person_id,
        break_glass=True,
    )
    supervisors = User.objects.filter(groups__name=Role.CLINICAL_SUPERVISOR, is_active=True)
    event_emit(
        type="clinical.break_glass",
        recipients=list(supervisors),
        data={"break_glass_id": grant.pk, "encounter_id": str(encounter.pk), "user_id": actor.user.pk},
    )
    return grant


@transaction.atomic
def break_glass_review(*, reviewer: User, grant_id: int) -> BreakGlass:
    if not reviewer.has_role(Role.CLINICAL_SUPERVISOR, Role.SUPERVISOR):
        raise NotFound("Not found.")
    grant = BreakGlass.objects.select_for_update().filter(pk=grant_id).first()
    if grant is None:
        raise NotFound("Not found.")
    if grant.user_id == reviewer.pk:
        raise Invalid("Nobody reviews their own break-glass.", errors={"reviewer": ["Ask another supervisor."]})
    if grant.reviewed_at is None:
        grant.reviewed_by = reviewer
        grant.reviewed_at = timezone.now()
        grant.save(update_fields=["reviewed_by", "reviewed_at"])
    return grant
