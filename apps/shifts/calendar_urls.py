from __future__ import annotations

from django.urls import path

from .calendar import shifts_ical_view

urlpatterns = [path("calendar/<str:token>.ics", shifts_ical_view, name="shifts-ical")]
