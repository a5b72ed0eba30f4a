"""Installs apps.security.admin_site.MfaAdminSite as the default admin site (in INSTALLED_APPS in
place of ``django.contrib.admin``). Kept apart from admin_site.py, which imports models."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class MfaAdminConfig(AdminConfig):
    default_site = "apps.security.admin_site.MfaAdminSite"

    def ready(self) -> None:
        super().ready()
        # django-otp's own admin pages would show authenticator secrets; MFA is managed from the
        # user list ("Reset MFA") and by each user in the app.
        from django.contrib import admin
        from django_otp.plugins.otp_static.models import StaticDevice
        from django_otp.plugins.otp_totp.models import TOTPDevice

        for model in (TOTPDevice, StaticDevice):
            if admin.site.is_registered(model):
                admin.site.unregister(model)
