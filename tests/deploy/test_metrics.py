"""GET /metrics against the real stack: what Prometheus scrapes from a running service — requests
by route, the relay, the consumer group's lag per partition and the DLQ, as an operator reads them."""

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from services.registry.app import DEFINITION as REGISTRY
from shared.consumer import redrive
from shared.events import GENESIS_HASH, EventPayload, EventTypes, RecordedEvent, chain_hash
from shared.kafka import client_options
from shared.topics import dlq_topic, ensure_topics
from shared.web.app import create_service_app
from tests.deploy.conftest import scrape, value
from tests.helpers import eventually, permit_application, post


async def test_a_scrape_shows_requests_by_route_the_relay_and_the_consumer_group(start_service, token, unique):
    registry = await start_service("registry")
    officer = token("otit")
    created = await post(registry, "/v1/supervising-organizations", permit_application(), officer, 201)
    missing = await registry.get(f"/v1/supervising-organizations/{uuid.uuid4()}", headers=officer)
    assert missing.status_code == 404
    assert (await registry.get("/no/such/path")).status_code == 404

    async def relayed():
        samples = await scrape(registry)
        return samples if value(samples, "titp_relay_backlog", service="registry") == 0 else None

    samples = await eventually(relayed, message="the outbox was never emptied")
    # Check: requests are counted by route template, never by raw path.
    assert (
        value(
            samples,
            "titp_http_requests_total",
            service="registry",
            method="POST",
            route="/v1/supervising-organizations",
            status="201",
        )
        == 1
    )
    assert (
        value(
            samples,
            "titp_http_requests_total",
            service="registry",
            method="GET",
            route="/v1/supervising-organizations/{id}",
            status="404",
        )
        == 1
    )
    assert (
        value(samples, "titp_http_requests_total", service="registry", method="GET", route="unmatched", status="404")
        == 1
    )
    assert not any(created["id"] in str(labels) for _, labels in samples)
    assert (
        value(
            samples,
            "titp_http_request_duration_seconds_count",
            service="registry",
            method="POST",
            route="/v1/supervising-organizations",
        )
        == 1
    )
    # Check: this instance leads the relay, which published the application.
    assert value(samples, "titp_relay_leader", service="registry") == 1
    assert value(samples, "titp_relay_published_total", service="registry") >= 1
    assert value(samples, "titp_kafka_up", service="registry") == 1
    # Check: the lag of every partition the registry subscribes to (titp.inspection.v1) is reported.
    group = f"test-registry-{unique}"  # start_service's consumer group
    lags = {
        dict(labels)["partition"]
        for name, labels in samples
        if name == "titp_consumer_lag"
        and dict(labels)["topic"] == "titp.inspection.v1"
        and dict(labels)["group"] == group
    }
    assert lags == {"0", "1", "2"}
    assert value(samples, "titp_dlq_messages", service="registry") is not None


types = EventTypes("metricsupstream")


@types.register
class ParcelArrived(EventPayload):
    label: str


def parcel(label: str) -> RecordedEvent:
    """The first event of a stream of its own (the parcel's), so the poison holds back no other parcel."""
    draft = RecordedEvent(
        id=uuid.uuid4(),
        source=types.source,
        type=types.type_name(ParcelArrived),
        subject=f"parcel-{label}",
        time=datetime.now(UTC),
        data={"label": label},
        streamversion=1,
        position=1,
        prevhash=GENESIS_HASH,
        hash="",
    )
    return RecordedEvent(**{**draft.__dict__, "hash": chain_hash(GENESIS_HASH, draft)})


class Depot:
    """The test service's handler: waits while `held`, refuses 'poison' until `fixed`."""

    def __init__(self) -> None:
        self.held = asyncio.Event()
        self.fixed = False
        self.applied: list[str] = []

    async def __call__(self, runner, conn, event: RecordedEvent) -> None:
        await self.held.wait()
        label = event.data["label"]
        if label == "poison" and not self.fixed:
            raise ValueError("cannot handle poison yet")
        self.applied.append(label)


async def test_lag_per_partition_rises_and_falls_and_the_dlq_empties_when_redriven(
    fresh_database, service_settings, run_service, kafka_bootstrap, unique, tmp_path
):
    upstream, depot = f"test-metrics-{unique}.titp.metricsupstream.v1", Depot()
    await ensure_topics(kafka_bootstrap, [upstream])
    definition = replace(
        REGISTRY,
        name=f"metrics{unique}",
        migrations=tmp_path,
        routers=[],
        chores=(),
        subscribes_to=[upstream],
        on_event=depot,
    )
    settings = service_settings("registry", fresh_database, consumer_max_retries=0, relay_poll_interval_s=0.2)
    client = await run_service(create_service_app(definition, settings))
    service, group = definition.name, f"titp.{definition.name}"

    # Three parcels arrive on partition 0 while the handler is held up.
    producer = AIOKafkaProducer(**client_options(kafka_bootstrap), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for label in ("first", "poison", "third"):
            await producer.send_and_wait(upstream, parcel(label).to_json(), key=b"depot", partition=0)
    finally:
        await producer.stop()

    def lag(samples, partition):
        return value(
            samples, "titp_consumer_lag", service=service, group=group, topic=upstream, partition=str(partition)
        )

    samples = await scrape(client)
    assert [lag(samples, p) for p in (0, 1, 2)] == [3, 0, 0]

    # Released: two applied, the poison dead-lettered after its one attempt; the lag is gone.
    depot.held.set()

    async def drained():
        samples = await scrape(client)
        return samples if lag(samples, 0) == 0 and value(samples, "titp_dlq_pending", service=service) == 1 else None

    samples = await eventually(drained, message="the partition was never drained")
    assert depot.applied == ["first", "third"]
    assert value(samples, "titp_dlq_messages", service=service) == 1
    assert value(samples, "titp_consumer_events_total", service=service, outcome="applied") == 2
    assert value(samples, "titp_consumer_events_total", service=service, outcome="dead_lettered") == 1

    # The cause fixed, the operator re-drives the DLQ: nothing is pending, the DLQ keeps its history.
    depot.fixed = True
    assert await redrive(kafka_bootstrap, dlq_topic(service)) == 1
    await eventually(lambda: depot.applied == ["first", "third", "poison"], message=lambda: str(depot.applied))

    async def redriven():
        samples = await scrape(client)
        return samples if value(samples, "titp_dlq_pending", service=service) == 0 else None

    samples = await eventually(redriven, message="the DLQ still shows pending messages")
    assert value(samples, "titp_dlq_messages", service=service) == 1
    assert value(samples, "titp_consumer_events_total", service=service, outcome="applied") == 3
