"""What apps above clinical plug into it (they register in their ``AppConfig.ready()``).

clinical sits below referrals (docs/architecture.md) and never imports it. Two things of the
clinical record belong to referrals, and referrals fills them in here:

- **the follow-up policy**: a C-SSRS screen, a disposition or an IVC record can call for follow-up
  tasks (DOMAIN.md §5). The write calls ``encounter_facts_changed(encounter)`` inside its
  transaction, so the tasks commit (or roll back) with the fact.
- **a person's open referrals**: the person view lists them (type, agency, status and dates only).
- **an encounter's referrals**: the encounter view lists them with their notes, as the viewer may
  see them, so every device shows what was referred (``encounter_referrals``), and the outstanding
  prompts ask for a referral and a follow-up only while there is none (``encounter_care_counts``).

With nothing registered (an installation without referrals) the facts call nothing and a person
has no referrals.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from apps.accounts.models import User

from .models import Encounter, Person

FactsHook = Callable[[Encounter], None]
OpenReferrals = Callable[[Person, User], list[dict[str, Any]]]
EncounterReferrals = Callable[[Encounter, User], list[dict[str, Any]]]
CareCounts = Callable[[Encounter], tuple[int, int]]

_facts_hooks: list[FactsHook] = []
_open_referrals: list[OpenReferrals] = []
_encounter_referrals: list[EncounterReferrals] = []
_care_counts: list[CareCounts] = []


def register_encounter_facts_hook(hook: FactsHook) -> None:
    """``hook(encounter)`` runs inside every write that changes an encounter's risk, dispositions or
    IVC record. It may raise to refuse the write (the transaction rolls back). Idempotent."""
    if hook not in _facts_hooks:
        _facts_hooks.append(hook)


def register_open_referrals(provider: OpenReferrals) -> None:
    """``provider(person, viewer)``: the person's open referrals as the viewer may see them. One provider."""
    _open_referrals[:] = [provider]


def register_encounter_referrals(provider: EncounterReferrals, counts: CareCounts) -> None:
    """``provider(encounter, viewer)``: the encounter's referrals as the viewer may see them (called
    only for viewers of clinical narrative); ``counts(encounter)``: (referrals, follow-ups) of any
    kind, for the prompts. One provider."""
    _encounter_referrals[:] = [provider]
    _care_counts[:] = [counts]


def encounter_facts_changed(encounter: Encounter) -> None:
    for hook in list(_facts_hooks):
        hook(encounter)


def open_referrals(person: Person, user: User) -> list[dict[str, Any]]:
    return _open_referrals[0](person, user) if _open_referrals else []


def encounter_referrals(encounter: Encounter, user: User) -> list[dict[str, Any]]:
    return _encounter_referrals[0](encounter, user) if _encounter_referrals else []


def encounter_care_counts(encounter: Encounter) -> tuple[int, int]:
    """(referrals, follow-ups) of the encounter; (0, 0) with nothing registered."""
    return _care_counts[0](encounter) if _care_counts else (0, 0)
