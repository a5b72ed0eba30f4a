from __future__ import annotations

from django.urls import path

from .apis import MyPhoneApi, MyPhoneConfirmApi

urlpatterns = [
    path("me/phone/", MyPhoneApi.as_view(), name="me-phone"),
    path("me/phone/confirm/", MyPhoneConfirmApi.as_view(), name="me-phone-confirm"),
]
