"""Scale-out against the real stack: two instances of the inspection service share one database and
one consumer group. Kafka splits the partitions between them, one relay publishes, and every permit
the registry grants is put on the schedule once and published once — also after the leader stops."""

from contextlib import AsyncExitStack, asynccontextmanager

import httpx
import orjson
from aiokafka import AIOKafkaConsumer

from services.inspection.app import create_app
from shared.kafka import client_options
from shared.settings import SERVICES
from shared.topics import service_topic
from tests.helpers import eventually, grant, group_at_end, permit_application, post, topic_end_offsets

WAIT = 30  # seconds for an effect to cross Kafka into another service
SUBSCRIBED = {(service_topic(s), p) for s in ("registry", "accreditation") for p in range(3)}


@asynccontextmanager
async def instance(settings):
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        yield app.state, client


def assigned(state) -> set[tuple[str, int]]:
    return {(tp.topic, tp.partition) for tp in state.subscription.assigned}


async def grant_permits(registry, officer, count: int) -> list[str]:
    cooperatives = []
    for _ in range(count):
        cooperative = (await post(registry, "/v1/supervising-organizations", permit_application(), officer, 201))["id"]
        await post(
            registry,
            f"/v1/supervising-organizations/{cooperative}/grant",
            grant(),
            officer,
        )
        cooperatives.append(cooperative)
    return cooperatives


async def scheduled_once(client, inspector, cooperatives: list[str]) -> dict[str, str]:
    """Wait until each cooperative has its first inspection; check it has exactly one. cooperative -> inspection."""

    async def inspections(cooperative):
        response = await client.get("/v1/inspections", headers=inspector, params={"target_id": cooperative})
        assert response.status_code == 200, response.text
        return response.json()["items"]

    found = {}
    for cooperative in cooperatives:
        items = await eventually(
            lambda: inspections(cooperative), timeout=WAIT, message=f"no inspection was scheduled for {cooperative}"
        )
        assert len(items) == 1, items
        found[cooperative] = items[0]["id"]
    return found


async def published(bootstrap: str, since: dict, subjects: set[str]) -> list[dict]:
    """The events about `subjects` on the topic from `since` up to its end now."""
    consumer = AIOKafkaConsumer(**client_options(bootstrap), enable_auto_commit=False)
    await consumer.start()
    try:
        end = await consumer.end_offsets(list(since))
        consumer.assign(list(since))
        for tp, offset in since.items():
            consumer.seek(tp, offset)
        events = []
        while any([await consumer.position(tp) < end[tp] for tp in since]):
            for tp, messages in (await consumer.getmany(timeout_ms=500)).items():
                events += [orjson.loads(m.value) for m in messages if m.offset < end[tp] and m.key.decode() in subjects]
        return events
    finally:
        await consumer.stop()


def each_scheduled_once(events: list[dict], inspections: dict[str, str]) -> None:
    """Check: one InspectionScheduled per inspection, and no event published twice."""
    scheduled = sorted(e["subject"] for e in events if e["type"] == "titp.inspection.InspectionScheduled.v1")
    assert scheduled == sorted(inspections.values()), [(e["subject"], e["type"], e["id"]) for e in events]
    assert len({e["id"] for e in events}) == len(events), [(e["subject"], e["type"], e["id"]) for e in events]


async def test_two_instances_split_the_partitions_one_relay_leads_and_nothing_happens_twice(
    start_service, another_database, service_settings, kafka_bootstrap, unique, token
):
    registry = await start_service("registry")
    officer, inspector = token("otit", subject="officer-ito"), token("otit", subject="inspector-kato")
    group = f"test-inspection-scale-{unique}"
    await group_at_end(kafka_bootstrap, group, [service_topic(s) for s in SERVICES])
    settings = service_settings("inspection", await another_database(), consumer_group=group, relay_poll_interval_s=0.2)

    async with AsyncExitStack() as first_stack, AsyncExitStack() as second_stack:
        first, first_client = await first_stack.enter_async_context(instance(settings))
        second, second_client = await second_stack.enter_async_context(instance(settings))

        # Check: the group splits the six partitions between the two, none twice.
        await eventually(
            lambda: assigned(first) and assigned(second),
            timeout=WAIT,
            message=lambda: f"assignments {assigned(first)} / {assigned(second)}",
        )
        assert assigned(first) | assigned(second) == SUBSCRIBED
        assert not assigned(first) & assigned(second)
        # Check: exactly one relay leads.
        await eventually(lambda: first.relay.is_leader or second.relay.is_leader, message="no relay leads")
        assert [first.relay.is_leader, second.relay.is_leader].count(True) == 1

        # Permits granted until both instances have done some of the work.
        since = await topic_end_offsets(kafka_bootstrap, service_topic("inspection"))
        cooperatives = []
        while len(cooperatives) < 30 and not (first.subscription.applied and second.subscription.applied):
            cooperatives += await grant_permits(registry, officer, 3)
            await scheduled_once(first_client, inspector, cooperatives[-3:])
        assert first.subscription.applied and second.subscription.applied

        # Check: each permit put one inspection on the schedule, published once.
        inspections = await scheduled_once(second_client, inspector, cooperatives)
        await eventually(lambda: backlog_empty(first), timeout=WAIT, message="the outbox was never emptied")
        each_scheduled_once(await published(kafka_bootstrap, since, set(inspections.values())), inspections)

        # The leading instance stops; the other takes over the relay and every partition.
        leader, follower, follower_client = (
            (first, second, second_client) if first.relay.is_leader else (second, first, first_client)
        )
        await (first_stack if leader is first else second_stack).aclose()
        await eventually(
            lambda: follower.relay.is_leader and assigned(follower) == SUBSCRIBED,
            timeout=WAIT,
            message=lambda: f"after the stop: leader {follower.relay.is_leader}, {assigned(follower)}",
        )
        since = await topic_end_offsets(kafka_bootstrap, service_topic("inspection"))
        later = await grant_permits(registry, officer, 3)
        inspections = await scheduled_once(follower_client, inspector, later)
        await eventually(lambda: backlog_empty(follower), timeout=WAIT, message="the outbox was never emptied")
        each_scheduled_once(await published(kafka_bootstrap, since, set(inspections.values())), inspections)
        # Check: nothing from before the stop was scheduled again.
        assert len(await scheduled_once(follower_client, inspector, cooperatives)) == len(cooperatives)


async def backlog_empty(state) -> bool:
    return await state.pool.fetchval("SELECT count(*) FROM outbox") == 0
