"""Every string and every list a client may send is bounded, and the bound is in the OpenAPI document (issue 18,
item 1): walks each service's request-body schemas, nested models included."""

import importlib
import warnings
from typing import Any

import pytest
from pydantic import Field, ValidationError

from shared.settings import SERVICES, load_settings
from shared.web.http import MAX_ITEMS, MAX_STRING_LENGTH, Body

# A string that is one of a few values, or a date, a time or a UUID, is bounded by what it is.
BOUNDED_BY_FORMAT = {"date", "date-time", "time", "uuid"}


def unbounded(schema: dict[str, Any], components: dict[str, Any], where: str, seen: frozenset[str]) -> list[str]:
    """Where in `schema` a string has no maxLength or an array no maxItems."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return [] if name in seen else unbounded(components[name], components, name, seen | {name})
    found = []
    for key in ("anyOf", "oneOf", "allOf"):
        for member in schema.get(key, []):
            found += unbounded(member, components, where, seen)
    kind = schema.get("type")
    if (
        kind == "string"
        and "maxLength" not in schema
        and not {"enum", "const"} & schema.keys()
        and schema.get("format") not in BOUNDED_BY_FORMAT
    ):
        found.append(f"{where}: a string without maxLength")
    if kind == "array":
        if "maxItems" not in schema:
            found.append(f"{where}: an array without maxItems")
        found += unbounded(schema.get("items", {}), components, f"{where}[]", seen)
    for name, member in schema.get("properties", {}).items():
        found += unbounded(member, components, f"{where}.{name}", seen)
    if isinstance(schema.get("additionalProperties"), dict):
        found.append(f"{where}: an object of any size")
    return found


@pytest.mark.parametrize("service", SERVICES)
def test_every_string_and_list_of_every_request_body_is_bounded_in_the_openapi_document(service):
    app = importlib.import_module(f"services.{service}.app").create_app(load_settings(service, log_json=False))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        document = app.openapi()
    components = document.get("components", {}).get("schemas", {})
    found, bodies = [], 0
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                bodies += 1
                found += unbounded(content["schema"], components, f"{method.upper()} {path}", frozenset())
    assert bodies > 0
    assert found == []


class Filing(Body):
    names: list[str]
    notes: list[str] | None = None
    codes: list[str] = Field(default=[], max_length=3)
    remark: str = ""
    summary: str = Field("", max_length=5000)


def test_a_body_bounds_what_it_does_not_bound_itself():
    schema = Filing.model_json_schema()["properties"]
    assert schema["names"]["maxItems"] == MAX_ITEMS
    assert schema["names"]["items"]["maxLength"] == MAX_STRING_LENGTH
    assert schema["notes"]["anyOf"][0]["maxItems"] == MAX_ITEMS
    assert schema["codes"]["maxItems"] == 3
    assert schema["remark"]["maxLength"] == MAX_STRING_LENGTH
    assert schema["summary"]["maxLength"] == 5000
    Filing(names=["x"] * MAX_ITEMS, remark="x" * MAX_STRING_LENGTH, summary="x" * 5000)
    for too_much in (
        {"names": ["x"] * (MAX_ITEMS + 1)},
        {"names": [], "notes": ["x"] * (MAX_ITEMS + 1)},
        {"names": ["x" * (MAX_STRING_LENGTH + 1)]},
        {"names": [], "remark": "x" * (MAX_STRING_LENGTH + 1)},
        {"names": [], "summary": "x" * 5001},
        {"names": [], "codes": ["a", "b", "c", "d"]},
    ):
        with pytest.raises(ValidationError):
            Filing(**too_much)
