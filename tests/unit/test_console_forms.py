"""The console's pure parts: forms from OpenAPI schemas and back to JSON, and dates in the Japanese era."""

from datetime import date

import pytest

from services.console.forms import Field, Unreadable, actions_of, body_of, field_errors, field_of, path_of
from services.console.i18n import era, show_date

COMPONENTS = {"PermitType": {"type": "string", "enum": ["general", "specified"]}}


@pytest.mark.parametrize(
    ("schema", "kind", "choices"),
    [
        ({"type": "string", "format": "date"}, "date", []),
        ({"$ref": "#/components/schemas/PermitType"}, "select", ["general", "specified"]),
        (
            {"anyOf": [{"$ref": "#/components/schemas/PermitType"}, {"type": "null"}]},
            "select",
            ["general", "specified"],
        ),
        ({"type": "integer"}, "integer", []),
        ({"type": "boolean"}, "checkbox", []),
        ({"type": "string", "maxLength": 2000}, "textarea", []),
        ({"type": "string", "maxLength": 40}, "text", []),
        ({"type": "array", "items": {"type": "string"}}, "lines", []),
        ({"type": "array", "items": {"type": "object", "properties": {}}}, "json", []),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, "json", []),
    ],
)
def test_a_schema_becomes_the_input_an_officer_would_expect(schema, kind, choices):
    made = field_of("x", schema, COMPONENTS, required=True)
    assert (made.kind, made.choices, made.required) == (kind, choices, True)


def test_what_was_typed_becomes_the_body_the_service_judges():
    fields = [
        Field("granted_on", "date", required=True),
        Field("staff", "integer"),
        Field("excellent", "checkbox"),
        Field("categories", "lines"),
        Field("findings", "json"),
        Field("note", "text"),
    ]
    typed = {"granted_on": "2026-11-02", "staff": "twelve", "categories": "food\n\n construction ", "findings": "[]"}
    assert body_of(fields, typed) == {
        "granted_on": "2026-11-02",
        "staff": "twelve",  # not a number: sent as typed, so the service's 422 names it
        "excellent": False,
        "categories": ["food", "construction"],
        "findings": [],
    }
    with pytest.raises(Unreadable) as unreadable:
        body_of(fields, {"findings": "[{"})
    assert list(unreadable.value.errors) == ["findings"]


def test_a_422_is_shown_beside_its_fields():
    problem = {
        "errors": [
            {"field": "body.granted_on", "reason": "not a date"},
            {"field": "body.offices[0].name", "reason": "missing"},
        ]
    }
    assert field_errors(problem) == {"granted_on": "not a date", "offices": "missing"}


@pytest.mark.parametrize(
    ("day", "shown"),
    [
        (date(2026, 12, 4), "令和8年12月4日"),
        (date(2019, 5, 1), "令和元年5月1日"),
        (date(2019, 4, 30), "平成31年4月30日"),
        (date(1989, 1, 8), "平成元年1月8日"),
        (date(1989, 1, 7), "昭和64年1月7日"),
    ],
)
def test_dates_in_the_japanese_era(day, shown):
    assert era(day) == shown


def test_a_date_reads_as_each_language_writes_it():
    assert show_date("2026-11-02", "ja") == "令和8年11月2日（2026年）"
    assert show_date("2026-11-02", "en") == "2 Nov 2026"
    assert show_date("2026-11-02T01:00:00Z", "en") == "2 Nov 2026"


def test_a_decision_on_a_sub_record_asks_for_its_id():
    document = {
        "paths": {
            "/v1/supervising-organizations/{id}/improvement-orders/{order_id}/close": {
                "post": {
                    "summary": "Close Improvement Order",
                    "x-roles": ["admin", "otit"],
                    "parameters": [
                        {"name": "id", "in": "path", "schema": {"type": "string"}},
                        {"name": "order_id", "in": "path", "schema": {"type": "string"}},
                    ],
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/C"}}}},
                }
            },
            "/v1/supervising-organizations/expiries": {"post": {"summary": "Record expiries"}},
        },
        "components": {"schemas": {"C": {"properties": {"closed_on": {"type": "string", "format": "date"}}}}},
    }
    [close] = actions_of(document, "registry", "supervising-organizations")  # not the route of every record
    assert close.name == "improvement-orders/_/close" and close.may({"otit"}) and not close.may({"auditor"})
    assert [f.name for f in close.path_fields] == ["order_id"] and [f.name for f in close.fields] == ["closed_on"]
    assert (
        path_of(close, "s-1", {"order_id": "o-9"}) == "/v1/supervising-organizations/s-1/improvement-orders/o-9/close"
    )
    with pytest.raises(Unreadable) as unreadable:
        path_of(close, "s-1", {"order_id": "../grant"})
    assert list(unreadable.value.errors) == ["order_id"]
