"""Frozen quarterly reports: immutable (application and PostgreSQL trigger), versioned, exported, audited."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from openpyxl import load_workbook

from apps.core.timefmt import local_today
from apps.insights.catalogue import CATALOGUE_VERSION
from apps.insights.models import ReportSnapshot
from apps.insights.periods import Period, fiscal_quarter_of, fiscal_year_of
from apps.security.models import SecurityEvent

from .builders import Builder, local

pytestmark = pytest.mark.django_db
API = "/api/v1/insights/reports/"


def write(client: Any, path: str, body: dict[str, Any]) -> Any:
    return client.post(path, body, format="json")


def _quarter_calls(b: Builder, n: int = 12) -> None:
    for i in range(n):
        b.incident(local(2025, 2, 3, 0) + dt.timedelta(hours=i), source="911")


def test_freeze_a_quarter_then_later_changes_do_not_alter_it(b: Builder, api: Any, supervisor: Any) -> None:
    _quarter_calls(b)
    client = api(supervisor)
    response = write(client, API, {"period": "FY2025-Q2"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["period"], body["version"], body["catalogue_version"]) == ("FY2025-Q2", 1, CATALOGUE_VERSION)
    assert body["answer"]["measures"]["calls.total"]["value"] == 12
    assert body["frozen_by"] == supervisor.display_name
    snapshot = ReportSnapshot.objects.get(pk=body["id"])
    assert snapshot.values_suppressed["suppressed"] is True
    assert snapshot.catalogue["version"] == CATALOGUE_VERSION and snapshot.catalogue["measures"]
    assert len(snapshot.content_hash) == 64

    b.incident(local(2025, 3, 1, 12))  # a late call for the quarter
    again = client.get(f"{API}{body['id']}/").json()
    assert again["answer"]["measures"]["calls.total"]["value"] == 12

    refused = write(client, API, {"period": "FY2025-Q2"})
    assert refused.status_code == 409
    assert refused.json()["current"]["version"] == 1


def test_reopening_needs_a_reason_and_makes_a_new_version(b: Builder, api: Any, supervisor: Any) -> None:
    _quarter_calls(b)
    client = api(supervisor)
    first = write(client, API, {"period": "FY2025-Q2"}).json()
    b.incident(local(2025, 3, 1, 12))
    missing = write(client, f"{API}{first['id']}/reopen/", {})
    assert missing.status_code == 400 and "reason" in missing.json()["errors"]
    blank = write(client, f"{API}{first['id']}/reopen/", {"reason": "   "})
    assert blank.status_code == 400
    second = write(client, f"{API}{first['id']}/reopen/", {"reason": "A late CAD import for March"})
    assert second.status_code == 201
    v2 = second.json()
    assert (v2["version"], v2["supersedes"], v2["reason"]) == (2, first["id"], "A late CAD import for March")
    assert v2["answer"]["measures"]["calls.total"]["value"] == 13
    old = client.get(f"{API}{first['id']}/").json()
    assert old["answer"]["measures"]["calls.total"]["value"] == 12
    assert old["superseded_by"] == v2["id"]
    stale = write(client, f"{API}{first['id']}/reopen/", {"reason": "again"})
    assert stale.status_code == 409 and stale.json()["current"]["version"] == 2
    listing = client.get(API).json()["results"]
    assert [(r["version"], r["superseded_by"]) for r in listing] == [(2, None), (1, v2["id"])]


@pytest.mark.parametrize(
    ("period", "why"),
    [("2025-02", "quarter"), ("FY2025", "quarter"), ("FY2025-Q9", "period"), (None, "current")],
)
def test_only_a_quarter_that_is_over_can_be_frozen(api: Any, supervisor: Any, period: str | None, why: str) -> None:
    if period is None:
        today = local_today()
        period = f"FY{fiscal_year_of(today)}-Q{fiscal_quarter_of(today)}"
    response = write(api(supervisor), API, {"period": period})
    assert response.status_code == 400
    assert "period" in response.json()["errors"]


def test_analysts_freeze_and_read_suppressed_values(b: Builder, api: Any, analyst: Any, supervisor: Any) -> None:
    for i in range(4):
        b.incident(local(2025, 2, 3, 9 + i), source="988_transfer")
    for i in range(30):
        b.incident(local(2025, 2, 4, 0) + dt.timedelta(minutes=30 * i), source="911")
    body = write(api(analyst), API, {"period": "FY2025-Q2"}).json()
    sources = {r["key"]: r["value"] for r in body["answer"]["measures"]["calls.by_source"]["rows"]}
    assert sources["988_transfer"] == "<11" and sources["911"] == "*"
    full = api(supervisor).get(f"{API}{body['id']}/").json()
    assert {r["key"]: r["value"] for r in full["answer"]["measures"]["calls.by_source"]["rows"]}["911"] == 30
    published = api(supervisor).get(f"{API}{body['id']}/", {"suppress": "1"}).json()
    assert published["suppressed"] is True and published["answer"] == body["answer"]


def test_report_exports_open_in_a_spreadsheet_and_are_audited(b: Builder, api: Any, supervisor: Any) -> None:
    _quarter_calls(b, 15)
    client = api(supervisor)
    report = write(client, API, {"period": "FY2025-Q2"}).json()
    before = SecurityEvent.objects.filter(kind="insights.export").count()

    xlsx = client.get(f"{API}{report['id']}/xlsx/")
    assert xlsx.status_code == 200
    assert 'filename="report_FY2025-Q2_v1.xlsx"' in xlsx["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert workbook.sheetnames == ["About", "Report", "Details", "Data dictionary"]
    about = {row[0]: row[1] for row in workbook["About"].iter_rows(min_row=2, values_only=True)}
    assert about["Catalogue"] == CATALOGUE_VERSION and about["Content hash (SHA-256)"] == report["content_hash"]
    summary = {row[-1]: row for row in workbook["Report"].iter_rows(values_only=True)}
    assert summary["calls.total"][2] == 15
    dictionary = list(workbook["Data dictionary"].iter_rows(values_only=True))
    assert len(dictionary) - 1 == len(report["answer"]["measures"])

    csv_text = client.get(f"{API}{report['id']}/csv/").content.decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("period,measure_id,group,measure")
    assert "FY2025-Q2,calls.total,Calls,Calls received,,,,,value,15," in csv_text

    page = client.get(f"{API}{report['id']}/print/")
    html = page.content.decode()
    assert page.status_code == 200 and "@media print" in html and "FY2025-Q2 (v1)" in html

    events = list(SecurityEvent.objects.filter(kind="insights.export").order_by("pk"))[before:]
    assert [(e.details["format"], e.details["report_id"], e.details["suppressed"]) for e in events] == [
        ("xlsx", report["id"], False),
        ("csv", report["id"], False),
        ("print", report["id"], False),
    ]
    assert client.get(f"{API}999999/csv/").status_code == 404


def test_a_snapshot_cannot_be_changed_or_deleted_by_the_application(b: Builder, supervisor: Any) -> None:
    from apps.insights.services import report_freeze

    snapshot = report_freeze(user=supervisor, period_key="FY2025-Q2")
    snapshot.reason = "edited"
    with pytest.raises(RuntimeError):
        snapshot.save()
    with pytest.raises(RuntimeError):
        snapshot.delete()
    with pytest.raises(IntegrityError), transaction.atomic():  # a reopened version must say why
        ReportSnapshot.objects.create(
            period_key="FY2025-Q3", fiscal_year=2025, quarter=3, version=2, catalogue_version="1", catalogue={},
            values={}, values_suppressed={}, content_hash="x", frozen_by=supervisor,
        )  # fmt: skip


@pytest.mark.postgres
def test_postgresql_refuses_to_update_or_delete_a_snapshot(b: Builder, supervisor: Any) -> None:
    from apps.insights.services import report_freeze

    snapshot = report_freeze(user=supervisor, period_key="FY2025-Q2")
    for sql in (
        "UPDATE insights_reportsnapshot SET values = '{}'::jsonb WHERE id = %s",
        "DELETE FROM insights_reportsnapshot WHERE id = %s",
    ):
        with pytest.raises(IntegrityError) as err, transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [snapshot.pk])
        assert "frozen" in str(err.value)
    snapshot.refresh_from_db()
    assert snapshot.values["measures"]["calls.total"]["value"] == 0
    assert Period.quarter(2025, 2).key == snapshot.period_key
