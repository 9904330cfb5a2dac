"""Duplicate deliveries and a poison message with real services (issue 10, item 5).

The inspection service, subscribed to the registry's topic, applies each registry event once
however often it arrives (the same records produced again; its consumer group rewound to the
start). A release of the inspection with a bug dead-letters the event it cannot handle, with the
reason, and goes on with the partition; the later events of that event's stream wait in the DLQ
behind it (StreamGap: a stream is applied in order). The operator deploys the fix, sees the
messages with `titp dlq list` and re-drives them with `titp dlq redrive`, and they take effect
once, in order.
(tests/integration/test_consumer.py covers the Subscription's mechanics on their own.)
"""

import uuid
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from contracts.registry import PermitGranted, registry_events
from services.inspection import subscriptions
from services.inspection.app import DEFINITION as INSPECTION_SERVICE
from services.inspection.app import InspectionSettings
from services.inspection.app import create_app as create_inspection
from services.registry.app import create_app as create_registry
from shared.kafka import client_options
from shared.topics import dlq_topic, ensure_topics, service_topic
from shared.web.app import create_service_app
from tests.helpers import TopicReader, eventually, permit_application, post, titp, topic_partitions

SO = "/v1/supervising-organizations"
GRANTED = registry_events.type_name(PermitGranted)


async def buggy_release(runner, conn, event, *, cadence):
    """The inspection's handler as released with a bug: it cannot schedule from a general permit."""
    if event.type == GRANTED and event.data["permit_type"] == "general":
        raise KeyError("general permit cadence missing from this release")
    await subscriptions.on_event(runner, conn, event, cadence=cadence)


@asynccontextmanager
async def serving(app):
    """The app with its lifespan running, and a client of it; stopped on leaving (run_service stops only at the
    test's end, and this test replaces a running service by another release)."""
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client,
    ):
        yield client


async def inspections_of(client, headers, organization: str) -> list[dict]:
    response = await client.get("/v1/inspections", headers=headers, params={"target_id": organization})
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def inbox(app) -> set[uuid.UUID]:
    """The events the service applied: the inbox row is written in the transaction of the event's effect."""
    return {r["event_id"] for r in await app.state.pool.fetch("SELECT event_id FROM inbox")}


async def applied_event(app, event_id: uuid.UUID) -> bool:
    return event_id in await inbox(app)


async def test_a_poison_message_is_dead_lettered_and_redriven_after_the_fix_and_duplicates_take_effect_once(
    another_database, service_settings, run_service, kafka_bootstrap, token, unique
):
    prefix = f"test-poison-{unique}."
    registry_topic, dlq = prefix + service_topic("registry"), prefix + dlq_topic("inspection")
    group = f"{prefix}inspection"
    await ensure_topics(kafka_bootstrap, [registry_topic, dlq])
    registry = await run_service(
        create_registry(
            service_settings(
                "registry",
                await another_database(),
                topic_prefix=prefix,
                consumer_group=f"{prefix}registry",
                relay_poll_interval_s=0.2,
            )
        )
    )
    inspection_settings = service_settings(
        "inspection",
        await another_database(),
        topic_prefix=prefix,
        consumer_group=group,
        consumer_max_retries=1,
        relay_poll_interval_s=0.2,
    )
    cadence = InspectionSettings().cadence()
    released = create_service_app(
        replace(INSPECTION_SERVICE, on_event=partial(buggy_release, cadence=cadence)), inspection_settings
    )
    officer = token("otit")
    operator = {"TITP_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "TITP_TOPIC_PREFIX": prefix}

    async with TopicReader(kafka_bootstrap, registry_topic) as on_topic, TopicReader(kafka_bootstrap, dlq) as dead:
        async with serving(released) as inspection:
            general = (await post(registry, SO, permit_application(), officer, 201))["id"]
            specified = (await post(registry, SO, permit_application(requested_permit_type="specified"), officer, 201))[
                "id"
            ]
            await post(
                registry,
                f"{SO}/{general}/grant",
                {"permit_type": "general", "meets_excellence_standard": True, "granted_on": "2026-05-01"},
                officer,
            )
            await post(registry, f"{SO}/{general}/downgrade", {"effective_on": "2026-09-01"}, officer)
            await post(
                registry, f"{SO}/{specified}/grant", {"permit_type": "specified", "granted_on": "2026-05-02"}, officer
            )
            [poison] = [
                orjson.loads(m.value)
                for m in await on_topic.wait_for(5)
                if orjson.loads(m.value)["type"] == GRANTED and m.key == general.encode()
            ]
            downgraded = next(
                uuid.UUID(e["id"])
                for e in map(orjson.loads, (m.value for m in on_topic.messages))
                if e["subject"] == general and e["streamversion"] == 3
            )

            # Check: the poison message lands in the DLQ with its reason and where it came from...
            message, held = await dead.wait_for(2)
            headers = dict(message.headers)
            assert orjson.loads(message.value)["id"] == poison["id"]
            assert headers["titp-error-type"] == b"KeyError"
            assert headers["titp-error"] == b"'general permit cadence missing from this release'"
            assert headers["titp-original-topic"] == registry_topic.encode()
            assert headers["titp-attempts"] == b"2"
            # ...the event after it in its stream waits behind it, not applied out of order...
            assert orjson.loads(held.value)["id"] == str(downgraded)
            assert dict(held.headers)["titp-error-type"] == b"StreamGap"
            assert not await applied_event(released, downgraded)
            # ...and the other permit's grant schedules that organization's first inspection.
            [first] = await eventually(lambda: inspections_of(inspection, officer, specified))
            assert first["status"] == "scheduled"
            assert await inspections_of(inspection, officer, general) == []

        # Check: the operator sees them, with their reasons, waiting.
        code, out, err = await titp("dlq", "list", "inspection", "--json", **operator)
        assert code == 0, err
        listed, waiting = [orjson.loads(line) for line in out.splitlines()]
        assert (listed["event_id"], listed["event_type"], listed["subject"]) == (poison["id"], GRANTED, general)
        assert listed["error_type"] == "KeyError" and "general permit cadence" in listed["error"]
        assert listed["original"].startswith(f"{registry_topic}[") and listed["attempts"] == 2
        assert listed["redriven"] is False
        assert (waiting["event_id"], waiting["error_type"]) == (str(downgraded), "StreamGap")
        assert waiting["redriven"] is False

        # The fix is deployed: the inspection as it is released now, on the same database and consumer group.
        fixed = create_inspection(inspection_settings)
        async with serving(fixed) as inspection:
            code, out, err = await titp("dlq", "redrive", "inspection", "--yes", **operator)
            assert (code, out.strip()) == (0, f"{dlq}: re-drove 2 messages to their original topics"), err
            # Check: they take effect, once, in order.
            [scheduled] = await eventually(lambda: inspections_of(inspection, officer, general), timeout=15)
            assert scheduled["status"] == "scheduled"
            await eventually(lambda: applied_event(fixed, downgraded), timeout=10)
            code, out, err = await titp("dlq", "list", "inspection", "--pending", **operator)
            assert (code, out, err.strip()) == (0, "", f"{dlq}: 2 messages, 0 not re-driven")

            # Duplicates 1: every record of the registry's topic produced again, as a relay repeating itself would.
            records = await on_topic.wait_for(7)  # five events, the redriven grant and the downgrade behind it
            applied, duplicates = fixed.state.subscription.applied, fixed.state.subscription.duplicates
            producer = AIOKafkaProducer(**client_options(kafka_bootstrap), enable_idempotence=True, acks="all")
            await producer.start()
            try:
                for record in records:
                    await producer.send_and_wait(
                        registry_topic,
                        record.value,
                        key=record.key,
                        partition=record.partition,
                        headers=list(record.headers),
                    )
            finally:
                await producer.stop()
            await eventually(lambda: fixed.state.subscription.duplicates >= duplicates + len(records), timeout=15)
            assert fixed.state.subscription.applied == applied

        # Duplicates 2: the consumer group rewound to the start of the topic while the service is stopped.
        partitions = await topic_partitions(kafka_bootstrap, [registry_topic])
        rewind = AIOKafkaConsumer(**client_options(kafka_bootstrap), group_id=group, enable_auto_commit=False)
        await rewind.start()
        try:
            rewind.assign(partitions)
            await rewind.commit({tp: 0 for tp in partitions})
        finally:
            await rewind.stop()
        again = create_inspection(inspection_settings)
        async with serving(again) as inspection:
            everything = len(await on_topic.wait_for(2 * len(records)))
            await eventually(
                lambda: again.state.subscription.duplicates >= everything,
                timeout=15,
                message=lambda: f"{again.state.subscription.duplicates} of {everything} re-read",
            )
            assert again.state.subscription.applied == 0 and again.state.subscription.dead_lettered == 0
            # Check: each effect once: one first inspection per granted permit, one inbox row per distinct event.
            assert len(await inspections_of(inspection, officer, general)) == 1
            assert len(await inspections_of(inspection, officer, specified)) == 1
            distinct = {uuid.UUID(orjson.loads(m.value)["id"]) for m in on_topic.messages}
            assert await inbox(again) == distinct
        assert len(dead.messages) == 2  # nothing more was dead-lettered
