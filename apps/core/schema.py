"""OpenAPI schema generation tweaks shared by every app."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema


class AutoSchema(SpectacularAutoSchema):
    """Names a nested serializer after its view: ``LoginApi.Input`` becomes the ``LoginApiInput`` component.

    STYLE.md puts ``Input``/``Output`` serializers inside each api class, so by the plain class name
    every app's ``Input`` would be one colliding ``Input`` component (drf-spectacular warns and the
    schema is wrong).
    """

    def get_serializer_name(self, serializer: Any, direction: Any) -> str:
        qualname: str = type(serializer).__qualname__
        if "." in qualname and "<locals>" not in qualname:
            return qualname.replace(".", "")
        name: str = type(serializer).__name__
        return name
