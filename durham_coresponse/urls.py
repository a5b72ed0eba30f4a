from __future__ import annotations

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from apps.core.views import spa_index

from .health import healthz

api_v1 = [
    path("", include("apps.security.urls")),
    path("", include("apps.shifts.urls")),
    path("", include("apps.realtime.urls")),
    path("", include("apps.incidents.urls")),
    path("", include("apps.clinical.urls")),
    path("", include("apps.referrals.urls")),
    path("", include("apps.reminders.urls")),
    path("", include("apps.notifications.urls")),
    path("", include("apps.insights.urls")),
]

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its settings as a script (?script), so the page has no inline script (CSP);
    # Swagger UI's files come from drf-spectacular-sidecar (self-hosted, no CDN).
    # No OPTIONS description (metadata_class=None → 405): DRF's would be rendered by the page's template
    # renderer without a template, a 500 (found by the authorization matrix).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema", metadata_class=None), name="api-docs"),
    path("healthz", healthz, name="healthz"),
    path("", include("apps.shifts.calendar_urls")),
    # Signed form posts from the telephony provider, answered with TwiML (apps.notifications.webhooks).
    path("webhooks/", include("apps.notifications.webhook_urls")),
    # Everything else is a route of the single-page app (served from frontend/dist).
    re_path(r"^(?!api/|admin/|static/|ws/|webhooks/).*$", spa_index, name="spa"),
]

# A URL no route matches: JSON under /api/ (the API error shape), the usual page elsewhere.
handler404 = "apps.core.views.not_found"
# A 403 outside the API is audited (security events, docs/security.md).
handler403 = "apps.security.views.permission_denied_view"
