from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def role_groups(db: Any) -> None:
    """A ``transaction=True`` test flushes the tables, including the role groups the accounts
    migration created; the next test's personas would silently get no role. Recreate them."""
    from django.contrib.auth.models import Group

    from apps.accounts.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)
