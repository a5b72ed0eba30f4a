"""Which dispositions may be recorded together (DOMAIN.md §4: several per encounter, but some outcomes
exclude each other).

An encounter can end in several recorded outcomes (an arrest and a jail booking; an EMS transport and
an involuntary commitment), but not in two that contradict each other: a person cannot be "resolved on
scene" and "arrested", nor "unable to locate" and anything else. The program's rules are the groups
below; ``conflicts_with`` answers for one code against those already recorded. The service refuses a
conflicting disposition (409 with the recorded ones), and the PWA disables it with the reason, from
``DISPOSITION_CONFLICTS`` generated into ``frontend/src/generated/clinical.ts`` (``make contracts``).

Pure data and functions: no database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .models import Disposition

C = Disposition.Code
ALL_CODES: tuple[str, ...] = tuple(C.values)

# The person stayed where they were; the encounter was resolved there.
RESOLVED_IN_PLACE = (C.RESOLVED_ON_SCENE, C.RESOLVED_WITH_REFERRAL, C.SAFETY_PLAN_ONLY)
# The person left the scene: taken somewhere, committed, arrested, or handed to another service.
LEFT_THE_SCENE = (
    C.VOLUNTARY_CRISIS_FACILITY,
    C.VOLUNTARY_ED,
    C.EMS_TRANSPORT,
    C.IVC_INITIATED,
    C.ARREST,
    C.JAIL_BOOKING,
    C.TRANSFERRED_988,
)
# Services the person accepted (incompatible with refusing services).
ACCEPTED_SERVICES = (
    C.RESOLVED_WITH_REFERRAL,
    C.SAFETY_PLAN_ONLY,
    C.VOLUNTARY_CRISIS_FACILITY,
    C.VOLUNTARY_ED,
    C.TRANSFERRED_988,
)
# No contact with the person at all.
NO_CONTACT = (C.UNABLE_TO_LOCATE, C.CANCELLED)


@dataclass(frozen=True)
class ExclusionRule:
    """``codes`` exclude each other (at most one of them), or, with ``against``, none of ``codes`` goes
    with any of ``against``. ``reason`` is shown to the person: "Not with “Arrest”: <reason>."."""

    codes: tuple[str, ...]
    reason: str
    against: tuple[str, ...] = ()

    def pairs(self) -> Iterable[tuple[str, str]]:
        if self.against:
            for a in self.codes:
                for b in self.against:
                    if a != b:
                        yield a, b
                        yield b, a
        else:
            for a in self.codes:
                for b in self.codes:
                    if a != b:
                        yield a, b


RULES: tuple[ExclusionRule, ...] = (
    ExclusionRule(
        codes=NO_CONTACT,
        against=ALL_CODES,
        reason="there was no contact with the person",
    ),
    ExclusionRule(
        codes=RESOLVED_IN_PLACE,
        reason="it is resolved in place one way only",
    ),
    ExclusionRule(
        codes=RESOLVED_IN_PLACE,
        against=LEFT_THE_SCENE,
        reason="the person left the scene",
    ),
    ExclusionRule(
        codes=(C.VOLUNTARY_CRISIS_FACILITY, C.VOLUNTARY_ED),
        reason="a voluntary transport has one destination",
    ),
    ExclusionRule(
        codes=(C.ARREST, C.CITATION),
        reason="a citation is issued instead of an arrest",
    ),
    ExclusionRule(
        codes=(C.CITATION,),
        against=(C.JAIL_BOOKING,),
        reason="a jail booking follows an arrest, not a citation",
    ),
    ExclusionRule(
        codes=(C.REFUSED,),
        against=ACCEPTED_SERVICES,
        reason="the person refused services",
    ),
)


def conflict_map(rules: Iterable[ExclusionRule] = RULES) -> dict[str, dict[str, str]]:
    """code → {other code: reason} for every pair that may not be recorded together (first rule wins)."""
    out: dict[str, dict[str, str]] = {code: {} for code in ALL_CODES}
    for rule in rules:
        for a, b in rule.pairs():
            out[str(a)].setdefault(str(b), rule.reason)
    return out


CONFLICTS: dict[str, dict[str, str]] = conflict_map()


def conflicts_with(code: str, recorded: Iterable[str]) -> list[tuple[str, str]]:
    """The recorded codes ``code`` may not join, each with the reason, in the order given."""
    mine = CONFLICTS.get(code, {})
    return [(other, mine[other]) for other in recorded if other in mine]
