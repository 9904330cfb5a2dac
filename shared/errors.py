"""Errors as RFC 9457 problem details (`application/problem+json`) at the HTTP edge.

Handlers and domain code raise the exceptions below; `install_problem_handlers(app)` turns
them, invalid input, unknown routes and unexpected failures into problem responses.
"""

import logging
from http import HTTPStatus
from typing import Any

import asyncpg
import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from opentelemetry import trace
from starlette.exceptions import HTTPException
from starlette.responses import Response

PROBLEM_BASE = "https://titp.example/problems/"
PROBLEM_CONTENT_TYPE = "application/problem+json"

log = logging.getLogger(__name__)


class ProblemResponse(Response):
    media_type = PROBLEM_CONTENT_TYPE

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


class Problem(Exception):
    """An error the client is told about: status, a problem type URI and a human detail."""

    status: int = 500
    problem: str = "internal-error"

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **members: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.headers = headers or {}
        self.members = members

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.problem

    @property
    def title(self) -> str:
        return HTTPStatus(self.status).phrase

    def body(self) -> dict[str, Any]:
        return {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail, **self.members}


class DomainRuleViolation(Problem):
    """A rule of the program refuses the command; `rule` names it, e.g. `permit-not-suspended`."""

    status = 409

    def __init__(self, rule: str, detail: str) -> None:
        super().__init__(detail, rule=rule)
        self.rule = rule

    @property
    def type(self) -> str:
        return f"{PROBLEM_BASE}rule/{self.rule}"

    @property
    def title(self) -> str:
        return "A rule of the program refuses this request"


class NotFound(Problem):
    status = 404
    problem = "not-found"

    def __init__(self, resource: str, id: Any) -> None:
        super().__init__(f"{resource} {id} not found", resource=resource, id=str(id))


class PreconditionFailed(Problem):
    """`If-Match` names a version that is no longer the current one."""

    status = 412
    problem = "precondition-failed"

    def __init__(self, expected: Any, actual: Any) -> None:
        super().__init__(
            f"If-Match expected version {expected}, but the current version is {actual}",
            expected=expected,
            actual=actual,
        )


class ConflictError(Problem):
    """A concurrent change won, or an Idempotency-Key was reused with another request."""

    status = 409
    problem = "conflict"


class Unauthorized(Problem):
    status = 401
    problem = "unauthorized"

    def __init__(self, detail: str = "a valid bearer token is required") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="titp"'})


class Forbidden(Problem):
    status = 403
    problem = "forbidden"

    def __init__(self, detail: str = "your role does not allow this request") -> None:
        super().__init__(detail)


class ServiceUnavailable(Problem):
    status = 503
    problem = "service-unavailable"

    def __init__(self, detail: str, *, retry_after_s: int = 5) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_s)})


DATABASE_RETRY_AFTER_S = 3  # a PostgreSQL restart takes a few seconds; the pool reconnects by itself


class DatabaseUnavailable(ServiceUnavailable):
    """PostgreSQL is out of reach (down, restarting, the connection lost): nothing of the request
    was committed, unless the connection broke during COMMIT itself, hence the advice to retry with
    the same Idempotency-Key."""

    problem = "database-unavailable"
    title = "The database is unavailable"

    def __init__(self) -> None:
        super().__init__("the service cannot reach its database right now; retry after the time in Retry-After"
                         " (with the same Idempotency-Key, a command that did commit answers as it did)",
                         retry_after_s=DATABASE_RETRY_AFTER_S)


def database_unavailable(exc: BaseException) -> bool:
    """Is `exc` PostgreSQL being out of reach rather than a fault of the work at hand?

    What asyncpg raises then (seen with `pg_ctl stop -m fast|immediate` and a start): OSError
    (connection refused or reset, a connect timeout), ConnectionDoesNotExistError ("connection
    was closed in the middle of operation"), CannotConnectNowError ("the database system is
    shutting down" / "starting up"), AdminShutdownError and CrashShutdownError (a session
    terminated), InterfaceError "connection is closed" (a connection used after it broke),
    InternalClientError "cannot switch to state 15; another operation (2) is in progress" (a
    COMMIT on a connection the server terminated while it sat idle in the transaction), and
    TooManyConnectionsError.
    """
    if isinstance(exc, asyncpg.InterfaceError):
        return "connection is closed" in str(exc)
    return isinstance(exc, (OSError, asyncpg.PostgresConnectionError, asyncpg.CannotConnectNowError,
                            asyncpg.AdminShutdownError, asyncpg.CrashShutdownError, asyncpg.TooManyConnectionsError,
                            asyncpg.exceptions.InternalClientError))


class RequestTooLarge(Problem):
    status = 413
    problem = "request-too-large"

    def __init__(self, limit_bytes: int) -> None:
        super().__init__(f"the request body is larger than {limit_bytes} bytes", limit_bytes=limit_bytes)


def problem_response(problem: Problem) -> ProblemResponse:
    return ProblemResponse(problem.body(), status_code=problem.status, headers=problem.headers)


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


async def _on_problem(request: Request, exc: Problem) -> ProblemResponse:
    return problem_response(exc)


async def _on_invalid_request(request: Request, exc: RequestValidationError) -> ProblemResponse:
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


async def _on_http_exception(request: Request, exc: HTTPException) -> Response:
    phrase = HTTPStatus(exc.status_code).phrase
    body: dict[str, Any] = {"type": "about:blank", "title": phrase, "status": exc.status_code}
    if isinstance(exc.detail, str):
        body["detail"] = exc.detail
    elif exc.detail is not None:
        body["errors"] = exc.detail
    if exc.status_code in (204, 304):
        return Response(status_code=exc.status_code, headers=exc.headers)
    return ProblemResponse(body, status_code=exc.status_code, headers=exc.headers)


async def _on_unexpected(request: Request, exc: Exception) -> ProblemResponse:
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


async def _on_database_error(request: Request, exc: Exception) -> ProblemResponse:
    if not database_unavailable(exc):
        return await _on_unexpected(request, exc)
    log.warning("%s %s: the database is unavailable: %r", request.method, request.url.path, exc,
                extra={"method": request.method, "path": request.url.path})
    return problem_response(DatabaseUnavailable())


# The classes `database_unavailable` looks into; anything else unexpected is a 500.
_DATABASE_ERRORS = (OSError, asyncpg.PostgresConnectionError, asyncpg.exceptions.OperatorInterventionError,
                    asyncpg.TooManyConnectionsError, asyncpg.InterfaceError, asyncpg.exceptions.InternalClientError)


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    for error in _DATABASE_ERRORS:
        app.add_exception_handler(error, _on_database_error)
    app.add_exception_handler(RequestValidationError, _on_invalid_request)
    app.add_exception_handler(HTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
