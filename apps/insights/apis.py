"""Program insight API (``/api/v1/insights/…``; shapes in docs/insights.md): parse, call one selector
or service, shape the output. Exports are audited (a security event per download)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.permissions import HasRole, request_user
from apps.clinical.policy import Actor
from apps.core.errors import Invalid, NotFound
from apps.core.idempotency import idempotent
from apps.core.pagination import Pagination
from apps.core.timefmt import local_today, to_local
from apps.incidents.models import CallType, Incident
from apps.teams.models import Team

from . import drilldown, exports, schemas, selectors, services
from .catalogue import catalogue_payload
from .compute import Filters
from .models import ReportSnapshot
from .periods import Period, current_periods, fiscal_quarter_of, fiscal_year_of, parse_period

INSIGHT = HasRole.of(*selectors.INSIGHT_ROLES)
DRILL_INCIDENTS = HasRole.of(*selectors.INCIDENT_DRILL_ROLES)
DRILL_ENCOUNTERS = HasRole.of(*selectors.ENCOUNTER_DRILL_ROLES)
LIVE = HasRole.of(*selectors.LIVE_ROLES)
REPORTS = HasRole.of(*selectors.REPORT_ROLES)

CSV_RESPONSE = {(200, "text/csv"): OpenApiTypes.BINARY}
XLSX_RESPONSE = {(200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY}
HTML_RESPONSE = {(200, "text/html"): OpenApiTypes.STR}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUPPRESS_PARAM = OpenApiParameter(
    "suppress", bool, required=False, description="Small cells suppressed (analysts: always)."
)


class AnswerQuery(serializers.Serializer[Any]):
    period = serializers.CharField(
        max_length=40,
        required=False,
        help_text="YYYY-MM, FYyyyy-Qn, FYyyyy or YYYY-MM-DD..YYYY-MM-DD (default: this quarter)",
    )
    team = serializers.IntegerField(min_value=1, max_value=2**31 - 1, required=False)
    call_type = serializers.CharField(max_length=20, required=False)
    source = serializers.ChoiceField(choices=Incident.Source.choices, required=False)  # type: ignore[assignment]
    suppress = serializers.BooleanField(
        required=False, default=False, help_text="Small-cell suppression (always on for analysts)."
    )


def _validated(serializer: serializers.Serializer[Any]) -> dict[str, Any]:
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _period(value: str | None) -> Period:
    return parse_period(value) if value else current_periods()["quarter"]


def _filters(data: dict[str, Any]) -> Filters:
    team = data.get("team")
    if team is not None and not Team.objects.filter(pk=team).exists():
        raise Invalid("Unknown team.", errors={"team": ["No such team."]})
    call_type = data.get("call_type") or None
    if call_type is not None and not (
        CallType.objects.filter(local_code=call_type).exists()
        or Incident.objects.filter(call_type_code=call_type).exists()
    ):
        raise Invalid("Unknown call type.", errors={"call_type": ["No such call type."]})
    return Filters(team=team, call_type=call_type, source=data.get("source") or None)


def _answer(request: Request) -> tuple[dict[str, Any], Period, Filters]:
    data = _validated(AnswerQuery(data=request.query_params))
    period, filters = _period(data.get("period")), _filters(data)
    answer = selectors.dashboard_answer(
        user=request_user(request), period=period, filters=filters, suppressed=bool(data.get("suppress"))
    )
    return answer, period, filters


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- catalogue and periods ----------------------------------------------------------------------------


class CatalogueApi(APIView):
    """The metric catalogue (data dictionary) the user's answers are computed with."""

    permission_classes = [INSIGHT]

    @extend_schema(responses=schemas.InsightsCatalogue)
    def get(self, request: Request) -> Response:
        return Response(catalogue_payload(clinical=selectors.sees_clinical(request_user(request))))


class PeriodsApi(APIView):
    """The periods a screen offers: this month/quarter/fiscal year, and the recent ones."""

    permission_classes = [INSIGHT]

    @extend_schema(responses=schemas.InsightsPeriods)
    def get(self, request: Request) -> Response:
        today = local_today()
        fy, q = fiscal_year_of(today), fiscal_quarter_of(today)
        quarters, months = [], []
        for back in range(8):
            qq, yy = q - back, fy
            while qq < 1:
                qq += 4
                yy -= 1
            quarters.append(Period.quarter(yy, qq).as_dict())
        m = today.replace(day=1)
        for _ in range(13):
            months.append(Period.month(m.year, m.month).as_dict())
            m = (m - dt.timedelta(days=1)).replace(day=1)
        user = request_user(request)
        return Response(
            {
                "today": today.isoformat(),
                "current": {k: p.as_dict() for k, p in current_periods(today).items()},
                "quarters": quarters,
                "months": months,
                "fiscal_years": [Period.fiscal_year(y).as_dict() for y in (fy, fy - 1, fy - 2)],
                "custom_allowed": not selectors.sees_suppressed(user),
                "suppressed": selectors.sees_suppressed(user),
                "filters": {
                    "teams": [{"id": t.pk, "call_sign": t.call_sign} for t in Team.objects.order_by("call_sign")],
                    "call_types": [
                        {"code": c.local_code, "label": c.description, "apco": c.apco_code}
                        for c in CallType.objects.filter(is_active=True).order_by("local_code")
                    ],
                    "sources": [{"code": v, "label": str(label)} for v, label in Incident.Source.choices],
                },
            }
        )


# --- dashboard ------------------------------------------------------------------------------------------


class DashboardApi(APIView):
    """Every measure for one period (and optional filters), shaped per measure kind (docs/insights.md)."""

    permission_classes = [INSIGHT]

    @extend_schema(parameters=[AnswerQuery], responses=schemas.InsightsAnswer)
    def get(self, request: Request) -> Response:
        return Response(_answer(request)[0])


def _dashboard_report(request: Request, answer: dict[str, Any], period: Period) -> exports.Report:
    user = request_user(request)
    clinical = selectors.sees_clinical(user)
    about = [
        ("Period", period.label),
        ("Filters", ", ".join(f"{k} = {v}" for k, v in answer["filters"].items() if v not in (None, "")) or "none"),
        ("Small cells", "suppressed" if answer["suppressed"] else "not suppressed (internal use only)"),
        ("Computed", to_local(dt.datetime.fromisoformat(answer["generated_at"])).strftime("%Y-%m-%d %H:%M %Z")),
        ("Exported by", user.display_name),
        ("Catalogue", answer["catalogue_version"]),
        ("Status", "live figures, not a frozen report"),
    ]
    return exports.Report(
        answer=answer,
        catalogue=catalogue_payload(clinical=clinical),
        title=f"Program insight – {period.label}",
        about=about,
        filename=f"insights_{period.key.replace('..', '_')}",
    )


class DashboardCsvApi(APIView):
    permission_classes = [INSIGHT]

    @extend_schema(parameters=[AnswerQuery], responses=CSV_RESPONSE)
    def get(self, request: Request) -> HttpResponse:
        answer, period, filters = _answer(request)
        report = _dashboard_report(request, answer, period)
        services.export_record(
            request=request, what="dashboard", fmt="csv", period_key=period.key, suppressed=answer["suppressed"],
            filters=filters,
        )  # fmt: skip
        return _download(exports.to_csv(report), "text/csv; charset=utf-8", report.filename + ".csv")


class DashboardXlsxApi(APIView):
    permission_classes = [INSIGHT]

    @extend_schema(parameters=[AnswerQuery], responses=XLSX_RESPONSE)
    def get(self, request: Request) -> HttpResponse:
        answer, period, filters = _answer(request)
        report = _dashboard_report(request, answer, period)
        services.export_record(
            request=request, what="dashboard", fmt="xlsx", period_key=period.key, suppressed=answer["suppressed"],
            filters=filters,
        )  # fmt: skip
        return _download(exports.to_xlsx(report), XLSX, report.filename + ".xlsx")


def _page(html: str) -> HttpResponse:
    """A printable page: HTML on success (errors stay the API's JSON shape)."""
    response = HttpResponse(html, content_type="text/html; charset=utf-8")
    response["Cache-Control"] = "no-store"
    return response


class DashboardPrintApi(APIView):
    permission_classes = [INSIGHT]

    @extend_schema(parameters=[AnswerQuery], responses=HTML_RESPONSE)
    def get(self, request: Request) -> HttpResponse:
        answer, period, filters = _answer(request)
        report = _dashboard_report(request, answer, period)
        services.export_record(
            request=request, what="dashboard", fmt="print", period_key=period.key, suppressed=answer["suppressed"],
            filters=filters,
        )  # fmt: skip
        return _page(exports.to_html(report))


# --- live operations and drill-downs ----------------------------------------------------------------


class LiveApi(APIView):
    """Now: open calls, teams on duty, unassigned high-priority calls, overdue follow-ups (supervisors)."""

    permission_classes = [LIVE]

    @extend_schema(responses=schemas.InsightsLive)
    def get(self, request: Request) -> Response:
        return Response(drilldown.live_operations(user=request_user(request)))


class DrillQuery(AnswerQuery):
    measure = serializers.CharField(max_length=60)
    key = serializers.CharField(
        max_length=60, required=False, default="", help_text="Row key, or numerator / denominator."
    )
    month = serializers.RegexField(r"^\d{4}-\d{2}$", required=False, help_text="YYYY-MM, one month of the period.")
    suppress = None  # type: ignore[assignment]


DRILL_PAGE = inline_serializer(
    "InsightsDrillPage",
    {
        "count": serializers.IntegerField(),
        "next": serializers.CharField(allow_null=True),
        "previous": serializers.CharField(allow_null=True),
        "results": serializers.ListField(child=serializers.DictField()),
    },
)


class IncidentDrillApi(APIView):
    """The calls behind a number (dispatch fields only): supervisors."""

    permission_classes = [DRILL_INCIDENTS]

    @extend_schema(parameters=[DrillQuery], responses=schemas.InsightsIncidentDrillPage)
    def get(self, request: Request) -> Response:
        data = _validated(DrillQuery(data=request.query_params))
        qs = drilldown.incident_drilldown(
            user=request_user(request),
            period=_period(data.get("period")),
            measure=data["measure"],
            key=data.get("key") or "",
            filters=_filters(data),
            month=data.get("month"),
        )
        paginator = Pagination()
        page = paginator.paginate_queryset(qs, request, view=self) or []
        return paginator.get_paginated_response([drilldown.incident_row(i) for i in page])


class EncounterDrillApi(APIView):
    """The encounters behind an outcomes number, within the clinical access rules (logged): clinical supervisors."""

    permission_classes = [DRILL_ENCOUNTERS]

    @extend_schema(parameters=[DrillQuery], responses=DRILL_PAGE)
    def get(self, request: Request) -> Response:
        data = _validated(DrillQuery(data=request.query_params))
        actor = Actor.from_request(request, request_user(request))
        qs = drilldown.encounter_drilldown(
            actor=actor,
            period=_period(data.get("period")),
            measure=data["measure"],
            key=data.get("key") or "",
            filters=_filters(data),
            month=data.get("month"),
        )
        paginator = Pagination()
        page = list(paginator.paginate_queryset(qs, request, view=self) or [])
        return paginator.get_paginated_response(drilldown.encounter_rows(actor=actor, encounters=page))


# --- frozen quarterly reports -----------------------------------------------------------------------


def _snapshot_for(request: Request, report_id: int) -> ReportSnapshot:
    request_user(request)
    snapshot = ReportSnapshot.objects.select_related("frozen_by").filter(pk=report_id).first()
    if snapshot is None:
        raise NotFound("Report not found.")
    return snapshot


def _suppressed(request: Request) -> bool:
    wants = str(request.query_params.get("suppress", "")).lower() in ("1", "true", "yes")
    return wants or selectors.sees_suppressed(request_user(request))


def snapshot_data(snapshot: ReportSnapshot, *, suppressed: bool, values: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        **services.snapshot_summary(snapshot),
        "fiscal_year": snapshot.fiscal_year,
        "quarter": snapshot.quarter,
        "label": parse_period(snapshot.period_key).label,
        "catalogue_version": snapshot.catalogue_version,
        "reason": snapshot.reason,
        "supersedes": snapshot.supersedes_id,
        "superseded_by": None,  # set by the caller (one query for a whole list)
        "content_hash": snapshot.content_hash,
        "suppressed": suppressed,
        "links": {
            "csv": f"/api/v1/insights/reports/{snapshot.pk}/csv/",
            "xlsx": f"/api/v1/insights/reports/{snapshot.pk}/xlsx/",
            "print": f"/api/v1/insights/reports/{snapshot.pk}/print/",
        },
    }
    if values:
        data["answer"] = snapshot.values_suppressed if suppressed else snapshot.values
    return data


def _superseded(snapshot: ReportSnapshot) -> ReportSnapshot | None:
    return ReportSnapshot.objects.filter(supersedes=snapshot).first()


class FreezeInput(serializers.Serializer[Any]):
    period = serializers.CharField(max_length=16, help_text="FYyyyy-Qn, a quarter that is over")


class ReopenInput(serializers.Serializer[Any]):
    reason = serializers.CharField(max_length=500, help_text="Why the frozen quarter is recomputed.")


class ReportListApi(APIView):
    """Frozen quarters, newest first (GET); freeze a quarter (POST)."""

    permission_classes = [REPORTS]

    @extend_schema(operation_id="v1_insights_reports_list", responses=schemas.InsightsReportList)
    def get(self, request: Request) -> Response:
        suppressed = selectors.sees_suppressed(request_user(request))
        snapshots = list(
            ReportSnapshot.objects.select_related("frozen_by").order_by("-fiscal_year", "-quarter", "-version")
        )
        newer = {s.supersedes_id: s.pk for s in snapshots if s.supersedes_id}
        rows = []
        for s in snapshots:
            row = snapshot_data(s, suppressed=suppressed, values=False)
            row["superseded_by"] = newer.get(s.pk)
            rows.append(row)
        return Response({"results": rows})

    @extend_schema(request=FreezeInput, responses={201: schemas.InsightsReport})
    @idempotent(required=False)
    def post(self, request: Request) -> Response:
        data = _validated(FreezeInput(data=request.data))
        user = request_user(request)
        snapshot = services.report_freeze(user=user, period_key=data["period"])
        return Response(
            snapshot_data(snapshot, suppressed=selectors.sees_suppressed(user)), status=status.HTTP_201_CREATED
        )


class ReportDetailApi(APIView):
    permission_classes = [REPORTS]

    @extend_schema(parameters=[SUPPRESS_PARAM], responses=schemas.InsightsReport)
    def get(self, request: Request, report_id: int) -> Response:
        snapshot = _snapshot_for(request, report_id)
        data = snapshot_data(snapshot, suppressed=_suppressed(request))
        newer = _superseded(snapshot)
        data["superseded_by"] = newer.pk if newer else None
        return Response(data)


class ReportReopenApi(APIView):
    permission_classes = [REPORTS]

    @extend_schema(request=ReopenInput, responses={201: schemas.InsightsReport})
    @idempotent(required=False)
    def post(self, request: Request, report_id: int) -> Response:
        data = _validated(ReopenInput(data=request.data))
        user = request_user(request)
        snapshot = services.report_reopen(user=user, snapshot_id=report_id, reason=data["reason"])
        return Response(
            snapshot_data(snapshot, suppressed=selectors.sees_suppressed(user)), status=status.HTTP_201_CREATED
        )


def _snapshot_report(request: Request, snapshot: ReportSnapshot, suppressed: bool) -> exports.Report:
    newer = _superseded(snapshot)
    about = [
        ("Report", f"{parse_period(snapshot.period_key).label}, version {snapshot.version}"),
        ("Frozen", f"{to_local(snapshot.frozen_at):%Y-%m-%d %H:%M %Z} by {snapshot.frozen_by.display_name}"),
        ("Reason (reopened)", snapshot.reason or "—"),
        ("Status", f"superseded by version {newer.version}" if newer else "current version"),
        ("Small cells", "suppressed" if suppressed else "not suppressed (internal use only)"),
        ("Catalogue", snapshot.catalogue_version),
        ("Content hash (SHA-256)", snapshot.content_hash),
        ("Exported by", request_user(request).display_name),
    ]
    return exports.Report(
        answer=snapshot.values_suppressed if suppressed else snapshot.values,
        catalogue=snapshot.catalogue,
        title=f"BJA Connect and Protect – quarterly report {snapshot.period_key} (v{snapshot.version})",
        about=about,
        filename=f"report_{snapshot.period_key}_v{snapshot.version}",
    )


class _ReportExport(APIView):
    permission_classes = [REPORTS]
    fmt = ""

    def _prepare(self, request: Request, report_id: int) -> exports.Report:
        snapshot = _snapshot_for(request, report_id)
        suppressed = _suppressed(request)
        report = _snapshot_report(request, snapshot, suppressed)
        services.export_record(
            request=request, what="report", fmt=self.fmt, period_key=snapshot.period_key, suppressed=suppressed,
            snapshot=snapshot,
        )  # fmt: skip
        return report


SUPPRESS_PARAM = OpenApiParameter(
    "suppress", bool, required=False, description="Small cells suppressed (analysts: always)."
)


class ReportCsvApi(_ReportExport):
    fmt = "csv"

    @extend_schema(parameters=[SUPPRESS_PARAM], responses=CSV_RESPONSE)
    def get(self, request: Request, report_id: int) -> HttpResponse:
        report = self._prepare(request, report_id)
        return _download(exports.to_csv(report), "text/csv; charset=utf-8", report.filename + ".csv")


class ReportXlsxApi(_ReportExport):
    fmt = "xlsx"

    @extend_schema(parameters=[SUPPRESS_PARAM], responses=XLSX_RESPONSE)
    def get(self, request: Request, report_id: int) -> HttpResponse:
        report = self._prepare(request, report_id)
        return _download(exports.to_xlsx(report), XLSX, report.filename + ".xlsx")


class ReportPrintApi(_ReportExport):
    fmt = "print"

    @extend_schema(parameters=[SUPPRESS_PARAM], responses=HTML_RESPONSE)
    def get(self, request: Request, report_id: int) -> HttpResponse:
        report = self._prepare(request, report_id)
        return _page(exports.to_html(report))
