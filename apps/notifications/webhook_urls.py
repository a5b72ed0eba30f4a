"""Twilio's webhooks, under /webhooks/ (signed form posts answered with TwiML: not the JSON API).

Set the number's (or messaging service's) "A message comes in" URL to
``<PUBLIC_BASE_URL>/webhooks/twilio/sms/``; the others are sent with each text and call.
"""

from __future__ import annotations

from django.urls import path

from . import webhooks

urlpatterns = [
    path("twilio/sms/", webhooks.sms_inbound, name="notifications-twilio-sms"),
    path("twilio/status/<uuid:notification_token>/", webhooks.status_callback, name="notifications-twilio-status"),
    path("twilio/voice/<uuid:notification_token>/", webhooks.voice_answer, name="notifications-twilio-voice"),
    path("twilio/voice/<uuid:notification_token>/gather/", webhooks.voice_gather, name="notifications-twilio-gather"),
]
