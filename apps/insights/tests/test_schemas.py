"""The OpenAPI schema the PWA's types are generated from describes the real answers (apps/insights/schemas.py):
each answer, for each role, validates against its component with jsonschema."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import jsonschema
import pytest
from django.utils import timezone

from apps.insights.models import TrainingRecord
from apps.insights.periods import parse_period
from apps.insights.rollup import rollup_refresh

from .builders import Builder, local

pytestmark = pytest.mark.django_db
API = "/api/v1/insights/"


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema (`anyOf` with null), everywhere."""
    if isinstance(node, list):
        return [_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    out = {k: _json_schema(v) for k, v in node.items() if k != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [out, {"type": "null"}]}
    return out


@cache
def _components() -> dict[str, Any]:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)  # type: ignore[no-untyped-call]
    schemas = schema["components"]["schemas"]
    return {name: _json_schema(s) for name, s in schemas.items()}


def assert_matches(component: str, body: Any) -> None:
    schema = {"$ref": f"#/components/schemas/{component}", "components": {"schemas": _components()}}
    jsonschema.validate(body, schema, format_checker=None)


def _world(b: Builder) -> None:
    team = b.team("CR-S")
    for n in range(14):
        incident = b.incident(local(2025, 2, 3, 8) + dt.timedelta(hours=n), source="911" if n % 3 else "988_transfer")
        a = b.assignment(incident, team, accepted_after=200, on_scene_after=900, cleared_after=3600)
        if n % 2:
            b.encounter(local(2025, 2, 3, 9) + dt.timedelta(hours=n), team=team, incident=incident, risk="high",
                        dispositions=("resolved_on_scene",))  # fmt: skip
        del a
    for n in range(12):
        TrainingRecord.objects.create(person=b.user, course=TrainingRecord.Course.CIT_40, hours=40,
                                      completed_on=dt.date(2025, 2, 1 + n))  # fmt: skip
    b.incident(timezone.now(), priority=9)
    rollup_refresh(parse_period("FY2025").months())


def test_schemas_name_real_components() -> None:
    names = set(_components())
    assert {"InsightsAnswer", "InsightsPeriods", "InsightsLive", "InsightsReport", "InsightsReportList",
            "InsightsCatalogue", "InsightsIncidentDrillPage"} <= names  # fmt: skip
    # A count may be a suppressed marker, so the schema is not a bare integer.
    total = _components()["InsightsMeasureAnswer"]["properties"]["value"]
    assert {"type": "string", "enum": ["<11", "*"]} in total["oneOf"]


def test_every_answer_matches_its_schema(
    b: Builder, api: Any, analyst: Any, supervisor: Any, clinical_supervisor: Any
) -> None:
    _world(b)
    for user in (analyst, supervisor, clinical_supervisor):
        client = api(user)
        assert_matches("InsightsPeriods", client.get(API + "periods/").json())
        assert_matches("InsightsCatalogue", client.get(API + "catalogue/").json())
        answer = client.get(API + "dashboard/", {"period": "FY2025-Q2"}).json()
        assert_matches("InsightsAnswer", answer)
        assert answer["measures"]["training.courses"]["total"] == 12
        if user is analyst:
            # Suppressed markers appear and still match.
            values = [r["value"] for r in answer["measures"]["calls.by_source"]["rows"]]
            assert "<11" in values or "*" in values, values
    sup = api(supervisor)
    assert_matches("InsightsLive", sup.get(API + "live/").json())
    drill = {"period": "FY2025-Q2", "measure": "calls.by_source", "key": "911"}
    assert_matches("InsightsIncidentDrillPage", sup.get(API + "drilldown/incidents/", drill).json())
    frozen = sup.post(API + "reports/", {"period": "FY2025-Q2"}, format="json")
    assert frozen.status_code == 201, frozen.content
    assert_matches("InsightsReport", frozen.json())
    reopened = sup.post(API + f"reports/{frozen.json()['id']}/reopen/", {"reason": "late data"}, format="json")
    assert_matches("InsightsReport", reopened.json())
    assert_matches("InsightsReportList", api(analyst).get(API + "reports/").json())
    assert_matches("InsightsReport", api(analyst).get(API + f"reports/{frozen.json()['id']}/").json())
