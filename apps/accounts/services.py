from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import Group
from django.db import transaction

from apps.core.errors import Invalid

from .models import User
from .roles import ALL_ROLES


@transaction.atomic
def user_set_roles(*, user: User, roles: Iterable[str]) -> User:
    """Replace the user's roles (groups) and derive ``is_staff`` from them."""
    wanted = set(roles)
    unknown = wanted - ALL_ROLES
    if unknown:
        raise Invalid("Unknown role.", errors={"roles": [f"Unknown role: {r}" for r in sorted(unknown)]})
    other_groups = [g for g in user.groups.all() if g.name not in ALL_ROLES]
    user.groups.set([*other_groups, *Group.objects.filter(name__in=wanted)])
    user.__dict__.pop("_roles_cache", None)
    if hasattr(user, "_roles_cache"):
        del user._roles_cache
    is_staff = user.derived_is_staff()
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])
    return user
