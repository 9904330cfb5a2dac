"""Prometheus metrics of one service, served on GET /metrics.

Requests are counted and timed per route as they are answered. The rest is read when
Prometheus scrapes: the relay's backlog (outbox rows) from the database; the consumer
group's lag per partition and the DLQ's size from Kafka; the relay's and the subscription's
own counters; the age of the oldest open write transaction in the database cluster (it holds
back the audit feed and the checkpoints, see `oldest_transactions`). Every instance of a service
reports its whole consumer group's lag and the same backlog, so dashboards take max() of those
and sum() of the counters.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass

import asyncpg
from fastapi import APIRouter, FastAPI, Request, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.web.status import KafkaReading, read_kafka

log = logging.getLogger(__name__)

KAFKA_TIMEOUT = 5.0  # seconds a scrape waits for Kafka before reporting it unreachable
UNMATCHED = "unmatched"  # the route label of requests no route answered: keeps the label set small


@dataclass
class Sample:
    """What the last scrape read from PostgreSQL and Kafka."""

    outbox_rows: int | None = None
    parked_events: int | None = None
    kafka: KafkaReading | None = None  # None: Kafka could not be read
    oldest_transaction_s: float | None = None


@dataclass
class OpenTransaction:
    """A backend's transaction holding an xid: until it ends, nothing after it is read (`oldest_transactions`)."""

    pid: int
    database: str | None
    user: str | None
    state: str | None
    age_s: float


async def oldest_transactions(conn: asyncpg.Connection, limit: int = 5) -> list[OpenTransaction]:
    """The open write transactions with the oldest xids in the whole cluster, any database, any user, oldest first.

    The audit feed and the checkpoint sealer read only below `pg_snapshot_xmin(pg_current_snapshot())`
    (shared/store.py): the oldest xid still running. One transaction left open (an idle psql session
    after an UPDATE, a stuck migration, another service's database on the same server) freezes them
    with no error. Only a role with pg_read_all_stats (or pg_monitor) sees other roles' backends.
    """
    rows = await conn.fetch(
        "SELECT pid, datname, usename, state, extract(epoch FROM clock_timestamp() - xact_start)::float8 AS age_s"
        " FROM pg_stat_activity WHERE backend_xid IS NOT NULL AND pid <> pg_backend_pid()"
        " ORDER BY age(backend_xid) DESC LIMIT $1",
        limit,
    )
    return [
        OpenTransaction(row["pid"], row["datname"], row["usename"], row["state"], max(0.0, row["age_s"] or 0.0))
        for row in rows
    ]


class ServiceMetrics:
    """The metrics of one service instance, in a registry of its own (several apps may share a process)."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "titp_http_requests",
            "HTTP requests answered, by route and status",
            ["service", "method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "titp_http_request_duration_seconds",
            "Time to answer an HTTP request, by route",
            ["service", "method", "route"],
            registry=self.registry,
        )
        self.sample = Sample()
        self._state = None  # the app's state: pool, relay, subscription, settings (set by the lifespan)
        self.registry.register(_ReadAtScrape(self))

    async def refresh(self, state) -> None:
        """Read the backlog, the lag and the DLQ now, for the scrape that follows."""
        self._state = state
        sample = Sample()
        try:
            async with state.pool.acquire() as conn:
                sample.outbox_rows, sample.parked_events = await conn.fetchrow(
                    "SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM outbox_parked)"
                )
                oldest = await oldest_transactions(conn, limit=1)
            sample.oldest_transaction_s = oldest[0].age_s if oldest else 0.0
        except Exception as exc:
            log.warning("metrics: the database could not be read: %r", exc)
        try:
            reading = read_kafka(state.settings.kafka_bootstrap_servers, state.wiring)
            sample.kafka = await asyncio.wait_for(reading, KAFKA_TIMEOUT)
        except Exception as exc:
            log.warning("metrics: Kafka could not be read: %r", exc)
        self.sample = sample


class _ReadAtScrape(Collector):
    def __init__(self, metrics: ServiceMetrics) -> None:
        self.metrics = metrics

    def describe(self) -> list[Metric]:
        return []  # read at scrape time: nothing to check for clashes up front

    def collect(self) -> Iterator[Metric]:
        m, state = self.metrics, self.metrics._state
        service, sample = m.service, m.sample
        if state is None:
            return
        if sample.outbox_rows is not None:
            yield _gauge(
                "titp_relay_backlog",
                "Committed events not yet acknowledged by Kafka (outbox rows)",
                service,
                sample.outbox_rows,
            )
        if sample.parked_events is not None:
            yield _gauge(
                "titp_relay_parked",
                "Events the broker refused for good, set aside until `titp outbox retry` (outbox_parked rows)",
                service,
                sample.parked_events,
            )
        if sample.oldest_transaction_s is not None:
            yield _gauge(
                "titp_oldest_transaction_age_seconds",
                "Age of the oldest open write transaction in the database cluster (0: none); it holds back"
                " the audit feed and the checkpoints",
                service,
                sample.oldest_transaction_s,
            )
        relay = state.relay
        yield _gauge(
            "titp_relay_leader",
            "1 if this instance's relay holds the lock and publishes",
            service,
            int(relay.is_leader),
        )
        yield _counter("titp_relay_published", "Events this instance's relay published", service, relay.published)
        yield _counter("titp_relay_errors", "Failures this instance's relay retried", service, relay.errors)
        yield _counter("titp_relay_parked_events", "Events this instance's relay parked", service, relay.parked)
        yield _counter(
            "titp_sealer_refusals",
            "Rounds this instance's sealer found the log rewritten since it was sealed and signed nothing",
            service,
            state.sealer.refusals,
        )
        kafka = sample.kafka
        yield _gauge("titp_kafka_up", "1 if the last scrape could read Kafka", service, int(kafka is not None))
        if kafka is not None:
            letters = kafka.dead_letters
            yield _gauge("titp_dlq_messages", "Messages on the service's dead-letter topic", service, letters.messages)
            yield _gauge("titp_dlq_pending", "Dead-lettered messages not re-driven yet", service, letters.pending)
        subscription = state.subscription
        if subscription is None:
            return
        if kafka is not None:
            lag = GaugeMetricFamily(
                "titp_consumer_lag",
                "Messages the consumer group has yet to apply, per partition",
                labels=["service", "group", "topic", "partition"],
            )
            for p in kafka.partitions:
                lag.add_metric([service, subscription.group_id, p.topic, str(p.partition)], p.lag)
            yield lag
        events = CounterMetricFamily(
            "titp_consumer_events",
            "Events this instance's subscription settled, by outcome",
            labels=["service", "outcome"],
        )
        for outcome, value in (
            ("applied", subscription.applied),
            ("duplicate", subscription.duplicates),
            ("dead_lettered", subscription.dead_lettered),
        ):
            events.add_metric([service, outcome], value)
        yield events
        restarts = CounterMetricFamily(
            "titp_consumer_restarts",
            "Consumers this instance's subscription gave up and replaced (after an error, or stalled with records"
            " waiting)",
            labels=["service"],
        )
        restarts.add_metric([service], subscription.restarts)
        yield restarts
        yield _gauge(
            "titp_consumer_assigned_partitions",
            "Partitions assigned to this instance",
            service,
            len(subscription.assigned),
        )


def _gauge(name: str, documentation: str, service: str, value: float) -> GaugeMetricFamily:
    gauge = GaugeMetricFamily(name, documentation, labels=["service"])
    gauge.add_metric([service], value)
    return gauge


def _counter(name: str, documentation: str, service: str, value: float) -> CounterMetricFamily:
    counter = CounterMetricFamily(name, documentation, labels=["service"])
    counter.add_metric([service], value)
    return counter


class _CountRequests:
    """ASGI middleware: count and time every HTTP request by its route template (not its path)."""

    def __init__(self, app: ASGIApp, metrics: ServiceMetrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def send_and_note(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_and_note)
        finally:
            # The router put the matched route into the scope on its way in.
            route = getattr(scope.get("route"), "path", UNMATCHED)
            m = self.metrics
            m.latency.labels(m.service, scope["method"], route).observe(time.perf_counter() - started)
            m.requests.labels(m.service, scope["method"], route, str(status)).inc()


metrics_router = APIRouter(tags=["health"])


@metrics_router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text format"}},
)
async def metrics(request: Request) -> Response:
    """Request rates and latencies, relay backlog, consumer lag per partition, DLQ size (Prometheus)."""
    service_metrics: ServiceMetrics = request.app.state.metrics
    await service_metrics.refresh(request.app.state)
    return Response(generate_latest(service_metrics.registry), media_type=CONTENT_TYPE_LATEST)


def install_metrics(app: FastAPI, service: str) -> ServiceMetrics:
    app.state.metrics = ServiceMetrics(service)
    app.add_middleware(_CountRequests, metrics=app.state.metrics)
    app.include_router(metrics_router)
    return app.state.metrics
