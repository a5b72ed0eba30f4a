from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import F, Q


class ShiftQuerySet(models.QuerySet["Shift"]):
    def covering(self, at: dt.datetime) -> ShiftQuerySet:
        """Shifts on duty at ``at`` (start inclusive, end exclusive, so back-to-back shifts never overlap)."""
        return self.filter(starts_at__lte=at, ends_at__gt=at)

    def overlapping(self, start: dt.datetime, end: dt.datetime) -> ShiftQuerySet:
        return self.filter(starts_at__lt=end, ends_at__gt=start)


class Shift(models.Model):
    """One team call sign staffed by named people for a time window (stored in UTC)."""

    team = models.ForeignKey("teams.Team", on_delete=models.PROTECT, related_name="shifts")
    starts_at = models.DateTimeField(db_index=True)
    ends_at = models.DateTimeField(db_index=True)
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ShiftQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at", "team__call_sign"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_at__gt=F("starts_at")), name="shift_ends_after_start"),
        ]
        indexes = [models.Index(fields=["team", "starts_at"], name="shift_team_start_idx")]

    def __str__(self) -> str:
        from apps.core.timefmt import local_range

        return f"{self.team.call_sign} {local_range(self.starts_at, self.ends_at)}"

    def covers(self, moment: dt.datetime) -> bool:
        return self.starts_at <= moment < self.ends_at

    @property
    def duration(self) -> dt.timedelta:
        # In UTC: two datetimes sharing a tzinfo subtract by wall clock (wrong across a DST change).
        return self.ends_at.astimezone(dt.UTC) - self.starts_at.astimezone(dt.UTC)


class ShiftMember(models.Model):
    class Role(models.TextChoices):
        CLINICIAN = "clinician", "Clinician"
        OFFICER = "officer", "Officer"
        OTHER = "other", "Other (peer, trainee)"

    shift = models.ForeignKey(Shift, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="shift_memberships")
    role = models.CharField(max_length=16, choices=Role.choices)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["shift", "user"], name="shift_member_unique")]
        ordering = ["role", "user__last_name"]

    def __str__(self) -> str:
        return f"{self.user} ({self.get_role_display()})"
