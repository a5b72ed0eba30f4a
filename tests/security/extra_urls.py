"""The app's URL conf plus one endpoint nobody wrote a row for (test_authz_matrix's self-test)."""

from __future__ import annotations

from typing import Any

from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from durham_coresponse.urls import urlpatterns as app_urlpatterns


class BrandNewApi(APIView):
    def get(self, request: Request) -> Response:
        return Response({})

    def post(self, request: Request) -> Response:
        return Response({})


urlpatterns: list[Any] = [
    path("api/v1/brand-new/<int:thing_id>/", BrandNewApi.as_view()),
    *app_urlpatterns,
]
