"""The catalogue: complete entries, a version bump for every change, and docs/insights.md generated from it."""

from __future__ import annotations

from apps.insights import catalogue
from apps.insights.catalogue_doc import current_section, doc_path, render_markdown


def test_every_measure_has_a_full_dictionary_entry() -> None:
    ids = [m.id for m in catalogue.MEASURES]
    assert len(ids) == len(set(ids))
    for m in catalogue.MEASURES:
        for name in ("title", "counts", "numerator", "denominator", "period", "exclusions", "unit"):
            assert getattr(m, name).strip(), (m.id, name)
        assert m.source_fields, m.id
        assert m.kind in {"count", "breakdown", "share", "shares", "percentiles", "distinct", "live"}, m.id


def test_the_issue_and_the_grant_report_are_covered() -> None:
    ids = {m.id for m in catalogue.MEASURES}
    wanted = {
        "calls.by_source", "calls.by_call_type", "calls.by_priority", "calls.by_hour_of_week",
        "calls.eligible_served", "calls.not_served_reasons", "calls.diverted_by_phone",
        "response.received_to_triaged", "response.received_to_offered", "response.offered_to_accepted",
        "response.offered_to_seen", "response.accepted_to_on_scene", "response.on_scene_duration",
        "response.received_to_cleared", "outcomes.dispositions", "outcomes.dispositions_apco",
        "outcomes.resolved_on_scene", "outcomes.referral_made", "outcomes.transport_crisis_facility",
        "outcomes.transport_ed", "outcomes.ivc", "outcomes.arrest", "outcomes.arrest_diverted",
        "outcomes.ed_diverted", "outcomes.use_of_force", "outcomes.subject_injured", "outcomes.officer_injured",
        "outcomes.risk_mix", "outcomes.unique_people", "followup.within_window", "followup.linkage",
        "followup.overdue_now", "repeat.contacts", "delivery.seen_within_20s", "delivery.escalations",
        "training.cit_officers", "training.calls_cit_officer", "training.courses",
    }  # fmt: skip
    assert wanted <= ids
    grant = {m.grant_item for m in catalogue.MEASURES if m.grant_item}
    items = (
        "Calls responded to by co-responders",
        "Unique people served",
        "Encounters",
        "Arrests diverted",
        "ED visits diverted",
        "Use of force",
        "Referrals made and linked",
        "Staff trained (course, hours)",
    )
    assert set(items) <= grant


def test_a_changed_definition_needs_a_new_catalogue_version() -> None:
    assert catalogue.fingerprint() == catalogue.CATALOGUE_FINGERPRINT, (
        "A measure's definition changed: bump CATALOGUE_VERSION (and the measure's version), then set "
        f"CATALOGUE_FINGERPRINT = {catalogue.fingerprint()!r} and run manage.py insights_catalogue --write."
    )


def test_docs_insights_md_is_generated_from_the_catalogue() -> None:
    section = current_section(doc_path().read_text())
    assert section == render_markdown(), "docs/insights.md is stale: run manage.py insights_catalogue --write"
