from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest

from .models import Team, TeamMembership
from .services import MembershipSpec, team_delete, team_save


class TeamMembershipFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    def membership_specs(self) -> list[MembershipSpec]:
        specs = []
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            user, role = form.cleaned_data.get("user"), form.cleaned_data.get("role")
            if user is not None and role:
                specs.append(MembershipSpec(user=user, role=role))
        return specs


class TeamMembershipInline(admin.TabularInline[TeamMembership, Team]):
    model = TeamMembership
    formset = TeamMembershipFormSet
    extra = 1
    autocomplete_fields = ["user"]


def _service_entry(obj: Team) -> LogEntry:
    """The history entry the service just wrote for ``obj``."""
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return LogEntry.objects.filter(content_type=content_type, object_id=str(obj.pk)).latest("action_time", "pk")


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    """Every write goes through apps.teams.services (audited there, team.* events to the board)."""

    list_display = ["call_sign", "name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["call_sign", "name", "memberships__user__username", "memberships__user__last_name"]
    inlines = [TeamMembershipInline]

    def save_model(self, request: HttpRequest, obj: Team, form: Any, change: bool) -> None:
        pass  # saved with its memberships in save_related

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        (memberships,) = [f for f in formsets if isinstance(f, TeamMembershipFormSet)]
        team_save(team=form.instance, memberships=memberships.membership_specs(), by=request.user)  # type: ignore[arg-type]

    def delete_model(self, request: HttpRequest, obj: Team) -> None:
        team_delete(team=obj, by=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Team]) -> None:
        for team in queryset:
            team_delete(team=team, by=request.user)  # type: ignore[arg-type]

    # The services write the admin history (LogEntry) inside their transaction: no second entry here.
    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any, add: bool = False) -> list[Any]:
        return []  # the service describes the change in its own entry

    def log_addition(self, request: HttpRequest, obj: Team, message: Any) -> LogEntry:
        return _service_entry(obj)

    def log_change(self, request: HttpRequest, obj: Team, message: Any) -> LogEntry:
        return _service_entry(obj)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> list[LogEntry]:
        return []  # called before the delete: team_delete writes the entry
