"""Incidents, their append-only timeline, and the assignments that offer them to teams.

Every write goes through ``apps.incidents.services``; nothing else saves these models.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class CallType(models.Model):
    """Admin-editable mapping: local call-type code → APCO common incident type code."""

    local_code = models.CharField(max_length=20, unique=True)
    description = models.CharField(max_length=120)
    apco_code = models.CharField(max_length=40, blank=True, help_text="APCO common incident type code.")
    is_behavioral_health = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["local_code"]

    def __str__(self) -> str:
        return f"{self.local_code} – {self.description}"


class DispositionCode(models.Model):
    """Admin-editable mapping: program disposition code → APCO common disposition code."""

    program_code = models.CharField(max_length=40, unique=True)
    label = models.CharField(max_length=120)
    apco_code = models.CharField(max_length=10, blank=True)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["program_code"]

    def __str__(self) -> str:
        return f"{self.label} ({self.apco_code or '—'})"


class Incident(models.Model):
    class Source(models.TextChoices):
        CALL_911 = "911", "911 call"
        TRANSFER_988 = "988_transfer", "988 transfer"
        OFFICER_REQUEST = "officer_request", "Officer request"
        SELF_INITIATED = "self_initiated", "Self-initiated"
        FOLLOW_UP = "follow_up", "Follow-up"
        OTHER = "other", "Walk-in / other"

    class Status(models.TextChoices):
        # NENA EIDO incident status common registry values.
        ACTIVE = "Active", "Active"
        RESOURCES_ASSIGNED = "ResourcesAssigned", "Resources assigned"
        RESOURCES_ENROUTE = "ResourcesEnroute", "Resources en route"
        RESOURCES_ONSCENE = "ResourcesOnscene", "Resources on scene"
        CLOSED = "Closed", "Closed"
        CANCELLED = "Cancelled", "Cancelled"
        REOPENED = "ReOpened", "Re-opened"

    class TriageOutcome(models.TextChoices):
        RESOLVED_BY_PHONE = "resolved_by_phone", "Resolved by phone"
        DISPATCH_CO_RESPONSE = "dispatch_co_response", "Dispatch co-response"
        COMMUNITY_RESPONSE = "community_response", "Community response team"
        POLICE_ONLY = "police_only", "Police only"
        TRANSFER_988 = "transfer_988", "Transfer to 988"
        NO_RESPONSE = "no_response_needed", "No response needed"

    class NotServedReason(models.TextChoices):
        NO_TEAM_ON_SHIFT = "no_team_on_shift", "No team on shift"
        ALL_TEAMS_BUSY = "all_teams_busy", "All teams busy"
        OUT_OF_AREA = "out_of_area", "Out of area"
        DECLINED_BY_CALLER = "declined_by_caller", "Declined by caller"
        OTHER = "other", "Other"

    OPEN_STATUSES: ClassVar[frozenset[str]] = frozenset(
        {Status.ACTIVE, Status.RESOURCES_ASSIGNED, Status.RESOURCES_ENROUTE, Status.RESOURCES_ONSCENE, Status.REOPENED}
    )

    # Identity at the CAD: the number is unique per CAD system (``cad_source``); hand-made incidents
    # have no CAD number.
    cad_source = models.CharField(max_length=64, blank=True, help_text="CAD system that owns the number.")
    cad_number = models.CharField(max_length=64, blank=True)
    cad_updated_at = models.DateTimeField(null=True, blank=True, help_text="lastUpdateTimeStamp of the last CAD post.")

    received_at = models.DateTimeField(default=timezone.now, db_index=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.CALL_911)
    call_type = models.ForeignKey(CallType, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    call_type_code = models.CharField(max_length=20, blank=True, help_text="Local code as received.")
    priority_local = models.CharField(max_length=40, blank=True)
    priority = models.PositiveSmallIntegerField(
        default=5, validators=[MinValueValidator(0), MaxValueValidator(10)], help_text="Common priority 0–10."
    )

    address = models.CharField(max_length=300, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    beat = models.CharField(max_length=40, blank=True)
    district = models.CharField(max_length=40, blank=True)

    caller_name = models.CharField(max_length=120, blank=True)
    caller_phone = models.CharField(max_length=32, blank=True)
    subject_name = models.CharField(max_length=120, blank=True)
    subject_dob = models.DateField(null=True, blank=True)
    subject_phone = models.CharField(max_length=32, blank=True)
    subject_description = models.CharField(max_length=500, blank=True)

    weapon_present = models.BooleanField(default=False)
    weapon_kind = models.CharField(max_length=100, blank=True)
    violence_toward_responders = models.BooleanField(default=False)
    substances_involved = models.BooleanField(default=False)
    premise_hazards = models.CharField(max_length=300, blank=True)
    safety_notes = models.CharField(max_length=1000, blank=True)

    operational_notes = models.TextField(blank=True, help_text="Dispatch notes; never clinical content.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE, db_index=True)
    behavioral_health = models.BooleanField(default=True)

    coresponse_eligible = models.BooleanField(null=True, blank=True)
    eligibility_reason = models.CharField(max_length=300, blank=True)
    triage_outcome = models.CharField(max_length=24, choices=TriageOutcome.choices, blank=True)
    not_served_reason = models.CharField(max_length=24, choices=NotServedReason.choices, blank=True)
    not_served_note = models.CharField(max_length=300, blank=True)
    triaged_at = models.DateTimeField(null=True, blank=True)
    triaged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    closed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["cad_source", "cad_number"], condition=~Q(cad_number=""), name="incident_cad_number_unique"
            ),
            models.CheckConstraint(condition=Q(priority__gte=0, priority__lte=10), name="incident_priority_range"),
            models.CheckConstraint(
                condition=Q(latitude__isnull=True) | Q(latitude__gte=-90, latitude__lte=90), name="incident_latitude"
            ),
            models.CheckConstraint(
                condition=Q(longitude__isnull=True) | Q(longitude__gte=-180, longitude__lte=180),
                name="incident_longitude",
            ),
        ]
        indexes = [models.Index(fields=["status", "-priority", "received_at"], name="incident_board_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.cad_number or 'manual'} {self.call_type_code}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class TimelineEntry(models.Model):
    """One change to an incident: who, when, what, old → new. Append-only."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        UPDATED = "updated", "Updated"
        CAD_UPDATE = "cad_update", "Updated by the CAD"
        TRIAGED = "triaged", "Triaged"
        ASSIGNMENT = "assignment", "Assignment"
        STATUS = "status", "Incident status"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="timeline")
    at = models.DateTimeField(default=timezone.now)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(max_length=16, choices=Kind.choices)
    field = models.CharField(max_length=40, blank=True)
    old_value = models.TextField(blank=True)
    new_value = models.TextField(blank=True)
    assignment = models.ForeignKey(
        "Assignment", null=True, blank=True, on_delete=models.PROTECT, related_name="timeline"
    )

    class Meta:
        ordering = ["at", "id"]
        verbose_name_plural = "timeline entries"

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.kind} {self.field}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Timeline entries are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Timeline entries are append-only.")


class Assignment(models.Model):
    """An incident offered to one team; EIDO unit status values map onto ``Status``."""

    class Status(models.TextChoices):
        OFFERED = "offered", "Offered (Assigned)"
        ACKNOWLEDGED = "acknowledged", "Acknowledged"
        ACCEPTED = "accepted", "Accepted"
        EN_ROUTE = "en_route", "En route"
        ON_SCENE = "on_scene", "On scene"
        TRANSPORTING = "transporting", "Transporting"
        AT_FACILITY = "at_facility", "At facility"
        CLEARED = "cleared", "Cleared"
        DECLINED = "declined", "Declined"
        EXPIRED = "expired", "Expired"
        CANCELLED = "cancelled", "Cancelled"

    ACTIVE: ClassVar[tuple[str, ...]] = (
        Status.OFFERED,
        Status.ACKNOWLEDGED,
        Status.ACCEPTED,
        Status.EN_ROUTE,
        Status.ON_SCENE,
        Status.TRANSPORTING,
        Status.AT_FACILITY,
    )
    PENDING: ClassVar[tuple[str, ...]] = (Status.OFFERED, Status.ACKNOWLEDGED)

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="assignments")
    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="assignments")
    shift = models.ForeignKey(
        "shifts.Shift", null=True, blank=True, on_delete=models.SET_NULL, related_name="assignments",
        help_text="The team's shift on duty when it was offered.",
    )  # fmt: skip
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.OFFERED)

    offered_at = models.DateTimeField(default=timezone.now)
    offered_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    en_route_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    transporting_at = models.DateTimeField(null=True, blank=True)
    at_facility_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True, help_text="Declined, expired or cancelled at.")
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    end_reason = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-offered_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident"],
                condition=Q(
                    status__in=[
                        "offered",
                        "acknowledged",
                        "accepted",
                        "en_route",
                        "on_scene",
                        "transporting",
                        "at_facility",
                    ]
                ),
                name="assignment_one_active_per_incident",
            ),
        ]
        indexes = [models.Index(fields=["team", "status"], name="assignment_team_status_idx")]

    def __str__(self) -> str:
        return f"{self.team_id}→incident {self.incident_id} ({self.status})"

    @property
    def is_active(self) -> bool:
        return self.status in self.ACTIVE


class UnassignedAlert(models.Model):
    """A call eligible for co-response that nobody offered in time (``INCIDENTS_UNASSIGNED_ALERT_SECONDS``
    by priority): raised once per wait by the sweep, cleared when the call is offered or triaged away.

    A wait starts when the call came in, or when its last assignment ended (declined, expired,
    cancelled). The unique (incident, waiting_since) is the claim: of two sweepers exactly one inserts
    the row, and only that one writes the event.
    """

    class Cleared(models.TextChoices):
        OFFERED = "offered", "Offered to a team"
        TRIAGED = "triaged", "Triaged: no co-response"

    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="unassigned_alerts")
    waiting_since = models.DateTimeField()
    priority = models.PositiveSmallIntegerField(help_text="The call's priority when raised.")
    threshold_seconds = models.PositiveIntegerField(help_text="The wait allowed for that priority.")
    raised_at = models.DateTimeField(default=timezone.now)
    cleared_at = models.DateTimeField(null=True, blank=True)
    cleared_reason = models.CharField(max_length=16, choices=Cleared.choices, blank=True)

    class Meta:
        ordering = ["-raised_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["incident", "waiting_since"], name="unassigned_alert_once_per_wait"),
        ]
        indexes = [
            models.Index(fields=["incident"], condition=Q(cleared_at__isnull=True), name="unassigned_alert_open_idx")
        ]

    def __str__(self) -> str:
        return f"incident {self.incident_id} unassigned since {self.waiting_since:%Y-%m-%d %H:%M}"
