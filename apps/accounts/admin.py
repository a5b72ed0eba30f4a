from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.db.models import Exists, OuterRef
from django.http import HttpRequest
from django_otp.plugins.otp_totp.models import TOTPDevice

from apps.security.admin import revoke_user_devices
from apps.security.mfa import mfa_reset

from .apikeys import IssuedKey, apikey_create, apikey_revoke, apikey_rotate
from .models import ApiKey, ApiKeyScope, User
from .roles import ALL_ROLES, Role
from .services import user_set_roles


class UserChangeWithRoles(UserChangeForm[User]):
    roles = forms.MultipleChoiceField(choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple)


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    form = UserChangeWithRoles
    list_display = ["username", "first_name", "last_name", "role_list", "mfa_enrolled", "is_active", "last_login"]
    list_filter = ["groups", "is_active", "is_staff"]
    search_fields = ["username", "first_name", "last_name", "email"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email", "phone")}),
        ("Roles", {"fields": ("roles", "is_active"), "description": "Admin access follows the roles."}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )

    actions = ["reset_mfa", revoke_user_devices]

    @admin.display(description="roles")
    def role_list(self, obj: User) -> str:
        return ", ".join(sorted(obj.roles))

    @admin.display(description="MFA", boolean=True, ordering="has_mfa")
    def mfa_enrolled(self, obj: User) -> bool:
        return bool(getattr(obj, "has_mfa", False))

    def get_queryset(self, request: HttpRequest) -> Any:
        confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
        return super().get_queryset(request).prefetch_related("groups").annotate(has_mfa=Exists(confirmed))

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

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "roles" in form.base_fields:
            form.base_fields["roles"].initial = sorted(obj.roles)
        return form

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "roles" in form.cleaned_data:
            user_set_roles(user=obj, roles=form.cleaned_data["roles"])


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
    """Keys are created, rotated and revoked through apps.accounts.apikeys (audited); the secret and the
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


# Roles are groups created by migrations; their permissions are managed there, not by hand.
class GroupAdmin(admin.ModelAdmin[Group]):
    list_display = ["name"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and (obj is None or obj.name not in ALL_ROLES)


admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)
