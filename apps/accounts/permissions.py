from __future__ import annotations

from typing import Any

from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from .models import User


class HasRole(BasePermission):
    """Allows users holding any of ``roles``. Use ``HasRole.of("dispatcher", ...)`` in a view."""

    roles: frozenset[str] = frozenset()
    message = "Your role does not allow this."

    @classmethod
    def of(cls, *roles: str) -> type[HasRole]:
        return type(f"HasRole_{'_'.join(sorted(roles))}", (cls,), {"roles": frozenset(roles)})

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "roles", frozenset()) & self.roles)


def request_user(request: Request) -> User:
    """The signed-in user of a request that passed authentication (typed for mypy)."""
    user = request.user
    if not isinstance(user, User):
        raise NotAuthenticated()
    return user
