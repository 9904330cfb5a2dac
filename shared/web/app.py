"""One way to build and run a service: the app factory and its lifespan.

Everything that connects (pool, relay, consumers, telemetry) is built here when the app
starts, never at import.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
import orjson
from aiokafka.admin import AIOKafkaAdminClient
from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from shared import reference
from shared.audit.asyncapi import install_asyncapi
from shared.audit.checkpoints import Sealer, load_signing_key
from shared.audit.log import verify_log, whole_log
from shared.commands import CommandRunner
from shared.consumer import Subscription
from shared.db import create_pool, database_unavailable, migrate_database
from shared.errors import NotFound
from shared.events import RecordedEvent, verify_chain
from shared.kafka import client_options
from shared.outbox import OutboxRelay
from shared.service import Chore, ServiceDefinition, Wiring
from shared.settings import ServiceSettings
from shared.store import EventStore
from shared.telemetry import FASTAPI_TELEMETRY_OFF, setup_logging, setup_telemetry
from shared.topics import ensure_topics
from shared.web.auth import Role, install_authentication, require_roles
from shared.web.http import AsOf
from shared.web.metrics import install_metrics, oldest_transactions
from shared.web.openapi import install_openapi, operation_id
from shared.web.problems import ServiceUnavailable, install_problem_handlers
from shared.web.security import install_security
from shared.web.status import ServiceStatus, read_status

log = logging.getLogger(__name__)

RELAY_LOCK = 7_340_002  # advisory lock key (per database): one active relay per service


async def _every(interval: float, chore: Chore, runner: CommandRunner, relay: OutboxRelay) -> None:
    # The first round waits one interval too: a chore never races the service's first commands
    # (a checkpoint signed in the middle of them, say).
    # Only the process whose relay leads (it holds the service's advisory lock) does a round: one process of the
    # service does the chores, however many workers (TITP_WORKERS) and instances run. The others skip the round.
    while True:
        await asyncio.sleep(interval)
        if not await _leading(relay):
            continue
        try:
            await chore(runner)
        except Exception as exc:
            name = getattr(chore, "__name__", chore)
            if database_unavailable(exc):  # expected while PostgreSQL restarts: no traceback
                log.warning("chore %s: the database is unavailable (%r); trying again in %.0fs", name, exc, interval)
            else:
                log.exception("chore %s failed; trying again in %.0fs", name, interval)


async def _leading(relay: OutboxRelay) -> bool:
    """Whether this process's relay leads, waiting a little for it: a relay that has just started (or got its
    connection back) takes the lock within about one poll interval, and its chores should not wait a whole round."""
    with suppress(TimeoutError):
        await asyncio.wait_for(relay.leading.wait(), 2 * relay.poll_interval)
    return relay.is_leader


class TopicCheck:
    """Whether the service's own topic exists on the broker, for /readyz.

    A deleted topic (and no automatic creation, as in every deployment here) stops the relay: it
    retries for ever and no event leaves the outbox, while commands still succeed. The check lists
    the broker's topics (a metadata request for the topic itself would create it where automatic
    creation is on) in the background at most every `ttl_s`, so the probe never waits for Kafka:
    it reads the last answer. `exists` is None while no answer came yet or the broker does not answer.
    """

    def __init__(self, bootstrap: str, topic: str, ttl_s: float = 5.0, timeout_s: float = 3.0) -> None:
        self.bootstrap, self.topic, self.ttl_s, self.timeout_s = bootstrap, topic, ttl_s, timeout_s
        self.exists: bool | None = True  # the lifespan has just made sure of it
        self.checked_at = time.monotonic()
        self._task: asyncio.Task[None] | None = None

    def last_answer(self) -> bool | None:
        """The last answer, starting a new check in the background when it is older than `ttl_s`."""
        if time.monotonic() - self.checked_at >= self.ttl_s and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._check())
        return self.exists

    async def _check(self) -> None:
        admin = AIOKafkaAdminClient(**client_options(self.bootstrap), request_timeout_ms=int(self.timeout_s * 1000))
        try:
            async with asyncio.timeout(self.timeout_s):
                await admin.start()
                self.exists = self.topic in await admin.list_topics()
        except Exception as exc:
            log.warning("readiness: Kafka does not answer: %r", exc)
            self.exists = None
        finally:
            self.checked_at = time.monotonic()
            try:
                async with asyncio.timeout(self.timeout_s):
                    await admin.close()
            except Exception:
                pass  # a client that never connected

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


def create_service_app(definition: ServiceDefinition, settings: ServiceSettings) -> FastAPI:
    reference.load()  # the reference data the rules use (shared/reference): a broken file stops the start here

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(settings.database_url, max_size=20)
        try:
            # As the tables' owner; the pool serves as the app role, which the migrations grant to.
            await migrate_database(settings.migration_url(), definition.migrations, app_role=settings.app_role())
            wiring = app.state.wiring
            await ensure_topics(
                settings.kafka_bootstrap_servers,
                [wiring.topic, wiring.dlq, *wiring.subscribed],
                partitions=settings.topic_partitions,
                replication=settings.topic_replication,
            )
            store = EventStore(definition.event_types)
            runner = CommandRunner(pool, store)
            app.state.pool, app.state.store, app.state.runner = pool, store, runner
            relay = OutboxRelay(
                pool,
                settings.database_url,
                store,
                wiring.topic,
                settings.kafka_bootstrap_servers,
                lock_key=RELAY_LOCK,
                # Named so that `titp status` and GET /v1/status can say which instance leads (pg_stat_activity).
                application_name=f"{definition.name} relay {socket.gethostname()} pid {os.getpid()}",
                poll_interval=settings.relay_poll_interval_s,
                linger=settings.relay_linger_s,
            )
            app.state.relay = relay
            app.state.topic_check = TopicCheck(settings.kafka_bootstrap_servers, wiring.topic)
            await relay.start()
            subscription = None
            if wiring.group_id and definition.on_event:
                handler = definition.on_event

                async def on_event(conn: asyncpg.Connection, event: RecordedEvent) -> None:
                    await handler(runner, conn, event)

                subscription = Subscription(
                    definition.name,
                    pool,
                    settings.kafka_bootstrap_servers,
                    list(wiring.subscribed),
                    on_event,
                    dlq_topic=wiring.dlq,
                    max_retries=settings.consumer_max_retries,
                    group_id=wiring.group_id,
                )
                await subscription.start()
            app.state.subscription = subscription
            signing_key = load_signing_key(settings.checkpoint_key_path())  # created if missing: never None
            assert signing_key is not None
            app.state.sealer = Sealer(definition.name, signing_key)
            chores = [
                asyncio.create_task(_every(interval, chore, runner, relay))
                for interval, chore in [*definition.chores, (settings.checkpoint_interval_s, app.state.sealer)]
            ]
            log.info("%s ready", definition.name)
            try:
                yield
            finally:
                for task in chores:
                    task.cancel()
                await asyncio.gather(*chores, return_exceptions=True)
                await app.state.topic_check.close()
                if subscription:
                    await subscription.stop()
                await relay.stop()
        finally:
            # close() waits for every connection to be released and closed gracefully, which a connection
            # broken by a database outage may never be: after a while, the rest are cut.
            try:
                await asyncio.wait_for(pool.close(), timeout=10)
            except TimeoutError:
                log.warning("closing the database pool timed out; terminating its connections")
                pool.terminate()

    setup_logging(settings)
    app = FastAPI(
        telemetry=FASTAPI_TELEMETRY_OFF,  # type: ignore[arg-type]
        title=f"TITP {definition.name}",
        description=definition.description,
        version="1",
        lifespan=lifespan,
        openapi_tags=list(definition.tags) or None,
        generate_unique_id_function=operation_id,
    )
    app.state.settings, app.state.definition = settings, definition
    app.state.wiring = Wiring.of(definition, settings)
    install_problem_handlers(app)
    install_authentication(app, settings)
    install_security(app, settings)
    app.state.span_exporter = setup_telemetry(settings, app)  # set only for otel_exporter=memory
    app.include_router(health_router)
    app.include_router(status_router)
    app.include_router(audit_router)
    install_asyncapi(app, definition.event_types, settings, definition.subscribes_to)
    for router in definition.routers:
        app.include_router(router)
    install_metrics(app, definition.name)
    install_openapi(app)
    return app


async def get_pool(request: Request) -> asyncpg.Pool:
    return request.app.state.pool


async def get_store(request: Request) -> EventStore:
    return request.app.state.store


PoolDep = Annotated[asyncpg.Pool, Depends(get_pool)]
StoreDep = Annotated[EventStore, Depends(get_store)]

health_router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str = Field(examples=["ok", "ready"])


@health_router.get("/healthz")
async def healthz() -> Health:
    """The process is alive."""
    return Health(status="ok")


class OpenTransaction(BaseModel):
    pid: int = Field(description="the PostgreSQL backend holding the transaction open")
    database: str | None
    user: str | None
    state: str | None = Field(examples=["idle in transaction"])
    age_s: float = Field(description="seconds since the transaction began")


class Readiness(BaseModel):
    status: Literal["ready", "degraded"] = Field(
        description="degraded: ready for commands, but something below needs an operator (see `detail`)"
    )
    detail: list[str] = Field(default_factory=list, description="what is degraded, one sentence each")
    long_transactions: list[OpenTransaction] = Field(
        default_factory=list,
        description="open write transactions older than TITP_LONG_TRANSACTION_S, anywhere in the cluster, oldest"
        " first (at most five)",
    )


@health_router.get("/readyz")
async def readyz(request: Request, pool: PoolDep) -> Readiness:
    """The service can take commands: its database answers (else 503) and its topic exists on the broker
    (else 503: the relay cannot publish). Still 200, `degraded`, with the reason in `detail`: Kafka does not
    answer (the outbox keeps the events until it does), or an open write transaction older than
    TITP_LONG_TRANSACTION_S holds back the audit feed and the checkpoints."""
    try:
        async with pool.acquire(timeout=2) as conn:
            oldest = await oldest_transactions(conn)
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        log.warning("not ready: the database does not answer: %r", exc)
        raise ServiceUnavailable("the database does not answer") from None
    check: TopicCheck = request.app.state.topic_check
    topic_exists = check.last_answer()
    if topic_exists is False:
        log.warning("not ready: the topic %s does not exist", check.topic)
        raise ServiceUnavailable(f"the topic {check.topic} does not exist: the relay cannot publish") from None
    detail = []
    if topic_exists is None:
        detail.append("Kafka does not answer: events wait in the outbox until it does")
    threshold = request.app.state.settings.long_transaction_s
    long = [OpenTransaction(**vars(t)) for t in oldest if t.age_s > threshold]
    detail += [
        f"a transaction open for {t.age_s:.0f} s (pid {t.pid}, database {t.database}, user {t.user}, {t.state})"
        " holds back the audit feed and the checkpoints"
        for t in long
    ]
    return Readiness(status="degraded" if detail else "ready", detail=detail, long_transactions=long)


class CloudEvent(BaseModel):
    """One event as stored and published: CloudEvents 1.0 attributes and the extensions of
    ARCHITECTURE §4. Attributes with no value (an event with no actor, say) are left out."""

    model_config = ConfigDict(extra="allow")

    specversion: str = Field(examples=["1.0"])
    id: UUID
    source: str = Field(examples=["/titp/registry"])
    type: str = Field(examples=["titp.registry.PermitGranted.v1"])
    subject: str = Field(description="the stream id: the aggregate's id")
    time: datetime
    datacontenttype: str = Field(examples=["application/json"])
    data: dict[str, Any] = Field(description="the event's payload (see the AsyncAPI catalogue)")
    streamversion: int
    position: int = Field(description="this service's global order")
    prevhash: str
    hash: str = Field(description="sha256(prevhash || the event's canonical bytes)")
    actor: str | None = None
    correlationid: str | None = None
    causationid: str | None = None
    traceparent: str | None = None


class AuditEvents(BaseModel):
    events: list[CloudEvent]
    next_after: int = Field(description="pass as `after` for the next page")


class AuditStream(BaseModel):
    stream_id: str
    events: list[CloudEvent]
    chain: str = Field(description="ok, or what breaks the stream's hash chain")


class AuditFinding(BaseModel):
    service: str
    reason: str
    stream_id: str | None = None
    event_id: str | None = None
    streamversion: int | None = None
    position: int | None = None


class AuditVerification(BaseModel):
    service: str
    events: int
    streams: int
    checkpoints: int = Field(description="signed checkpoints that hold")
    sealed_through: int | None = Field(description="the position the last checkpoint that holds covers")
    unsealed: int = Field(description="events after it, which no checkpoint covers yet")
    findings: list[AuditFinding]
    ok: bool


class SigningKey(BaseModel):
    key_id: str
    algorithm: str = Field(examples=["Ed25519"])
    public_key: str = Field(description="the raw public key, base64")


class SigningKeys(BaseModel):
    service: str
    keys: list[SigningKey]


def _as_json(body: dict[str, Any]) -> Response:
    # The events go out exactly as stored (no re-serialisation through the models): their bytes are hashed.
    return Response(orjson.dumps(body), media_type="application/json")


status_router = APIRouter(
    tags=["health"], dependencies=[Depends(require_roles(Role.OTIT, Role.IMMIGRATION, Role.AUDITOR, Role.ADMIN))]
)


@status_router.get("/v1/status", response_model=ServiceStatus)
async def service_status(request: Request) -> ServiceStatus:
    """What this service is doing (as `titp status` shows it): the relay's leader and backlog, the consumer
    group's lag per partition, the dead letters, the last checkpoint and the events since, and per other service
    the newest position of its log applied here. A part that cannot be read now is null, and `problems` says why."""
    state = request.app.state
    status = await read_status(state.wiring, state.settings.kafka_bootstrap_servers, state.pool, lock_key=RELAY_LOCK)
    if status.relay is not None:
        status.relay.this_instance_leads = state.relay.is_leader
    return status


audit_router = APIRouter(prefix="/v1/audit", tags=["audit"])
AUDITORS = [Depends(require_roles(Role.AUDITOR, Role.ADMIN))]
# One record's history is also read by the officers who decide on it (the console's record page).
OFFICERS_AND_AUDITORS = [Depends(require_roles(Role.OTIT, Role.IMMIGRATION, Role.AUDITOR, Role.ADMIN))]


@audit_router.get("/events", response_model=AuditEvents, dependencies=AUDITORS)
async def audit_events(
    pool: PoolDep, store: StoreDep, after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0, limit: int = 100
) -> Response:
    """This service's log in global order, as CloudEvents with their hashes."""
    limit = max(1, min(limit, 1000))
    async with pool.acquire() as conn:
        events = await store.read_all(conn, after, limit)
    return _as_json(
        {"events": [e.to_cloudevent() for e in events], "next_after": events[-1].position if events else after}
    )


@audit_router.get("/streams/{stream_id}", response_model=AuditStream, dependencies=OFFICERS_AND_AUDITORS)
async def audit_stream(stream_id: str, pool: PoolDep, store: StoreDep, as_of: AsOf = None) -> Response:
    """One aggregate's whole history (with `as_of`, the part recorded by then)."""
    async with pool.acquire() as conn:
        events = await store.read_stream(conn, stream_id, until=as_of.until if as_of else None)
    if not events:
        raise NotFound("stream", stream_id)
    broken = verify_chain(events)
    return _as_json(
        {
            "stream_id": stream_id,
            "events": [e.to_cloudevent() for e in events],
            "chain": "ok" if broken is None else broken.reason,
        }
    )


@audit_router.get("/verify", response_model=AuditVerification, dependencies=AUDITORS)
async def audit_verify(request: Request, pool: PoolDep, store: StoreDep) -> dict[str, Any]:
    """Every hash chain of this service's log, and every signed checkpoint against the log."""
    async with pool.acquire() as conn:
        events = await whole_log(store, conn)
    return verify_log(store.types.service, events, [request.app.state.sealer.public_key]).to_json()


@audit_router.get("/public-key", response_model=SigningKeys, dependencies=AUDITORS)
async def audit_public_key(request: Request, store: StoreDep) -> dict[str, Any]:
    """The key this service signs its checkpoints with: exported logs verify offline against it."""
    return {"service": store.types.service, "keys": [request.app.state.sealer.public_key.to_json()]}
