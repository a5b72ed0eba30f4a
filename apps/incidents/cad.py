"""CAD intake: a documented subset of NENA EIDO (NENA-STA-021 JSON) → incident fields.

See docs/cad-intake.md for the fields read and an example payload. Anything outside the subset is
ignored, so a CAD can post its full EIDO.
"""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from typing import Any

from django.utils import timezone
from django.utils.html import strip_tags
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotAuthenticated, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.accounts.models import ApiKey
from apps.core.fields import AwareDateTimeField
from apps.security.authentication import ApiKeyAuthentication

from .services import cad_incident_upsert

MAX_PIDF = 20_000
MAX_NOTES = 4000
_CIVIC_ORDER = ("HNO", "HNS", "PRD", "RD", "STS", "POD", "LOC", "A3", "A1", "PC")


class _WithId(serializers.Serializer[Any]):
    """EIDO components carry ``$id`` (not a Python identifier, so it is added in get_fields)."""

    def get_fields(self) -> dict[str, serializers.Field[Any, Any, Any, Any]]:
        fields = super().get_fields()
        fields["$id"] = serializers.CharField(max_length=255, required=False)
        return fields


class IncidentComponentInput(_WithId):
    internalIncidentId = serializers.CharField(max_length=64, required=False)
    incidentTypeCommonRegistryText = serializers.CharField(max_length=100)
    incidentTypeInternalCode = serializers.CharField(max_length=20, required=False, allow_blank=True)
    incidentPriorityInternalText = serializers.CharField(max_length=40, required=False, allow_blank=True)
    incidentCommonPriorityNumber = serializers.IntegerField(min_value=0, max_value=10, required=False)
    beatOrDispatchGroupText = serializers.CharField(max_length=40, required=False, allow_blank=True)
    lastUpdateTimeStamp = AwareDateTimeField(required=False)


class CallComponentInput(_WithId):
    callStartTimestamp = AwareDateTimeField()
    localCallType = serializers.CharField(max_length=40, required=False, allow_blank=True)


class LocationComponentInput(_WithId):
    locationTypeDescriptionRegistryText = serializers.CharField(max_length=60)
    locationDescriptionText = serializers.CharField(max_length=300, required=False, allow_blank=True)
    locationByValue = serializers.CharField(max_length=MAX_PIDF, required=False, allow_blank=True)


class NotesComponentInput(_WithId):
    notesActionComments = serializers.CharField(max_length=MAX_NOTES)


class EidoInput(_WithId):
    eidoVersion = serializers.ChoiceField(choices=["1.0"])
    lastUpdateTimeStamp = AwareDateTimeField(required=False)
    incidentComponent = IncidentComponentInput()
    callComponent = serializers.ListField(child=CallComponentInput(), required=False, max_length=20)
    locationComponent = serializers.ListField(child=LocationComponentInput(), required=False, max_length=20)
    notesComponent = serializers.ListField(child=NotesComponentInput(), required=False, max_length=100)


# Local call types that mean a transfer from 988 rather than a 911 call.
_SOURCE_BY_LOCAL_CALL_TYPE = {"988": "988_transfer", "988-transfer": "988_transfer"}


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse_pidf(xml_text: str) -> tuple[str, float | None, float | None]:
    """Civic address and point (``gml:pos`` "lat lon") from a PIDF-LO document.

    The XML comes from a machine we authenticate, but is still untrusted: a DOCTYPE (and with it
    any entity expansion) is refused before the standard-library parser sees the text.
    """
    if re.search(r"<!\s*(DOCTYPE|ENTITY)", xml_text, re.IGNORECASE):
        raise ValueError("DOCTYPE and ENTITY declarations are not allowed.")
    root = ET.fromstring(xml_text)  # noqa: S314  (no DOCTYPE: no entity expansion is possible)
    address = ""
    lat: float | None = None
    lon: float | None = None
    for el in root.iter():
        name = _local(el.tag)
        if name == "civicAddress" and not address:
            parts = {_local(child.tag): (child.text or "").strip() for child in el}
            street = " ".join(parts[k] for k in _CIVIC_ORDER[:7] if parts.get(k))
            rest = ", ".join(parts[k] for k in _CIVIC_ORDER[7:] if parts.get(k))
            address = ", ".join(p for p in (street, rest) if p)
        elif name == "pos" and lat is None and el.text:
            bits = el.text.split()
            if len(bits) < 2:
                raise ValueError("gml:pos must hold latitude and longitude.")
            lat, lon = float(bits[0]), float(bits[1])
    return address, lat, lon


def eido_to_values(data: dict[str, Any]) -> tuple[str, dict[str, Any], dt.datetime | None]:
    """(CAD incident number, incident field values, last update time) from a validated EIDO."""
    inc = data["incidentComponent"]
    number = inc.get("internalIncidentId") or inc.get("$id") or data.get("$id")
    if not number:
        raise ValidationError(
            {"incidentComponent.internalIncidentId": ["The CAD incident number is required (internalIncidentId)."]}
        )
    # Only what the post carries: a later post without a field leaves the stored value alone.
    present = {
        "incidentTypeInternalCode": "call_type_code",
        "incidentPriorityInternalText": "priority_local",
        "beatOrDispatchGroupText": "beat",
    }
    values: dict[str, Any] = {ours: inc[theirs] for theirs, ours in present.items() if theirs in inc}
    if "incidentCommonPriorityNumber" in inc:
        values["priority"] = inc["incidentCommonPriorityNumber"]
    calls = data.get("callComponent") or []
    if calls:
        values["received_at"] = min(c["callStartTimestamp"] for c in calls)
        local = (calls[0].get("localCallType") or "").lower()
        values["source"] = _SOURCE_BY_LOCAL_CALL_TYPE.get(local, "911")

    locations = data.get("locationComponent") or []
    if locations:
        chosen = next(
            (loc for loc in locations if loc["locationTypeDescriptionRegistryText"].lower() == "incident"),
            locations[0],
        )
        index = locations.index(chosen)
        address = chosen.get("locationDescriptionText", "")
        lat = lon = None
        if chosen.get("locationByValue"):
            try:
                civic, lat, lon = _parse_pidf(chosen["locationByValue"])
            except (ET.ParseError, ValueError) as exc:
                raise ValidationError(
                    {f"locationComponent.{index}.locationByValue": [f"Not a readable PIDF-LO document: {exc}"]}
                ) from exc
            address = address or civic
        errors = {}
        if lat is not None and not -90 <= lat <= 90:
            errors[f"locationComponent.{index}.locationByValue"] = ["Latitude must be between -90 and 90."]
        if lon is not None and not -180 <= lon <= 180:
            errors[f"locationComponent.{index}.locationByValue"] = ["Longitude must be between -180 and 180."]
        if errors:
            raise ValidationError(errors)
        values |= {"address": address[:300], "latitude": lat, "longitude": lon}

    notes = [strip_tags(n["notesActionComments"]).strip() for n in data.get("notesComponent") or []]
    if notes:
        values["operational_notes"] = "\n".join(n for n in notes if n)[:MAX_NOTES]
    updated = inc.get("lastUpdateTimeStamp") or data.get("lastUpdateTimeStamp")
    return str(number), values, updated


class CadIncidentApi(APIView):
    """Create or update an incident from the CAD (NENA EIDO subset). Idempotent by CAD number.

    Authenticated by an API key only (``Authorization: Api-Key <prefix>.<secret>``).
    """

    authentication_classes = [ApiKeyAuthentication]
    permission_classes: list[Any] = []
    api_key_scope = "cad:intake"  # a key without it is a 403 (apps.security.authentication)
    throttle_scope = "cad"  # SECURITY_RATE_CAD per key (apps.security.throttles)

    class Output(serializers.Serializer[Any]):
        id = serializers.IntegerField()
        cad_number = serializers.CharField()
        created = serializers.BooleanField()
        changed = serializers.ListField(child=serializers.CharField())
        stale = serializers.BooleanField()
        status = serializers.CharField()

    @extend_schema(request=EidoInput, responses={200: Output, 201: Output})
    def post(self, request: Request) -> Response:
        if not isinstance(request.auth, ApiKey):
            raise NotAuthenticated("An API key is required.")
        if not isinstance(request.data, dict):
            raise ValidationError({"non_field_errors": ["Expected a JSON object (an EIDO)."]})
        serializer = EidoInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        number, values, updated_at = eido_to_values(dict(serializer.validated_data))
        values.setdefault("received_at", updated_at or timezone.now())
        result = cad_incident_upsert(
            by=request.auth.user,
            cad_source=request.auth.user.username,
            cad_number=number,
            values=values,
            updated_at=updated_at,
        )
        body = {
            "id": result.incident.pk,
            "cad_number": number,
            "created": result.created,
            "changed": result.changed,
            "stale": result.stale,
            "status": result.incident.status,
        }
        return Response(
            self.Output(body).data, status=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK
        )
