from __future__ import annotations

from django.urls import path

from .apis import OnDutyApi, ShiftDetailApi, ShiftListApi

urlpatterns = [
    path("shifts/", ShiftListApi.as_view(), name="shift-list"),
    path("shifts/<int:shift_id>/", ShiftDetailApi.as_view(), name="shift-detail"),
    # Teams on duty now: a question about shifts, under the teams path the PWA has always used.
    path("teams/on-duty/", OnDutyApi.as_view(), name="teams-on-duty"),
]
