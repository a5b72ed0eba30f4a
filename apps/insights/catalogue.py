"""The metric catalogue: one definition per measure, with its data-dictionary entry.

This module is the one documented place that maps the program's questions (and the BJA Connect and
Protect report, DOMAIN.md §7) to fields of the database. It is served at
``GET /api/v1/insights/catalogue/``, rendered into docs/insights.md (``manage.py insights_catalogue
--write``; a test fails when the page is stale), frozen into every quarterly snapshot and shipped as
the "Data dictionary" sheet of every export.

Changing a definition changes the numbers: bump ``CATALOGUE_VERSION`` (and the measure's
``version``) and update ``CATALOGUE_FINGERPRINT`` (test_catalogue.py says the new value), so a frozen
report always says which definitions produced it.

How a measure is computed is declared here (``spec``: family, count keys, histogram) and carried out by
apps/insights/render.py over the cells of apps/insights/compute.py; the prose says the same for people.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from .compute import (
    CALLS,
    FOLLOWUP,
    H_ACCEPTED_ON_SCENE,
    H_OFFERED_ACCEPTED,
    H_OFFERED_SEEN,
    H_ON_SCENE,
    H_RECEIVED_CLEARED,
    H_RECEIVED_OFFERED,
    H_RECEIVED_TRIAGED,
    LIVE_FILTERS,
    OUTCOMES,
    RESPONSE,
    SEEN_WITHIN_SECONDS,
    TRAINING,
)

CATALOGUE_VERSION = "1.0"
# sha256 of the serialized definitions (test_catalogue.py): a definition changed without a version bump fails.
CATALOGUE_FINGERPRINT = "303ee00114f3eec339a6e5a4865986a8ec18fa86b2f4bf55acc7ac805ab22396"

# Kinds of measure (how a value is shaped in the API; docs/insights.md "Answer shapes").
COUNT = "count"  # one number, with its months
BREAKDOWN = "breakdown"  # a total and its parts (rows)
SHARE = "share"  # numerator / denominator
SHARES = "shares"  # several shares side by side (rows)
PERCENTILES = "percentiles"  # p50 / p90 of an interval, overall, by month, by team, by team and month
DISTINCT = "distinct"  # distinct people (not a sum of months)
LIVE = "live"  # a count of now, not of a period

# Audiences: "aggregate" — analysts (small cells suppressed), supervisors and clinical supervisors;
# "clinical" — clinical supervisors only (clinical detail beyond DOMAIN.md §2's analyst column).
AGGREGATE = "aggregate"
CLINICAL = "clinical"

WINDOW_24H = ("high_risk", "ivc_released")
WINDOW_48H = ("referral",)


@dataclass(frozen=True)
class Measure:
    id: str
    group: str
    title: str
    kind: str
    counts: str  # what one counted thing is
    numerator: str
    denominator: str
    source_fields: tuple[str, ...]
    period: str  # which timestamp places a record in a period
    exclusions: str
    unit: str
    grant_item: str = ""  # the BJA Connect and Protect item it answers, if any
    audience: str = AGGREGATE
    version: int = 1
    spec: dict[str, Any] = field(default_factory=dict)

    @property
    def family(self) -> str:
        return str(self.spec.get("family", ""))

    @property
    def filters(self) -> tuple[str, ...]:
        """The filters that apply to this measure (others are reported as not applied)."""
        if "filters" in self.spec:
            return tuple(self.spec["filters"])
        return tuple(sorted(LIVE_FILTERS.get(self.family, frozenset())))

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["source_fields"] = list(self.source_fields)
        data["filters"] = list(self.filters)
        data["spec"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.spec.items()}
        return data


_SEEN = f"{SEEN_WITHIN_SECONDS} s"
_INCIDENT_PERIOD = "Incident.received_at (local month / day of the call)"
_ASSIGNMENT_PERIOD = "the incident's received_at (an offer counts in the period of its call)"
_ENCOUNTER_PERIOD = "Encounter.started_at"
_ENC_EXCL = "Follow-up encounters (kind follow_up: care navigation contacts, counted under Follow-up)."
_INTERVAL_EXCL = (
    "Records missing either timestamp; negative intervals (clock errors); intervals of 24 h or more "
    "(a call not cleared in time)."
)
_PCT_UNIT = "seconds (p50 and p90: the upper edge of the histogram bin; see Resolution)"

MEASURES: tuple[Measure, ...] = (
    # --- calls -----------------------------------------------------------------------------------
    Measure(
        id="calls.total",
        group="Calls",
        title="Calls received",
        kind=COUNT,
        counts="incident (a call in the system, from the CAD or typed by a dispatcher)",
        numerator="incidents received in the period",
        denominator="—",
        source_fields=("Incident.received_at",),
        period=_INCIDENT_PERIOD,
        exclusions="None.",
        unit="calls",
        spec={"family": CALLS, "key": "total"},
    ),
    Measure(
        id="calls.by_source",
        group="Calls",
        title="Calls by source",
        kind=BREAKDOWN,
        counts="incident",
        numerator="incidents of each source (911, 988 transfer, officer request, self-initiated, follow-up, other)",
        denominator="all incidents received in the period",
        source_fields=("Incident.source", "Incident.received_at"),
        period=_INCIDENT_PERIOD,
        exclusions="None.",
        unit="calls",
        spec={"family": CALLS, "total": "total", "prefix": "src:", "labels": "source"},
    ),
    Measure(
        id="calls.by_call_type",
        group="Calls",
        title="Calls by call type",
        kind=BREAKDOWN,
        counts="incident",
        numerator="incidents of each local call-type code (with its APCO common code from the CallType table)",
        denominator="all incidents received in the period",
        source_fields=("Incident.call_type_code", "CallType.local_code", "CallType.apco_code"),
        period=_INCIDENT_PERIOD,
        exclusions="None (codes missing from the CallType table are listed as received).",
        unit="calls",
        spec={"family": CALLS, "total": "total", "prefix": "ct:", "labels": "call_type"},
    ),
    Measure(
        id="calls.by_priority",
        group="Calls",
        title="Calls by priority",
        kind=BREAKDOWN,
        counts="incident",
        numerator="incidents of each common priority 0–10 (10 highest)",
        denominator="all incidents received in the period",
        source_fields=("Incident.priority",),
        period=_INCIDENT_PERIOD,
        exclusions="None.",
        unit="calls",
        spec={"family": CALLS, "total": "total", "prefix": "prio:", "labels": "priority"},
    ),
    Measure(
        id="calls.by_hour_of_week",
        group="Calls",
        title="Calls by hour of the week",
        kind=BREAKDOWN,
        counts="incident",
        numerator="incidents received in each local hour of the week (Monday 00:00–00:59 is hour 0)",
        denominator="all incidents received in the period",
        source_fields=("Incident.received_at (local weekday and hour, America/New_York)",),
        period=_INCIDENT_PERIOD,
        exclusions="None. On DST days the repeated 01:00 hour counts twice as many minutes.",
        unit="calls",
        spec={"family": CALLS, "total": "total", "prefix": "how:", "labels": "hour_of_week"},
    ),
    Measure(
        id="calls.eligibility",
        group="Calls",
        title="Eligible for co-response",
        kind=BREAKDOWN,
        counts="incident",
        numerator="incidents triaged eligible / not eligible / not triaged",
        denominator="all incidents received in the period",
        source_fields=("Incident.coresponse_eligible",),
        period=_INCIDENT_PERIOD,
        exclusions="None.",
        unit="calls",
        grant_item="Eligible calls",
        spec={"family": CALLS, "total": "total", "prefix": "elig:", "labels": "eligibility"},
    ),
    Measure(
        id="calls.eligible_served",
        group="Calls",
        title="Eligible calls served by co-response",
        kind=SHARE,
        counts="incident",
        numerator="eligible incidents where a co-response team arrived (an assignment of a co-response team "
        "has on_scene_at)",
        denominator="incidents triaged eligible",
        source_fields=(
            "Incident.coresponse_eligible",
            "Assignment.on_scene_at",
            "Team.kind",
        ),
        period=_INCIDENT_PERIOD,
        exclusions="Calls not triaged or triaged not eligible.",
        unit="share of eligible calls",
        grant_item="Calls responded to by co-responders",
        spec={"family": CALLS, "num": "elig_served", "den": "elig:yes", "complement": "elig_notserved"},
    ),
    Measure(
        id="calls.not_served_reasons",
        group="Calls",
        title="Eligible but not served: why",
        kind=BREAKDOWN,
        counts="incident",
        numerator="eligible incidents not served, by the triage's not-served reason; 'dispatched, not on scene' "
        "when co-response was dispatched but no team arrived; 'not recorded' when no reason was given",
        denominator="eligible incidents not served",
        source_fields=("Incident.not_served_reason", "Incident.triage_outcome", "Assignment.on_scene_at"),
        period=_INCIDENT_PERIOD,
        exclusions="Served calls; calls not eligible or not triaged.",
        unit="calls",
        spec={"family": CALLS, "total": "elig_notserved", "prefix": "reason:", "labels": "not_served_reason"},
    ),
    Measure(
        id="calls.triage_outcomes",
        group="Calls",
        title="Triage outcomes",
        kind=BREAKDOWN,
        counts="incident",
        numerator="incidents by the diversion clinician's triage outcome ('none' when not triaged)",
        denominator="all incidents received in the period",
        source_fields=("Incident.triage_outcome",),
        period=_INCIDENT_PERIOD,
        exclusions="None.",
        unit="calls",
        spec={"family": CALLS, "total": "total", "prefix": "outcome:", "labels": "triage_outcome"},
    ),
    Measure(
        id="calls.diverted_by_phone",
        group="Calls",
        title="Eligible calls resolved by the diversion clinician by phone",
        kind=SHARE,
        counts="incident",
        numerator="eligible incidents with triage outcome 'resolved by phone'",
        denominator="incidents triaged eligible",
        source_fields=("Incident.coresponse_eligible", "Incident.triage_outcome"),
        period=_INCIDENT_PERIOD,
        exclusions="Calls not triaged or triaged not eligible.",
        unit="share of eligible calls",
        spec={"family": CALLS, "num": "elig_phone", "den": "elig:yes"},
    ),
    # --- response times ------------------------------------------------------------------------------
    Measure(
        id="response.received_to_triaged",
        group="Response times",
        title="Received → triaged",
        kind=PERCENTILES,
        counts="incident with a triage",
        numerator="seconds from the call to its first triage",
        denominator="incidents triaged",
        source_fields=("Incident.received_at", "TimelineEntry.at (first entry of kind 'triaged')"),
        period=_INCIDENT_PERIOD,
        exclusions=_INTERVAL_EXCL + " No team (triage precedes any team): no team breakdown.",
        unit=_PCT_UNIT,
        spec={"family": CALLS, "hist": H_RECEIVED_TRIAGED},
    ),
    Measure(
        id="response.received_to_offered",
        group="Response times",
        title="Received → first offer",
        kind=PERCENTILES,
        counts="incident offered to a team",
        numerator="seconds from the call to its first offer",
        denominator="incidents offered (the first offer of each; its team)",
        source_fields=("Incident.received_at", "Assignment.offered_at"),
        period=_ASSIGNMENT_PERIOD,
        exclusions=_INTERVAL_EXCL,
        unit=_PCT_UNIT,
        spec={"family": RESPONSE, "hist": H_RECEIVED_OFFERED},
    ),
    Measure(
        id="response.offered_to_seen",
        group="Response times",
        title="Offered → seen on a device",
        kind=PERCENTILES,
        counts="offer (assignment) seen",
        numerator="seconds from the offer to the first 'seen' on a team device (acknowledged; an accept or "
        "decline without it counts as seen then)",
        denominator="offers seen",
        source_fields=(
            "Assignment.offered_at",
            "Assignment.acknowledged_at",
            "Assignment.accepted_at",
            "Assignment.ended_at (declined)",
        ),
        period=_ASSIGNMENT_PERIOD,
        exclusions=_INTERVAL_EXCL + " Offers never seen.",
        unit=_PCT_UNIT,
        spec={"family": RESPONSE, "hist": H_OFFERED_SEEN},
    ),
    Measure(
        id="response.offered_to_accepted",
        group="Response times",
        title="Offered → accepted",
        kind=PERCENTILES,
        counts="accepted offer",
        numerator="seconds from the offer to its acceptance",
        denominator="offers accepted",
        source_fields=("Assignment.offered_at", "Assignment.accepted_at"),
        period=_ASSIGNMENT_PERIOD,
        exclusions=_INTERVAL_EXCL + " Offers declined, expired or cancelled before acceptance.",
        unit=_PCT_UNIT,
        spec={"family": RESPONSE, "hist": H_OFFERED_ACCEPTED},
    ),
    Measure(
        id="response.accepted_to_on_scene",
        group="Response times",
        title="Accepted → on scene",
        kind=PERCENTILES,
        counts="assignment that reached the scene",
        numerator="seconds from acceptance to arrival",
        denominator="assignments accepted and on scene",
        source_fields=("Assignment.accepted_at", "Assignment.on_scene_at"),
        period=_ASSIGNMENT_PERIOD,
        exclusions=_INTERVAL_EXCL,
        unit=_PCT_UNIT,
        spec={"family": RESPONSE, "hist": H_ACCEPTED_ON_SCENE},
    ),
    Measure(
        id="response.on_scene_duration",
        group="Response times",
        title="Time on scene",
        kind=PERCENTILES,
        counts="assignment that left the scene",
        numerator="seconds from arrival to leaving (transporting, or cleared when there was no transport)",
        denominator="assignments on scene that left it",
        source_fields=("Assignment.on_scene_at", "Assignment.transporting_at", "Assignment.cleared_at"),
        period=_ASSIGNMENT_PERIOD,
        exclusions=_INTERVAL_EXCL,
        unit=_PCT_UNIT,
        spec={"family": RESPONSE, "hist": H_ON_SCENE},
    ),
    Measure(
        id="response.received_to_cleared",
        group="Response times",
        title="Time to clear (received → cleared)",
        kind=PERCENTILES,
        counts="cleared assignment",
        numerator="seconds from the call to the team clearing it",
        denominator="assignments cleared",
        source_fields=("Incident.received_at", "Assignment.cleared_at"),
        period=_ASSIGNMENT_PERIOD,
        exclusions=_INTERVAL_EXCL,
        unit=_PCT_UNIT,
        spec={"family": RESPONSE, "hist": H_RECEIVED_CLEARED},
    ),
    # --- outcomes ------------------------------------------------------------------------------------
    Measure(
        id="outcomes.encounters",
        group="Outcomes",
        title="Encounters",
        kind=BREAKDOWN,
        counts="encounter (a response to an incident, or a walk-in)",
        numerator="encounters by kind",
        denominator="encounters started in the period",
        source_fields=("Encounter.kind", "Encounter.started_at"),
        period=_ENCOUNTER_PERIOD,
        exclusions=_ENC_EXCL,
        unit="encounters",
        grant_item="Encounters",
        spec={"family": OUTCOMES, "total": "encounters", "prefix": "kind:", "labels": "encounter_kind"},
    ),
    Measure(
        id="outcomes.dispositions",
        group="Outcomes",
        title="Dispositions (program codes)",
        kind=BREAKDOWN,
        counts="disposition (an encounter may have several)",
        numerator="dispositions recorded, by program code",
        denominator="dispositions recorded on encounters of the period",
        source_fields=("Disposition.code",),
        period=_ENCOUNTER_PERIOD,
        exclusions=_ENC_EXCL,
        unit="dispositions",
        grant_item="Dispositions (treated on scene, transported, IVC, arrest)",
        spec={"family": OUTCOMES, "total": "dispositions", "prefix": "disp:", "labels": "disposition"},
    ),
    Measure(
        id="outcomes.dispositions_apco",
        group="Outcomes",
        title="Dispositions (APCO common codes)",
        kind=BREAKDOWN,
        counts="disposition",
        numerator="dispositions recorded, by the APCO common disposition code stored with each ('none' where "
        "APCO has none)",
        denominator="dispositions recorded on encounters of the period",
        source_fields=("Disposition.apco_code",),
        period=_ENCOUNTER_PERIOD,
        exclusions=_ENC_EXCL,
        unit="dispositions",
        spec={"family": OUTCOMES, "total": "dispositions", "prefix": "apco:", "labels": "apco"},
    ),
    *(
        Measure(
            id=f"outcomes.{key}",
            group="Outcomes",
            title=title,
            kind=SHARE,
            counts="encounter",
            numerator=numerator,
            denominator=denominator,
            source_fields=fields,
            period=_ENCOUNTER_PERIOD,
            exclusions=_ENC_EXCL + extra,
            unit="share of encounters",
            grant_item=grant,
            spec={"family": OUTCOMES, "num": num, "den": den},
        )
        for key, title, numerator, denominator, fields, num, den, extra, grant in (
            (
                "resolved_on_scene",
                "Resolved on scene",
                "encounters with the disposition 'resolved on scene' (APCO 18)",
                "encounters",
                ("Disposition.code",),
                "disp:resolved_on_scene",
                "encounters",
                "",
                "Treated on scene",
            ),
            (
                "referral_made",
                "Referral made",
                "encounters with at least one referral",
                "encounters",
                ("Referral.encounter",),
                "referral_made",
                "encounters",
                "",
                "Referrals made",
            ),
            (
                "transport_crisis_facility",
                "Voluntary transport to a crisis facility",
                "encounters with the disposition 'voluntary transport to crisis facility'",
                "encounters",
                ("Disposition.code",),
                "disp:transport_crisis_facility",
                "encounters",
                "",
                "Transported",
            ),
            (
                "transport_ed",
                "Voluntary transport to an ED",
                "encounters with the disposition 'voluntary transport to ED'",
                "encounters",
                ("Disposition.code",),
                "disp:transport_ed",
                "encounters",
                "",
                "Transported",
            ),
            (
                "ivc",
                "Involuntary commitment (IVC)",
                "encounters with an IVC record or the disposition 'involuntary commitment initiated'",
                "encounters",
                ("IvcRecord.encounter", "Disposition.code"),
                "ivc",
                "encounters",
                "",
                "IVC",
            ),
            (
                "arrest",
                "Arrest",
                "encounters with the disposition 'arrest' or the officer section's police action 'arrest'",
                "encounters",
                ("Disposition.code", "OfficerSection.police_action"),
                "arrest",
                "encounters",
                "",
                "Arrests",
            ),
            (
                "arrest_diverted",
                "Arrest diverted",
                "encounters flagged 'arrest diverted' by the clinician",
                "encounters",
                ("Encounter.arrest_diverted",),
                "arrest_diverted",
                "encounters",
                "",
                "Arrests diverted",
            ),
            (
                "ed_diverted",
                "ED visit diverted",
                "encounters flagged 'ED diverted' by the clinician",
                "encounters",
                ("Encounter.ed_diverted",),
                "ed_diverted",
                "encounters",
                "",
                "ED visits diverted",
            ),
            (
                "use_of_force",
                "Use of force",
                "encounters whose officer section records use of force",
                "encounters with an officer section",
                ("OfficerSection.use_of_force",),
                "use_of_force",
                "with_officer_section",
                " Encounters without an officer section.",
                "Use of force",
            ),
            (
                "subject_injured",
                "Subject injured",
                "encounters whose officer section records an injury to the subject",
                "encounters with an officer section",
                ("OfficerSection.subject_injured",),
                "subject_injured",
                "with_officer_section",
                " Encounters without an officer section.",
                "Injuries (subject)",
            ),
            (
                "officer_injured",
                "Officer injured",
                "encounters whose officer section records an injury to an officer",
                "encounters with an officer section",
                ("OfficerSection.officer_injured",),
                "officer_injured",
                "with_officer_section",
                " Encounters without an officer section.",
                "Injuries (officer)",
            ),
        )
    ),
    Measure(
        id="outcomes.risk_mix",
        group="Outcomes",
        title="C-SSRS risk mix",
        kind=BREAKDOWN,
        counts="encounter",
        numerator="encounters by their current C-SSRS risk level (latest screen after any raise); 'not "
        "screened' when none",
        denominator="encounters",
        source_fields=("Encounter.risk_level",),
        period=_ENCOUNTER_PERIOD,
        exclusions=_ENC_EXCL,
        unit="encounters",
        spec={"family": OUTCOMES, "total": "encounters", "prefix": "risk:", "labels": "risk"},
    ),
    Measure(
        id="outcomes.unique_people",
        group="Outcomes",
        title="Unique people served",
        kind=DISTINCT,
        counts="person (after merges: a merged duplicate's encounters belong to the survivor)",
        numerator="distinct people with at least one encounter in the period",
        denominator="—",
        source_fields=("Encounter.person",),
        period=_ENCOUNTER_PERIOD,
        exclusions=_ENC_EXCL + " Encounters with no person recorded.",
        unit="people",
        grant_item="Unique people served",
        spec={"family": OUTCOMES, "distinct": "people", "encounters": "with_person"},
    ),
    Measure(
        id="clinical.ivc_pathways",
        group="Clinical",
        title="IVC records by pathway",
        kind=BREAKDOWN,
        counts="IVC record",
        numerator="IVC records by NC pathway (G.S. 122C-261, -262, -281, -282)",
        denominator="IVC records on encounters of the period",
        source_fields=("IvcRecord.pathway",),
        period=_ENCOUNTER_PERIOD,
        exclusions=_ENC_EXCL,
        unit="records",
        audience=CLINICAL,
        spec={"family": OUTCOMES, "total": "ivc_records", "prefix": "ivc_path:", "labels": "ivc_pathway"},
    ),
    # --- follow-up ---------------------------------------------------------------------------------
    Measure(
        id="followup.within_window",
        group="Follow-up",
        title="Follow-ups contacted within the policy window",
        kind=SHARES,
        counts="follow-up task",
        numerator="follow-ups whose first successful contact (an attempt reached, declined or linked) was at or "
        "before the due time",
        denominator="follow-ups due in the period: 24 h window (high risk, released after IVC), 48 h window "
        "(after a referral), and the 7/30-day ED linkage checks",
        source_fields=("FollowUp.due_at", "FollowUp.reason", "FollowUpAttempt.at", "FollowUpAttempt.outcome"),
        period="FollowUp.due_at",
        exclusions="None; follow-ups not yet due in a period still in progress count as not contacted.",
        unit="share of follow-ups due",
        grant_item="Follow-ups attempted and completed within the window",
        spec={
            "family": FOLLOWUP,
            "rows": (
                (
                    "24h",
                    "24 h window (high risk, released after IVC)",
                    tuple(f"fu_on_time:{r}" for r in WINDOW_24H),
                    tuple(f"fu_due:{r}" for r in WINDOW_24H),
                ),
                (
                    "48h",
                    "48 h window (after a referral)",
                    tuple(f"fu_on_time:{r}" for r in WINDOW_48H),
                    tuple(f"fu_due:{r}" for r in WINDOW_48H),
                ),
                ("ed_linkage", "ED linkage checks (7 and 30 days)", ("fu_on_time:ed_linkage",), ("fu_due:ed_linkage",)),
            ),
        },
    ),
    Measure(
        id="followup.linkage",
        group="Follow-up",
        title="Referrals linked within 7 and 30 days",
        kind=SHARES,
        counts="referral",
        numerator="referrals whose status became 'linked' (attended) within 7 / 30 days of being made",
        denominator="referrals made in the period",
        source_fields=("Referral.made_at", "ReferralStatusChange.to_status", "ReferralStatusChange.at"),
        period="Referral.made_at",
        exclusions="None; recent referrals may still link.",
        unit="share of referrals made",
        grant_item="Referrals made and linked",
        spec={
            "family": FOLLOWUP,
            "rows": (
                ("7d", "Linked within 7 days", ("ref_linked_7d",), ("ref_made",)),
                ("30d", "Linked within 30 days", ("ref_linked_30d",), ("ref_made",)),
            ),
        },
    ),
    Measure(
        id="followup.overdue_now",
        group="Follow-up",
        title="Follow-ups overdue now",
        kind=LIVE,
        counts="follow-up task",
        numerator="open follow-ups whose due time has passed, at the moment of the answer",
        denominator="—",
        source_fields=("FollowUp.status", "FollowUp.due_at"),
        period="none: the state at the time of the answer (a frozen report keeps the value at freezing)",
        exclusions="Done and closed follow-ups.",
        unit="follow-ups",
        spec={"filters": ("team",)},
    ),
    # --- repeat contacts ----------------------------------------------------------------------------
    Measure(
        id="repeat.contacts",
        group="Repeat contacts",
        title="Repeat contacts within 30 and 90 days",
        kind=SHARES,
        counts="encounter with a person",
        numerator="encounters whose person had an earlier encounter (incident response or walk-in) within the "
        "previous 30 / 90 days",
        denominator="encounters with a person recorded",
        source_fields=("Encounter.person", "Encounter.started_at"),
        period=_ENCOUNTER_PERIOD,
        exclusions=_ENC_EXCL + " Encounters with no person recorded.",
        unit="share of encounters",
        spec={
            "family": OUTCOMES,
            "rows": (
                ("30d", "Within 30 days", ("repeat_30d",), ("with_person",)),
                ("90d", "Within 90 days", ("repeat_90d",), ("with_person",)),
            ),
        },
    ),
    # --- delivery -----------------------------------------------------------------------------------
    Measure(
        id="delivery.seen_within_20s",
        group="Delivery",
        title=f"Offers seen within {_SEEN}",
        kind=SHARE,
        counts="offer (assignment)",
        numerator=f"offers first seen on a team device within {_SEEN} of the offer",
        denominator="offers made",
        source_fields=("Assignment.offered_at", "Assignment.acknowledged_at", "Assignment.accepted_at"),
        period=_ASSIGNMENT_PERIOD,
        exclusions="None (an offer never seen counts in the denominator).",
        unit="share of offers",
        spec={"family": RESPONSE, "num": "seen_20s", "den": "offers"},
    ),
    Measure(
        id="delivery.escalations",
        group="Delivery",
        title="Offers escalated, by stage",
        kind=SHARES,
        counts="offer (assignment)",
        numerator="offers whose delivery escalation reached the stage: Web Push to the team's phones (~20 s), "
        "dispatcher alerted (~60 s), flagged for reassignment (~120 s)",
        denominator="offers made",
        source_fields=(
            "Escalation.subject ('assignment:<id>')",
            "Escalation.push_fired_at",
            "Escalation.alert_fired_at",
            "Escalation.reassign_fired_at",
        ),
        period=_ASSIGNMENT_PERIOD,
        exclusions="None.",
        unit="share of offers",
        spec={
            "family": RESPONSE,
            "rows": (
                ("push", "Web Push to the team", ("esc_push",), ("offers",)),
                ("alert", "Dispatcher alerted", ("esc_alert",), ("offers",)),
                ("reassign", "Flagged for reassignment", ("esc_reassign",), ("offers",)),
            ),
        },
    ),
    # --- training -----------------------------------------------------------------------------------
    Measure(
        id="training.cit_officers",
        group="Training",
        title="Officers on co-response shifts who are CIT-trained",
        kind=DISTINCT,
        counts="officer",
        numerator="officers whose every co-response shift of the period started on a day when they held a CIT "
        "course in force (CIT 40-hour or CIT refresher: completed on or before that day, not expired)",
        denominator="officers who were members of at least one co-response shift starting in the period",
        source_fields=(
            "ShiftMember.role",
            "Shift.starts_at",
            "Team.kind",
            "TrainingRecord.course",
            "TrainingRecord.completed_on",
            "TrainingRecord.expires_on",
        ),
        period="Shift.starts_at",
        exclusions="Shifts of other team kinds; members other than officers.",
        unit="share of officers",
        grant_item="Staff trained",
        spec={"family": TRAINING, "distinct": "officers"},
    ),
    Measure(
        id="training.calls_cit_officer",
        group="Training",
        title="Calls answered by a CIT-trained officer",
        kind=SHARE,
        counts="accepted offer",
        numerator="accepted offers whose shift had an officer member holding a CIT course in force on the day of "
        "the offer",
        denominator="offers accepted",
        source_fields=("Assignment.accepted_at", "Assignment.shift", "ShiftMember.role", "TrainingRecord.*"),
        period=_ASSIGNMENT_PERIOD,
        exclusions="None (an offer accepted with no shift recorded counts as not CIT-trained).",
        unit="share of accepted offers",
        spec={"family": RESPONSE, "num": "answered_cit", "den": "accepted"},
    ),
    Measure(
        id="training.courses",
        group="Training",
        title="Training completed, by course",
        kind=BREAKDOWN,
        counts="training record",
        numerator="training records completed in the period, by course, with their hours",
        denominator="training records completed in the period",
        source_fields=("TrainingRecord.course", "TrainingRecord.hours", "TrainingRecord.completed_on"),
        period="TrainingRecord.completed_on (a local date)",
        exclusions="None.",
        unit="records (and hours)",
        grant_item="Staff trained (course, hours)",
        spec={
            "family": TRAINING,
            "total": "tr_records",
            "prefix": "tr_course:",
            "labels": "course",
            "hours_prefix": "tr_tenths:",
            "filters": (),
        },
    ),
)

BY_ID: dict[str, Measure] = {m.id: m for m in MEASURES}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(m.group for m in MEASURES))


def measures_for(*, clinical: bool) -> tuple[Measure, ...]:
    return tuple(m for m in MEASURES if clinical or m.audience == AGGREGATE)


def serialized(measures: tuple[Measure, ...] = MEASURES) -> list[dict[str, Any]]:
    return [m.as_dict() for m in measures]


def fingerprint() -> str:
    text = json.dumps(serialized(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def catalogue_payload(*, clinical: bool = True) -> dict[str, Any]:
    """What the API serves and every export ships: version, resolution, suppression rule, measures."""
    from .bins import RANGES

    return {
        "version": CATALOGUE_VERSION,
        "time_zone": "America/New_York",
        "fiscal_year": "Federal fiscal year: FY N runs 1 Oct N-1 – 30 Sep N; Q1 Oct–Dec, Q2 Jan–Mar, "
        "Q3 Apr–Jun, Q4 Jul–Sep.",
        "suppression": 'For analysts (and on request) counts from 1 to 10 are shown as "<11"; a second cell '
        "is suppressed wherever a total would reveal a suppressed one (complementary suppression). Shares and "
        "percentiles whose counts are suppressed are not shown.",
        "resolution": [{"from_seconds": lo, "to_seconds": hi, "bin_seconds": width} for lo, hi, width in RANGES],
        "measures": serialized(measures_for(clinical=clinical)),
    }
