"""The shapes of the insights API's answers, for the OpenAPI schema only (docs/insights.md).

The PWA's types come from these (``make contracts`` → frontend/src/generated/api.ts), so a screen never
retypes an answer. The views build their answers as plain dicts (selectors, drilldown, services); these
serializers only describe them, and apps/insights/tests/test_schemas.py checks real answers against
the schema.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .catalogue import AGGREGATE, BREAKDOWN, CLINICAL, COUNT, DISTINCT, LIVE, PERCENTILES, SHARE, SHARES
from .periods import CUSTOM, FISCAL_YEAR, MONTH, QUARTER

# A count: an integer, or, when suppressed, "<11" (1 to 10) or "*" (hidden to protect another cell).
COUNT_SCHEMA = {
    "oneOf": [
        {"type": "integer"},
        {"type": "string", "enum": ["<11", "*"]},
    ]
}


@extend_schema_field(COUNT_SCHEMA)
class CountField(serializers.Field):  # type: ignore[type-arg]
    pass


def _count(**kwargs: Any) -> CountField:
    return CountField(**kwargs)


def _num(**kwargs: Any) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, **kwargs)


class PeriodOut(serializers.Serializer[Any]):
    key = serializers.CharField()
    kind = serializers.ChoiceField(choices=[MONTH, QUARTER, FISCAL_YEAR, CUSTOM])
    label = serializers.CharField()  # type: ignore[assignment]
    start = serializers.DateField()
    end = serializers.DateField(help_text="The last day, inclusive.")
    months = serializers.ListField(child=serializers.CharField())


class CurrentPeriods(serializers.Serializer[Any]):
    month = PeriodOut()
    quarter = PeriodOut()
    last_quarter = PeriodOut()
    fiscal_year = PeriodOut()


class TeamChoice(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    call_sign = serializers.CharField()


class CallTypeChoice(serializers.Serializer[Any]):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    apco = serializers.CharField(allow_blank=True)


class SourceChoice(serializers.Serializer[Any]):
    code = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]


class FilterChoices(serializers.Serializer[Any]):
    teams = TeamChoice(many=True)
    call_types = CallTypeChoice(many=True)
    sources = SourceChoice(many=True)


class InsightsPeriods(serializers.Serializer[Any]):
    today = serializers.DateField()
    current = CurrentPeriods()
    quarters = PeriodOut(many=True)
    months = PeriodOut(many=True)
    fiscal_years = PeriodOut(many=True)
    custom_allowed = serializers.BooleanField()
    suppressed = serializers.BooleanField()
    filters = FilterChoices()


class AnswerFilters(serializers.Serializer[Any]):
    team = serializers.IntegerField(allow_null=True)
    call_type = serializers.CharField(allow_null=True)
    source = serializers.CharField(allow_null=True)  # type: ignore[assignment]


class MonthRow(serializers.Serializer[Any]):
    """A month of a count / distinct (value) or of a share (numerator, denominator, rate)."""

    month = serializers.CharField()
    value = _count(required=False)
    numerator = _count(required=False)
    denominator = _count(required=False)
    rate = _num(required=False)


class AnswerRow(serializers.Serializer[Any]):
    """A row of a breakdown (value, extras) or of shares (numerator, denominator, rate)."""

    key = serializers.CharField()
    label = serializers.CharField()  # type: ignore[assignment]
    value = _count(required=False)
    numerator = _count(required=False)
    denominator = _count(required=False)
    rate = _num(required=False)
    apco = serializers.CharField(required=False, allow_blank=True, help_text="Call types.")
    day = serializers.CharField(required=False, help_text="Hours of week: Mon … Sun.")
    hour = serializers.CharField(required=False, help_text="Hours of week: the local hour, 0 … 23.")
    hours = _num(required=False, help_text="Training courses: hours.")


class Pct(serializers.Serializer[Any]):
    n = _count()
    p50 = _num(help_text="Seconds (the upper edge of its histogram bin).")
    p90 = _num(help_text="Seconds (the upper edge of its histogram bin).")


class PctMonth(Pct):
    month = serializers.CharField()


class PctTeam(Pct):
    team_id = serializers.IntegerField()
    team = serializers.CharField()


class PctTeamMonth(PctTeam):
    month = serializers.CharField()


class InsightsMeasureAnswer(serializers.Serializer[Any]):
    """One measure's answer; which fields are present depends on the measure's kind (catalogue)."""

    value = _count(required=False, help_text="count, distinct, live")
    by_month = MonthRow(many=True, required=False, help_text="count, distinct, share")
    total = _count(required=False, help_text="breakdown")
    rows = AnswerRow(many=True, required=False, help_text="breakdown, shares")
    numerator = _count(required=False, help_text="share; distinct officers")
    denominator = _count(required=False, help_text="share; distinct officers")
    rate = _num(required=False, help_text="share; distinct officers")
    encounters = _count(required=False, help_text="distinct people: encounters counted")
    overall = Pct(required=False, help_text="percentiles")
    by_team = PctTeam(many=True, required=False, help_text="percentiles (not for received_to_triaged)")
    by_team_month = PctTeamMonth(many=True, required=False)
    filters_not_applied = serializers.ListField(child=serializers.CharField(), required=False)


class InsightsAnswer(serializers.Serializer[Any]):
    period = PeriodOut()
    filters = AnswerFilters()
    suppressed = serializers.BooleanField()
    catalogue_version = serializers.CharField()
    generated_at = serializers.DateTimeField()
    as_of = serializers.DictField(child=serializers.DateTimeField(), help_text="Per month: when it was computed.")
    measures = serializers.DictField(child=InsightsMeasureAnswer(), help_text="Keyed by measure id.")


class CatalogueMeasure(serializers.Serializer[Any]):
    id = serializers.CharField()
    group = serializers.CharField()
    title = serializers.CharField()
    kind = serializers.ChoiceField(choices=[COUNT, BREAKDOWN, SHARE, SHARES, PERCENTILES, DISTINCT, LIVE])
    counts = serializers.CharField()
    numerator = serializers.CharField()
    denominator = serializers.CharField()
    source_fields = serializers.ListField(child=serializers.CharField())
    period = serializers.CharField()
    exclusions = serializers.CharField()
    unit = serializers.CharField()
    grant_item = serializers.CharField(allow_blank=True)
    audience = serializers.ChoiceField(choices=[AGGREGATE, CLINICAL])
    version = serializers.IntegerField()
    filters = serializers.ListField(child=serializers.CharField())
    spec = serializers.DictField()


class Resolution(serializers.Serializer[Any]):
    from_seconds = serializers.IntegerField()
    to_seconds = serializers.IntegerField()
    bin_seconds = serializers.IntegerField()


class InsightsCatalogue(serializers.Serializer[Any]):
    version = serializers.CharField()
    time_zone = serializers.CharField()
    fiscal_year = serializers.CharField()
    suppression = serializers.CharField()
    resolution = Resolution(many=True)
    measures = CatalogueMeasure(many=True)


class LiveAssignment(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    team = serializers.CharField()
    status = serializers.CharField()
    offered_at = serializers.DateTimeField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class LiveCall(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    received_at = serializers.DateTimeField()
    age_seconds = serializers.IntegerField()
    priority = serializers.IntegerField()
    call_type = serializers.CharField()
    source = serializers.CharField()  # type: ignore[assignment]
    status = serializers.CharField()
    beat = serializers.CharField(allow_blank=True)
    district = serializers.CharField(allow_blank=True)
    address = serializers.CharField(allow_blank=True)
    weapon_present = serializers.BooleanField(allow_null=True)
    assignment = LiveAssignment(allow_null=True)


class LiveOpenCalls(serializers.Serializer[Any]):
    total = serializers.IntegerField()
    by_status = serializers.DictField(child=serializers.IntegerField())
    items = LiveCall(many=True)


class LiveMember(serializers.Serializer[Any]):
    name = serializers.CharField()
    role = serializers.CharField()


class LiveTeamAssignment(serializers.Serializer[Any]):
    incident_id = serializers.IntegerField()
    status = serializers.CharField()


class LiveTeam(serializers.Serializer[Any]):
    team_id = serializers.IntegerField()
    call_sign = serializers.CharField()
    status = serializers.CharField()
    shift_ends_at = serializers.DateTimeField()
    members = LiveMember(many=True)
    assignment = LiveTeamAssignment(allow_null=True)
    minutes_since_clear = serializers.IntegerField(allow_null=True)


class LiveUnassigned(serializers.Serializer[Any]):
    threshold = serializers.IntegerField()
    items = LiveCall(many=True)


class LiveOverdueAssignee(serializers.Serializer[Any]):
    assignee_id = serializers.IntegerField(allow_null=True)
    assignee = serializers.CharField()
    count = serializers.IntegerField()


class LiveOverdue(serializers.Serializer[Any]):
    total = serializers.IntegerField()
    oldest_due_at = serializers.DateTimeField(allow_null=True)
    by_assignee = LiveOverdueAssignee(many=True)


class InsightsLive(serializers.Serializer[Any]):
    as_of = serializers.DateTimeField()
    open_calls = LiveOpenCalls()
    teams = LiveTeam(many=True)
    unassigned_high_priority = LiveUnassigned()
    overdue_followups = LiveOverdue()


class ReportLinks(serializers.Serializer[Any]):
    csv = serializers.CharField()
    xlsx = serializers.CharField()
    print = serializers.CharField()


class InsightsReport(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    period = serializers.CharField()
    version = serializers.IntegerField()
    frozen_at = serializers.DateTimeField()
    frozen_by = serializers.CharField(allow_null=True)
    fiscal_year = serializers.IntegerField()
    quarter = serializers.IntegerField()
    label = serializers.CharField()  # type: ignore[assignment]
    catalogue_version = serializers.CharField()
    reason = serializers.CharField(allow_blank=True)
    supersedes = serializers.IntegerField(allow_null=True)
    superseded_by = serializers.IntegerField(allow_null=True)
    content_hash = serializers.CharField()
    suppressed = serializers.BooleanField()
    links = ReportLinks()
    answer = InsightsAnswer(required=False, help_text="Not in lists.")


class InsightsReportList(serializers.Serializer[Any]):
    results = InsightsReport(many=True)


class DrillIncident(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    cad_number = serializers.CharField(allow_blank=True)
    received_at = serializers.DateTimeField()
    source = serializers.CharField()  # type: ignore[assignment]
    call_type = serializers.CharField()
    priority = serializers.IntegerField()
    status = serializers.CharField()
    beat = serializers.CharField(allow_blank=True)
    district = serializers.CharField(allow_blank=True)
    coresponse_eligible = serializers.BooleanField(allow_null=True)
    triage_outcome = serializers.CharField(allow_blank=True, allow_null=True)
    not_served_reason = serializers.CharField(allow_blank=True, allow_null=True)
    team = serializers.CharField(allow_null=True)
    assignment_status = serializers.CharField(allow_null=True)


class InsightsIncidentDrillPage(serializers.Serializer[Any]):
    count = serializers.IntegerField()
    next = serializers.CharField(allow_null=True)
    previous = serializers.CharField(allow_null=True)
    results = DrillIncident(many=True)
