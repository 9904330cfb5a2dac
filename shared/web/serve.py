"""The one way to run a service over HTTP: `python -m shared.web.serve services.<name>.app:create_app`.

Host and port come from the service's settings (`TITP_HTTP_HOST`, `TITP_HTTP_PORT`). Used by
deploy/local/stack.sh, the Dockerfile (so compose and k8s), bench/ and faults/.

Why not plain `uvicorn`: it puts no bound on how long a client may take to send its request
headers. A client trickling one byte every few seconds (slowloris) holds its connection open for
as long as it likes, and enough of them hold every file descriptor. `SlowClientsCut` closes a
connection whose request headers are not complete `TITP_HTTP_HEADER_TIMEOUT_S` after its first
byte (or after the connection opened, for one that sends nothing), with a 408. The body has its
own bound, `TITP_HTTP_BODY_TIMEOUT_S`, kept by the request guard (shared/web/security.py), which
reads every body before the app does.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from typing import Any

import orjson
import uvicorn
from fastapi import FastAPI
from uvicorn.importer import import_from_string
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from shared.settings import ServiceSettings
from shared.web.problems import problem_body
from shared.web.security import RequestTimeout

log = logging.getLogger(__name__)


def timeout_response(detail: str) -> bytes:
    """A whole 408 problem+json response, closing the connection: sent outside any ASGI app."""
    body = orjson.dumps(problem_body(RequestTimeout(detail)))
    head = b"content-type: application/problem+json\r\ncontent-length: %d\r\nconnection: close\r\n\r\n" % len(body)
    return STATUS_LINE[408] + head + body


class SlowClientsCut(HttpToolsProtocol):
    """uvicorn's httptools protocol, with a deadline for each request's headers.

    The timer is armed when the connection opens and again when a request's first byte arrives
    (on a kept-alive connection the time between requests is uvicorn's keep-alive timeout), and
    disarmed when the headers are complete. Subclassed with `header_timeout_s` set: see `protocol()`.
    """

    header_timeout_s: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._headers_due: asyncio.TimerHandle | None = None
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._headers_due is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _arm(self) -> None:
        self._headers_due = self.loop.call_later(self.header_timeout_s, self._headers_too_slow)

    def _disarm(self) -> None:
        if self._headers_due is not None:
            self._headers_due.cancel()
            self._headers_due = None

    def _headers_too_slow(self) -> None:
        self._headers_due = None
        if self.transport.is_closing():
            return
        log.warning(
            "request headers from %s not complete within %.0fs: connection closed", self.client, self.header_timeout_s
        )
        self.transport.write(
            timeout_response(f"the request headers were not complete within {self.header_timeout_s:g} s")
        )
        self.transport.close()


def protocol(settings: ServiceSettings) -> type[SlowClientsCut]:
    """The protocol class uvicorn builds for each connection, with this service's header deadline."""
    return type("SlowClientsCut", (SlowClientsCut,), {"header_timeout_s": settings.http_header_timeout_s})


def config(app: FastAPI, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration of a service app (made by `create_service_app`, so it holds its settings)."""
    settings: ServiceSettings = app.state.settings
    options: dict[str, Any] = {
        "host": settings.http_host,
        "port": settings.http_port,
        "http": protocol(settings),
        "access_log": False,
        "log_config": None,  # the app routes uvicorn's records through its own handler (shared/telemetry.py)
        **overrides,
    }
    return uvicorn.Config(app, **options)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m shared.web.serve", description="Run one service under uvicorn, with slow clients cut."
    )
    parser.add_argument("factory", help="the app factory, e.g. services.registry.app:create_app")
    args = parser.parse_args(argv)
    app = import_from_string(args.factory)()
    uvicorn.Server(config(app)).run()


if __name__ == "__main__":
    main()
