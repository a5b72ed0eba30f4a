"""A person's shifts as an iCalendar (RFC 5545) feed. Calendar apps cannot log in, so the URL holds
the person's secret ``calendar_token``; the feed lists only team, times and co-workers' names."""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_safe

from apps.accounts.models import User

from .selectors import shifts_in_range

PAST = dt.timedelta(days=31)
AHEAD = dt.timedelta(days=120)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")


def _fold(line: str) -> str:
    # Lines longer than 75 octets are folded with CRLF + space (RFC 5545 §3.1).
    out, raw = [], line.encode()
    while len(raw) > 75:
        cut = 75
        while cut > 0 and (raw[cut] & 0xC0) == 0x80:  # never split a UTF-8 sequence
            cut -= 1
        out.append(raw[:cut].decode())
        raw = b" " + raw[cut:]
    out.append(raw.decode())
    return "\r\n".join(out)


def shifts_ical(*, user: User, host: str) -> str:
    now = timezone.now()
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Durham co-response//shifts//EN",
        "CALSCALE:GREGORIAN",
        f"X-WR-CALNAME:{_escape('Shifts: ' + user.display_name)}",
    ]
    for shift in shifts_in_range(start=now - PAST, end=now + AHEAD, person=user):
        others = [m.user.display_name for m in shift.members.all() if m.user_id != user.pk]
        description = "With " + ", ".join(others) if others else ""
        lines += [
            "BEGIN:VEVENT",
            f"UID:shift-{shift.pk}-{user.pk}@{host}",
            f"DTSTAMP:{_utc(now)}",
            f"DTSTART:{_utc(shift.starts_at)}",
            f"DTEND:{_utc(shift.ends_at)}",
            f"SUMMARY:{_escape('Shift ' + shift.team.call_sign)}",
            f"DESCRIPTION:{_escape(description)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"


@require_safe
def shifts_ical_view(request: HttpRequest, token: str) -> HttpResponse:
    user = User.objects.filter(calendar_token=token, is_active=True).first()
    if user is None:
        raise Http404("Unknown calendar.")
    response = HttpResponse(
        shifts_ical(user=user, host=request.get_host().split(":")[0]),
        content_type="text/calendar; charset=utf-8",
    )
    response["Content-Disposition"] = 'inline; filename="shifts.ics"'
    return response
