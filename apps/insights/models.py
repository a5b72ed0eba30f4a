"""Program insight: the training log, the monthly rollup the dashboards read, and frozen reports.

- ``TrainingRecord``: who completed which course (CIT 40-hour, ...), hours, when, until when. Edited
  by supervisors in the admin; the CIT measures read it.
- ``RollupMonth`` / ``RollupRow``: per local month, the counts and interval histograms of each measure
  family (apps/insights/compute.py), recomputed from the source tables by apps/insights/rollup.py.
  They are a cache of a pure function of the source data: deleting them loses nothing.
- ``ReportSnapshot``: a quarter frozen for the grant report. Append-only (the model refuses updates
  and deletes; on PostgreSQL a trigger does too, migration 0002); reopening makes a new version.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone


class TrainingRecord(models.Model):
    """One course completed by one person (DOMAIN.md §7: staff trained, course, hours)."""

    class Course(models.TextChoices):
        CIT_40 = "cit_40", "CIT 40-hour (Crisis Intervention Team)"
        CIT_REFRESHER = "cit_refresher", "CIT refresher"
        MHFA = "mhfa", "Mental Health First Aid"
        DE_ESCALATION = "de_escalation", "De-escalation"
        CSSRS = "cssrs", "C-SSRS screening"
        OTHER = "other", "Other (name it)"

    # Courses that make an officer "CIT-trained" while the record is in force (a refresher renews it).
    CIT_COURSES: ClassVar[frozenset[str]] = frozenset({Course.CIT_40, Course.CIT_REFRESHER})

    person = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="training_records")
    course = models.CharField(max_length=24, choices=Course.choices)
    course_title = models.CharField(max_length=200, blank=True, help_text="As on the certificate; required for Other.")
    hours = models.DecimalField(
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(0.5), MaxValueValidator(999)],
        help_text="Contact hours (the CIT course is 40).",
    )
    completed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True, help_text="Empty: does not expire.")
    provider = models.CharField(max_length=200, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-completed_on", "person"]
        indexes = [models.Index(fields=["person", "course", "completed_on"], name="training_person_course_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="training_hours_positive"),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=models.F("completed_on")),
                name="training_expires_after_completion",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.person} – {self.get_course_display()} ({self.completed_on:%Y-%m-%d})"

    def clean(self) -> None:
        errors: dict[str, list[str]] = {}
        if self.course == self.Course.OTHER and not self.course_title.strip():
            errors["course_title"] = ["Name the course."]
        if self.expires_on is not None and self.completed_on is not None and self.expires_on <= self.completed_on:
            errors["expires_on"] = ["The expiry must be after the completion date."]
        if self.completed_on is not None and self.completed_on > timezone.localdate() + dt.timedelta(days=1):
            errors["completed_on"] = ["A course cannot be completed in the future."]
        if errors:
            raise ValidationError(errors)

    def in_force_on(self, day: dt.date) -> bool:
        return self.completed_on <= day and (self.expires_on is None or self.expires_on > day)

    @property
    def is_cit(self) -> bool:
        return self.course in self.CIT_COURSES


class RollupMonth(models.Model):
    """When a local month's rollup rows were last computed (the ``as_of`` the dashboards show)."""

    month = models.DateField(unique=True, help_text="First day of the local month.")
    computed_at = models.DateTimeField()
    seconds = models.FloatField(default=0.0, help_text="How long the computation took.")
    rows = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["month"]

    def __str__(self) -> str:
        return f"rollup {self.month:%Y-%m} at {self.computed_at:%Y-%m-%d %H:%M}"


class RollupRow(models.Model):
    """One cell of one measure family for one local month.

    ``is_total`` rows hold the whole month of the family (every team, call type and source); the
    other rows hold one value of the family's dimensions (team for team families; call type and
    source for the calls family). ``counts`` maps count keys to integers; ``hist`` maps an interval
    measure to its histogram ``{bin index: count}`` (bins: apps/insights/bins.py).
    """

    month = models.DateField()
    family = models.CharField(max_length=16)
    is_total = models.BooleanField(default=False)
    team_id = models.IntegerField(default=0, help_text="0: no team / not a team family.")
    call_type = models.CharField(max_length=20, blank=True)
    source = models.CharField(max_length=20, blank=True)
    counts = models.JSONField(default=dict)
    hist = models.JSONField(default=dict)

    class Meta:
        ordering = ["month", "family", "-is_total", "team_id", "call_type", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "family", "is_total", "team_id", "call_type", "source"], name="rollup_row_unique"
            )
        ]
        indexes = [models.Index(fields=["family", "is_total", "month"], name="rollup_family_month_idx")]

    def __str__(self) -> str:
        return f"{self.family} {self.month:%Y-%m} team={self.team_id} {self.call_type}/{self.source}"


class ReportSnapshot(models.Model):
    """A quarter frozen for the grant report: values, the catalogue they were computed with, who and
    when. Never changed or deleted; a reopened quarter is a new version with a reason."""

    period_key = models.CharField(max_length=16, help_text="FYyyyy-Qn")
    fiscal_year = models.PositiveSmallIntegerField()
    quarter = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(4)])
    version = models.PositiveIntegerField()
    catalogue_version = models.CharField(max_length=20)
    catalogue = models.JSONField(help_text="The data dictionary as it was when frozen.")
    values = models.JSONField(help_text="Every measure, unsuppressed.")
    values_suppressed = models.JSONField(help_text="The same with small cells suppressed (analysts, publication).")
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the values and the catalogue.")
    frozen_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    frozen_at = models.DateTimeField(default=timezone.now)
    reason = models.CharField(max_length=500, blank=True, help_text="Why the quarter was reopened (versions > 1).")
    supersedes = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="superseded_by"
    )

    class Meta:
        ordering = ["-fiscal_year", "-quarter", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["period_key", "version"], name="snapshot_period_version_unique"),
            models.CheckConstraint(condition=Q(version=1) | ~Q(reason=""), name="snapshot_reopen_has_reason"),
        ]

    def __str__(self) -> str:
        return f"{self.period_key} v{self.version}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise RuntimeError("Report snapshots are append-only: reopen the quarter to make a new version.")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise RuntimeError("Report snapshots are append-only.")
