"""What apps above clinical plug into it (they register in their ``AppConfig.ready()``).

clinical sits below referrals (docs/architecture.md) and never imports it. Two things of the
clinical record belong to referrals, and referrals fills them in here:

- **the follow-up policy**: a C-SSRS screen, a disposition or an IVC record can call for follow-up
  tasks (DOMAIN.md §5). The write calls ``encounter_facts_changed(encounter)`` inside its
  transaction, so the tasks commit (or roll back) with the fact.
- **a person's open referrals**: the person view lists them (type, agency, status and dates only).

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

_facts_hooks: list[FactsHook] = []
_open_referrals: list[OpenReferrals] = []


def register_encounter_facts_hook(hook: FactsHook) -> None:
    """``hook(encounter)`` runs inside every write that changes an encounter's risk, dispositions or
    IVC record. It may raise to refuse the write (the transaction rolls back). Idempotent."""
    if hook not in _facts_hooks:
        _facts_hooks.append(hook)


def register_open_referrals(provider: OpenReferrals) -> None:
    """``provider(person, viewer)``: the person's open referrals as the viewer may see them. One provider."""
    _open_referrals[:] = [provider]


def encounter_facts_changed(encounter: Encounter) -> None:
    for hook in list(_facts_hooks):
        hook(encounter)


def open_referrals(person: Person, user: User) -> list[dict[str, Any]]:
    return _open_referrals[0](person, user) if _open_referrals else []
