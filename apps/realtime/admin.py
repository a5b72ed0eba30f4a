from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from .models import Device, Escalation, Event, PushSubscription


class ReadOnlyAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "type", "user", "seq"]
    list_filter = ["type"]
    search_fields = ["user__username", "type"]
    readonly_fields = [f.name for f in Event._meta.fields]


@admin.register(Device)
class DeviceAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "label", "last_seen_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["user__username", "id"]
    # apps.security adds the lost-phone revoke action (its sessions, push subscription, the device).


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["subject", "team_label", "created_at", "acknowledged_at", "push_fired_at", "alert_fired_at",
                    "reassign_fired_at", "resolved_at", "resolution"]  # fmt: skip
    search_fields = ["subject", "team_label"]


@admin.register(PushSubscription)
class PushSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["device", "user", "created_at", "last_success_at"]
    search_fields = ["user__username"]
