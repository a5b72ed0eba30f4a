from __future__ import annotations

from django.urls import path

from .apis import (
    DeliveryBoardApi,
    EventsResyncApi,
    PushSubscriptionApi,
    ReceiptCreateApi,
    VapidPublicKeyApi,
)

urlpatterns = [
    path("events/", EventsResyncApi.as_view(), name="events-resync"),
    path("events/receipts/", ReceiptCreateApi.as_view(), name="events-receipts"),
    path("delivery/board/", DeliveryBoardApi.as_view(), name="delivery-board"),
    path("push/subscriptions/", PushSubscriptionApi.as_view(), name="push-subscriptions"),
    path("push/vapid-public-key/", VapidPublicKeyApi.as_view(), name="push-vapid-public-key"),
]
