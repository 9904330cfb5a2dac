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

`TITP_WORKERS` > 1 runs that many worker processes of the service on one listening socket:
see `serve_workers`.

Logs go through the service's own handler (shared/telemetry.py: JSON lines on stderr); uvicorn's access log (a
line per request, probes included) only with `TITP_ACCESS_LOG=true` or `--access-log`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import logging
import os
import signal
import socket
import sys
from typing import Any, Protocol

import orjson
import uvicorn
from fastapi import FastAPI
from uvicorn.importer import import_from_string
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from shared.service import ServiceDefinition
from shared.settings import ServiceSettings, load_settings
from shared.telemetry import setup_logging
from shared.web.problems import problem_body
from shared.web.security import RequestTimeout

log = logging.getLogger("shared.web.serve")  # not __main__ under `python -m`


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


class HttpSettings(Protocol):
    """What serving needs of an app's settings: a service's (ServiceSettings) or the console's (ConsoleSettings)."""

    http_host: str
    http_port: int
    http_header_timeout_s: float
    access_log: bool


def protocol(settings: HttpSettings) -> type[SlowClientsCut]:
    """The protocol class uvicorn builds for each connection, with this service's header deadline."""
    return type("SlowClientsCut", (SlowClientsCut,), {"header_timeout_s": settings.http_header_timeout_s})


def config(app: FastAPI, **overrides: Any) -> uvicorn.Config:
    """The uvicorn configuration of an app holding its settings (`create_service_app`, the console's `create_app`)."""
    settings: HttpSettings = app.state.settings
    options: dict[str, Any] = {
        "host": settings.http_host,
        "port": settings.http_port,
        "http": protocol(settings),
        "access_log": settings.access_log,
        "log_config": None,  # the app routes uvicorn's records through its own handler (shared/telemetry.py)
        **overrides,
    }
    return uvicorn.Config(app, **options)


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
_PR_SET_PDEATHSIG = 1  # linux/prctl.h


def serve_workers(factory: str, settings: ServiceSettings) -> int:
    """Run `settings.workers` processes of the service on one socket until a stop signal; the exit code.

    The socket is bound here, then the workers are forked before any app, pool or event loop exists in this
    process: each worker builds its own app (pool, relay, consumer, telemetry threads), none crosses a fork.
    SIGTERM or SIGINT is passed on to every worker as SIGTERM (a second one as SIGINT: uvicorn's forced exit);
    each finishes its requests and its lifespan, and then this process ends, 0 if they all ended well. A worker
    that ends by itself stops the others and ends the service with 1: the process manager restarts it whole.
    """
    sock = uvicorn.Config(factory, host=settings.http_host, port=settings.http_port, log_config=None).bind_socket()
    workers: dict[int, int] = {}  # pid -> worker number
    stopping = False

    def stop(signum: int, _frame: object = None) -> None:
        nonlocal stopping
        passed_on = signal.SIGINT if stopping else signal.SIGTERM
        stopping = True
        for pid in workers:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, passed_on)

    # Blocked while forking: a signal arriving meanwhile waits for the handlers (in each worker, its own).
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    for number in range(1, settings.workers + 1):
        pid = os.fork()
        if pid == 0:
            os._exit(_worker(factory, sock, number, parent=os.getppid()))
        workers[pid] = number
        log.info("worker %d started (pid %d)", number, pid)
    sock.close()  # the workers hold it: the port is free once the last one has stopped
    for signum in STOP_SIGNALS:
        signal.signal(signum, stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    failed = False
    while workers:
        pid, status = os.wait()
        if pid not in workers:
            continue
        number = workers.pop(pid)
        code = os.waitstatus_to_exitcode(status)
        if not stopping:
            log.error("worker %d (pid %d) ended by itself (exit code %d): stopping the others", number, pid, code)
            failed = True
            stop(signal.SIGTERM)
        elif code != 0:
            log.error("worker %d (pid %d) ended with exit code %d", number, pid, code)
            failed = True
        else:
            log.info("worker %d (pid %d) stopped", number, pid)
    return 1 if failed else 0


def _worker(factory: str, sock: socket.socket, number: int, *, parent: int) -> int:
    """One worker, in the forked child: its own app under uvicorn on the shared socket; its exit code."""
    try:

        def stop_before_serving(signum: int, _frame: object) -> None:
            # Until uvicorn's own handlers are in place (and again after they are removed): end without serving.
            raise SystemExit(0)

        for signum in STOP_SIGNALS:
            signal.signal(signum, stop_before_serving)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
        _stop_with_parent(parent)
        _mark_log_records(number)
        app = import_from_string(factory)()
        server = uvicorn.Server(config(app))
        server.run(sockets=[sock])
        return 0 if server.started else 3  # 3: the app did not start (uvicorn's own code for it)
    except SystemExit as ending:
        return ending.code if isinstance(ending.code, int) else 0 if ending.code is None else 1
    except BaseException:
        log.exception("worker %d failed", number)
        return 1
    finally:
        logging.shutdown()


def _stop_with_parent(parent: int) -> None:
    """Ask Linux to send this worker SIGTERM when the supervisor dies (even by SIGKILL): no worker is left
    serving the port alone. Elsewhere nothing is asked (the supervisor's normal stop still stops the workers)."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # it died before the request
        raise SystemExit(0)


def _mark_log_records(number: int) -> None:
    """Every log record of this worker says which it is (the JSON lines get a `worker` field)."""
    previous = logging.getLogRecordFactory()

    def record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        made = previous(*args, **kwargs)
        made.worker = number
        return made

    logging.setLogRecordFactory(record)


def service_settings(factory: str) -> ServiceSettings:
    """The settings of the service whose app `factory` makes, read without making the app."""
    module = factory.partition(":")[0]
    definition: ServiceDefinition = import_from_string(f"{module}:DEFINITION")
    return load_settings(definition.name)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m shared.web.serve", description="Run one service under uvicorn, with slow clients cut."
    )
    parser.add_argument("factory", help="the app factory, e.g. services.registry.app:create_app")
    parser.add_argument(
        "--access-log",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="a log line per request, probes included (default: TITP_ACCESS_LOG, else off)",
    )
    args = parser.parse_args(argv)
    if args.access_log is not None:
        os.environ["TITP_ACCESS_LOG"] = "true" if args.access_log else "false"  # read by every worker's settings
    settings = service_settings(args.factory)
    if settings.workers > 1:
        setup_logging(settings)
        log.info(
            "%s: %d worker processes on %s:%d",
            settings.service,
            settings.workers,
            settings.http_host,
            settings.http_port,
        )
        sys.exit(serve_workers(args.factory, settings))
    app = import_from_string(args.factory)()
    uvicorn.Server(config(app)).run()


if __name__ == "__main__":
    main()
