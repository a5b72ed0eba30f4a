from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .builders import Builder


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """The fiscal year's suppression is cached by rollup version; tests start without it."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def clinical_supervisor(make_user: Callable[..., Any]) -> Any:
    return make_user("clin_sup", "clinical_supervisor", first="Cora")


@pytest.fixture
def b(make_user: Callable[..., Any]) -> Builder:
    return Builder(make_user("builder", "dispatcher", first="Bea"))
