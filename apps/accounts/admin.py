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

from apps.security.mfa import mfa_reset

from .models import ApiKey, User
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

    actions = ["reset_mfa"]

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


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin[ApiKey]):
    list_display = ["name", "prefix", "user", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at"]
    fields = ["name", "user", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, secret = ApiKey.generate(name=obj.name, user=obj.user)
        obj.pk = key.pk
        obj.prefix = key.prefix
        obj.hashed_secret = key.hashed_secret
        obj.created_at = key.created_at
        self.message_user(
            request, f"API key created. Copy it now, it is not shown again: {secret}", level=messages.WARNING
        )

    @admin.action(description="Revoke selected keys")
    def revoke(self, request: HttpRequest, queryset: Any) -> None:
        from django.utils import timezone

        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, f"{count} key(s) revoked.")


# Roles are groups created by migrations; their permissions are managed there, not by hand.
class GroupAdmin(admin.ModelAdmin[Group]):
    list_display = ["name"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and (obj is None or obj.name not in ALL_ROLES)


admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)
