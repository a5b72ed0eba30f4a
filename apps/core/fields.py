"""Serializer fields shared by every API."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rest_framework import serializers


class AwareDateTimeField(serializers.DateTimeField):
    """Refuses naive datetimes instead of silently reading them in the server's zone.

    A phone that sends "2026-03-08T02:30" means some zone; guessing it wrong by hours is worse than
    asking for an offset ("Z" or "+05:00").
    """

    default_error_messages = {
        "naive": "Datetime must include a timezone offset (for example 2026-03-08T07:30:00Z).",
    }

    def to_internal_value(self, value: Any) -> dt.datetime:
        if isinstance(value, str):
            try:
                parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
            except ValueError:
                parsed = None  # not ISO 8601: the parent field reports the format error
            if parsed is not None and parsed.tzinfo is None:
                self.fail("naive")
        elif isinstance(value, dt.datetime) and value.tzinfo is None:
            self.fail("naive")
        result: dt.datetime = super().to_internal_value(value)
        # DRF hands back the moment in America/New_York. In the repeated fall-back hour that value
        # carries fold=1, and Python then answers == with a UTC datetime of the same instant as
        # False (PEP 495); UTC has no folds, so services compare and subtract safely.
        return result.astimezone(dt.UTC)
