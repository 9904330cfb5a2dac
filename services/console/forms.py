"""Forms and filters built from a service's OpenAPI document: its fields, their kinds, and back to JSON.

A decision's form is its request body's schema: a date is a date picker, an enum a list to choose from, a list
of plain values one value a line, anything nested a JSON box. What the officer typed is turned back into the
JSON body here; it is never judged here: the service answers, and its 422 names the field, which the page shows
beside that field with everything the officer typed kept.
"""

import json
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from services.console.i18n import label_of

REF = "#/components/schemas/"
PAGING = {"limit", "cursor"}


@dataclass
class Field:
    name: str
    kind: str  # text | textarea | date | integer | number | select | checkbox | lines | json
    required: bool = False
    choices: list[str] = field(default_factory=list)
    hint: str = ""
    example: str = ""

    def label(self, lang: str) -> str:
        return label_of(self.name, lang)


@dataclass
class Action:
    """A command route: POST `path` (with `{id}` for one record's decision) and the fields of its body."""

    name: str
    service: str
    path: str
    summary: str
    description: str
    roles: list[str]
    fields: list[Field]
    path_fields: list[Field] = field(default_factory=list)  # a sub-record's id (`{order_id}`), asked for in the form

    def may(self, roles: set[str]) -> bool:
        return not self.roles or bool(roles & set(self.roles))


def _resolve(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].removeprefix(REF)]
    return schema


def _not_null(schema: dict[str, Any], components: dict[str, Any]) -> dict[str, Any]:
    """`X | None` is `anyOf: [X, null]`: the field is X, and optional."""
    options = [s for s in schema.get("anyOf", []) if s.get("type") != "null"]
    if len(options) == 1:
        return {**schema, **_resolve(options[0], components), "anyOf": None}
    return _resolve(schema, components)


TEXT_AREAS = {"reason", "detail", "summary", "ground"}
SCALARS = {"boolean": "checkbox", "integer": "integer", "number": "number"}


def _kind(name: str, resolved: dict[str, Any], components: dict[str, Any]) -> tuple[str, list[str]]:
    """The input for a (resolved, not-null) schema, and its choices."""
    if resolved.get("anyOf") or resolved.get("oneOf") or resolved.get("allOf"):
        return "json", []
    if "enum" in resolved:
        return "select", [str(c) for c in resolved["enum"]]
    if "const" in resolved:
        return "select", [str(resolved["const"])]
    kind = resolved.get("type", "")
    if kind == "string":
        if resolved.get("format") == "date":
            return "date", []
        return ("textarea" if resolved.get("maxLength", 0) > 200 or name in TEXT_AREAS else "text"), []
    if kind == "array":
        items = _not_null(resolved.get("items", {}), components)
        if items.get("type") in {"string", "integer"} or "enum" in items:
            return "lines", [str(c) for c in items.get("enum", [])]
    return SCALARS.get(kind, "json"), []


def field_of(name: str, schema: dict[str, Any], components: dict[str, Any], required: bool) -> Field:
    resolved = _not_null(schema, components)
    kind, choices = _kind(name, resolved, components)
    examples = resolved.get("examples") or schema.get("examples") or []
    example = examples[0] if examples else resolved.get("default", "")
    return Field(
        name=name,
        kind=kind,
        required=required,
        choices=choices,
        hint=(schema.get("description") or resolved.get("description") or "").strip(),
        example="" if example is None else (json.dumps(example) if kind == "json" else str(example)),
    )


def body_fields(operation: dict[str, Any], components: dict[str, Any]) -> list[Field]:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return []
    schema = _resolve(content["schema"], components)
    required = set(schema.get("required", []))
    return [field_of(name, sub, components, name in required) for name, sub in schema.get("properties", {}).items()]


def query_fields(operation: dict[str, Any], components: dict[str, Any]) -> list[Field]:
    return [
        field_of(p["name"], p.get("schema", {}), components, False)
        for p in operation.get("parameters", [])
        if p["in"] == "query" and p["name"] not in PAGING
    ]


def actions_of(document: dict[str, Any], service: str, resource: str) -> list[Action]:
    """The commands of `resource` in `service`'s document: its creation, and one record's decisions (those whose
    only path parameter is the record's id)."""
    components = document.get("components", {}).get("schemas", {})
    base = f"/v1/{resource}"
    found = []
    for path, operations in document.get("paths", {}).items():
        operation = operations.get("post")
        if operation is None:
            continue
        if path == base:
            name = "new"
        elif path.startswith(base + "/{id}/"):
            name = re.sub(r"\{[^}]+\}", "_", path.removeprefix(base + "/{id}/"))
        else:
            continue
        components_of = document.get("components", {}).get("schemas", {})
        path_fields = [
            field_of(p["name"], p.get("schema", {}), components_of, True)
            for p in operation.get("parameters", [])
            if p["in"] == "path" and p["name"] != "id"
        ]
        found.append(
            Action(
                name=name,
                service=service,
                path=path,
                summary=operation.get("summary", name),
                description=(operation.get("description") or "").strip(),
                roles=list(operation.get("x-roles", [])),
                fields=body_fields(operation, components),
                path_fields=path_fields,
            )
        )
    return found


def list_filters(document: dict[str, Any], resource: str) -> list[Field]:
    operation = document.get("paths", {}).get(f"/v1/{resource}", {}).get("get", {})
    return query_fields(operation, document.get("components", {}).get("schemas", {}))


class Unreadable(ValueError):
    """What the officer typed cannot be made into JSON (a JSON box that is not JSON): said beside the field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def body_of(fields: list[Field], form: dict[str, str]) -> dict[str, Any]:
    """The JSON body from what was typed. Empty optional fields are left out; numbers that are not numbers go
    as typed, so the service's 422 names them."""
    body: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for f in fields:
        raw = form.get(f.name, "")
        if f.kind == "checkbox":
            body[f.name] = raw in {"on", "true", "1"}
            continue
        if raw.strip() == "":
            continue
        if f.kind in {"integer", "number"}:
            try:
                body[f.name] = int(raw) if f.kind == "integer" else float(raw)
            except ValueError:
                body[f.name] = raw
        elif f.kind == "lines":
            body[f.name] = [line.strip() for line in raw.splitlines() if line.strip()]
        elif f.kind == "json":
            try:
                body[f.name] = json.loads(raw)
            except json.JSONDecodeError as error:
                errors[f.name] = f"not JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        else:
            body[f.name] = raw
    if errors:
        raise Unreadable(errors)
    return body


def path_of(action: Action, record_id: str | None, form: dict[str, str]) -> str:
    """The route to POST: the record's id, and each sub-record's id as typed (required)."""
    path = action.path.replace("{id}", record_id) if record_id else action.path
    missing = {}
    for f in action.path_fields:
        typed = form.get(f.name, "").strip()
        if not typed or "/" in typed:
            missing[f.name] = "required: the id of the record this decision is about"
        path = path.replace("{" + f.name + "}", quote(typed, safe=""))
    if missing:
        raise Unreadable(missing)
    return path


def field_errors(problem: dict[str, Any]) -> dict[str, str]:
    """A 422's `errors` by form field: `body.granted_on` is the field `granted_on`."""
    errors: dict[str, str] = {}
    for error in problem.get("errors") or []:
        path = str(error.get("field", ""))
        name = path.removeprefix("body.").split(".")[0].split("[")[0] or "body"
        errors.setdefault(name, str(error.get("reason", "")))
    return errors
