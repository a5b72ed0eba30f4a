"""Filters for the printable report: durations and rates as people read them."""

from __future__ import annotations

from typing import Any

from django import template

register = template.Library()


@register.filter
def duration(value: Any) -> str:
    """Seconds as "1 h 05 min", "14 min 30 s" or "45 s"; blank stays blank (suppressed or no data)."""
    if value is None or isinstance(value, str):
        return "—" if value is None else value
    seconds = int(value)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s" if secs else f"{minutes} min"
    return f"{secs} s"


@register.filter
def percent(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return f"{float(value) * 100:.1f} %"


@register.filter
def count(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return f"{value:,.1f}"
    return f"{int(value):,}"
