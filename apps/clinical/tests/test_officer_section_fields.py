"""The officer section's one field list (apps/clinical/officer_section.py) matches the model, the
API's input and output, and the data the PWA's TypeScript is generated from."""

from __future__ import annotations

import json
from typing import Any

from apps.clinical.apis import EncounterOfficerSectionApi
from apps.clinical.models import OfficerSection
from apps.clinical.officer_section import OFFICER_SECTION_FIELD_NAMES, OFFICER_SECTION_FIELDS, officer_section_spec
from apps.clinical.serializers import OfficerSectionOutput

BOOKKEEPING = {"id", "encounter", "revision", "updated_by", "updated_at"}


def test_the_list_names_every_editable_field_of_the_model_once() -> None:
    model_fields = [f.name for f in OfficerSection._meta.concrete_fields if f.name not in BOOKKEEPING]
    assert sorted(OFFICER_SECTION_FIELD_NAMES) == sorted(model_fields)
    assert len(set(OFFICER_SECTION_FIELD_NAMES)) == len(OFFICER_SECTION_FIELD_NAMES)


def test_the_list_matches_the_model_types_choices_and_lengths() -> None:
    for spec in OFFICER_SECTION_FIELDS:
        field: Any = OfficerSection._meta.get_field(spec.name)
        if spec.kind == "boolean":
            assert field.get_internal_type() == "BooleanField", spec.name
        elif spec.kind == "choice":
            assert list(spec.choices) == list(field.choices), spec.name
        else:
            assert field.max_length == spec.max_length, spec.name
        assert spec.label.strip(), spec.name


def test_the_api_input_and_output_are_built_from_the_list() -> None:
    assert list(EncounterOfficerSectionApi.Input().fields) == ["revision", *OFFICER_SECTION_FIELD_NAMES]
    assert list(OfficerSectionOutput().fields) == [*OFFICER_SECTION_FIELD_NAMES, "revision", "updated_by", "updated_at"]


def test_the_spec_for_the_pwa_is_json_with_labels_and_choices() -> None:
    spec = json.loads(json.dumps(officer_section_spec()))
    assert [f["name"] for f in spec] == list(OFFICER_SECTION_FIELD_NAMES)
    transport = next(f for f in spec if f["name"] == "transport")
    assert {"value": "ems", "label": "EMS"} in transport["choices"]
    assert next(f for f in spec if f["name"] == "ivc_custody")["label"] == "IVC custody taken by police"
