"""FastAPI glue of the write and read paths: commands with If-Match and Idempotency-Key, ETags, cursors."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from types import UnionType
from typing import Annotated, Any, Generic, TypeVar, Union, get_args, get_origin
from zoneinfo import ZoneInfo

import asyncpg
import orjson
from annotated_types import MaxLen
from fastapi import Depends, Header, Query, Request, Response
from pydantic import BaseModel, ConfigDict, field_validator

from shared.commands import (
    CommandFunction,
    CommandRunner,
    Idempotency,
    Outcome,
    StoredResponse,
    UnitOfWork,
    json_response,
)
from shared.events import EventContext
from shared.telemetry import current_traceparent
from shared.web.auth import CurrentPrincipal, Principal
from shared.web.problems import InvalidParameter

S = TypeVar("S")
JAPAN = ZoneInfo("Asia/Tokyo")


MAX_VERSION = 2**31 - 1


def parse_etag(value: str | None, header: str = "If-Match") -> int | None:
    """`"3"`, `W/"3"` or `3` -> 3; the version an ETag names."""
    if value is None:
        return None
    raw = value.strip().removeprefix("W/").strip('"')
    # Versions are PostgreSQL integers: anything longer is no ETag this service issued.
    if not (raw.isascii() and raw.isdigit()) or int(raw) > MAX_VERSION:
        raise InvalidParameter(f"header.{header}", f'expected an ETag this service issued, such as "3", got {value!r}')
    return int(raw)


@dataclass
class CommandRequest:
    """One HTTP command: who sent it, in which trace, and its concurrency and retry guards."""

    runner: CommandRunner
    principal: Principal
    context: EventContext
    if_match: int | None
    idempotency: Idempotency | None

    async def execute(
        self, command: CommandFunction, *args: Any, created_at: str | None = None, **kwargs: Any
    ) -> Response:
        """Run one function of the service's `commands.py` in its own transaction, with this request's
        If-Match and Idempotency-Key: 200 {id, version}, or 201 with a Location when `created_at`
        names the new resource."""

        async def work(conn: asyncpg.Connection) -> Outcome:
            return await command(UnitOfWork(self.runner, conn, self.context, self.if_match), *args, **kwargs)

        stored = await self.runner.run(work, _render(created_at), if_match=self.if_match, idempotency=self.idempotency)
        return Response(stored.body, status_code=stored.status, headers=stored.headers)


def _render(created_at: str | None) -> Callable[[Outcome], StoredResponse]:
    def render(outcome: Outcome) -> StoredResponse:
        response = json_response(
            201 if created_at else 200, {"id": outcome.stream_id, "version": outcome.version}, version=outcome.version
        )
        if created_at:
            response.headers["location"] = created_at
        return response

    return render


async def command_request(
    request: Request,
    principal: CurrentPrincipal,
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description='Run only if the resource is at this version (its ETag, e.g. "3"); else 412',
            examples=['"3"'],
        ),
    ] = None,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            max_length=200,
            description="Retries with the same key answer as the first request did; another request with it is a 409",
        ),
    ] = None,
    x_correlation_id: Annotated[
        str | None,
        Header(
            alias="X-Correlation-Id",
            max_length=200,
            description="The correlation id recorded with the command's events",
        ),
    ] = None,
) -> CommandRequest:
    idempotency = None
    if idempotency_key is not None:
        if not idempotency_key.strip():
            raise InvalidParameter("header.Idempotency-Key", "must not be empty")
        scope = f"{principal.subject}:{request.method}:{request.url.path}"
        idempotency = Idempotency.of(idempotency_key, scope, await request.body())
    return CommandRequest(
        runner=request.app.state.runner,
        principal=principal,
        context=EventContext(
            actor=principal.subject,
            correlationid=x_correlation_id or str(uuid.uuid4()),
            traceparent=current_traceparent(),
        ),
        if_match=parse_etag(if_match),
        idempotency=idempotency,
    )


Command = Annotated[CommandRequest, Depends(command_request)]


@dataclass(frozen=True)
class PointInTime:
    """`?as_of=`: a date (the end of that day in Japan) or an exact time."""

    until: datetime
    day: date


async def as_of_param(
    as_of: Annotated[
        str | None,
        Query(
            description="a date (2026-04-01) or a time (2026-04-01T09:00:00+09:00):"
            " answer with the state recorded by then"
        ),
    ] = None,
) -> PointInTime | None:
    # async: FastAPI would run a plain function in its thread pool, a thread hop per request for nothing
    return point_in_time(as_of)


def point_in_time(as_of: str | None) -> PointInTime | None:
    """`as_of` read as a date or a time (the CLI's `--as-of` too); InvalidParameter if it is neither."""
    if as_of is None:
        return None
    try:
        if len(as_of) == 10:
            day = date.fromisoformat(as_of)
            _within_range(day)
            return PointInTime(datetime.combine(day, time.max, tzinfo=JAPAN), day)
        moment = datetime.fromisoformat(as_of)
    except ValueError:
        raise InvalidParameter("query.as_of", "expected an ISO 8601 date or date-time") from None
    if moment.tzinfo is None:
        raise InvalidParameter("query.as_of", "a time needs its UTC offset, e.g. 2026-04-01T09:00:00+09:00")
    _within_range(moment.date())
    return PointInTime(moment, moment.astimezone(JAPAN).date())


def _within_range(day: date) -> None:
    if not EARLIEST_DATE <= day <= LATEST_AS_OF:
        raise InvalidParameter("query.as_of", f"must be between {EARLIEST_DATE} and {LATEST_AS_OF}")


AsOf = Annotated[PointInTime | None, Depends(as_of_param)]


def today() -> date:
    """Today in Japan: the program's calendar. Only the edge reads the clock; the domain is given dates."""
    return datetime.now(JAPAN).date()


# The range of every date and integer a client may send (issue 18): the calendar arithmetic of the
# rules (a permit's years, a report's due months) and the event store's JSON stay within reach of
# them, so a far-off date or a huge number is a 422 naming the field, never a 500.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
# A read `as_of` far ahead means "everything recorded so far": allowed further out than a date a command
# records, still short of the calendar's end, where the rules' date arithmetic would overflow.
LATEST_AS_OF = date(2999, 12, 31)
LARGEST_INTEGER = 2**63 - 1


def check_bounds(value: Any) -> None:
    """Refuse (ValueError) a date outside EARLIEST_DATE..LATEST_DATE or an integer beyond 64 bits,
    anywhere in `value`: nested models, lists and mappings included."""
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not -LARGEST_INTEGER <= value <= LARGEST_INTEGER:
        raise ValueError(f"must be between {-LARGEST_INTEGER} and {LARGEST_INTEGER}")
    if isinstance(value, date) and not EARLIEST_DATE <= _day_of(value) <= LATEST_DATE:
        raise ValueError(f"must be between {EARLIEST_DATE} and {LATEST_DATE}")
    if isinstance(value, BaseModel):
        for member in value.__dict__.values():
            check_bounds(member)
    elif isinstance(value, dict):
        for member in value.values():
            check_bounds(member)
    elif isinstance(value, list | tuple | set | frozenset):
        for member in value:
            check_bounds(member)


def _is_collection(annotation: Any) -> bool:
    """list[X], set[X], tuple[X, ...], also optional (`list[X] | None`)."""
    origin = get_origin(annotation)
    if origin in (list, set, frozenset, tuple):
        return True
    return origin in (Union, UnionType) and any(_is_collection(member) for member in get_args(annotation))


def _day_of(value: date) -> date:
    return value.date() if isinstance(value, datetime) else value


# The default bounds of a request body's strings and lists (issue 18): a field that needs another bound
# declares it (`Field(max_length=...)`). With them, no command can grow an event towards the broker's limit
# (shared.store.MAX_EVENT_BYTES refuses one that would still be too large).
MAX_STRING_LENGTH = 1000
MAX_ITEMS = 1000


class Body(BaseModel):
    """A command's request body: unknown fields are refused (422), never ignored; dates and integers,
    at any depth, are held to EARLIEST_DATE..LATEST_DATE and 64 bits, strings to MAX_STRING_LENGTH
    characters and lists to MAX_ITEMS items unless a field declares its own bound (422 naming the field).
    The bounds show in the OpenAPI schemas (maxLength, maxItems). A model nested in a body is a Body too."""

    model_config = ConfigDict(extra="forbid", str_max_length=MAX_STRING_LENGTH)

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        unbounded = [
            field
            for field in cls.model_fields.values()
            if _is_collection(field.annotation) and not any(isinstance(m, MaxLen) for m in field.metadata)
        ]
        for field in unbounded:
            field.metadata.append(MaxLen(MAX_ITEMS))
        if unbounded:
            cls.model_rebuild(force=True)

    @field_validator("*", mode="after")
    @classmethod
    def _within_bounds(cls, value: Any) -> Any:
        check_bounds(value)
        return value


class Accepted(BaseModel):
    """A command's answer: the resource and its new version (also its ETag)."""

    id: uuid.UUID
    version: int


Item = TypeVar("Item")


class Page(BaseModel, Generic[Item]):
    """A page of a list; `next_cursor`, when not null, fetches the next page (`?cursor=`)."""

    items: list[Item]
    next_cursor: str | None


def page_of(items: list[Item], limit: int, key: Callable[[Item], list[Any]]) -> Page[Item]:
    """A page from `limit + 1` fetched items: the extra one only says there is more."""
    page = items[:limit]
    return Page[Item](items=page, next_cursor=encode_cursor(key(page[-1])) if len(items) > limit else None)


def cursor_day_and_id(cursor: str | None) -> tuple[date, uuid.UUID] | None:
    """The position a `[day, id]` cursor names, for lists ordered by a date and then by id."""
    values = decode_cursor(cursor)
    if not values:
        return None
    try:
        return date.fromisoformat(values[0]), uuid.UUID(values[1])
    except (ValueError, TypeError, IndexError):
        raise InvalidParameter("query.cursor", "not a cursor this service issued") from None


def cursor_uuid(values: list[Any] | None) -> uuid.UUID | None:
    if not values:
        return None
    try:
        return uuid.UUID(str(values[0]))
    except ValueError:
        raise InvalidParameter("query.cursor", "not a cursor this service issued") from None


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
        raise InvalidParameter("query.cursor", "not a cursor this service issued") from None
    if not isinstance(values, list):
        raise InvalidParameter("query.cursor", "not a cursor this service issued")
    return values
