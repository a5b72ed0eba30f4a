from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from . import sessions
from .models import Lockout, SecurityEvent, UserSession


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


class SessionStateFilter(admin.SimpleListFilter):
    title = "state"
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("active", "active (not ended)"), ("ended", "ended")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[UserSession]) -> QuerySet[UserSession]:
        if self.value() == "active":
            return queryset.filter(ended_at__isnull=True)
        if self.value() == "ended":
            return queryset.filter(ended_at__isnull=False)
        return queryset


# Never the session key: it is a bearer credential.
SESSION_FIELDS: list[str] = ["user", "device", "label", "user_agent", "ip", "created_at", "last_activity_at",
                             "locked_at", "ended_at", "end_reason"]  # fmt: skip


@admin.register(UserSession)
class UserSessionAdmin(admin.ModelAdmin[UserSession]):
    """Sign-ins (one row per signed-in browser / phone); "Revoke" signs the selected ones out at once."""

    list_display = ["created_at", "user", "label", "ip", "last_activity_at", "locked_at", "ended_at", "end_reason"]
    list_filter = [SessionStateFilter, "end_reason", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["user__username", "ip", "label"]
    list_select_related = ["user"]
    fields = list[Any](SESSION_FIELDS)
    readonly_fields = SESSION_FIELDS
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected sessions (sign those browsers / phones out now)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[UserSession]) -> None:
        count = sum(
            sessions.session_revoke(session_id=row.pk, by=request.user, request=request) is not None
            for row in queryset.filter(ended_at__isnull=True)
        )
        self.message_user(request, f"{count} session(s) revoked.", messages.SUCCESS)


@admin.action(description="Revoke all sessions and push subscriptions (lost phone)")
def revoke_user_devices(model_admin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
    """For the User admin: the supervisor's lost-phone action for the selected people."""
    totals = {"sessions_revoked": 0, "push_subscriptions_removed": 0, "devices_revoked": 0}
    for user in queryset:
        result = sessions.user_revoke_devices(user_id=user.pk, by=request.user, request=request).as_dict()
        totals = {k: totals[k] + result[k] for k in totals}
    model_admin.message_user(
        request,
        f"{totals['sessions_revoked']} session(s) ended, {totals['push_subscriptions_removed']} push "
        f"subscription(s) removed, {totals['devices_revoked']} device(s) revoked.",
        messages.SUCCESS,
    )
