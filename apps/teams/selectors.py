from __future__ import annotations

from django.db.models import QuerySet

from .models import Team


def team_by_ref(ref: str) -> Team | None:
    """A team by id or call sign (the CAD and people use call signs)."""
    qs: QuerySet[Team] = Team.objects.all()
    if ref.isdigit():
        return qs.filter(pk=int(ref)).first()
    return qs.filter(call_sign__iexact=ref).first()
