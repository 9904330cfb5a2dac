"""The OpenAPI document of every service is a contract a generated client can live on (issue 16, item 6).

First the rules of `shared.web.openapi` on a small service of known routes; then every real service's
document, checked from the document itself: short unique operation ids, problem+json for every error
status each operation can answer, the ETag/Location/Retry-After headers, `security: []` on what is public,
a typed answer for every GET and an example for every request body.
"""

import importlib
import re
import warnings
from pathlib import Path
from typing import Annotated, Any
from uuid import UUID

import httpx
import jsonschema
import pytest
from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, ConfigDict

from shared.events import EventTypes
from shared.service import ServiceDefinition
from shared.settings import SERVICES, load_settings
from shared.web.app import create_service_app
from shared.web.auth import Principal, Role, require_roles
from shared.web.http import Accepted, AsOf, Body, Command, Page
from shared.web.problems import PROBLEM_CONTENT_TYPE, ProblemDetails

PROBLEM_REF = "#/components/schemas/ProblemDetails"
OPERATION_ID = re.compile(r"^[a-z][a-z0-9_]*$")
PROBES = {"/healthz", "/readyz", "/metrics"}
NO_DATABASE = {"/healthz", "/metrics"}
METHODS = {"get", "post", "put", "patch", "delete"}

# A small service whose routes are one of each kind.

router = APIRouter(prefix="/v1/things", tags=["things"])
Officer = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.ADMIN))]


class ThingDocument(BaseModel):
    id: UUID
    name: str
    version: int


class RegisterThing(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"name": "a thing", "owner_id": "8f0e4c1a-3b2d-4e5f-9a6b-7c8d9e0f1a2b"}]},
    )

    name: str
    owner_id: UUID


class RenameThing(Body):
    name: str


@router.post("", status_code=201, response_model=Accepted, responses={404: {"description": "No owner with that id"}})
async def register_thing(body: RegisterThing, command: Command, _: Officer) -> Response:
    raise NotImplementedError


@router.post("/{id}/rename", response_model=Accepted)
async def rename_thing(id: UUID, body: RenameThing, command: Command, _: Officer) -> Response:
    raise NotImplementedError


@router.get("/{id}", response_model=ThingDocument)
async def get_thing(id: UUID, _: Officer, as_of: AsOf = None) -> Response:
    raise NotImplementedError


@router.get("", response_model=Page[ThingDocument])
async def list_things(_: Officer, cursor: str | None = None) -> Page[ThingDocument]:
    raise NotImplementedError


public = APIRouter(prefix="/v1/public", tags=["things"])


class Count(BaseModel):
    things: int


@public.get("/things-count")
async def count_things(limit: int = 10) -> Count:
    return Count(things=0)


def things_app():
    definition = ServiceDefinition(
        name="things", event_types=EventTypes("things"), migrations=Path("."), routers=[router, public]
    )
    return create_service_app(definition, load_settings("registry", log_json=False))


def declared(document: dict[str, Any]) -> dict[tuple[str, str], list[str]]:
    return {
        (method.upper(), path): sorted(operation["responses"])
        for path, item in document["paths"].items()
        for method, operation in item.items()
    }


def test_each_route_declares_the_errors_it_can_answer_by_what_it_is():
    document = things_app().openapi()
    assert declared(document) == {
        ("GET", "/healthz"): ["200"],
        ("GET", "/readyz"): ["200", "503"],
        ("GET", "/metrics"): ["200"],
        ("GET", "/v1/audit/events"): ["200", "401", "403", "422", "503"],
        ("GET", "/v1/audit/streams/{stream_id}"): ["200", "401", "403", "404", "422", "503"],
        ("GET", "/v1/audit/verify"): ["200", "401", "403", "503"],
        ("GET", "/v1/audit/public-key"): ["200", "401", "403", "503"],
        ("GET", "/v1/status"): ["200", "401", "403", "503"],
        # A command creating a record: 404 only because the route declares it (its body names another record).
        ("POST", "/v1/things"): ["201", "401", "403", "404", "409", "412", "413", "422", "429", "503"],
        ("POST", "/v1/things/{id}/rename"): ["200", "401", "403", "404", "409", "412", "413", "422", "429", "503"],
        ("GET", "/v1/things/{id}"): ["200", "401", "403", "404", "422", "503"],
        ("GET", "/v1/things"): ["200", "401", "403", "422", "503"],
        ("GET", "/v1/public/things-count"): ["200", "422", "503"],
    }
    paths = document["paths"]
    # Check: the headers of the answers.
    assert sorted(paths["/v1/things"]["post"]["responses"]["201"]["headers"]) == ["ETag", "Location"]
    assert sorted(paths["/v1/things/{id}/rename"]["post"]["responses"]["200"]["headers"]) == ["ETag"]
    assert sorted(paths["/v1/things/{id}"]["get"]["responses"]["200"]["headers"]) == ["ETag"]
    assert "headers" not in paths["/v1/things"]["get"]["responses"]["200"]
    assert "headers" not in paths["/v1/audit/streams/{stream_id}"]["get"]["responses"]["200"]
    assert list(paths["/v1/things"]["post"]["responses"]["429"]["headers"]) == ["Retry-After"]
    assert list(paths["/readyz"]["get"]["responses"]["503"]["headers"]) == ["Retry-After"]
    assert list(paths["/v1/things"]["get"]["responses"]["401"]["headers"]) == ["WWW-Authenticate"]
    assert paths["/v1/things"]["post"]["responses"]["404"]["description"] == "No owner with that id"
    # Check: operation ids are the functions' names; the public routes say so.
    assert paths["/v1/things/{id}/rename"]["post"]["operationId"] == "rename_thing"
    assert paths["/v1/public/things-count"]["get"]["security"] == []
    assert paths["/v1/things"]["get"]["security"] == [{"HTTPBearer": []}]
    headers = {p["name"] for p in paths["/v1/things/{id}/rename"]["post"]["parameters"] if p["in"] == "header"}
    assert {"If-Match", "Idempotency-Key"} <= headers


async def test_a_real_422_is_the_declared_problem():
    app = things_app()
    document = app.openapi()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
        answer = await client.get("/v1/public/things-count", params={"limit": "many"})
    assert answer.status_code == 422 and answer.headers["content-type"] == PROBLEM_CONTENT_TYPE
    declared = document["paths"]["/v1/public/things-count"]["get"]["responses"]["422"]
    assert declared["content"][PROBLEM_CONTENT_TYPE]["schema"] == {"$ref": PROBLEM_REF}
    schema = {"$ref": PROBLEM_REF, "components": document["components"]}
    jsonschema.validate(answer.json(), schema)
    assert answer.json()["errors"] == [{"field": "query.limit", "reason": answer.json()["errors"][0]["reason"]}]


# Every real service.


@pytest.fixture(scope="module", params=SERVICES)
def service(request) -> tuple[str, dict[str, Any]]:
    app = importlib.import_module(f"services.{request.param}.app").create_app(
        load_settings(request.param, log_json=False)
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        document = app.openapi()
    duplicates = [str(w.message) for w in caught if "Duplicate Operation ID" in str(w.message)]
    assert duplicates == [], f"{request.param}: {duplicates}"
    return request.param, document


def operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method.upper(), operation


def test_operation_ids_are_the_route_functions_names_unique_in_the_service(service):
    name, document = service
    ids = [operation["operationId"] for _, _, operation in operations(document)]
    assert [i for i in ids if not OPERATION_ID.match(i)] == []
    assert sorted({i for i in ids if ids.count(i) > 1}) == [], f"{name}: duplicate operation ids"
    assert {"healthz", "readyz", "metrics", "audit_events", "audit_stream"} <= set(ids)


def test_every_error_answer_is_an_rfc_9457_problem(service):
    name, document = service
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert schemas["ProblemDetails"]["required"] == ["type", "title", "status"]
    assert set(schemas["ProblemDetails"]["properties"]) == set(ProblemDetails.model_fields)
    problem = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": PROBLEM_REF}}}
    wrong = [
        (method, path, status)
        for path, method, operation in operations(document)
        for status, answer in operation["responses"].items()
        if int(status) >= 400 and answer.get("content") != problem
    ]
    assert wrong == []
    assert [(m, p) for p, m, operation in operations(document) if "500" in operation["responses"]] == []


def test_each_operation_declares_the_statuses_its_kind_can_answer(service):
    name, document = service
    missing = []
    for path, method, operation in operations(document):
        responses, parameters = operation["responses"], operation.get("parameters", [])
        places = {p["in"] for p in parameters}
        headers = {p["name"] for p in parameters if p["in"] == "header"}
        token = operation["security"] != []
        expected = set()
        if token:
            expected |= {"401", "403"}
        if "path" in places:
            expected.add("404")
        if parameters or "requestBody" in operation:
            expected.add("422")
        if "requestBody" in operation:
            expected.add("413")
        if "If-Match" in headers:
            expected |= {"409", "412"}
            assert "Idempotency-Key" in headers, (method, path)
        if token and method != "GET":
            expected.add("429")
        if path not in NO_DATABASE:
            expected.add("503")
        if not expected <= set(responses):
            missing.append((method, path, sorted(expected - set(responses))))
        if not token:
            assert not {"401", "403", "429"} & set(responses), (method, path)
    assert missing == []


def test_answers_declare_their_headers(service):
    name, document = service
    missing = []
    for path, method, operation in operations(document):
        responses = operation["responses"]
        headers = {p["name"] for p in operation.get("parameters", []) if p["in"] == "header"}
        success = next(status for status in responses if status.startswith("2"))
        sent = set(responses[success].get("headers", {}))
        wanted = set()
        if "If-Match" in headers:
            wanted.add("ETag")
        if success == "201":
            wanted |= {"ETag", "Location"}
        if method == "GET" and path.endswith("}") and not path.startswith("/v1/audit/"):
            wanted.add("ETag")  # one record, at its version
        for status in ("429", "503"):
            if status in responses and "Retry-After" not in responses[status].get("headers", {}):
                missing.append((method, path, status, "Retry-After"))
        missing += [(method, path, success, header) for header in sorted(wanted - sent)]
    assert missing == []


def test_the_bearer_scheme_is_a_jwt_and_probes_and_public_routes_need_none(service):
    name, document = service
    assert document["components"]["securitySchemes"] == {
        "HTTPBearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A JWT from the TITP issuer",
        }
    }
    for path, method, operation in operations(document):
        assert "security" in operation, (method, path)
        if path in PROBES or path.startswith("/v1/public/"):
            assert operation["security"] == [], (method, path)
        else:
            assert operation["security"] == [{"HTTPBearer": []}], (method, path)


def _untyped(schema: dict[str, Any], schemas: dict[str, Any]) -> bool:
    if "$ref" in schema:
        target = schemas[schema["$ref"].rsplit("/", 1)[1]]
        items = target.get("properties", {}).get("items")
        return items is not None and _untyped(items.get("items", {}), schemas)  # a Page of what?
    if schema.get("type") == "array":
        return _untyped(schema.get("items", {}), schemas)
    if "anyOf" in schema:
        return any(_untyped(s, schemas) for s in schema["anyOf"] if s.get("type") != "null")
    if schema.get("properties") or schema.get("type") in ("string", "integer", "number", "boolean"):
        return False
    values = schema.get("additionalProperties")
    return not isinstance(values, dict) or _untyped(values, schemas)  # a free-form object, or a map of what?


def test_every_get_answers_a_typed_model(service):
    name, document = service
    schemas = document["components"]["schemas"]
    untyped = []
    for path, method, operation in operations(document):
        content = operation["responses"]["200"].get("content", {}) if method == "GET" else {}
        if "application/json" in content and _untyped(content["application/json"].get("schema", {}), schemas):
            untyped.append(path)
    assert untyped == [], f"{name}: GET routes whose answer is not a typed model"


def test_every_single_record_get_answers_its_document_with_its_version(service):
    name, document = service
    schemas = document["components"]["schemas"]
    wrong = []
    for path, method, operation in operations(document):
        if method == "GET" and path.endswith("}") and not path.startswith("/v1/audit/"):
            schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
            model = schemas.get(schema.get("$ref", "").rsplit("/", 1)[-1], {})
            if "version" not in model.get("properties", {}):
                wrong.append(path)
    assert wrong == []


def test_every_request_body_has_an_example(service):
    name, document = service
    schemas = document["components"]["schemas"]
    missing = []
    for path, method, operation in operations(document):
        if "requestBody" not in operation:
            continue
        content = operation["requestBody"]["content"]["application/json"]
        schema = content["schema"]
        model = schemas[schema["$ref"].rsplit("/", 1)[1]] if "$ref" in schema else schema
        if not (model.get("examples") or content.get("example") or content.get("examples")):
            missing.append(f"{method} {path} ({schema.get('$ref', '').rsplit('/', 1)[-1]})")
    assert missing == [], f"{name}: request bodies without an example"
