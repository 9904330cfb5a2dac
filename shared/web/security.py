"""Hostile-input guards at the HTTP edge: a request size limit, a body deadline, no NUL characters, per-client
write rate limits. (The deadline for request headers is kept below the app, in shared/web/serve.py.)

`install_security(app, settings)` wires both; `create_service_app` calls it for every service.
"""

from __future__ import annotations

import asyncio
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from urllib.parse import parse_qsl

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.settings import ServiceSettings
from shared.web.problems import HttpProblem, InvalidParameter, RequestTooLarge, TooManyRequests, problem_response

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


# A JSON escape of the NUL character (not itself escaped): PostgreSQL stores no NUL in text or jsonb.
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


def _nul_in_query(query: bytes) -> str | None:
    """The name of the first query parameter holding a NUL character."""
    for name, value in parse_qsl(query.decode("latin-1"), keep_blank_values=True):
        if "\x00" in name or "\x00" in value:
            return name.replace("\x00", "")
    return None


class RequestTimeout(HttpProblem):
    """408: the client took too long to send its request; the connection is closed after it."""

    status = 408
    problem = "request-timeout"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"Connection": "close"})


class RequestGuard:
    """ASGI middleware: a body over `max_bytes` is refused with 413, a body not complete within
    `body_timeout_s` of the headers with 408 (a client that stalls or trickles its body would
    otherwise hold a connection and a task for ever), and input PostgreSQL cannot store (NUL
    characters) with 422, before the app sees any of it.

    The body is read here (the app would buffer it anyway) so that a chunked body without a
    Content-Length cannot get past the limit either.
    """

    def __init__(self, app: ASGIApp, max_bytes: int, body_timeout_s: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.body_timeout_s = body_timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        body: list[bytes] = []
        try:
            async with asyncio.timeout(self.body_timeout_s):
                message = await self._read_body(receive, body)
        except TimeoutError:
            detail = f"the request body was not complete within {self.body_timeout_s:g} s"
            await problem_response(RequestTimeout(detail))(scope, receive, send)
            return
        if message is not None:
            if message["type"] == "http.request":  # over the limit
                await self._refuse(scope, receive, send)
            else:  # the client left: the app hears it as it would have
                await self.app(scope, _replay([message], receive), send)
            return
        field = _nul_in_query(scope.get("query_string", b""))
        field = (
            f"query.{field}"
            if field is not None
            else "path"
            if "\x00" in scope["path"]
            else "body"
            if _JSON_NUL.search(b"".join(body))
            else None
        )
        if field is not None:
            await problem_response(InvalidParameter(field, "must not contain NUL characters"))(scope, receive, send)
            return
        await self.app(
            scope, _replay([{"type": "http.request", "body": b"".join(body), "more_body": False}], receive), send
        )

    async def _read_body(self, receive: Receive, body: list[bytes]) -> Message | None:
        """Reads the whole body into `body`; returns the message that stopped it early (a disconnect, or
        the chunk that went over `max_bytes`), else None."""
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return message
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                return message
            body.append(message.get("body", b""))
            if not message.get("more_body", False):
                return None

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        await problem_response(RequestTooLarge(self.max_bytes))(scope, receive, send)


def _replay(messages: list[Message], receive: Receive) -> Receive:
    async def replayed() -> Message:
        return messages.pop(0) if messages else await receive()

    return replayed


class WriteRateLimiter:
    """A token bucket per client: `burst` writes at once, refilled at `per_second`.

    Kept in the process: with several instances behind a load balancer each one limits on its own.
    """

    MAX_CLIENTS = 10_000

    def __init__(self, per_second: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_second = per_second
        self.burst = burst
        self.clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()  # authentication runs in FastAPI's thread pool

    def take(self, client: str) -> None:
        """Spend one write of `client`'s allowance, or raise `TooManyRequests` saying when to retry."""
        with self._lock:
            self._take(client)

    def _take(self, client: str) -> None:
        now = self.clock()
        tokens, then = self._buckets.pop(client, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - then) * self.per_second)
        if tokens < 1:
            self._buckets[client] = (tokens, now)
            raise TooManyRequests(max(1, math.ceil((1 - tokens) / self.per_second)))
        self._buckets[client] = (tokens - 1, now)
        if len(self._buckets) > self.MAX_CLIENTS:
            self._buckets.popitem(last=False)  # the longest idle client: its bucket would be full again


def limit_writes(request_method: str, app_state: object, client: str) -> None:
    """Called once the caller is known: a write spends one of the client's allowance."""
    limiter: WriteRateLimiter | None = getattr(app_state, "write_limiter", None)
    if limiter is not None and request_method in WRITE_METHODS:
        limiter.take(client)


def install_security(app: FastAPI, settings: ServiceSettings) -> None:
    app.state.write_limiter = WriteRateLimiter(settings.write_rate_per_s, settings.write_burst)
    app.add_middleware(RequestGuard, max_bytes=settings.max_request_bytes, body_timeout_s=settings.http_body_timeout_s)
