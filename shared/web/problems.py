"""Errors as RFC 9457 problem details (`application/problem+json`) at the HTTP edge.

The domain and the core raise the plain exceptions of `shared.errors`; this module gives each
its status and body, adds the refusals only the edge knows (no token, a wrong role, a bad
header, too many writes, the database out of reach), and turns invalid input, unknown routes
and unexpected failures into problem responses too. `ProblemDetails` is the schema every
error response declares in the OpenAPI.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from opentelemetry import trace
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.responses import Response

from shared.db import database_unavailable
from shared.errors import ConflictError, DomainRuleViolation, EventTooLarge, NotFound, PreconditionFailed, Problem

PROBLEM_BASE = "https://titp.example/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"
DATABASE_RETRY_AFTER_S = 3  # a PostgreSQL restart takes a few seconds; the pool reconnects by itself

log = logging.getLogger(__name__)

# The status of each refusal the domain and the core raise; the edge's own problems carry theirs.
STATUS: dict[type[Problem], int] = {
    DomainRuleViolation: 409,
    ConflictError: 409,
    NotFound: 404,
    PreconditionFailed: 412,
    EventTooLarge: 413,
}
TITLES = {DomainRuleViolation: "A rule of the program refuses this request"}


class HttpProblem(Problem):
    """A refusal only the HTTP edge makes: it knows its own status and headers."""

    status: int = 500
    title: str | None = None

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **members: Any) -> None:
        super().__init__(detail, **members)
        self.headers = headers or {}


class InvalidParameter(HttpProblem):
    """422 for a bad header, query parameter or body character, named like request-body fields:
    `query.cursor`, `header.If-Match`."""

    status = 422
    problem = "invalid-request"
    title = "The request is not valid"

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}", errors=[{"field": field, "reason": reason}])


class Unauthorized(HttpProblem):
    status = 401
    problem = "unauthorized"

    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="titp"'})


class Forbidden(HttpProblem):
    status = 403
    problem = "forbidden"

    def __init__(self, detail: str = "your role does not allow this request") -> None:
        super().__init__(detail)


class RequestTooLarge(HttpProblem):
    status = 413
    problem = "request-too-large"

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the request body is larger than {limit_bytes} bytes", limit_bytes=limit_bytes)


class TooManyRequests(HttpProblem):
    status = 429
    problem = "too-many-requests"

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(
            f"too many writes from this client; try again in {retry_after_s}s",
            headers={"Retry-After": str(retry_after_s)},
            retry_after_s=retry_after_s,
        )


class ServiceUnavailable(HttpProblem):
    status = 503
    problem = "service-unavailable"

    def __init__(self, detail: str, *, retry_after_s: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


class DatabaseUnavailable(ServiceUnavailable):
    """PostgreSQL is out of reach (down, restarting, the connection lost): nothing of the request
    was committed, unless the connection broke during COMMIT itself, hence the advice to retry with
    the same Idempotency-Key."""

    problem = "database-unavailable"
    title = "The database is unavailable"

    def __init__(self) -> None:
        super().__init__(
            "the service cannot reach its database right now; retry after the time in Retry-After"
            " (with the same Idempotency-Key, a command that did commit answers as it did)",
            retry_after_s=DATABASE_RETRY_AFTER_S,
        )


class FieldError(BaseModel):
    field: str = Field(description="where: body.trainee.name, query.cursor, header.If-Match")
    reason: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details. A refusal by a rule of the program names it in `rule`; invalid
    input lists each field and its reason in `errors`; other members say more about the problem."""

    model_config = ConfigDict(
        extra="allow",
        json_schema_extra={
            "examples": [
                {
                    "type": "https://titp.example/problems/rule/permit-not-revoked",
                    "title": "A rule of the program refuses this request",
                    "status": 409,
                    "detail": "the permit was revoked on 2026-05-01",
                    "rule": "permit-not-revoked",
                }
            ]
        },
    )

    type: str = Field(description="a URI naming the kind of problem; rule/<rule id> for a rule's refusal")
    title: str
    status: int
    detail: str | None = None
    rule: str | None = Field(None, description="the rule that refuses the request (409 by a rule)")
    errors: list[FieldError] | None = Field(None, description="each invalid field and why (422)")


def status_of(problem: Problem) -> int:
    if isinstance(problem, HttpProblem):
        return problem.status
    return next((status for kind, status in STATUS.items() if isinstance(problem, kind)), 500)


def problem_body(problem: Problem) -> dict[str, Any]:
    status = status_of(problem)
    title = getattr(problem, "title", None) or next(
        (title for kind, title in TITLES.items() if isinstance(problem, kind)), HTTPStatus(status).phrase
    )
    return {
        "type": PROBLEM_BASE + problem.problem,
        "title": title,
        "status": status,
        "detail": problem.detail,
        **problem.members,
    }


class ProblemResponse(Response):
    media_type = PROBLEM_CONTENT_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def problem_response(problem: Problem) -> ProblemResponse:
    headers = problem.headers if isinstance(problem, HttpProblem) else None
    return ProblemResponse(problem_body(problem), status_code=status_of(problem), headers=headers)


def field_path(location: tuple[Any, ...] | list[Any]) -> str:
    """`("body", "trainees", 0, "name")` -> `body.trainees[0].name`, without pydantic's
    validator and union-member labels (`function-after[...]`, `tagged-union[...]`)."""
    path = ""
    for part in location:
        if isinstance(part, int):
            path += f"[{part}]"
        elif "[" in str(part) or "(" in str(part):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path


def _reason(error: dict[str, Any]) -> str:
    message = str(error.get("msg", "invalid value"))
    for prefix in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(prefix)
    return message


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(exc)


async def _on_invalid_request(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for error in exc.errors():
        location = error.get("loc", ())
        if error.get("type") == "json_invalid":
            location = location[:1]  # the rest is a character offset, not a field
        errors.append({"field": field_path(location), "reason": _reason(error)})
    body = {
        "type": PROBLEM_BASE + "invalid-request",
        "title": "The request is not valid",
        "status": 422,
        "detail": "; ".join(f"{e['field']}: {e['reason']}" for e in errors),
        "errors": errors,
    }
    return ProblemResponse(body, status_code=422)


# FastAPI's answer to a body it could not even decode (not UTF-8, nested too deep): a 400 with this
# detail. docs/security.md promises 422 for every malformed body, like JSON it could not parse.
UNPARSABLE_BODY = "There was an error parsing the body"


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 400 and exc.detail == UNPARSABLE_BODY:
        return problem_response(InvalidParameter("body", "not valid JSON (UTF-8)"))
    phrase = HTTPStatus(exc.status_code).phrase
    body: dict[str, Any] = {"type": "about:blank", "title": phrase, "status": exc.status_code}
    if isinstance(exc.detail, str):
        body["detail"] = exc.detail
    elif exc.detail is not None:
        body["errors"] = exc.detail
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return ProblemResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _on_unexpected(request: Request, exc: Exception) -> Response:
    log.error(
        "unexpected error in %s %s",
        request.method,
        request.url.path,
        exc_info=exc,
        extra={"method": request.method, "path": request.url.path},
    )
    body = {
        "type": PROBLEM_BASE + "internal-error",
        "title": "Internal Server Error",
        "status": 500,
        "detail": "the service failed to handle this request; it has been logged",
    }
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        body["trace_id"] = format(span_context.trace_id, "032x")
    return ProblemResponse(body, status_code=500)


async def _on_database_error(request: Request, exc: Exception) -> Response:
    if not database_unavailable(exc):
        return await _on_unexpected(request, exc)
    log.warning(
        "%s %s: the database is unavailable: %r",
        request.method,
        request.url.path,
        exc,
        extra={"method": request.method, "path": request.url.path},
    )
    return problem_response(DatabaseUnavailable())


# The classes `database_unavailable` looks into; anything else unexpected is a 500.
_DATABASE_ERRORS = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.exceptions.OperatorInterventionError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.InternalClientError,
)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    for error in _DATABASE_ERRORS:
        app.add_exception_handler(error, _on_database_error)
    app.add_exception_handler(RequestValidationError, _on_invalid_request)
    app.add_exception_handler(HTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
