"""Every code a person reads has words (apps/incidents/labels.py): the timeline's text, the services'
error messages. The PWA takes the same words from frontend/src/generated/incidents.ts."""

from __future__ import annotations

import re
from typing import Any

import pytest

from apps.incidents import labels, services
from apps.incidents.models import Assignment, Incident, TimelineEntry
from apps.incidents.selectors import TeamStatus

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def test_every_status_and_choice_has_words() -> None:
    assert set(labels.ASSIGNMENT_STATUS_LABELS) == set(Assignment.Status.values)
    assert set(labels.INCIDENT_STATUS_LABELS) == set(Incident.Status.values)
    assert set(labels.ASSIGNMENT_ACTION_LABELS) == set(services.FIELD_STATUSES)
    assert set(labels.TEAM_STATUS_LABELS) == {v for k, v in vars(TeamStatus).items() if k.isupper()}
    assert set(labels.TIMELINE_KIND_LABELS) == set(TimelineEntry.Kind.values)
    for field in ("source", "triage_outcome", "not_served_reason"):
        assert set(labels.VALUE_LABELS[field]) == {str(v) for v, _ in Incident._meta.get_field(field).choices or ()}  # type: ignore[union-attr]
    words = [*labels.ASSIGNMENT_STATUS_LABELS.values(), *labels.INCIDENT_STATUS_LABELS.values()]
    words += [*labels.TEAM_STATUS_LABELS.values(), *labels.FIELD_LABELS.values()]
    assert [w for w in words if SNAKE.search(w) or not w[0].isupper()] == []


@pytest.mark.parametrize(
    ("entry", "text"),
    [
        (("triaged", "triage_outcome", "", "dispatch_co_response"), "Triage outcome: Dispatch co-response"),
        (("triaged", "coresponse_eligible", "", "yes"), "Co-response eligible: Yes"),
        (("triaged", "not_served_reason", "", "all_teams_busy"), "Why not served: All teams busy"),
        (("assignment", "assignment.CR-1", "", "offered"), "CR-1: Offered"),
        (("assignment", "assignment.CR-1", "offered", "declined (out of fuel)"), "CR-1: Declined (out of fuel)"),
        (("assignment", "assignment.CR-2", "acknowledged", "en_route"), "CR-2: En route"),
        (("status", "status", "ResourcesEnroute", "ResourcesOnscene"), "Call status: Team on scene"),
        (("created", "status", "", "Active"), "Call created"),
        (("updated", "priority", "5", "8"), "Priority: 5 → 8"),
        (("updated", "weapon_present", "no", "yes"), "Weapon present: No → Yes"),
        (("cad_update", "address", "1 Main St", "2 Main St"), "CAD: Address: 1 Main St → 2 Main St"),
        (("updated", "subject_name", "[redacted]", "[redacted]"), "Subject: hidden → hidden"),
        (("updated", "source", "911", "988_transfer"), "Source: 911 call → 988 transfer"),
    ],
)
def test_a_timeline_entry_reads_as_a_sentence(entry: tuple[str, str, str, str], text: str) -> None:
    kind, field, old, new = entry
    assert labels.timeline_text(kind=kind, field=field, old=old, new=new) == text


def test_the_timeline_of_a_triaged_offered_call_has_no_code_in_its_text(
    api: Any, dispatcher: Any, officer_a: Any, on_shift_a: Any, incident: Incident
) -> None:
    services.incident_triage(
        incident_id=incident.pk,
        by=dispatcher,
        eligible=True,
        eligibility_reason="Person in crisis",
        outcome="dispatch_co_response",
    )
    offer = services.assignment_offer(incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
    services.assignment_accept(assignment_id=offer.pk, by=officer_a)
    services.assignment_status_update(assignment_id=offer.pk, by=officer_a, status="en_route")
    for user in (dispatcher, officer_a):
        timeline = api(user).get(f"/api/v1/incidents/{incident.pk}/").json()["timeline"]
        texts = [e["text"] for e in timeline]
        assert "Triage outcome: Dispatch co-response" in texts
        assert "Co-response eligible: Yes" in texts
        assert f"{on_shift_a.team.call_sign}: En route" in texts
        assert "Call status: Team en route" in texts
        assert [t for t in texts if SNAKE.search(t)] == []


def test_a_refused_status_change_says_it_in_words(
    api: Any, dispatcher: Any, officer_a: Any, on_shift_a: Any, incident: Incident
) -> None:
    offer = services.assignment_offer(incident_id=incident.pk, team_id=on_shift_a.team_id, by=dispatcher)
    services.assignment_cancel(assignment_id=offer.pk, by=dispatcher, reason="caller called back")
    response = api(officer_a).post(f"/api/v1/assignments/{offer.pk}/status/", {"status": "en_route"}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["message"] == "Cannot set the assignment to En route: it is Cancelled."
    assert body["current"]["status"] == "cancelled"  # the code stays for programs
