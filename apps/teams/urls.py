from __future__ import annotations

from django.urls import path

from apps.shifts.apis import OnDutyApi

urlpatterns = [path("teams/on-duty/", OnDutyApi.as_view(), name="teams-on-duty")]
