"""Admin: the agency directory (edited by supervisors) and the follow-up list for managing assignments.

Follow-ups are read-only here (they change through apps/referrals/services.py) and show operational
fields only: no reason, no attempt notes, no closure text, so the admin never shows clinical content
to a supervisor who may not see it. Reassignment is an action per active care navigator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import Count, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.clinical.policy import Actor
from apps.core.errors import ApplicationError

from .models import Agency, FollowUp
from .selectors import BUCKETS, bucket_filter
from .services import followup_reassign


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin[Agency]):
    list_display = ["name", "type", "phone", "email", "is_active"]
    list_filter = ["is_active", "type"]
    search_fields = ["name", "address"]
    fields = ["name", "type", "phone", "email", "address", "hours", "is_active"]


class BucketFilter(admin.SimpleListFilter):
    title = "bucket"
    parameter_name = "bucket"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(b, b.replace("_", " ").capitalize()) for b in BUCKETS]

    def queryset(self, request: HttpRequest, queryset: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
        value = self.value()
        if value in BUCKETS:
            return queryset.filter(bucket_filter(value, timezone.now()), status=FollowUp.Status.OPEN)
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    title = "assignee"
    parameter_name = "assignee"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        users = User.objects.filter(followups__isnull=False).distinct().order_by("last_name", "first_name")
        return [(str(u.pk), u.display_name) for u in users]

    def queryset(self, request: HttpRequest, queryset: QuerySet[FollowUp]) -> QuerySet[FollowUp]:
        value = self.value()
        return queryset.filter(assignee_id=int(value)) if value and value.isdigit() else queryset


def _reassign_action(user_id: int) -> Callable[[Any, HttpRequest, QuerySet[FollowUp]], None]:
    def action(modeladmin: Any, request: HttpRequest, queryset: QuerySet[FollowUp]) -> None:
        actor = Actor(user=request.user)  # type: ignore[arg-type]
        done, refused = 0, []
        for pk in queryset.values_list("pk", flat=True):
            try:
                followup_reassign(actor=actor, followup_id=pk, assignee_id=user_id)
                done += 1
            except ApplicationError as exc:
                refused.append(f"{pk}: {exc.message}")
        if done:
            modeladmin.message_user(request, f"Reassigned {done} follow-up(s).", messages.SUCCESS)
        if refused:
            modeladmin.message_user(request, "Not reassigned: " + "; ".join(refused), messages.WARNING)

    return action


@admin.register(FollowUp)
class FollowUpAdmin(admin.ModelAdmin[FollowUp]):
    list_display = ["id", "due_at", "status", "assignee", "encounter_id", "attempts", "failed_attempts"]
    list_filter = [BucketFilter, AssigneeFilter, "status"]
    date_hierarchy = "due_at"
    list_select_related = ["assignee"]
    fields = ["encounter", "referral", "due_at", "status", "assignee", "failed_attempts", "closed_at", "created_at"]
    readonly_fields = ["encounter", "referral", "due_at", "status", "assignee", "failed_attempts", "closed_at"]
    readonly_fields += ["created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[FollowUp]:
        return super().get_queryset(request).annotate(attempt_total=Count("attempts"))

    @admin.display(description="attempts")
    def attempts(self, obj: FollowUp) -> int:
        return int(getattr(obj, "attempt_total", 0))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created by the follow-up policy

    def has_delete_permission(self, request: HttpRequest, obj: FollowUp | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions: dict[str, Any] = super().get_actions(request)
        if not self.has_change_permission(request):
            return actions
        navigators = User.objects.filter(is_active=True, groups__name=Role.CARE_NAVIGATOR).order_by("id")
        for user in navigators:
            name = f"reassign_to_{user.pk}"
            actions[name] = (_reassign_action(user.pk), name, f"Reassign selected to {user.display_name}")
        return actions
