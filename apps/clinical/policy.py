"""Who may see which clinical data: role × data category (DOMAIN.md §2), decided here only.

Every route (API serializers, admin, exports, event payloads) asks this module. Two questions:

- *scope*: which encounters a user may open at all (``encounter_scope_q``). Anything outside answers
  404, so a record's existence does not leak.
- *categories*: which parts of an encounter in scope the user receives (``categories_for``).

Officers and dispatchers never get NARRATIVE or PART2; the only clinical fact an officer gets is
HIGH_RISK_FLAG, and only while the encounter is open (the "current" encounter).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Q
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.security.ip import client_ip
from apps.shifts.models import ShiftMember
from apps.teams.models import TeamMembership

from .models import BreakGlass, Encounter


class Category:
    OPERATIONAL = "operational"  # kind, times, team, ids, diversion flags
    SUBJECT = "subject"  # person name, DOB, demographics
    HIGH_RISK_FLAG = "high_risk_flag"  # a yes/no "high risk" on the current encounter
    RISK = "risk"  # C-SSRS answers, risk level, IVC record
    NARRATIVE = "narrative"  # note sections, diagnoses, medications, safety plan, addenda
    PART2 = "part2"  # 42 CFR Part 2 substance-use content
    DISPOSITION = "disposition"
    OFFICER_SECTION = "officer_section"


ALL_CATEGORIES = frozenset(
    {
        Category.OPERATIONAL,
        Category.SUBJECT,
        Category.HIGH_RISK_FLAG,
        Category.RISK,
        Category.NARRATIVE,
        Category.PART2,
        Category.DISPOSITION,
        Category.OFFICER_SECTION,
    }
)
# Content whose every read is audited as clinical content.
CLINICAL_CONTENT = frozenset({Category.RISK, Category.NARRATIVE, Category.PART2})
POLICE_SAFE = frozenset({Category.OPERATIONAL, Category.SUBJECT, Category.DISPOSITION, Category.OFFICER_SECTION})
_CLINICAL = POLICE_SAFE | {Category.HIGH_RISK_FLAG, Category.RISK, Category.NARRATIVE}

# Roles that see every encounter (the rest see their team's / their own).
_ALL_ENCOUNTER_ROLES = frozenset({Role.DISPATCHER, Role.CARE_NAVIGATOR, Role.CLINICAL_SUPERVISOR, Role.SUPERVISOR})
# Roles that may document clinically (notes, screens, safety plans, dispositions, IVC).
CLINICAL_WRITERS = frozenset({Role.CLINICIAN, Role.CARE_NAVIGATOR, Role.CLINICAL_SUPERVISOR})
# Roles that see person records and search them.
PERSON_READERS = CLINICAL_WRITERS
# Roles that may open the encounter API at all (analyst and admin get aggregates elsewhere).
ENCOUNTER_READERS = frozenset(
    {Role.CLINICIAN, Role.CARE_NAVIGATOR, Role.CLINICAL_SUPERVISOR, Role.OFFICER, Role.DISPATCHER, Role.SUPERVISOR}
)
BREAK_GLASS_ROLES = frozenset({Role.SUPERVISOR, Role.CLINICIAN})
PART2_PERMISSION = "clinical.view_part2"


@dataclass(frozen=True)
class Actor:
    """The user plus where the request came from, for the access log."""

    user: User
    ip: str | None = None
    user_agent: str = ""

    @classmethod
    def from_request(cls, request: Request | HttpRequest, user: User) -> Actor:
        # client_ip trusts X-Forwarded-For only behind SECURITY_TRUSTED_PROXY_COUNT proxies (a client
        # could otherwise write any address into the access log).
        return cls(user=user, ip=client_ip(request), user_agent=str(request.META.get("HTTP_USER_AGENT", ""))[:300])


def user_team_ids(user: User) -> set[int]:
    """Teams the user belongs to, by standing membership or by any shift on that team."""
    ids = set(TeamMembership.objects.filter(user=user).values_list("team_id", flat=True))
    ids |= set(ShiftMember.objects.filter(user=user).values_list("shift__team_id", flat=True))
    return ids


def may_read_part2(user: User) -> bool:
    if user.has_role(Role.CLINICAL_SUPERVISOR):
        return True
    return user.has_role(Role.CLINICIAN, Role.CARE_NAVIGATOR) and user.has_perm(PART2_PERMISSION)


def encounter_scope_q(user: User) -> Q | None:
    """A filter for the encounters ``user`` may open normally; ``None`` means none at all."""
    roles = user.roles
    if roles & _ALL_ENCOUNTER_ROLES:
        return Q()
    if roles & {Role.CLINICIAN, Role.OFFICER}:
        team_ids = user_team_ids(user)
        return Q(clinician=user) | Q(officer=user) | Q(created_by=user) | Q(team_id__in=team_ids)
    return None


def active_break_glass(user: User, encounter: Encounter, at: dt.datetime | None = None) -> BreakGlass | None:
    at = at or timezone.now()
    return (
        BreakGlass.objects.filter(user=user, encounter=encounter, opened_at__lte=at, expires_at__gt=at)
        .order_by("-expires_at")
        .first()
    )


def categories_for(user: User, encounter: Encounter, *, break_glass: bool = False) -> frozenset[str]:
    """The data categories of ``encounter`` that ``user`` receives (assumes the encounter is in scope)."""
    roles = user.roles
    cats: set[str] = set()
    if roles & {Role.DISPATCHER, Role.SUPERVISOR}:
        cats |= POLICE_SAFE
    if Role.OFFICER in roles:
        # Name/DOB and the high-risk flag only for the current (open) encounter (DOMAIN.md §2).
        cats |= POLICE_SAFE - {Category.SUBJECT}
        if encounter.closed_at is None:
            cats |= {Category.SUBJECT, Category.HIGH_RISK_FLAG}
    if roles & {Role.CLINICIAN, Role.CARE_NAVIGATOR, Role.CLINICAL_SUPERVISOR}:
        cats |= _CLINICAL
        if may_read_part2(user):
            cats.add(Category.PART2)
    if break_glass:
        # Emergency access reads like a clinician's, never Part 2 (its medical-emergency exception
        # is for treating staff, who hold the permission anyway).
        cats |= _CLINICAL
    return frozenset(cats)


def user_ids_on_encounter(encounter: Encounter, at: dt.datetime | None = None) -> set[int]:
    """The clinician, officer and author of the encounter, and its team (standing members and
    whoever is on a shift of it now)."""
    ids = {i for i in (encounter.clinician_id, encounter.officer_id, encounter.created_by_id) if i}
    if encounter.team_id:
        at = at or timezone.now()
        ids |= set(TeamMembership.objects.filter(team_id=encounter.team_id).values_list("user_id", flat=True))
        ids |= set(
            ShiftMember.objects.filter(
                shift__team_id=encounter.team_id, shift__starts_at__lte=at, shift__ends_at__gt=at
            ).values_list("user_id", flat=True)
        )
    return ids


def event_payload_for(user: User, encounter: Encounter, *, event: str) -> dict[str, object] | None:
    """What a real-time event about ``encounter`` may carry to ``user``: ids, and the high-risk flag
    only for those allowed it. Never text."""
    scope = encounter_scope_q(user)
    if scope is None:
        return None
    cats = categories_for(user, encounter)
    payload: dict[str, object] = {"encounter_id": str(encounter.id), "event": event}
    if Category.RISK in cats:
        payload["risk_level"] = encounter.risk_level
    if Category.HIGH_RISK_FLAG in cats:
        payload["high_risk"] = encounter.is_high_risk
    return payload
