"""Clinical admin: read-only views that obey the same policy as the API.

- Encounters: supervisors (police-safe categories) and clinical supervisors (clinical content,
  through the same serializers; every opened record is logged). Nothing is edited here: writes go
  through the API's services (signing, addenda, revisions).
- Access log and break-glass: supervisors and clinical supervisors review them, with filters.
- Persons: clinical supervisors.
Roles without a line here see no clinical admin page at all (superusers included).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.errors import ApplicationError

from . import selectors, services
from .audit import access_log_record
from .models import AccessLog, BreakGlass, Encounter, Person
from .policy import Actor
from .serializers import encounter_data

ENCOUNTER_ADMIN_ROLES = frozenset({Role.SUPERVISOR, Role.CLINICAL_SUPERVISOR})
REVIEW_ROLES = frozenset({Role.SUPERVISOR, Role.CLINICAL_SUPERVISOR})
PERSON_ADMIN_ROLES = frozenset({Role.CLINICAL_SUPERVISOR})


def _has(request: HttpRequest, roles: frozenset[str]) -> bool:
    user = request.user
    return isinstance(user, User) and user.is_active and bool(user.roles & roles)


class ReadOnlyRoleAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    roles: frozenset[str] = frozenset()

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _has(request, self.roles)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _has(request, self.roles)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Encounter)
class EncounterAdmin(ReadOnlyRoleAdmin):
    roles = ENCOUNTER_ADMIN_ROLES
    list_display = ["id", "kind", "team", "started_at", "closed_at"]
    list_filter = ["kind", "team"]
    fields = ["id", "kind", "team", "started_at", "closed_at", "record"]
    readonly_fields = ["id", "kind", "team", "started_at", "closed_at", "record"]
    date_hierarchy = "started_at"

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Encounter | None:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and isinstance(request.user, User):
            # The policy decides the visible parts; the read is logged like an API read.
            try:
                view = selectors.encounter_get(
                    actor=Actor.from_request(request, request.user),
                    encounter_id=obj.pk,
                )
            except ApplicationError:
                return None
            obj._admin_payload = encounter_data(view)
        return obj

    @admin.display(description="Record (as your role may see it)")
    def record(self, obj: Encounter) -> str:
        payload = getattr(obj, "_admin_payload", None)
        if payload is None:
            return "—"
        return format_html("<pre style='white-space:pre-wrap'>{}</pre>", json.dumps(payload, indent=2, default=str))


@admin.register(Person)
class PersonAdmin(ReadOnlyRoleAdmin):
    roles = PERSON_ADMIN_ROLES
    list_display = ["last_name", "first_name", "date_of_birth", "merged_into"]
    search_fields = ["last_name", "first_name"]
    exclude = ["search_name"]

    def get_object(self, request: HttpRequest, object_id: str, from_field: str | None = None) -> Person | None:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None and isinstance(request.user, User):
            access_log_record(
                actor=Actor.from_request(request, request.user),
                action=AccessLog.Action.READ,
                record_type="person",
                record_id=obj.pk,
                categories={"subject"},
                person_id=obj.pk,
            )
        return obj


@admin.register(AccessLog)
class AccessLogAdmin(ReadOnlyRoleAdmin):
    roles = REVIEW_ROLES
    list_display = ["at", "user", "roles", "action", "record_type", "record_id", "categories", "break_glass", "ip"]
    list_filter = ["action", "record_type", "break_glass", "at", "user"]
    search_fields = ["record_id", "user__username", "user__last_name", "ip"]
    date_hierarchy = "at"

    def get_queryset(self, request: HttpRequest) -> QuerySet[AccessLog]:
        return super().get_queryset(request).select_related("user")


@admin.register(BreakGlass)
class BreakGlassAdmin(ReadOnlyRoleAdmin):
    roles = REVIEW_ROLES
    list_display = ["opened_at", "user", "encounter", "reason", "expires_at", "reviewed_by", "reviewed_at"]
    list_filter = [("reviewed_at", admin.EmptyFieldListFilter), "opened_at"]
    actions = ["mark_reviewed"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _has(request, self.roles)  # for the review action only: every field is read-only

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in BreakGlass._meta.fields]

    @admin.action(description="Mark as reviewed")
    def mark_reviewed(self, request: HttpRequest, queryset: QuerySet[BreakGlass]) -> None:
        if not isinstance(request.user, User):
            return
        done = 0
        for grant in queryset:
            try:
                services.break_glass_review(reviewer=request.user, grant_id=grant.pk)
                done += 1
            except ApplicationError as exc:
                self.message_user(request, f"{grant}: {exc.message}", level=messages.WARNING)
        self.message_user(request, f"{done} reviewed.")
