"""Incidents are read in the admin (searchable, filterable, timeline inline and read-only); they are
changed only through the services. The call-type and disposition mapping tables are edited here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .models import Assignment, CallType, DispositionCode, Incident, TimelineEntry


class ReadOnlyInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TimelineInline(ReadOnlyInline):
    model = TimelineEntry
    fields = ("at", "kind", "field", "old_value", "new_value", "actor", "assignment")
    readonly_fields = fields
    ordering = ["at", "id"]


class AssignmentInline(ReadOnlyInline):
    model = Assignment
    fields = ("team", "status", "offered_at", "accepted_at", "en_route_at", "on_scene_at", "cleared_at", "end_reason")
    readonly_fields = fields


@admin.register(Incident)
class IncidentAdmin(admin.ModelAdmin[Incident]):
    list_display = ["id", "cad_number", "received_at", "call_type_code", "priority", "status", "triage_outcome", "beat"]
    list_filter = ["status", "source", "behavioral_health", "coresponse_eligible", "triage_outcome", "call_type"]
    search_fields = ["cad_number", "address", "call_type_code", "beat", "district", "subject_name"]
    date_hierarchy = "received_at"
    inlines = [AssignmentInline, TimelineInline]
    list_select_related = ["call_type"]

    def get_readonly_fields(self, request: HttpRequest, obj: Incident | None = None) -> list[str]:
        return [f.name for f in Incident._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # created by dispatchers (API) or the CAD, through the services

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(CallType)
class CallTypeAdmin(admin.ModelAdmin[CallType]):
    list_display = ["local_code", "description", "apco_code", "is_behavioral_health", "is_active"]
    list_filter = ["is_behavioral_health", "is_active"]
    search_fields = ["local_code", "description", "apco_code"]


@admin.register(DispositionCode)
class DispositionCodeAdmin(admin.ModelAdmin[DispositionCode]):
    list_display = ["program_code", "label", "apco_code", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["program_code", "label", "apco_code"]
