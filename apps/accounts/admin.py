from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django.http import HttpRequest

from .models import User
from .roles import ALL_ROLES, Role
from .services import user_set_roles


class UserChangeWithRoles(UserChangeForm[User]):
    roles = forms.MultipleChoiceField(choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple)


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    """People and their roles. apps.security extends it (MFA column, MFA reset, lost-phone revoke)."""

    form = UserChangeWithRoles
    list_display = ["username", "first_name", "last_name", "role_list", "is_active", "last_login"]
    list_filter = ["groups", "is_active", "is_staff"]
    search_fields = ["username", "first_name", "last_name", "email"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Person", {"fields": ("first_name", "last_name", "email", "phone")}),
        ("Roles", {"fields": ("roles", "is_active"), "description": "Admin access follows the roles."}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )

    @admin.display(description="roles")
    def role_list(self, obj: User) -> str:
        return ", ".join(sorted(obj.roles))

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).prefetch_related("groups")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any) -> Any:
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "roles" in form.base_fields:
            form.base_fields["roles"].initial = sorted(obj.roles)
        return form

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if "roles" in form.cleaned_data:
            user_set_roles(user=obj, roles=form.cleaned_data["roles"])


# Roles are groups created by migrations; their permissions are managed there, not by hand.
class GroupAdmin(admin.ModelAdmin[Group]):
    list_display = ["name"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser) and (obj is None or obj.name not in ALL_ROLES)


admin.site.unregister(Group)
admin.site.register(Group, GroupAdmin)
