"""The first vertical slice: a permit application granted over REST, stored, published, consumed once."""

import asyncio
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from services.registry.app import create_app
from shared.consumer import Subscription
from shared.db import connect
from shared.events import RecordedEvent
from shared.kafka import client_options
from shared.topics import dlq_topic
from tests.helpers import eventually, group_at_end, read_topic_from, topic_end_offsets
from tests.helpers import permit_application as application

TOPIC = "titp.registry.v1"


@pytest.fixture
async def registry(fresh_database, service_settings, run_service):
    app = create_app(service_settings("registry", fresh_database, relay_poll_interval_s=0.5))
    return await run_service(app)


async def test_a_permit_application_is_granted_over_rest_stored_and_published(
    registry, token, fresh_database, kafka_bootstrap
):
    offsets = await topic_end_offsets(kafka_bootstrap)
    officer = token("otit", subject="officer-sato")

    # Check: the application is accepted with an id and a version.
    applied = await registry.post("/v1/supervising-organizations", json=application(), headers=officer)
    assert applied.status_code == 201, applied.text
    id = applied.json()["id"]
    assert applied.json()["version"] == 1
    assert applied.headers["etag"] == '"1"'
    assert applied.headers["location"] == f"/v1/supervising-organizations/{id}"

    granted = await registry.post(
        f"/v1/supervising-organizations/{id}/grant",
        json={"permit_type": "general", "granted_on": "2026-05-01", "meets_excellence_standard": True},
        headers=officer,
    )
    assert granted.status_code == 200, granted.text
    assert granted.json() == {"id": id, "version": 2}

    # Check: the read model shows an active general permit valid for 5 years.
    shown = await registry.get(f"/v1/supervising-organizations/{id}", headers=officer)
    assert shown.status_code == 200
    assert shown.headers["etag"] == '"2"'
    body = shown.json()
    assert (body["status"], body["permit_type"], body["granted_on"], body["expires_on"]) == (
        "active",
        "general",
        "2026-05-01",
        "2031-04-30",
    )

    # Check: both events are in PostgreSQL, chained, with the officer as actor.
    conn = await connect(fresh_database)
    try:
        rows = await conn.fetch("SELECT type, version, actor FROM events WHERE stream_id = $1 ORDER BY version", id)
    finally:
        await conn.close()
    assert [(r["type"], r["version"], r["actor"]) for r in rows] == [
        ("titp.registry.PermitApplied.v1", 1, "officer-sato"),
        ("titp.registry.PermitGranted.v1", 2, "officer-sato"),
    ]

    # Check: both are on titp.registry.v1 as CloudEvents the official SDK parses, keyed by the stream.
    messages = await read_topic_from(kafka_bootstrap, offsets, {id}, 2)
    assert len(messages) == 2
    parsed = [from_structured_event(KafkaMessage(headers=dict(m.headers), key=m.key, value=m.value)) for m in messages]
    assert [e.get_type() for e in parsed] == ["titp.registry.PermitApplied.v1", "titp.registry.PermitGranted.v1"]
    assert {e.get_subject() for e in parsed} == {id}
    assert parsed[1].get_data()["expires_on"] == "2031-04-30"
    assert parsed[1].get_extension("streamversion") == 2
    assert parsed[1].get_extension("prevhash") == parsed[0].get_extension("hash")
    assert dict(messages[0].headers)["content-type"] == b"application/cloudevents+json"


async def test_refusals_and_bad_input_change_nothing(registry, token, fresh_database):
    officer = token("otit")
    bad = await registry.post(
        "/v1/supervising-organizations", json=application(corporate_number="12345"), headers=officer
    )
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    assert any(e["field"] == "body.corporate_number" for e in bad.json()["errors"])

    id = (await registry.post("/v1/supervising-organizations", json=application(), headers=officer)).json()["id"]
    await registry.post(f"/v1/supervising-organizations/{id}/deny", json={"reason": "incomplete"}, headers=officer)
    refused = await registry.post(
        f"/v1/supervising-organizations/{id}/grant",
        json={"permit_type": "general", "granted_on": "2026-05-01", "meets_excellence_standard": True},
        headers=officer,
    )
    assert refused.status_code == 409
    assert refused.json()["rule"] == "permit.not_pending"

    stale = await registry.post(
        f"/v1/supervising-organizations/{id}/deny", json={"reason": "again"}, headers={**officer, "if-match": '"1"'}
    )
    assert stale.status_code == 412

    missing = await registry.post(
        f"/v1/supervising-organizations/{uuid.uuid4()}/grant",
        json={"permit_type": "general", "granted_on": "2026-05-01", "meets_excellence_standard": True},
        headers=officer,
    )
    assert missing.status_code == 404

    forbidden = await registry.post(
        f"/v1/supervising-organizations/{id}/grant",
        json={"permit_type": "general", "granted_on": "2026-05-01", "meets_excellence_standard": True},
        headers=token("immigration"),
    )
    assert forbidden.status_code == 403
    assert (await registry.get("/v1/supervising-organizations")).status_code == 401

    conn = await connect(fresh_database)
    try:
        # Check: only the application and the denial were ever appended.
        assert await conn.fetchval("SELECT count(*) FROM events") == 2
    finally:
        await conn.close()


async def test_a_retried_command_with_the_same_idempotency_key_appends_once(registry, token, fresh_database):
    officer = {**token("otit"), "idempotency-key": "apply-sakura-1"}
    body = application()
    first, second = await asyncio.gather(
        registry.post("/v1/supervising-organizations", json=body, headers=officer),
        registry.post("/v1/supervising-organizations", json=body, headers=officer),
    )
    third = await registry.post("/v1/supervising-organizations", json=body, headers=officer)
    assert first.status_code == second.status_code == third.status_code == 201
    assert first.json() == second.json() == third.json()
    other = await registry.post("/v1/supervising-organizations", json={**body, "name": "Other"}, headers=officer)
    assert other.status_code in (409, 422)
    conn = await connect(fresh_database)
    try:
        assert await conn.fetchval("SELECT count(*) FROM events") == 1
    finally:
        await conn.close()


async def test_a_subscriber_applies_each_event_once_even_when_delivered_twice(
    registry, token, kafka_bootstrap, admin_dsn, unique
):
    # The subscriber's group starts at the topic's end: it reads what this test publishes, not the topic's history.
    await group_at_end(kafka_bootstrap, f"test-{unique}", [TOPIC])
    officer = token("otit")
    id = (await registry.post("/v1/supervising-organizations", json=application(), headers=officer)).json()["id"]
    await registry.post(
        f"/v1/supervising-organizations/{id}/grant",
        json={"permit_type": "specified", "granted_on": "2026-05-01"},
        headers=officer,
    )

    # A subscriber of another service, with its own database and consumer group.
    name = f"titp_test_sub_{unique}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    dsn = admin_dsn.rsplit("/", 1)[0] + "/" + name
    from shared.db import create_pool, migrate

    pool = await create_pool(dsn)
    await migrate(pool)
    async with pool.acquire() as conn:
        await conn.execute("CREATE TABLE applied (event_id uuid, type text)")

    async def count(conn, event: RecordedEvent):
        if event.subject == id:
            await conn.execute("INSERT INTO applied VALUES ($1, $2)", event.id, event.type)

    subscription = Subscription(
        "testsubscriber",
        pool,
        kafka_bootstrap,
        [TOPIC],
        count,
        dlq_topic=dlq_topic(f"testsubscriber-{unique}"),
        group_id=f"test-{unique}",
    )
    await subscription.start()
    try:

        async def applied():
            async with pool.acquire() as conn:
                return await conn.fetch("SELECT event_id, type FROM applied")

        rows = await eventually(lambda: _exactly(applied, 2), timeout=20)
        # Deliver the grant twice more, as a broker retry would.
        offsets = await topic_end_offsets(kafka_bootstrap)
        [grant] = [
            m
            for m in await read_topic_from(kafka_bootstrap, {tp: 0 for tp in offsets}, {id}, 2)
            if RecordedEvent.from_json(m.value).type.endswith("PermitGranted.v1")
        ]
        producer = AIOKafkaProducer(**client_options(kafka_bootstrap))
        await producer.start()
        try:
            await producer.send_and_wait(TOPIC, grant.value, key=grant.key, headers=list(grant.headers))
            await producer.send_and_wait(TOPIC, grant.value, key=grant.key, headers=list(grant.headers))
        finally:
            await producer.stop()
        # Check: the duplicates were consumed (the group's offset moved past them) and changed nothing.
        await eventually(lambda: subscription_caught_up(kafka_bootstrap, f"test-{unique}"), timeout=20)
        assert (
            sorted(r["type"] for r in await applied())
            == sorted(r["type"] for r in rows)
            == ["titp.registry.PermitApplied.v1", "titp.registry.PermitGranted.v1"]
        )
    finally:
        await subscription.stop()
        await pool.close()
        admin = await asyncpg.connect(admin_dsn)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _exactly(probe, count):
    rows = await probe()
    return rows if len(rows) == count else None


async def subscription_caught_up(bootstrap, group_id):
    from aiokafka.admin import AIOKafkaAdminClient

    ends = await topic_end_offsets(bootstrap)
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group_id)
    finally:
        await admin.close()
    return all(end == 0 or (committed.get(tp) is not None and committed[tp].offset >= end) for tp, end in ends.items())
