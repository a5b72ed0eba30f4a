"""The supervisor's daily tool: shifts by day/week and team, a copy-to-next-week action, a recurring
pattern generator that reports conflicts instead of creating them, and a 7-day coverage view.

Every save goes through apps.shifts.services, so the admin enforces the same rules as the API and
shows their messages as form errors.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from apps.accounts.models import User
from apps.accounts.roles import Role
from apps.core.timefmt import local_day_bounds, local_range, local_today, to_local
from apps.teams.models import Team

from .models import Shift, ShiftMember
from .selectors import coverage_gaps
from .services import (
    MemberSpec,
    lock_people,
    shift_create,
    shift_delete,
    shift_problems,
    shift_update,
    shifts_copy,
    shifts_generate,
)


class WindowFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "when"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("today", "Today"),
            ("tomorrow", "Tomorrow"),
            ("this_week", "This week (Mon–Sun)"),
            ("next_week", "Next week"),
            ("next_7", "Next 7 days"),
            ("past", "Past"),
        ]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Shift]) -> QuerySet[Shift]:
        today = local_today()
        monday = today - dt.timedelta(days=today.weekday())
        windows = {
            "today": (today, today),
            "tomorrow": (today + dt.timedelta(days=1), today + dt.timedelta(days=1)),
            "this_week": (monday, monday + dt.timedelta(days=6)),
            "next_week": (monday + dt.timedelta(days=7), monday + dt.timedelta(days=13)),
            "next_7": (today, today + dt.timedelta(days=6)),
        }
        value = self.value()
        if value == "past":
            return queryset.filter(ends_at__lte=timezone.now())
        if value in windows:
            first, last = windows[value]
            return queryset.filter(starts_at__lt=local_day_bounds(last)[1], ends_at__gt=local_day_bounds(first)[0])
        return queryset


class ShiftMemberFormSet(BaseInlineFormSet):  # type: ignore[type-arg]
    """Validates the whole shift (times + members together) with the service's rules."""

    def member_specs(self) -> list[MemberSpec]:
        specs = []
        for form in self.forms:
            if not form.cleaned_data or form.cleaned_data.get("DELETE"):
                continue
            user, role = form.cleaned_data.get("user"), form.cleaned_data.get("role")
            if user is not None and role:
                specs.append(MemberSpec(user=user, role=role))
        return specs

    def clean(self) -> None:
        super().clean()
        if any(self.errors):
            return
        specs = self.member_specs()
        shift: Shift = self.instance
        team = getattr(shift, "team", None) if shift.team_id else None
        # The admin validates and saves inside one transaction (changeform_view is atomic): lock the
        # people as shift_create does, so two supervisors saving at once cannot double-book someone.
        if transaction.get_connection().in_atomic_block:
            lock_people(specs)
        problems = shift_problems(
            team=team,
            starts_at=shift.starts_at,
            ends_at=shift.ends_at,
            members=specs,
            exclude_shift_id=shift.pk,
        )
        member_problems = problems.pop("members", [])
        if member_problems:
            raise ValidationError(member_problems)


class ShiftMemberInline(admin.TabularInline[ShiftMember, Shift]):
    model = ShiftMember
    formset = ShiftMemberFormSet
    extra = 2
    min_num = 1
    autocomplete_fields = ["user"]


class ShiftForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Shift
        fields = ["team", "starts_at", "ends_at", "note"]

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        problems = shift_problems(
            team=data.get("team"), starts_at=data.get("starts_at"), ends_at=data.get("ends_at"), members=[]
        )
        problems.pop("members", None)  # checked with the inline rows, which hold the members
        for field, messages_ in problems.items():
            for message in messages_:
                self.add_error(field if field in self.fields else None, message)
        return data


def _service_entry(obj: Shift) -> LogEntry:
    """The history entry the service just wrote for ``obj``."""
    content_type = ContentType.objects.get_for_model(obj, for_concrete_model=False)
    return LogEntry.objects.filter(content_type=content_type, object_id=str(obj.pk)).latest("action_time", "pk")


@admin.register(Shift)
class ShiftAdmin(admin.ModelAdmin[Shift]):
    form = ShiftForm
    inlines = [ShiftMemberInline]
    list_display = ["team", "window", "member_list", "note"]
    list_filter = [WindowFilter, "team"]
    search_fields = [
        "team__call_sign",
        "members__user__username",
        "members__user__first_name",
        "members__user__last_name",
    ]
    date_hierarchy = "starts_at"
    actions = ["copy_to_next_week"]
    list_select_related = ["team"]
    change_list_template = "admin/shifts/shift/change_list.html"

    def get_queryset(self, request: HttpRequest) -> QuerySet[Shift]:
        return super().get_queryset(request).prefetch_related("members__user")

    @admin.display(description="when (America/New_York)", ordering="starts_at")
    def window(self, obj: Shift) -> str:
        return local_range(obj.starts_at, obj.ends_at)

    @admin.display(description="members")
    def member_list(self, obj: Shift) -> str:
        return ", ".join(f"{m.user.display_name} ({m.role})" for m in obj.members.all())

    # Every write goes through apps.shifts.services (audited there, shift.* events to the board):
    # the form and the member rows are validated first, then saved together by the service.
    def save_model(self, request: HttpRequest, obj: Shift, form: Any, change: bool) -> None:
        pass  # saved with its members in save_related

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        obj: Shift = form.instance
        (members_formset,) = [f for f in formsets if isinstance(f, ShiftMemberFormSet)]
        specs = members_formset.member_specs()
        fields = {"team": obj.team, "starts_at": obj.starts_at, "ends_at": obj.ends_at, "members": specs}
        if change:
            shift_update(shift=obj, note=obj.note, by=request.user, **fields)  # type: ignore[arg-type]
            return
        created = shift_create(note=obj.note, created_by=request.user, **fields)  # type: ignore[arg-type]
        obj.pk, obj.created_by, obj.created_at = created.pk, created.created_by, created.created_at
        obj._state.adding = False

    def delete_model(self, request: HttpRequest, obj: Shift) -> None:
        shift_delete(shift=obj, by=request.user)  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Shift]) -> None:
        for shift in queryset.select_related("team"):
            shift_delete(shift=shift, by=request.user)  # type: ignore[arg-type]

    # The services write the admin history (LogEntry) inside their transaction: no second entry here.
    def construct_change_message(self, request: HttpRequest, form: Any, formsets: Any, add: bool = False) -> list[Any]:
        return []  # the service describes the change in its own entry

    def log_addition(self, request: HttpRequest, obj: Shift, message: Any) -> LogEntry:
        return _service_entry(obj)

    def log_change(self, request: HttpRequest, obj: Shift, message: Any) -> LogEntry:
        return _service_entry(obj)

    def log_deletions(self, request: HttpRequest, queryset: Any) -> list[LogEntry]:
        return []  # called before the delete: shift_delete writes the entry

    @admin.action(description="Copy selected shifts to the next week (same local times)")
    def copy_to_next_week(self, request: HttpRequest, queryset: QuerySet[Shift]) -> None:
        result = shifts_copy(shifts=queryset.select_related("team"), days=7, created_by=request.user)  # type: ignore[arg-type]
        if result.created:
            self.message_user(request, f"Copied {len(result.created)} shift(s) to next week.", messages.SUCCESS)
        for label, problems in result.conflicts:
            text = "; ".join(m for ms in problems.values() for m in ms)
            self.message_user(request, f"Not copied: {label}: {text}", messages.WARNING)

    def get_urls(self) -> list[Any]:
        extra = [
            path("generate/", self.admin_site.admin_view(self.generate_view), name="shifts_shift_generate"),
            path("coverage/", self.admin_site.admin_view(self.coverage_view), name="shifts_shift_coverage"),
        ]
        return extra + super().get_urls()

    def generate_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_add_permission(request):
            return HttpResponse(status=403)
        form = PatternForm(request.POST or None)
        result = None
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            members = [MemberSpec(user=u, role=ShiftMember.Role.CLINICIAN) for u in data["clinicians"]]
            members += [MemberSpec(user=u, role=ShiftMember.Role.OFFICER) for u in data["officers"]]
            result = shifts_generate(
                team=data["team"],
                members=members,
                weekdays=[int(d) for d in data["weekdays"]],
                start_time=data["start_time"],
                end_time=data["end_time"],
                first_day=data["first_day"],
                weeks=data["weeks"],
                created_by=request.user,  # type: ignore[arg-type]
            )
            if result.created:
                self.message_user(request, f"Created {len(result.created)} shift(s).", messages.SUCCESS)
            if result.conflicts:
                self.message_user(
                    request,
                    f"{len(result.conflicts)} occurrence(s) not created: see the list below.",
                    messages.WARNING,
                )
        context = {
            **self.admin_site.each_context(request),
            "title": "Generate a recurring shift pattern",
            "form": form,
            "result": result,
            "opts": self.model._meta,
            "created_rows": [(s.pk, str(s)) for s in result.created] if result else [],
            "conflict_rows": [
                (label, "; ".join(m for ms in problems.values() for m in ms)) for label, problems in result.conflicts
            ]
            if result
            else [],
        }
        return TemplateResponse(request, "admin/shifts/shift/generate.html", context)

    def coverage_view(self, request: HttpRequest) -> HttpResponse:
        if not self.has_view_permission(request):
            return HttpResponse(status=403)
        start = local_day_bounds(local_today())[0]
        end = start + dt.timedelta(days=7)
        gaps = coverage_gaps(start=start, end=end)
        rows = [(local_range(g.starts_at, g.ends_at), round(g.hours, 2)) for g in gaps]
        context = {
            **self.admin_site.each_context(request),
            "title": "Co-response coverage, next 7 days",
            "opts": self.model._meta,
            "window": local_range(start, end),
            "rows": rows,
            "total_hours": round(sum(g.hours for g in gaps), 2),
            "generated_at": to_local(timezone.now()),
            "shift_list_url": reverse("admin:shifts_shift_changelist"),
        }
        return TemplateResponse(request, "admin/shifts/shift/coverage.html", context)


WEEKDAYS = [("0", "Mon"), ("1", "Tue"), ("2", "Wed"), ("3", "Thu"), ("4", "Fri"), ("5", "Sat"), ("6", "Sun")]


class PatternForm(forms.Form):
    team = forms.ModelChoiceField(queryset=Team.objects.filter(is_active=True))
    clinicians = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(groups__name=Role.CLINICIAN, is_active=True), required=False
    )
    officers = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(groups__name=Role.OFFICER, is_active=True), required=False
    )
    weekdays = forms.MultipleChoiceField(
        choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple, initial=["0", "1", "2", "3", "4"]
    )
    start_time = forms.TimeField(initial=dt.time(8, 0), help_text="Local time (America/New_York).")
    end_time = forms.TimeField(initial=dt.time(18, 0), help_text="At or before the start means the next day.")
    first_day = forms.DateField(initial=local_today)
    weeks = forms.IntegerField(min_value=1, max_value=26, initial=4)

    def clean(self) -> dict[str, Any]:
        data: dict[str, Any] = super().clean() or {}
        if not data.get("clinicians") and not data.get("officers"):
            raise ValidationError("Choose the people who work this pattern.")
        return data
