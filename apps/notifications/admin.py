"""SMS and voice in the admin: people's numbers (edited through the services), every telephone stage
sent, every reply received; a banner when no provider is configured (the stages are then skipped)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse

from apps.core.errors import ApplicationError

from .models import Inbound, Notification, PhoneNumber
from .phones import phone_number_remove, phone_number_set_unverified, phone_parse
from .provider import provider_configured, provider_missing


def _banner(request: HttpRequest) -> None:
    if not provider_configured():
        messages.warning(
            request,
            "SMS and voice stages are OFF: no telephony provider is configured (missing: "
            f"{', '.join(provider_missing())}). Escalation ends with Web Push and the dispatcher alert; "
            "numbers cannot be verified. See docs/notifications.md.",
        )


class BannerMixin:
    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        _banner(request)
        response: HttpResponse = super().changelist_view(request, extra_context)  # type: ignore[misc]
        return response


class PhoneNumberForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = PhoneNumber
        fields = ["user", "number"]

    def clean_number(self) -> str:
        try:
            return phone_parse(self.cleaned_data.get("number", ""))
        except ApplicationError as exc:
            raise forms.ValidationError(exc.errors.get("number", [exc.message])) from exc


@admin.register(PhoneNumber)
class PhoneNumberAdmin(BannerMixin, admin.ModelAdmin[PhoneNumber]):
    """A number typed here is stored unverified: the person confirms it with a code in the app
    (My sessions and security → Phone for call alerts) before any text or call goes to it."""

    form = PhoneNumberForm
    list_display = ["user", "number", "verified_at", "sms_opted_out_at", "updated_at"]
    list_filter = [("verified_at", admin.EmptyFieldListFilter), ("sms_opted_out_at", admin.EmptyFieldListFilter)]
    search_fields = ["user__username", "user__first_name", "user__last_name", "number"]
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    readonly_fields = ["verified_at", "sms_opted_out_at", "updated_at"]

    def get_readonly_fields(self, request: HttpRequest, obj: PhoneNumber | None = None) -> list[str]:
        # The person a number belongs to is fixed once saved (delete and add to move it).
        return [*self.readonly_fields, "user"] if obj is not None else list(self.readonly_fields)

    def save_model(self, request: HttpRequest, obj: PhoneNumber, form: Any, change: bool) -> None:
        if change and "number" not in form.changed_data:
            return
        saved = phone_number_set_unverified(user=obj.user, number=obj.number)
        obj.pk, obj.verified_at, obj.sms_opted_out_at = saved.pk, saved.verified_at, saved.sms_opted_out_at
        self.message_user(request, "Saved unverified: the person confirms it with a code in the app.", messages.INFO)

    def delete_model(self, request: HttpRequest, obj: PhoneNumber) -> None:
        phone_number_remove(user=obj.user)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[PhoneNumber]) -> None:
        for phone in queryset.select_related("user"):
            phone_number_remove(user=phone.user)


class ReadOnly(BannerMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Notification)
class NotificationAdmin(ReadOnly):
    list_display = ["created_at", "subject", "user", "channel", "status", "provider_status", "sent_at",
                    "delivered_at", "answered_at", "reply", "attempts", "detail"]  # fmt: skip
    list_filter = ["channel", "status", "reply"]
    search_fields = ["subject", "user__username", "provider_sid"]
    list_select_related = ["user"]
    exclude = ["claim_token"]


@admin.register(Inbound)
class InboundAdmin(ReadOnly):
    """The audit of replies: what each phone asked and what we did. Append-only."""

    list_display = ["received_at", "channel", "user", "from_number", "command", "outcome", "subject", "detail"]
    list_filter = ["channel", "command", "outcome"]
    search_fields = ["user__username", "from_number", "subject", "dedupe_key"]
    list_select_related = ["user"]
