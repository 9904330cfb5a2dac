"""The OpenAPI document of every service, made a contract a generated client can live on.

FastAPI derives the paths, parameters, request bodies and success answers from the routes. What it
cannot see — which refusals a route can answer, the headers of its answers, that a route is public —
is added here, in one place and alike for every route, from what each route is: its dependencies
(the FastAPI `Dependant` tree), its path, its method and its body. Nothing is declared by hand on a
route unless it is unusual to that route: an error status in a route's own `responses=` (e.g.
`responses={404: {"description": "No implementing organization with that id"}}` on a command whose body
names another record) is declared as a problem like the others.

Every error answer is RFC 9457 problem details (`ProblemDetails`, `application/problem+json`), as
`shared.web.problems` renders it. The inference rules, each with the code that answers the status:

- 401 (with `WWW-Authenticate`): the route requires a token, i.e. `authenticate` (`CurrentPrincipal`,
  which every `require_roles` depends on) is in its dependencies: no token, or one not valid now.
- 403: the route declares roles (a `RoleRequirement`, read back with `declared_roles`): a token without
  one of them. Public routes (probes, `/v1/public/…`) declare neither 401 nor 403.
- 404 (`NotFound`): the route has a path parameter: the record it names does not exist, or the caller's
  organization may not see it.
- 409 (`DomainRuleViolation`, `ConflictError`): the route is a command (it depends on `Command`): a
  rule's refusal (`rule` names it), the record kept changing under it, or an Idempotency-Key reused
  with another request.
- 412 (`PreconditionFailed`): the route takes `If-Match` (every command does): the record is no longer
  at that version.
- 413 (`RequestTooLarge`, `security.RequestGuard`): the route has a request body.
- 422 (invalid input, `InvalidParameter`): the route has parameters (path, query, header, cookie) or a
  body. FastAPI's default `HTTPValidationError` schema, which the real body does not match, is removed.
  (A NUL character in a query parameter the route does not take is a 422 too; it is not declared.)
- 429 (`TooManyRequests`, with `Retry-After`): the route is a write (`security.WRITE_METHODS`) and
  requires a token: the write limit is spent per caller, once the caller is known.
- 503 (with `Retry-After`): the route touches the database (`DatabaseUnavailable`, or `/readyz`'s own
  refusal), which is every route but those in `NO_DATABASE`; a route requiring a token answers it too
  when the issuer's signing keys cannot be read.
- 500 is not declared: it is a failure of the service, not an answer of the contract.

Headers of the answers: `ETag` (the record's version) on the success answer of commands and of GET
routes answering one record (a path ending in a path parameter and a response model with a `version`);
`Location` on every 201; `Retry-After` on 429 and 503. The request headers `If-Match` and
`Idempotency-Key` are the `Command` dependency's parameters.

Security: the bearer scheme says `bearerFormat: JWT`; a route requiring no token says `security: []`.
Operation ids are the route functions' names (`operation_id`, given to FastAPI by the app factory).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, iter_route_contexts

from shared.web.auth import RoleRequirement, authenticate, declared_roles
from shared.web.http import command_request
from shared.web.problems import PROBLEM_CONTENT_TYPE, ProblemDetails
from shared.web.security import WRITE_METHODS

REF = "#/components/schemas/"
PROBLEM = "ProblemDetails"
# Routes (by function name) that answer without the database: the process is alive; the metrics read
# the outbox but answer without it when it cannot be read.
NO_DATABASE = frozenset({"healthz", "metrics"})
# FastAPI's own validation-error schemas, replaced by the problem schema.
FASTAPI_VALIDATION = ("HTTPValidationError", "ValidationError")

DESCRIPTIONS = {
    401: "No bearer token, or one that is not valid now (expired, another issuer, a bad signature)",
    403: "The token's roles do not allow this request",
    404: "No such record, or not one the caller's organization may see",
    409: "A rule of the program refuses the command (`rule` names it), the record kept changing under it,"
    " or the Idempotency-Key was used with another request",
    412: "The record is no longer at the version If-Match names",
    413: "The request body is larger than the service accepts",
    422: "The request is not valid: each invalid field and why in `errors`",
    429: "Too many writes from this client: retry after the seconds in Retry-After",
    503: "The service cannot reach its database (or the token issuer's keys) right now: retry after the"
    " seconds in Retry-After (a command with the same Idempotency-Key answers as it did if it committed)",
}
HEADERS = {
    "ETag": {
        "description": "The record's version: send it as If-Match to change it only at this version",
        "schema": {"type": "string", "examples": ['"3"']},
    },
    "Location": {"description": "The new record", "schema": {"type": "string", "format": "uri-reference"}},
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}},
    "WWW-Authenticate": {"description": "The scheme to authenticate with", "schema": {"type": "string"}},
}
ANSWER_HEADERS = {401: ("WWW-Authenticate",), 429: ("Retry-After",), 503: ("Retry-After",)}


def operation_id(route: APIRoute) -> str:
    """The route function's name: short and stable (`grant_permit`, `list_training_plans`)."""
    return route.name


@dataclass(frozen=True)
class RouteTraits:
    """What the rules look at, read from a route's dependency tree, path, method and body."""

    method: str
    path: str
    name: str
    success: str
    requires_token: bool
    declares_roles: bool
    is_command: bool
    path_parameters: bool
    parameters: bool
    body: bool
    response_model: Any
    roles: tuple[str, ...] = ()

    @property
    def touches_database(self) -> bool:
        return self.name not in NO_DATABASE or self.requires_token

    @property
    def answers_one_record(self) -> bool:
        fields = getattr(self.response_model, "model_fields", {})
        return self.method == "GET" and self.path.endswith("}") and "version" in fields

    def error_statuses(self) -> list[int]:
        """The error statuses this route can answer, by the rules in the module's docstring."""
        statuses = []
        if self.requires_token:
            statuses.append(401)
        if self.declares_roles:
            statuses.append(403)
        if self.path_parameters:
            statuses.append(404)
        if self.is_command:
            statuses += [409, 412]
        if self.body:
            statuses.append(413)
        if self.parameters or self.body:
            statuses.append(422)
        if self.method in WRITE_METHODS and self.requires_token:
            statuses.append(429)
        if self.touches_database:
            statuses.append(503)
        return statuses

    def success_headers(self) -> list[str]:
        headers = []
        if self.is_command or self.answers_one_record:
            headers.append("ETag")
        if self.success == "201":
            headers.append("Location")
        return headers


def _dependants(dependant: Dependant) -> Iterator[Dependant]:
    pending = [dependant]
    while pending:
        current = pending.pop()
        yield current
        pending.extend(current.dependencies)


def _call(dependant: Dependant) -> Any:
    return getattr(dependant.call, "__wrapped__", dependant.call)


def traits(route: Any, method: str) -> RouteTraits:
    """The traits of one operation of `route` (an `APIRoute` or FastAPI's view of one as included)."""
    tree = list(_dependants(route.dependant))
    calls = [_call(d) for d in tree]
    return RouteTraits(
        method=method,
        path=route.path_format,
        name=route.name,
        success=str(route.status_code or 200),
        requires_token=any(call is authenticate for call in calls),
        declares_roles=any(isinstance(call, RoleRequirement) for call in calls),
        is_command=any(call is command_request for call in calls),
        path_parameters=any(d.path_params for d in tree),
        parameters=any(d.path_params or d.query_params or d.header_params or d.cookie_params for d in tree),
        body=route.body_field is not None,
        response_model=route.response_model,
        roles=tuple(sorted(role.value for role in declared_roles(route.dependant) or ())),
    )


def _problem(status: int, description: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "description": description or DESCRIPTIONS.get(status, "A problem"),
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": REF + PROBLEM}}},
    }
    if status in ANSWER_HEADERS:
        answer["headers"] = {name: HEADERS[name] for name in ANSWER_HEADERS[status]}
    return answer


def _error_status(status: str) -> bool:
    return status.isdigit() and int(status) >= 400


def complete_operation(operation: dict[str, Any], route_traits: RouteTraits) -> None:
    """Declare the route's error answers, the headers of its answers and its security."""
    responses = operation.setdefault("responses", {})
    for status in [s for s in responses if _error_status(s)]:
        declared = responses[status]
        if "HTTPValidationError" in str(declared.get("content")):
            del responses[status]  # FastAPI's default 422, replaced below
        else:
            # Declared by hand on the route: every error is rendered as a problem (shared.web.problems).
            responses[status] = _problem(int(status), declared.get("description"))
    for status in route_traits.error_statuses():
        responses.setdefault(str(status), _problem(status))
    success = responses.get(route_traits.success)
    if success is not None:
        for name in route_traits.success_headers():
            success.setdefault("headers", {})[name] = HEADERS[name]
    operation["responses"] = dict(sorted(responses.items()))
    if not route_traits.requires_token:
        operation["security"] = []
    if route_traits.roles:
        # Who may call it, for clients that offer only what their user may do (the console's decisions).
        operation["x-roles"] = list(route_traits.roles)


def _problem_schemas() -> dict[str, Any]:
    schema = ProblemDetails.model_json_schema(ref_template=REF + "{model}", mode="serialization")
    definitions = schema.pop("$defs", {})
    return {**definitions, PROBLEM: schema}


def _add_schemas(components: dict[str, Any], schemas: dict[str, Any]) -> None:
    for name, schema in schemas.items():
        if components.get(name, schema) != schema:
            raise ValueError(f"the OpenAPI component {name} is defined twice, differently")
        components[name] = schema


def _uses(document: dict[str, Any], ref: str) -> bool:
    def walk(value: Any) -> bool:
        if isinstance(value, dict):
            return value.get("$ref") == ref or any(walk(v) for v in value.values())
        if isinstance(value, list):
            return any(walk(v) for v in value)
        return False

    return walk(document)


def complete(document: dict[str, Any], app: FastAPI) -> dict[str, Any]:
    """Complete FastAPI's document of `app` by the rules above (in place; returned too)."""
    for context in iter_route_contexts(app.routes):
        if not isinstance(context.original_route, APIRoute) or not context.include_in_schema:
            continue
        path = document["paths"].get(context.path_format, {})
        for method in context.methods or ():
            operation = path.get(method.lower())
            if operation is not None:
                complete_operation(operation, traits(context, method))
    components = document.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _add_schemas(schemas, _problem_schemas())
    for name in FASTAPI_VALIDATION:
        if name in schemas and not _uses(document, REF + name):
            del schemas[name]
    components["schemas"] = dict(sorted(schemas.items()))
    return document


def install_openapi(app: FastAPI) -> None:
    """Serve the completed document at /openapi.json (and from `app.openapi()`)."""

    def openapi() -> dict[str, Any]:
        generated = app.openapi_schema
        document = FastAPI.openapi(app)
        if document is not generated:  # new (or the routes changed): complete it once
            complete(document, app)
        return document

    app.openapi = openapi  # type: ignore[method-assign]
