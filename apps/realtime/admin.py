from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.security.sessions import device_revoke

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
    actions = ["revoke"]

    @admin.action(description="Revoke lost phone (its sessions, push subscription and the device)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        results = [device_revoke(device_id=d.pk, by=request.user, request=request) for d in queryset]
        self.message_user(
            request,
            f"{sum(r.devices_revoked for r in results)} device(s) revoked, "
            f"{sum(r.sessions_revoked for r in results)} session(s) ended, "
            f"{sum(r.push_subscriptions_removed for r in results)} push subscription(s) removed.",
            messages.SUCCESS,
        )


@admin.register(Escalation)
class EscalationAdmin(ReadOnlyAdmin):
    list_display = ["subject", "team_label", "created_at", "acknowledged_at", "push_fired_at", "alert_fired_at",
                    "reassign_fired_at", "resolved_at", "resolution"]  # fmt: skip
    search_fields = ["subject", "team_label"]


@admin.register(PushSubscription)
class PushSubscriptionAdmin(ReadOnlyAdmin):
    list_display = ["device", "user", "created_at", "last_success_at"]
    search_fields = ["user__username"]
