"""Writes of program insight: freezing a quarter, reopening it, and the audit of every export."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from rest_framework.request import Request

from apps.accounts.models import User
from apps.core.errors import ApplicationError, Conflict, Invalid, NotFound
from apps.core.timefmt import local_today
from apps.security.audit import Kind, record

from .catalogue import CATALOGUE_VERSION, catalogue_payload
from .compute import Filters
from .models import ReportSnapshot
from .periods import QUARTER, Period, fiscal_quarter_of, fiscal_year_of, parse_period
from .rollup import rollup_refresh
from .selectors import REPORT_ROLES, compute_answers


class AuditUnavailable(ApplicationError):
    status_code = 503


def _hash(values: Any, catalogue: Any) -> str:
    text = json.dumps({"values": values, "catalogue": catalogue}, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def snapshot_summary(snapshot: ReportSnapshot) -> dict[str, Any]:
    return {
        "id": snapshot.pk,
        "period": snapshot.period_key,
        "version": snapshot.version,
        "frozen_at": snapshot.frozen_at.isoformat(),
        "frozen_by": snapshot.frozen_by.display_name if snapshot.frozen_by_id else None,
    }


def _quarter(key: str, *, today: dt.date) -> Period:
    period = parse_period(key)
    if period.kind != QUARTER:
        raise Invalid("Only a federal fiscal quarter can be frozen.", errors={"period": ["Use FYyyyy-Qn."]})
    if period.end > today:
        raise Invalid(
            "The quarter is not over yet.",
            errors={"period": [f"{period.label} ends on {period.last_day.isoformat()}; freeze it after that day."]},
        )
    return period


def _values(period: Period, now: dt.datetime) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    # A report never rests on stale cells: its months are recomputed first (outside the write).
    rollup_refresh(period.months())
    full, suppressed = compute_answers(period=period, filters=Filters(), clinical=False, now=now)
    return full, suppressed, catalogue_payload(clinical=False)


def _create(
    *, period: Period, version: int, user: User, now: dt.datetime, reason: str, supersedes: ReportSnapshot | None
) -> ReportSnapshot:
    full, suppressed, catalogue = _values(period, now)
    try:
        with transaction.atomic():
            return ReportSnapshot.objects.create(
                period_key=period.key,
                fiscal_year=fiscal_year_of(period.start),
                quarter=fiscal_quarter_of(period.start),
                version=version,
                catalogue_version=CATALOGUE_VERSION,
                catalogue=catalogue,
                values=full,
                values_suppressed=suppressed,
                content_hash=_hash(full, catalogue),
                frozen_by=user,
                frozen_at=now,
                reason=reason,
                supersedes=supersedes,
            )
    except IntegrityError as exc:  # someone froze or reopened it meanwhile
        latest = ReportSnapshot.objects.filter(period_key=period.key).order_by("-version").first()
        raise Conflict(
            "This quarter was frozen meanwhile.", current=snapshot_summary(latest) if latest else None
        ) from exc


def report_freeze(*, user: User, period_key: str, now: dt.datetime | None = None) -> ReportSnapshot:
    """Freeze a quarter that is over into version 1 of its report; 409 if it is frozen already."""
    if not user.has_role(*REPORT_ROLES):
        raise NotFound("Not found.")
    now = now or timezone.now()
    period = _quarter(period_key, today=local_today())
    latest = ReportSnapshot.objects.filter(period_key=period.key).order_by("-version").first()
    if latest is not None:
        raise Conflict(
            f"{period.label} is frozen already; reopen it (with a reason) to make a new version.",
            current=snapshot_summary(latest),
        )
    return _create(period=period, version=1, user=user, now=now, reason="", supersedes=None)


def report_reopen(*, user: User, snapshot_id: int, reason: str, now: dt.datetime | None = None) -> ReportSnapshot:
    """A new version of a frozen quarter, recomputed from today's data; the old version stays as it was."""
    if not user.has_role(*REPORT_ROLES):
        raise NotFound("Not found.")
    reason = (reason or "").strip()
    if not reason:
        raise Invalid("Say why the quarter is reopened.", errors={"reason": ["This field is required."]})
    if len(reason) > 500:
        raise Invalid("The reason is too long.", errors={"reason": ["At most 500 characters."]})
    snapshot = ReportSnapshot.objects.filter(pk=snapshot_id).select_related("frozen_by").first()
    if snapshot is None:
        raise NotFound("Report not found.")
    latest = ReportSnapshot.objects.filter(period_key=snapshot.period_key).order_by("-version").first()
    if latest is not None and latest.pk != snapshot.pk:
        raise Conflict("Only the latest version of a quarter can be reopened.", current=snapshot_summary(latest))
    period = parse_period(snapshot.period_key)
    return _create(
        period=period,
        version=snapshot.version + 1,
        user=user,
        now=now or timezone.now(),
        reason=reason,
        supersedes=snapshot,
    )


def export_record(
    *,
    request: HttpRequest | Request,
    what: str,
    fmt: str,
    period_key: str,
    suppressed: bool,
    filters: Filters | None = None,
    snapshot: ReportSnapshot | None = None,
) -> None:
    """The security audit of one export (who, what, which format, suppressed or not, from where)."""
    details: dict[str, Any] = {"what": what, "format": fmt, "period": period_key, "suppressed": suppressed}
    if filters is not None and filters.names():
        details["filters"] = {k: v for k, v in filters.as_dict().items() if v not in (None, "")}
    if snapshot is not None:
        details["report_id"] = snapshot.pk
        details["report_version"] = snapshot.version
    if record(Kind.INSIGHTS_EXPORT, request=request, **details) is None:
        # No export without its audit record (record() logged why it could not write).
        raise AuditUnavailable("The export could not be audited; try again in a moment.")
