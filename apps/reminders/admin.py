"""Reminders in the admin: read-only rows with their per-channel deliveries, a cancel action that
goes through the service, and the Celery beat schedule shown above the list."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from .models import Delivery, Reminder
from .services import reminders_cancel


class DueFilter(admin.SimpleListFilter):
    title = "due"
    parameter_name = "due"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("past", "Past due"), ("hour", "Next hour"), ("day", "Next 24 hours"), ("later", "Later")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> QuerySet[Reminder]:
        now = timezone.now()
        value = self.value()
        if value == "past":
            return queryset.filter(due_at__lte=now)
        if value == "hour":
            return queryset.filter(due_at__gt=now, due_at__lte=now + dt.timedelta(hours=1))
        if value == "day":
            return queryset.filter(due_at__gt=now, due_at__lte=now + dt.timedelta(days=1))
        if value == "later":
            return queryset.filter(due_at__gt=now + dt.timedelta(days=1))
        return queryset


class DeliveryInline(admin.TabularInline[Delivery, Reminder]):
    model = Delivery
    extra = 0
    can_delete = False
    fields = ["channel", "outcome", "detail", "at"]
    readonly_fields = ["channel", "outcome", "detail", "at"]

    def has_add_permission(self, request: HttpRequest, obj: Reminder | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Reminder | None = None) -> bool:
        return False


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin[Reminder]):
    list_display = ["due_at", "kind", "recipient", "status", "attempts", "sent_at", "subject_type", "subject_id"]
    list_filter = ["status", "kind", DueFilter]
    date_hierarchy = "due_at"
    search_fields = ["recipient__username", "dedupe_key", "subject_id"]
    list_select_related = ["recipient"]
    readonly_fields = [f.name for f in Reminder._meta.fields]
    inlines = [DeliveryInline]
    actions = ["cancel_selected"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # reminders are scheduled by the subsystems, through apps.reminders.services

    def has_change_permission(self, request: HttpRequest, obj: Reminder | None = None) -> bool:
        return False

    @admin.action(description="Cancel selected reminders (scheduled ones only)")
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Reminder]) -> None:
        count = reminders_cancel(ids=list(queryset.values_list("id", flat=True)), reason="cancelled in admin")
        self.message_user(request, f"Cancelled {count} scheduled reminder(s).", messages.SUCCESS)

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        schedule = [{"name": name, **entry} for name, entry in sorted(settings.CELERY_BEAT_SCHEDULE.items())]
        context = {
            **(extra_context or {}),
            "beat_schedule": schedule,
            "sending_timeout": settings.REMINDERS_SENDING_TIMEOUT_SECONDS,
        }
        return super().changelist_view(request, extra_context=context)
