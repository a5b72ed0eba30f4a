from __future__ import annotations

from typing import Any

import pytest


@pytest.fixture(autouse=True)
def role_groups(db: Any) -> None:
    """Recreate the role groups a ``transaction=True`` test flushed (see apps/clinical/tests/conftest.py)."""
    from django.contrib.auth.models import Group

    from apps.accounts.roles import ALL_ROLES

    for name in ALL_ROLES:
        Group.objects.get_or_create(name=name)
