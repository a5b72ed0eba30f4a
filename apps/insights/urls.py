from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from . import apis

urlpatterns: list[URLPattern | URLResolver] = [
    path("insights/catalogue/", apis.CatalogueApi.as_view(), name="insights-catalogue"),
    path("insights/periods/", apis.PeriodsApi.as_view(), name="insights-periods"),
    path("insights/dashboard/", apis.DashboardApi.as_view(), name="insights-dashboard"),
    path("insights/dashboard/csv/", apis.DashboardCsvApi.as_view(), name="insights-dashboard-csv"),
    path("insights/dashboard/xlsx/", apis.DashboardXlsxApi.as_view(), name="insights-dashboard-xlsx"),
    path("insights/dashboard/print/", apis.DashboardPrintApi.as_view(), name="insights-dashboard-print"),
    path("insights/live/", apis.LiveApi.as_view(), name="insights-live"),
    path("insights/drilldown/incidents/", apis.IncidentDrillApi.as_view(), name="insights-drill-incidents"),
    path("insights/drilldown/encounters/", apis.EncounterDrillApi.as_view(), name="insights-drill-encounters"),
    path("insights/reports/", apis.ReportListApi.as_view(), name="insights-reports"),
    path("insights/reports/<int:report_id>/", apis.ReportDetailApi.as_view(), name="insights-report"),
    path("insights/reports/<int:report_id>/reopen/", apis.ReportReopenApi.as_view(), name="insights-report-reopen"),
    path("insights/reports/<int:report_id>/csv/", apis.ReportCsvApi.as_view(), name="insights-report-csv"),
    path("insights/reports/<int:report_id>/xlsx/", apis.ReportXlsxApi.as_view(), name="insights-report-xlsx"),
    path("insights/reports/<int:report_id>/print/", apis.ReportPrintApi.as_view(), name="insights-report-print"),
]
