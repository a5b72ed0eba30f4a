from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Lockout, SecurityEvent


@admin.register(SecurityEvent)
class SecurityEventAdmin(admin.ModelAdmin[SecurityEvent]):
    """Read-only, filterable audit of security events (kept ≥ 1 year; nobody edits or deletes them)."""

    list_display = ["created_at", "kind", "username", "ip", "path"]
    list_filter = ["kind", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["username", "ip", "path"]
    date_hierarchy = "created_at"
    list_select_related = ["user"]
    readonly_fields = ["created_at", "kind", "user", "username", "ip", "user_agent", "path", "details"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class LockedNowFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("locked", "locked out now"), ("failing", "recent failures, not locked")]

    def queryset(self, request: HttpRequest, queryset: Any) -> Any:
        from django.utils import timezone

        now = timezone.now()
        if self.value() == "locked":
            return queryset.filter(locked_until__gt=now)
        if self.value() == "failing":
            return queryset.exclude(locked_until__gt=now).filter(failures__gt=0)
        return queryset


@admin.register(Lockout)
class LockoutAdmin(admin.ModelAdmin[Lockout]):
    """Accounts and addresses with failed sign-ins; "Unlock" lifts a lockout (audited)."""

    list_display = ["key", "scope", "locked_now", "locked_until", "failures", "last_failure_at", "lockouts"]
    list_filter = [LockedNowFilter, "scope"]
    search_fields = ["key"]
    readonly_fields = ["scope", "key", "failures", "window_started_at", "last_failure_at", "locked_until", "lockouts"]
    actions = ["unlock"]

    @admin.display(description="locked", boolean=True)
    def locked_now(self, obj: Lockout) -> bool:
        return obj.is_locked()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Unlock (lift the lockout and forget the failures)", permissions=["change"])
    def unlock(self, request: HttpRequest, queryset: Any) -> None:
        from .lockout import lockout_lift

        lifted = sum(1 for row in queryset if lockout_lift(lockout=row, by=request.user, request=request))
        self.message_user(request, f"{lifted} lockout(s) lifted.")
