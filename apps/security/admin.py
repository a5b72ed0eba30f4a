from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import Exists, OuterRef, QuerySet
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.accounts.admin import UserAdmin
from apps.accounts.models import ApiKey, ApiKeyScope, User
from apps.realtime.admin import DeviceAdmin
from apps.realtime.models import Device

from . import sessions
from .apikeys import IssuedKey, apikey_create, apikey_revoke, apikey_rotate
from .mfa import mfa_reset
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


class SecuredUserAdmin(UserAdmin):
    """The accounts app's User admin, with the second factor and the lost-phone revoke."""

    list_display = ["username", "first_name", "last_name", "role_list", "mfa_enrolled", "is_active", "last_login"]
    actions = ["reset_mfa", revoke_user_devices]

    @admin.display(description="MFA", boolean=True, ordering="has_mfa")
    def mfa_enrolled(self, obj: User) -> bool:
        return bool(getattr(obj, "has_mfa", False))

    def get_queryset(self, request: HttpRequest) -> Any:
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).annotate(has_mfa=Exists(confirmed))

    @admin.action(
        description="Reset MFA (the person sets up a new authenticator at the next sign-in)", permissions=["change"]
    )
    def reset_mfa(self, request: HttpRequest, queryset: Any) -> None:
        count = 0
        for user in queryset:
            mfa_reset(user=user, by=request.user, request=request)
            count += 1
        self.message_user(
            request,
            f"MFA reset for {count} person(s): their authenticator and recovery codes no longer work; "
            "they set up a new authenticator when they next sign in.",
        )


admin.site.unregister(User)
admin.site.register(User, SecuredUserAdmin)


class ApiKeyForm(forms.ModelForm[ApiKey]):
    scopes = forms.MultipleChoiceField(
        choices=ApiKeyScope.choices,
        required=True,
        initial=[ApiKeyScope.CAD_INTAKE],
        widget=forms.CheckboxSelectMultiple,
        help_text="What this key may call. The CAD needs only CAD intake.",
    )

    class Meta:
        model = ApiKey
        fields = ["name", "user", "scopes", "requires_signature", "revoked_at"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    """Keys are created, rotated and revoked through apps.security.apikeys (audited); the secret and the
    signing secret are shown once in a message, never again."""

    form = ApiKeyForm
    list_display = ["name", "prefix", "user", "scope_list", "requires_signature", "last_used_at", "revoked_at"]
    list_filter = ["requires_signature", ("revoked_at", admin.EmptyFieldListFilter)]
    readonly_fields = ["prefix", "created_at", "rotated_at", "previous_valid_until", "last_used_at", "revoked_at"]
    fields = [
        "name",
        "user",
        "scopes",
        "requires_signature",
        "prefix",
        "created_at",
        "rotated_at",
        "previous_valid_until",
        "last_used_at",
        "revoked_at",
    ]
    actions = ["rotate", "rotate_now", "revoke"]

    @admin.display(description="scopes")
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes or [])

    def _show_once(self, request: HttpRequest, what: str, issued: IssuedKey) -> None:
        self.message_user(
            request,
            f"{what} Copy it now, it is not shown again: {issued.secret} (signing secret: {issued.signing_secret})",
            level=messages.WARNING,
        )

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        issued = apikey_create(
            name=obj.name,
            user=obj.user,
            scopes=list(form.cleaned_data["scopes"]),
            requires_signature=obj.requires_signature,
            by=request.user,
            request=request,
        )
        obj.pk = issued.key.pk
        obj.prefix = issued.key.prefix
        obj.created_at = issued.key.created_at
        self._show_once(request, "API key created.", issued)

    def _rotate(self, request: HttpRequest, queryset: Any, grace_seconds: int | None) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            issued = apikey_rotate(key=key, grace_seconds=grace_seconds, by=request.user, request=request)
            until = issued.key.previous_valid_until
            old = f"The old secret works until {until:%Y-%m-%d %H:%M} UTC." if until else "The old secret stopped."
            self._show_once(request, f"{key.name} rotated. {old}", issued)

    @admin.action(description="Rotate selected keys (old secret works for the grace period)")
    def rotate(self, request: HttpRequest, queryset: Any) -> None:
        self._rotate(request, queryset, None)

    @admin.action(description="Rotate selected keys now (old secret stops at once: leaked key)")
    def rotate_now(self, request: HttpRequest, queryset: Any) -> None:
        self._rotate(request, queryset, 0)

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        count = sum(apikey_revoke(key=key, by=request.user, request=request) for key in queryset)
        self.message_user(request, f"{count} key(s) revoked.")


class RevocableDeviceAdmin(DeviceAdmin):
    """realtime's read-only device list, with the supervisor's lost-phone action."""

    actions = ["revoke"]

    @admin.action(description="Revoke lost phone (its sessions, push subscription and the device)")
    def revoke(self, request: HttpRequest, queryset: QuerySet[Device]) -> None:
        results = [sessions.device_revoke(device_id=d.pk, by=request.user, request=request) for d in queryset]
        self.message_user(
            request,
            f"{sum(r.devices_revoked for r in results)} device(s) revoked, "
            f"{sum(r.sessions_revoked for r in results)} session(s) ended, "
            f"{sum(r.push_subscriptions_removed for r in results)} push subscription(s) removed.",
            messages.SUCCESS,
        )


admin.site.unregister(Device)
admin.site.register(Device, RevocableDeviceAdmin)
