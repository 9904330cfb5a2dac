"""Fixtures for the real broker and database.

`make test` starts a stack of its own (.data/test, ports 39092/39093/35432: never the one `make run` runs)
and exports what `deploy/local/stack.sh env` prints: KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL (the cluster's
superuser: creates and drops the test databases), DATABASE_OWNER_URL (the tables' owner: migrations, and the
tests that tamper with a store) and DATABASE_APP_URL (what services under test connect as: owns nothing).
A missing broker or database is an error, never a skip.
"""

import contextlib
import os
import tempfile
import uuid
from pathlib import Path

import pytest

from tests.helpers import databases, dsn_for

# The addresses of the stack `make run` runs (ARCHITECTURE §8): `make test` must never use them.
DEFAULT_STACK_PORTS = {"KAFKA_BOOTSTRAP_SERVERS": 9092, "DATABASE_URL": 5432}


def pytest_configure(config):
    """Under `make test` (TITP_TEST_STACK set), refuse to run against the default stack: its live services would
    apply the test events, and its topics, consumer groups and databases would keep them."""
    if not os.environ.get("TITP_TEST_STACK"):
        return
    from urllib.parse import urlsplit

    for name, port in DEFAULT_STACK_PORTS.items():
        value = os.environ.get(name, "")
        used = urlsplit(value).port if "://" in value else int(value.rsplit(":", 1)[-1] or 0)
        if used == port:
            raise pytest.UsageError(f"make test points at the default stack ({name}={value.split('@')[-1]})")
    if not os.environ.get("DATABASE_APP_URL"):  # the suite runs its services as the app role, as deployed
        raise pytest.UsageError("make test: DATABASE_APP_URL is not set (deploy/local/stack.sh start creates it)")


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run the suite with `make test`, which starts the stack")
    return value


@pytest.fixture(scope="session")
def admin_dsn() -> str:
    return _required("DATABASE_URL")


@pytest.fixture(scope="session")
def owner_dsn(admin_dsn) -> str:
    """The tables' owner (not a superuser): what migrations and tampering tests run as. Without the stack's roles
    (a stack started before they existed), the superuser."""
    return os.environ.get("DATABASE_OWNER_URL") or admin_dsn


@pytest.fixture(scope="session")
def app_dsn() -> str | None:
    """What services under test connect as: owns no table, gets its privileges from the migrations."""
    return os.environ.get("DATABASE_APP_URL") or None


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return _required("KAFKA_BOOTSTRAP_SERVERS")


@pytest.fixture
async def another_database(admin_dsn, owner_dsn, app_dsn):
    """another_database() -> the owner's DSN of one more database of its own, dropped after the test."""
    async with databases(admin_dsn, owner_dsn, app_dsn) as make:
        yield make


@pytest.fixture
async def fresh_database(another_database):
    """A database of its own for one test, dropped afterwards: returns its DSN."""
    return await another_database()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic names, group ids and test data."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def dev_keys(tmp_path_factory):
    """A dev issuer's key pair for this test session: returns its folder."""
    from shared.web.auth import ensure_dev_keys

    return ensure_dev_keys(tmp_path_factory.mktemp("dev-keys"))


@pytest.fixture(scope="session")
def token(dev_keys):
    """token(*roles, org=None, subject=...) -> a bearer header for the dev issuer."""
    from shared.web.auth import mint_token

    def make(*roles: str, org: str | None = None, subject: str = "tester") -> dict[str, str]:
        return {"authorization": f"Bearer {mint_token(roles, org=org, subject=subject, keys_dir=dev_keys)}"}

    return make


@pytest.fixture(scope="session")
def service_settings(dev_keys, kafka_bootstrap, owner_dsn, app_dsn):
    """service_settings(name, database_url) -> settings for a service under test: it connects to that database
    as the app role and migrates it as the owner, as deployed."""
    from urllib.parse import urlsplit

    from shared.settings import load_settings
    from shared.web.auth import JWKS_FILE

    def make(name: str, database_url: str, **overrides):
        database = database_url.rsplit("/", 1)[1]
        # Only a database of this stack's server: a private stack's (test_database_outage) has roles of its own.
        if app_dsn and urlsplit(database_url).netloc.split("@")[-1] == urlsplit(app_dsn).netloc.split("@")[-1]:
            overrides.setdefault("migration_database_url", dsn_for(owner_dsn, database))
            database_url = dsn_for(app_dsn, database)
        return load_settings(
            name,
            database_url=database_url,
            kafka_bootstrap_servers=kafka_bootstrap,
            auth_jwks_url=(dev_keys / JWKS_FILE).as_uri(),
            log_json=False,
            **overrides,
        )

    return make


@contextlib.asynccontextmanager
async def _running():
    """start(app) -> an httpx client talking to the app, with its lifespan running until leaving."""
    import httpx

    async with contextlib.AsyncExitStack() as stack:

        async def start(app):
            await stack.enter_async_context(app.router.lifespan_context(app))
            return await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test")
            )

        yield start


@pytest.fixture
async def run_service():
    """run_service(app) -> an httpx client talking to the app, with its lifespan running."""
    async with _running() as start:
        yield start


def _starter(another_database, service_settings, run_service, kafka_bootstrap, unique):
    import importlib

    from shared.settings import SERVICES
    from shared.topics import service_topic
    from tests.helpers import group_at_end

    async def start(name: str, **overrides):
        group = f"test-{name}-{unique}"
        await group_at_end(kafka_bootstrap, group, [service_topic(s) for s in SERVICES])
        settings = service_settings(
            name, await another_database(), consumer_group=group, relay_poll_interval_s=0.2, **overrides
        )
        return await run_service(importlib.import_module(f"services.{name}.app").create_app(settings))

    return start


@pytest.fixture
def start_service(another_database, service_settings, run_service, kafka_bootstrap, unique):
    """start_service(name, **settings) -> a client of that service, running with a database of its own and a
    consumer group that starts at the topics' current ends (it sees what the test causes, not earlier tests')."""
    return _starter(another_database, service_settings, run_service, kafka_bootstrap, unique)


@pytest.fixture(scope="module")
async def start_module_service(admin_dsn, owner_dsn, app_dsn, service_settings, kafka_bootstrap):
    """start_service for a module's tests to share: the service (its database, its consumer group) runs until the
    module's last test is done. Only for tests that each make records of their own and never count all of them:
    starting a service costs about half a second."""
    async with databases(admin_dsn, owner_dsn, app_dsn) as make, _running() as running:
        yield _starter(make, service_settings, running, kafka_bootstrap, uuid.uuid4().hex[:10])


@pytest.fixture(scope="session")
def private_stack():
    """A Kafka and a PostgreSQL of this session's own, for tests that kill or stop them: deploy/local/stack.sh
    with a temporary data folder and free ports, stopped by its recorded pids at the end. The shared stack
    the rest of the suite uses is never touched."""
    from bench.harness import free_port
    from faults.stack import PrivateStack

    stack = PrivateStack(Path(tempfile.mkdtemp(prefix="titp-private-")), free_port(), free_port(), free_port())
    try:
        stack.start()
        yield stack
    finally:
        # Its data is thrown away: a broker killed need not shut down cleanly first (up to 30 s after the faults).
        with contextlib.suppress(FileNotFoundError, ProcessLookupError, ValueError):
            stack.kill_broker()
        stack.remove()


@pytest.fixture
def otlp_receiver():
    """An OTLP/HTTP traces endpoint on 127.0.0.1: (its base URL, as OTEL_EXPORTER_OTLP_ENDPOINT takes it; the export
    requests it received). The collector in docker-compose and Kubernetes takes the services' spans the same way."""
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

    received: list[ExportTraceServiceRequest] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["content-length"]))
            if self.path == "/v1/traces" and self.headers["content-type"] == "application/x-protobuf":
                received.append(ExportTraceServiceRequest.FromString(body))
            self.send_response(200)
            self.send_header("content-type", "application/x-protobuf")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


@pytest.fixture
async def pool(fresh_database):
    """A pool on the test's own database with the event store's tables (the shared migrations). A test file that needs
    a service's tables as well, or a table of its own, defines its own `pool`."""
    from shared.db import create_pool, migrate

    pool = await create_pool(fresh_database, max_size=12)
    await migrate(pool)
    yield pool
    await pool.close()
