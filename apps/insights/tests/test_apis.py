"""The insights API as each role meets it: answers, suppression, exports (audited), drill-downs, live panel."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from openpyxl import load_workbook

from apps.clinical.models import AccessLog
from apps.insights.catalogue import CATALOGUE_VERSION, MEASURES
from apps.insights.periods import parse_period
from apps.insights.rollup import rollup_refresh
from apps.security.models import SecurityEvent

from .builders import Builder, local

pytestmark = pytest.mark.django_db
API = "/api/v1/insights/"


def get(api: Callable[[Any], Any], user: Any, path: str, **params: Any) -> Any:
    return api(user).get(API + path, params)


def _small_and_large(b: Builder) -> None:
    """January 2025: 20 calls from 911 and 5 from 988; February 3 calls; March 30."""
    for n in range(20):
        b.incident(local(2025, 1, 6, 8) + n * (local(2025, 1, 6, 9) - local(2025, 1, 6, 8)), source="911")
    for n in range(5):
        b.incident(local(2025, 1, 20, 8 + n), source="988_transfer")
    for n in range(3):
        b.incident(local(2025, 2, 10, 8 + n))
    for n in range(30):
        b.incident(local(2025, 3, 3, 0) + (local(2025, 3, 3, 1) - local(2025, 3, 3, 0)) * n)


def test_the_catalogue_for_each_audience(api: Any, analyst: Any, clinical_supervisor: Any, officer_a: Any) -> None:
    body = get(api, analyst, "catalogue/").json()
    ids = {m["id"] for m in body["measures"]}
    assert body["version"] == CATALOGUE_VERSION
    assert "calls.by_hour_of_week" in ids and "clinical.ivc_pathways" not in ids
    assert {m["id"] for m in get(api, clinical_supervisor, "catalogue/").json()["measures"]} == {m.id for m in MEASURES}
    entry = next(m for m in body["measures"] if m["id"] == "calls.eligible_served")
    assert entry["numerator"] and entry["denominator"] and entry["source_fields"] and entry["exclusions"]
    assert get(api, officer_a, "catalogue/").status_code == 403
    assert api(None).get(API + "catalogue/").status_code in (401, 403)


def test_periods_offer_quarters_and_say_what_the_role_may_ask(api: Any, analyst: Any, supervisor: Any) -> None:
    mine = get(api, analyst, "periods/").json()
    assert mine["suppressed"] is True and mine["custom_allowed"] is False
    assert len(mine["quarters"]) == 8 and mine["quarters"][0]["key"].startswith("FY")
    assert {s["code"] for s in mine["filters"]["sources"]} >= {"911", "988_transfer"}
    assert get(api, supervisor, "periods/").json()["custom_allowed"] is True


def test_analysts_see_small_cells_suppressed_consistently_across_the_fiscal_year(
    b: Builder, api: Any, analyst: Any, supervisor: Any
) -> None:
    _small_and_large(b)
    rollup_refresh(parse_period("FY2025").months())
    january = get(api, analyst, "dashboard/", period="2025-01").json()
    assert january["suppressed"] is True
    by_source = {r["key"]: r["value"] for r in january["measures"]["calls.by_source"]["rows"]}
    # 5 is small ("<11"); 911's 20 would give it away from the total 25, so it is hidden too ("*").
    assert by_source["988_transfer"] == "<11"
    assert by_source["911"] == "*"
    assert by_source["self_initiated"] == 0
    # The quarter: Jan 25 + Feb 3 + Mar 30 = 58. February's 3 is small; January (25) is hidden with it,
    # so 58 - 30 does not give February away; the month answers agree with the quarter's.
    quarter = get(api, analyst, "dashboard/", period="FY2025-Q2").json()["measures"]["calls.total"]
    assert quarter["value"] == 58
    assert [m["value"] for m in quarter["by_month"]] == ["*", "<11", 30]
    assert january["measures"]["calls.total"]["value"] == "*"
    assert get(api, analyst, "dashboard/", period="2025-03").json()["measures"]["calls.total"]["value"] == 30
    # Rates resting on hidden counts are not shown.
    share = quarter = get(api, analyst, "dashboard/", period="2025-02").json()["measures"]["calls.eligible_served"]
    assert share["denominator"] == "<11" and share["rate"] is None
    # A supervisor sees the numbers, and may ask for the suppressed version.
    plain = get(api, supervisor, "dashboard/", period="2025-01").json()["measures"]["calls.by_source"]
    assert {r["key"]: r["value"] for r in plain["rows"]}["988_transfer"] == 5
    asked = get(api, supervisor, "dashboard/", period="2025-01", suppress="1").json()
    assert asked["suppressed"] is True
    assert {r["key"]: r["value"] for r in asked["measures"]["calls.by_source"]["rows"]}["911"] == "*"


def test_a_call_type_filter_is_suppressed_with_every_other_call_type(b: Builder, api: Any, analyst: Any) -> None:
    for n in range(30):
        b.incident(local(2025, 1, 6, 0) + (local(2025, 1, 6, 1) - local(2025, 1, 6, 0)) * n, call_type="WELFARE")
    for n in range(4):
        b.incident(local(2025, 1, 8, 8 + n), call_type="OD")
    rollup_refresh(parse_period("FY2025").months())
    od = get(api, analyst, "dashboard/", period="2025-01", call_type="OD").json()["measures"]
    welfare = get(api, analyst, "dashboard/", period="2025-01", call_type="WELFARE").json()["measures"]
    everything = get(api, analyst, "dashboard/", period="2025-01").json()["measures"]
    # 34 = 30 + 4: with the total shown, WELFARE's 30 would give OD's 4 away, so it is hidden as well.
    assert everything["calls.total"]["value"] == 34
    assert od["calls.total"]["value"] == "<11"
    assert welfare["calls.total"]["value"] == "*"
    assert od["response.offered_to_accepted"]["filters_not_applied"] == ["call_type"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"period": "2025-01-01..2025-01-31"}, "period"),
        ({"period": "FY2025-Q2", "team": "1"}, "team"),
        ({"period": "FY2025-Q2", "call_type": "OD", "source": "911"}, "call_type"),
    ],
)
def test_an_analyst_cannot_ask_what_suppression_cannot_protect(
    b: Builder, api: Any, analyst: Any, params: dict[str, str], field: str
) -> None:
    b.team("CR-A")
    b.incident(local(2025, 1, 6, 8), call_type="OD")
    response = get(api, analyst, "dashboard/", **params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_odd_input_is_a_clear_400(api: Any, supervisor: Any) -> None:
    for params, field in (
        ({"period": "FY2025-Q9"}, "period"),
        ({"team": "99999"}, "team"),
        ({"team": "abc"}, "team"),
        ({"call_type": "NOPE"}, "call_type"),
        ({"source": "pigeon"}, "source"),
    ):
        response = get(api, supervisor, "dashboard/", **params)
        assert response.status_code == 400, params
        assert field in response.json()["errors"], params


@pytest.mark.parametrize("role", ["dispatcher", "clinician", "officer", "care_navigator", "admin"])
def test_other_roles_get_no_insight(api: Any, make_user: Any, role: str) -> None:
    user = make_user(f"x_{role}", role)
    for path in ("dashboard/", "catalogue/", "periods/", "reports/", "dashboard/csv/", "live/"):
        assert get(api, user, path).status_code == 403, path


def test_exports_carry_the_dictionary_and_are_audited(b: Builder, api: Any, analyst: Any) -> None:
    _small_and_large(b)
    before = SecurityEvent.objects.filter(kind="insights.export").count()
    response = get(api, analyst, "dashboard/csv/", period="2025-01")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="insights_2025-01.csv"' in response["Content-Disposition"]
    table = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    source_rows = {
        r["key"]: r["value"] for r in table if r["measure_id"] == "calls.by_source" and r["statistic"] == "value"
    }
    assert source_rows["988_transfer"] == "<11" and source_rows["911"] == "*"
    assert all(r["numerator"] and r["catalogue_version"] == CATALOGUE_VERSION for r in table)

    xlsx = get(api, analyst, "dashboard/xlsx/", period="2025-01")
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames == ["About", "Report", "Details", "Data dictionary"]
    dictionary = list(workbook["Data dictionary"].iter_rows(values_only=True))
    assert dictionary[0][:3] == ("id", "group", "title")
    assert {row[0] for row in dictionary[1:]} == {m.id for m in MEASURES if m.audience == "aggregate"}
    report = {row[-1]: row for row in workbook["Report"].iter_rows(values_only=True)}
    assert report["calls.total"][2] == "*"

    page = get(api, analyst, "dashboard/print/", period="2025-01")
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    html = page.content.decode()
    assert "@media print" in html and "Data dictionary" in html and "&lt;11" in html

    events = SecurityEvent.objects.filter(kind="insights.export").order_by("pk")
    assert events.count() == before + 3
    last = events.last()
    assert last is not None and last.user_id == analyst.pk
    assert last.details == {"what": "dashboard", "format": "print", "period": "2025-01", "suppressed": True}


def test_supervisors_drill_down_to_calls_with_dispatch_fields_only(
    b: Builder, api: Any, supervisor: Any, analyst: Any
) -> None:
    for n in range(2):
        b.incident(local(2025, 2, 7, 8 + n), outcome="community_response", reason="all_teams_busy")
    b.incident(local(2025, 2, 7, 12), outcome="community_response", reason="out_of_area")
    page = get(
        api,
        supervisor,
        "drilldown/incidents/",
        period="2025-02",
        measure="calls.not_served_reasons",
        key="all_teams_busy",
    ).json()
    assert page["count"] == 2
    row = page["results"][0]
    assert row["not_served_reason"] == "all_teams_busy"
    assert not {"subject_name", "caller_name", "caller_phone", "address", "operational_notes"} & set(row)
    month = get(api, supervisor, "drilldown/incidents/", period="FY2025-Q2", measure="calls.total", month="2025-03")
    assert month.json()["count"] == 0
    assert get(api, analyst, "drilldown/incidents/", period="2025-02", measure="calls.total").status_code == 403
    bad = get(api, supervisor, "drilldown/incidents/", period="2025-02", measure="outcomes.arrest")
    assert bad.status_code == 400 and "measure" in bad.json()["errors"]
    assert get(api, supervisor, "drilldown/incidents/", period="2025-02", measure="calls.eligibility",
               key="maybe").status_code == 400  # fmt: skip


def test_clinical_supervisors_drill_down_to_encounters_and_each_read_is_logged(
    b: Builder, api: Any, clinical_supervisor: Any, supervisor: Any
) -> None:
    team = b.team("CR-A")
    person = b.person()
    arrested = b.encounter(local(2025, 2, 3, 9), team=team, person=person, risk="high", dispositions=("arrest",))
    b.encounter(local(2025, 2, 4, 9), team=team, person=person, dispositions=("resolved_on_scene",))
    response = get(
        api,
        clinical_supervisor,
        "drilldown/encounters/",
        period="2025-02",
        measure="outcomes.dispositions",
        key="arrest",
    )
    page = response.json()
    assert page["count"] == 1
    row = page["results"][0]
    assert row["id"] == str(arrested.pk) and row["risk_level"] == "high"
    assert row["dispositions"] == [{"code": "arrest", "apco_code": "03"}]
    log = AccessLog.objects.get(record_type="insights_drilldown", encounter_id=arrested.pk)
    assert log.user_id == clinical_supervisor.pk and "risk" in log.categories
    share = get(api, clinical_supervisor, "drilldown/encounters/", period="2025-02", measure="outcomes.arrest",
                key="denominator").json()  # fmt: skip
    assert share["count"] == 2
    assert get(api, supervisor, "drilldown/encounters/", period="2025-02", measure="outcomes.arrest").status_code == 403


def test_the_live_panel(b: Builder, api: Any, supervisor: Any, analyst: Any, on_shift_a: Any) -> None:
    from django.utils import timezone

    from apps.incidents.models import Incident

    now = timezone.now()
    high = b.incident(now, priority=9)
    low = b.incident(now, priority=3)
    body = get(api, supervisor, "live/").json()
    assert body["open_calls"]["total"] == 2
    assert [c["id"] for c in body["open_calls"]["items"]] == [high.pk, low.pk]
    assert [c["id"] for c in body["unassigned_high_priority"]["items"]] == [high.pk]
    assert [t["call_sign"] for t in body["teams"]] == ["CR-A"]
    assert body["teams"][0]["status"] == "available"
    assert body["overdue_followups"]["total"] == 0
    assert Incident.objects.count() == 2
    assert get(api, analyst, "live/").status_code == 403
