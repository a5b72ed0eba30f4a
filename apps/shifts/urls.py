from __future__ import annotations

from django.urls import path

from .apis import ShiftDetailApi, ShiftListApi

urlpatterns = [
    path("shifts/", ShiftListApi.as_view(), name="shift-list"),
    path("shifts/<int:shift_id>/", ShiftDetailApi.as_view(), name="shift-detail"),
]
