"""Who may see which incident fields (DOMAIN.md §2), in one place for the APIs and the events.

Three tiers: ``full`` (dispatch, clinical and supervisory roles), ``officer`` (dispatch fields;
caller/subject identity only on the officer's current call) and ``deidentified`` (no names, contact
data, address, coordinates, CAD number or free text: the fallback when no tier is known).

Analysts read no incident rows at all: exact call times, beats and districts identify people even
without names (DOMAIN.md §2 gives analysts aggregates); their numbers come from apps.insights.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db.models import Q
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.shifts.models import ShiftMember

FULL = "full"
OFFICER = "officer"
DEIDENTIFIED = "deidentified"

FULL_ROLES = frozenset(
    {Role.DISPATCHER, Role.SUPERVISOR, Role.CLINICIAN, Role.CLINICAL_SUPERVISOR, Role.CARE_NAVIGATOR, Role.ADMIN}
)
READ_ROLES = FULL_ROLES | {Role.OFFICER}
DISPATCH_ROLES = frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.ADMIN})

# Identity and contact data of the caller and the subject.
IDENTITY_FIELDS = frozenset(
    {"caller_name", "caller_phone", "subject_name", "subject_dob", "subject_phone", "subject_description"}
)
# Also hidden from analysts: they locate or identify a person, or are free text that might.
DEIDENTIFIED_HIDDEN = IDENTITY_FIELDS | {
    "cad_number",
    "cad_source",
    "address",
    "latitude",
    "longitude",
    "operational_notes",
    "safety_notes",
    "premise_hazards",
    "weapon_kind",
    "eligibility_reason",
    "not_served_note",
}


def base_tier(user: User) -> str | None:
    """The widest tier a user's roles allow, or None when they may not read incidents at all."""
    if user.has_role(*FULL_ROLES):
        return FULL
    if user.has_role(Role.OFFICER):
        return OFFICER
    return None


def shift_member_ids(
    *, team_ids: Iterable[int], shift_ids: Iterable[int] = (), at: dt.datetime | None = None
) -> set[int]:
    """Users on a shift covering ``at`` for these teams, plus the members of the given shifts.

    The shift an assignment was offered on counts too: a pair still on a call when its shift ends
    must be able to clear it.
    """
    at = at or timezone.now()
    team_ids, shift_ids = list(team_ids), list(shift_ids)
    if not team_ids and not shift_ids:
        return set()
    cond = Q(shift__team_id__in=team_ids, shift__starts_at__lte=at, shift__ends_at__gt=at)
    if shift_ids:
        cond |= Q(shift_id__in=shift_ids)
    return set(ShiftMember.objects.filter(cond).values_list("user_id", flat=True))


def current_incident_ids(user: User) -> set[int]:
    """Incidents that are the user's current call: an active assignment of a team the user is on now."""
    from .models import Assignment

    now = timezone.now()
    return set(
        Assignment.objects.filter(status__in=Assignment.ACTIVE)
        .filter(
            Q(shift__members__user=user)
            | Q(
                team__shifts__members__user=user,
                team__shifts__starts_at__lte=now,
                team__shifts__ends_at__gt=now,
            )
        )
        .values_list("incident_id", flat=True)
        .distinct()
    )


def tier_for(user: User, *, incident_id: int, current_ids: set[int] | None = None) -> str | None:
    tier = base_tier(user)
    if tier == OFFICER:
        ids = current_ids if current_ids is not None else current_incident_ids(user)
        return FULL if incident_id in ids else OFFICER
    return tier


def hidden_fields(tier: str) -> frozenset[str]:
    if tier == FULL:
        return frozenset()
    if tier == OFFICER:
        return IDENTITY_FIELDS
    return DEIDENTIFIED_HIDDEN
