"""The one error shape for every 4xx."""

from __future__ import annotations

from rest_framework import serializers

from apps.core.errors import _as_field_errors


class _Member(serializers.Serializer[dict[str, int]]):
    user = serializers.IntegerField()


class _Input(serializers.Serializer[dict[str, object]]):
    members = _Member(many=True, allow_empty=False)


def test_an_empty_nested_list_is_reported_under_the_field_name() -> None:
    data = _Input(data={"members": []})
    assert not data.is_valid()
    assert _as_field_errors(data.errors) == {"members": ["This list may not be empty."]}


def test_an_error_inside_a_nested_item_names_the_item_field() -> None:
    data = _Input(data={"members": [{"user": 1}, {"user": "x"}]})
    assert not data.is_valid()
    assert _as_field_errors(data.errors) == {"members.1.user": ["A valid integer is required."]}
