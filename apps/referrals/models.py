"""Referrals and care navigation (DOMAIN.md §5).

- ``Agency``: the directory of places people are referred to (admin-editable by supervisors).
- ``Referral``: made by a clinician from an encounter; status made → scheduled → linked | declined |
  unreachable | closed, every change a ``ReferralStatusChange`` row (time + actor).
- ``FollowUp``: a care-navigation task created by the follow-up policy (apps/referrals/policy.py),
  assigned to a care navigator, with ``FollowUpAttempt`` rows. Reminders live in apps.reminders.

Writes go through apps/referrals/services.py only. Free text (referral notes, attempt notes) is
clinical-ish content and stored encrypted like clinical narrative.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from apps.core.crypto import EncryptedTextField


class ReferralType(models.TextChoices):
    OUTPATIENT_MH = "outpatient_mental_health", "Outpatient mental health"
    SUBSTANCE_USE = "substance_use_treatment", "Substance-use treatment"
    CRISIS_FACILITY = "crisis_facility", "Crisis facility"
    PRIMARY_CARE = "primary_care", "Primary care"
    HOUSING = "housing", "Housing"
    PEER_SUPPORT = "peer_support", "Peer support"
    MOBILE_CRISIS = "988_mobile_crisis", "988 / mobile crisis"
    OTHER = "other", "Other"


class Agency(models.Model):
    name = models.CharField(max_length=200, unique=True)
    type = models.CharField(max_length=32, choices=ReferralType.choices, default=ReferralType.OTHER)
    phone = models.CharField(max_length=32, blank=True)
    email = models.EmailField(blank=True)
    address = models.CharField(max_length=300, blank=True)
    hours = models.CharField(max_length=500, blank=True, help_text="Opening hours, as text.")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "agencies"

    def __str__(self) -> str:
        return self.name


class Referral(models.Model):
    class Status(models.TextChoices):
        MADE = "made", "Made"
        SCHEDULED = "scheduled", "Scheduled"
        LINKED = "linked", "Linked (attended)"
        DECLINED = "declined", "Declined"
        UNREACHABLE = "unreachable", "Unreachable"
        CLOSED = "closed", "Closed"

    # Legal transitions; everything else is a 409 with the current status.
    TRANSITIONS: dict[str, frozenset[str]] = {
        "made": frozenset({"scheduled", "linked", "declined", "unreachable", "closed"}),
        "scheduled": frozenset({"linked", "declined", "unreachable", "closed"}),
        "linked": frozenset(),
        "declined": frozenset(),
        "unreachable": frozenset(),
        "closed": frozenset(),
    }
    OPEN = frozenset({"made", "scheduled"})

    id = models.UUIDField(primary_key=True, default=uuid.uuid4)  # client-generated for offline creation
    person = models.ForeignKey("clinical.Person", on_delete=models.PROTECT, related_name="referrals")
    encounter = models.ForeignKey("clinical.Encounter", on_delete=models.PROTECT, related_name="referrals")
    type = models.CharField(max_length=32, choices=ReferralType.choices)
    agency = models.ForeignKey(Agency, null=True, blank=True, on_delete=models.PROTECT, related_name="referrals")
    notes = EncryptedTextField(blank=True, default="")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.MADE)
    status_reason = models.CharField(max_length=500, blank=True)
    scheduled_for = models.DateTimeField(null=True, blank=True, help_text="Appointment time, once scheduled.")
    made_at = models.DateTimeField(default=timezone.now)
    made_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status_changed_at = models.DateTimeField(default=timezone.now)
    status_changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-made_at"]
        indexes = [
            models.Index(fields=["encounter", "made_at"], name="referral_encounter_idx"),
            models.Index(fields=["person", "status"], name="referral_person_status_idx"),
        ]

    def __str__(self) -> str:
        return f"Referral {self.id} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class ReferralStatusChange(models.Model):
    referral = models.ForeignKey(Referral, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    reason = models.CharField(max_length=500, blank=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '∅'} → {self.to_status}"


class FollowUpQuerySet(models.QuerySet["FollowUp"]):
    def open(self) -> FollowUpQuerySet:
        return self.filter(status=FollowUp.Status.OPEN)


class FollowUp(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done (contact made)"
        CLOSED = "closed", "Closed"

    class Reason(models.TextChoices):
        HIGH_RISK = "high_risk", "Contact after a high-risk encounter"
        IVC_RELEASED = "ivc_released", "Contact after release from IVC"
        REFERRAL = "referral", "Contact after a referral"
        ED_LINKAGE = "ed_linkage", "Linkage check after an ED transport"

    # A named reverse relation (not "+"): the person merge moves every related row it can see.
    person = models.ForeignKey(
        "clinical.Person", null=True, blank=True, on_delete=models.PROTECT, related_name="followups"
    )
    encounter = models.ForeignKey("clinical.Encounter", on_delete=models.PROTECT, related_name="followups")
    referral = models.ForeignKey(Referral, null=True, blank=True, on_delete=models.PROTECT, related_name="followups")
    reason = models.CharField(max_length=16, choices=Reason.choices)
    # Which policy rule made it (e.g. "referral:<uuid>", "encounter:<uuid>:ed_linkage:7"): unique, so
    # applying the policy again (a retry, the sweep) never creates a second task.
    policy_key = models.CharField(max_length=120, unique=True)
    due_at = models.DateTimeField()
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="followups")
    # Bumped on every reassignment: reminder dedupe keys carry it, so the new assignee's reminders are new rows.
    assignment_version = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    failed_attempts = models.PositiveSmallIntegerField(default=0)
    closed_reason = models.CharField(max_length=500, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "id"]
        verbose_name = "follow-up"
        indexes = [
            # The queue: open tasks by assignee and due time; the overdue view: open tasks by due time.
            models.Index(fields=["assignee", "due_at"], condition=Q(status="open"), name="followup_open_assignee_idx"),
            models.Index(fields=["due_at"], condition=Q(status="open"), name="followup_open_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(closed_reason="") | Q(status="done"),
                name="followup_closed_has_reason",
            )
        ]

    def __str__(self) -> str:
        return f"Follow-up {self.pk} ({self.status})"

    @property
    def is_open(self) -> bool:
        return self.status == self.Status.OPEN


class FollowUpAttempt(models.Model):
    class Method(models.TextChoices):
        PHONE = "phone", "Phone"
        TEXT = "text", "Text message"
        VISIT = "visit", "Visit"
        EMAIL = "email", "E-mail"
        OTHER = "other", "Other"

    class Outcome(models.TextChoices):
        REACHED = "reached", "Reached"
        NO_ANSWER = "no_answer", "No answer"
        DECLINED = "declined", "Declined"
        WRONG_NUMBER = "wrong_number", "Wrong number"
        LINKED = "linked", "Linked (attended the referral)"

    FAILED = frozenset({"no_answer", "wrong_number"})

    followup = models.ForeignKey(FollowUp, on_delete=models.CASCADE, related_name="attempts")
    at = models.DateTimeField()
    method = models.CharField(max_length=8, choices=Method.choices)
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    note = EncryptedTextField(blank=True, default="")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.method} {self.outcome} at {self.at:%Y-%m-%d %H:%M}Z"
