from __future__ import annotations

from django.urls import path

from .apis import EventsResyncApi

urlpatterns = [path("events/", EventsResyncApi.as_view(), name="events-resync")]
