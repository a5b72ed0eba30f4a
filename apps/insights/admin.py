"""Admin: supervisors keep the training log; frozen reports are listed read-only with their exports.

Permissions are the roles' model permissions (granted by migrations 0002 and 0003): training records —
supervisors and admins edit, clinical supervisors view; frozen reports — supervisors, clinical
supervisors and analysts view (nobody edits: they are append-only).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from apps.accounts.models import User

from .models import ReportSnapshot, TrainingRecord


class InForceFilter(admin.SimpleListFilter):
    title = "in force today"
    parameter_name = "in_force"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("yes", "In force"), ("no", "Expired")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        today = timezone.localdate()
        if self.value() == "yes":
            return queryset.filter(completed_on__lte=today).exclude(expires_on__lte=today)
        if self.value() == "no":
            return queryset.filter(expires_on__lte=today)
        return queryset


@admin.register(TrainingRecord)
class TrainingRecordAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["person", "course", "course_title", "hours", "completed_on", "expires_on", "in_force"]
    list_filter = ["course", InForceFilter, "completed_on"]
    search_fields = ["person__first_name", "person__last_name", "person__username", "course_title", "provider"]
    date_hierarchy = "completed_on"
    autocomplete_fields = ["person"]
    fields = ["person", "course", "course_title", "hours", "completed_on", "expires_on", "provider", "recorded_by"]
    readonly_fields = ["recorded_by"]
    list_select_related = ["person"]

    @admin.display(boolean=True, description="in force today")
    def in_force(self, obj: TrainingRecord) -> bool:
        return obj.in_force_on(timezone.localdate())

    def save_model(self, request: HttpRequest, obj: TrainingRecord, form: Any, change: bool) -> None:
        if isinstance(request.user, User) and obj.recorded_by_id is None:
            obj.recorded_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ReportSnapshot)
class ReportSnapshotAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["period_key", "version", "frozen_at", "frozen_by", "catalogue_version", "reason"]
    list_filter = ["fiscal_year", "quarter"]
    ordering = ["-fiscal_year", "-quarter", "-version"]
    fields = (
        "period_key",
        "version",
        "frozen_at",
        "frozen_by",
        "reason",
        "supersedes",
        "catalogue_version",
        "content_hash",
        "exports",
    )
    readonly_fields = fields
    list_select_related = ["frozen_by"]

    @admin.display(description="exports")
    def exports(self, obj: ReportSnapshot) -> str:
        base = f"/api/v1/insights/reports/{obj.pk}/"
        return format_html(
            '<a href="{}print/">printable page</a> · <a href="{}csv/">CSV</a> · <a href="{}xlsx/">XLSX</a> '
            "(small cells suppressed for analysts; every download is audited)",
            base,
            base,
            base,
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # frozen from the insights API (a quarter that is over), never typed in

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
