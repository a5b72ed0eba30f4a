from __future__ import annotations

from django.urls import URLPattern, URLResolver, path

from .apis import ReminderListApi

urlpatterns: list[URLPattern | URLResolver] = [
    path("reminders/", ReminderListApi.as_view(), name="reminder-list"),
]
