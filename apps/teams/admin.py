from __future__ import annotations

from django.contrib import admin

from .models import Team, TeamMembership


class TeamMembershipInline(admin.TabularInline[TeamMembership, Team]):
    model = TeamMembership
    extra = 1
    autocomplete_fields = ["user"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin[Team]):
    list_display = ["call_sign", "name", "kind", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["call_sign", "name", "memberships__user__username", "memberships__user__last_name"]
    inlines = [TeamMembershipInline]
