"""FastAPI glue of the write and read paths: commands with If-Match and Idempotency-Key, ETags, cursors."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

import asyncpg
import orjson
from fastapi import Depends, Header, Request, Response

from shared.auth import CurrentPrincipal, Principal
from shared.commands import Aggregate, CommandRunner, Idempotency, Outcome, StoredResponse, json_response
from shared.errors import Problem
from shared.events import EventContext, EventPayload
from shared.telemetry import current_traceparent

S = TypeVar("S")


class BadHeader(Problem):
    status = 422
    problem = "invalid-request"

    def __init__(self, header: str, reason: str) -> None:
        super().__init__(f"{header}: {reason}", errors=[{"field": f"header.{header}", "reason": reason}])


def parse_etag(value: str | None, header: str = "If-Match") -> int | None:
    """`"3"`, `W/"3"` or `3` -> 3; the version an ETag names."""
    if value is None:
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    if not raw.isdigit():
        raise BadHeader(header, f"expected an ETag this service issued, such as \"3\", got {value!r}")
    return int(raw)


@dataclass
class CommandRequest:
    """One HTTP command: who sent it, in which trace, and its concurrency and retry guards."""

    runner: CommandRunner
    principal: Principal
    context: EventContext
    if_match: int | None
    idempotency: Idempotency | None

    async def run(self, aggregate: Aggregate[S], stream_id: str, decide: Callable[[S], Sequence[EventPayload]],
                  *, created_at: str | None = None) -> Response:
        """Answer 200 {id, version}, or 201 with a Location when `created_at` names the new resource."""
        stored = await self.runner.execute(aggregate, stream_id, decide, self.context, _render(created_at),
                                           if_match=self.if_match, idempotency=self.idempotency)
        return Response(stored.body, status_code=stored.status, headers=stored.headers)

    async def run_work(self, work: Callable[[asyncpg.Connection], Awaitable[Outcome]],
                       *, created_at: str | None = None) -> Response:
        """A command that touches several streams in one transaction; `work` returns the main one's outcome."""
        stored = await self.runner.run(work, _render(created_at), if_match=self.if_match,
                                       idempotency=self.idempotency)
        return Response(stored.body, status_code=stored.status, headers=stored.headers)


def _render(created_at: str | None) -> Callable[[Outcome], StoredResponse]:
    def render(outcome: Outcome) -> StoredResponse:
        response = json_response(201 if created_at else 200, {"id": outcome.stream_id, "version": outcome.version},
                                 version=outcome.version)
        if created_at:
            response.headers["location"] = created_at
        return response

    return render


async def command_request(
    request: Request,
    principal: CurrentPrincipal,
    if_match: Annotated[str | None, Header(description='Run only if the resource is at this version (its ETag)')] = None,
    idempotency_key: Annotated[str | None, Header(max_length=200, description="Retries with the same key answer"
                                                                              " as the first request did")] = None,
    x_correlation_id: Annotated[str | None, Header(max_length=200)] = None,
) -> CommandRequest:
    idempotency = None
    if idempotency_key is not None:
        if not idempotency_key.strip():
            raise BadHeader("Idempotency-Key", "must not be empty")
        scope = f"{principal.subject}:{request.method}:{request.url.path}"
        idempotency = Idempotency.of(idempotency_key, scope, await request.body())
    return CommandRequest(
        runner=request.app.state.runner,
        principal=principal,
        context=EventContext(actor=principal.subject, correlationid=x_correlation_id or str(uuid.uuid4()),
                             traceparent=current_traceparent()),
        if_match=parse_etag(if_match),
        idempotency=idempotency,
    )


Command = Annotated[CommandRequest, Depends(command_request)]


def document_response(body: dict[str, Any], version: int) -> Response:
    return Response(orjson.dumps(body), media_type="application/json", headers={"etag": f'"{version}"'})


def encode_cursor(values: Sequence[Any]) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(values))).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if cursor is None:
        return None
    try:
        values = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except ValueError:
        raise BadHeader("cursor", "not a cursor this service issued") from None
    if not isinstance(values, list):
        raise BadHeader("cursor", "not a cursor this service issued")
    return values
