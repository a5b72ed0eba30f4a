"""What apps above incidents plug into it (they register in their ``AppConfig.ready()``).

incidents sits below clinical (docs/architecture.md) and never imports it. The dispositions of a call
are recorded on its encounters (apps.clinical); the closed-calls search filters by them and shows them.
clinical fills in here:

- ``incident_ids_with(code)``: the ids of incidents with an encounter that has this disposition (a
  queryset of ids, used as a subquery);
- ``codes_of(incident_ids)``: each incident's disposition codes (one query for a page).

With nothing registered, a search by disposition finds nothing and calls have no dispositions.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

IdsWith = Callable[[str], Any]  # a QuerySet of incident ids (values_list / values)
CodesOf = Callable[[Collection[int]], dict[int, list[str]]]


@dataclass(frozen=True)
class DispositionSource:
    incident_ids_with: IdsWith
    codes_of: CodesOf


_source: list[DispositionSource] = []


def register_dispositions(*, incident_ids_with: IdsWith, codes_of: CodesOf) -> None:
    """One source (registering again replaces it: ``ready()`` may run twice)."""
    _source[:] = [DispositionSource(incident_ids_with=incident_ids_with, codes_of=codes_of)]


def disposition_source() -> DispositionSource | None:
    return _source[0] if _source else None
