"""A person's own number: parsed to E.164, confirmed by a texted code before any alert goes to it."""

from __future__ import annotations

import re
from typing import Any

from django.urls import reverse

from apps.notifications.models import PhoneNumber, PhoneVerification
from apps.notifications.tests.conftest import verify_phone
from apps.notifications.tests.fake_twilio import FakeTwilio


def code_in(fake: FakeTwilio, to: str) -> str:
    match = re.search(r"code is (\d{6})", fake.messages(to)[-1].body)
    assert match
    return match.group(1)


def test_a_number_is_verified_by_the_code_texted_to_it(fake_twilio: FakeTwilio, api: Any, officer_a: Any) -> None:
    client = api(officer_a)
    assert client.get(reverse("me-phone")).json() == {
        "number": None,
        "verified": False,
        "verified_at": None,
        "sms_opted_out": False,
        "pending_number": None,
        "pending_expires_at": None,
        "sms_configured": True,
    }
    started = client.post(reverse("me-phone"), {"number": "(919) 555-0142"}, format="json")
    assert started.status_code == 202 and started.json()["pending_number"] == "+19195550142"
    assert started.json()["number"] is None
    (text,) = fake_twilio.messages("+19195550142")
    assert "verification code" in text.body
    wrong = client.post(
        reverse("me-phone-confirm"),
        {"code": "000000" if code_in(fake_twilio, "+19195550142") != "000000" else "111111"},
        format="json",
    )
    assert wrong.status_code == 400 and "4 tries left" in wrong.json()["errors"]["code"][0]
    done = client.post(reverse("me-phone-confirm"), {"code": code_in(fake_twilio, "+19195550142")}, format="json")
    assert done.status_code == 200
    assert done.json()["number"] == "+19195550142" and done.json()["verified"] is True
    assert PhoneNumber.objects.get(user=officer_a).is_verified
    # Only a hash of the code is kept.
    assert code_in(fake_twilio, "+19195550142") not in str(list(PhoneVerification.objects.values()))


def test_a_new_number_does_not_replace_the_verified_one_until_confirmed(
    fake_twilio: FakeTwilio, api: Any, officer_a: Any
) -> None:
    verify_phone(officer_a, "+19195550101")
    client = api(officer_a)
    assert client.post(reverse("me-phone"), {"number": "+1 919 555 0177"}, format="json").status_code == 202
    state = client.get(reverse("me-phone")).json()
    assert (state["number"], state["verified"], state["pending_number"]) == ("+19195550101", True, "+19195550177")


def test_bad_numbers_get_a_clear_400(fake_twilio: FakeTwilio, api: Any, officer_a: Any) -> None:
    client = api(officer_a)
    for number, word in [
        ("", "blank"),
        ("banana", "phone number"),
        ("+1 555", "valid"),
        ("+44 20 7946 0000", "mobile"),
    ]:
        response = client.post(reverse("me-phone"), {"number": number}, format="json")
        assert response.status_code == 400, number
        assert word.lower() in str(response.json()).lower(), (number, response.json())
    assert fake_twilio.messages() == []


def test_a_number_verified_by_someone_else_is_refused(
    fake_twilio: FakeTwilio, api: Any, officer_a: Any, clinician_a: Any
) -> None:
    verify_phone(clinician_a, "+19195550102")
    response = api(officer_a).post(reverse("me-phone"), {"number": "+19195550102"}, format="json")
    assert response.status_code == 400 and fake_twilio.messages() == []


def test_codes_expire_run_out_of_tries_and_are_rate_limited(
    fake_twilio: FakeTwilio, api: Any, officer_a: Any, settings: Any
) -> None:
    settings.NOTIFICATIONS_VERIFY_MAX_ATTEMPTS = 2
    settings.NOTIFICATIONS_VERIFY_MAX_PER_HOUR = 2
    client = api(officer_a)
    client.post(reverse("me-phone"), {"number": "+19195550142"}, format="json")
    good = code_in(fake_twilio, "+19195550142")
    bad = "999999" if good != "999999" else "888888"
    assert client.post(reverse("me-phone-confirm"), {"code": bad}, format="json").status_code == 400
    assert client.post(reverse("me-phone-confirm"), {"code": bad}, format="json").status_code == 400
    assert client.post(reverse("me-phone-confirm"), {"code": good}, format="json").status_code == 409
    assert client.post(reverse("me-phone"), {"number": "+19195550142"}, format="json").status_code == 202
    PhoneVerification.objects.update(expires_at="2000-01-01T00:00:00Z")
    expired = client.post(reverse("me-phone-confirm"), {"code": code_in(fake_twilio, "+19195550142")}, format="json")
    assert expired.status_code == 409 and "expired" in expired.json()["message"]
    limited = client.post(reverse("me-phone"), {"number": "+19195550142"}, format="json")
    assert limited.status_code == 429 and limited["Retry-After"]
    assert not PhoneNumber.objects.filter(user=officer_a).exists()


def test_without_a_provider_verification_says_503_and_keeps_nothing(api: Any, officer_a: Any) -> None:
    response = api(officer_a).post(reverse("me-phone"), {"number": "+19195550142"}, format="json")
    assert response.status_code == 503 and "not set up" in response.json()["message"]
    assert api(officer_a).get(reverse("me-phone")).json()["sms_configured"] is False
    assert not PhoneVerification.objects.exists()


def test_a_provider_outage_is_a_502_and_the_code_is_void(fake_twilio: FakeTwilio, api: Any, officer_a: Any) -> None:
    fake_twilio.fail_next(500)
    response = api(officer_a).post(reverse("me-phone"), {"number": "+19195550142"}, format="json")
    assert response.status_code == 502
    assert api(officer_a).get(reverse("me-phone")).json()["pending_number"] is None


def test_removing_the_number_stops_alerts(fake_twilio: FakeTwilio, api: Any, officer_a: Any) -> None:
    verify_phone(officer_a, "+19195550101")
    assert api(officer_a).delete(reverse("me-phone")).status_code == 204
    assert not PhoneNumber.objects.filter(user=officer_a).exists()


def test_a_number_is_seen_only_by_its_owner(
    fake_twilio: FakeTwilio, api: Any, officer_a: Any, clinician_a: Any
) -> None:
    verify_phone(officer_a, "+19195550101")
    assert api(clinician_a).get(reverse("me-phone")).json()["number"] is None
    assert api(None).get(reverse("me-phone")).status_code in (401, 403)


def test_the_admin_edits_numbers_unverified_and_warns_when_no_provider_is_set(
    client: Any, make_user: Any, mfa_login: Any, officer_a: Any, settings: Any
) -> None:
    supervisor = make_user("sup", "supervisor")
    mfa_login(client, supervisor)
    page = client.get(reverse("admin:notifications_phonenumber_changelist"))
    assert page.status_code == 200 and "SMS and voice stages are OFF" in page.content.decode()
    added = client.post(
        reverse("admin:notifications_phonenumber_add"), {"user": officer_a.pk, "number": "919 555 0101"}
    )
    assert added.status_code == 302, added.content.decode()[:2000]
    phone = PhoneNumber.objects.get(user=officer_a)
    assert (phone.number, phone.verified_at) == ("+19195550101", None)
    bad = client.post(reverse("admin:notifications_phonenumber_change", args=[officer_a.pk]), {"number": "nope"})
    assert bad.status_code == 200 and "Not a phone number" in bad.content.decode()
    for name in ("notification", "inbound"):
        assert client.get(reverse(f"admin:notifications_{name}_changelist")).status_code == 200
