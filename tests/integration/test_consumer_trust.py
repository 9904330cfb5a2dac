"""A subscriber applies only what its topic's service published (issue 18, items 1 and 2), against the real broker.

The registry applies the inspection's referrals from `titp.inspection.v1`. A hand-made referral with a made-up
source and hash (the issue's attack: it revoked a permit), one with the right source that does not continue its
stream's hash chain, one whose hash does not cover it and one of another service's type are dead-lettered with
the reason and never applied; the permit stays granted, and a proper referral after them still takes effect. A
record near the broker's size limit, too big for the DLQ with its headers, is dead-lettered as a reference and the
partition moves on.
"""

import dataclasses
import uuid

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from contracts.inspection import AdministrativeActionReferred, inspection_events
from services.registry.app import create_app as create_registry
from shared.events import chain_hash
from shared.kafka import client_options
from shared.topics import dlq_topic, ensure_topics, service_topic
from tests.helpers import TopicReader, eventually, grant, next_event, permit_application, post, publish, titp

SO = "/v1/supervising-organizations"
# Under the producer's 1 MiB request limit with a content-type header, over it with the DLQ's headers added.
NEAR_LIMIT = 1_048_300


@pytest.fixture
async def registry(another_database, service_settings, run_service, kafka_bootstrap, unique):
    """The registry under a topic prefix of its own: its inspection topic, its DLQ, and a client."""
    prefix = f"test-trust-{unique}."
    inspection_topic, dlq = prefix + service_topic("inspection"), prefix + dlq_topic("registry")
    await ensure_topics(kafka_bootstrap, [inspection_topic, dlq])
    settings = service_settings(
        "registry",
        await another_database(),
        topic_prefix=prefix,
        consumer_group=f"{prefix}registry",
        relay_poll_interval_s=0.2,
    )
    app = create_registry(settings)
    client = await run_service(app)
    return app, client, prefix, inspection_topic, dlq


def referral(target: str, action: str, **details) -> AdministrativeActionReferred:
    return AdministrativeActionReferred(
        referral_id=uuid.uuid4(),
        inspection_id=uuid.uuid4(),
        action=action,
        target_type="supervising_organization",
        target_id=target,
        decided_on="2027-02-01",
        reason="passports kept",
        **details,
    )


def rehashed(event, **changes):
    """`event` changed, its hash computed again over the change: consistent in itself, from whatever prevhash."""
    changed = dataclasses.replace(event, id=uuid.uuid4(), **changes)
    return dataclasses.replace(changed, hash=chain_hash(changed.prevhash, changed))


async def granted_permit(client, officer) -> str:
    id = (await post(client, SO, permit_application(), officer, 201))["id"]
    await post(client, f"{SO}/{id}/grant", grant(), officer)
    return id


async def permit(client, officer, id: str) -> dict:
    response = await client.get(f"{SO}/{id}", headers=officer)
    assert response.status_code == 200, response.text
    return response.json()


async def test_forged_referrals_are_dead_lettered_with_the_reason_and_the_permit_stays_granted(
    registry, kafka_bootstrap, token
):
    app, client, _, topic, dlq = registry
    officer = token("otit")
    id = await granted_permit(client, officer)
    inspection = uuid.uuid4()  # the stream every record below claims to belong to: one partition, in this order
    order = next_event(inspection_events, inspection, referral(id, "improvement_order", deadline="2027-05-01"))
    revocation = next_event(
        inspection_events, inspection, referral(id, "permit_revocation", ground="law_breached"), after=order
    )
    forged = {
        # The attack: made up source and hash.
        "ForeignSource": dataclasses.replace(revocation, id=uuid.uuid4(), source="/titp/inspectorate", hash="ab" * 32),
        # The right source and type, consistently hashed, but not continuing the chain from the order.
        "BrokenChain": rehashed(revocation, prevhash="cd" * 32),
        # The right source and chain, but a hash that does not cover the record.
        "BadHash": dataclasses.replace(revocation, id=uuid.uuid4(), hash="ef" * 32),
        # Another service's event type on the inspection's topic.
        "ForeignType": rehashed(revocation, type="titp.registry.PermitRevoked.v1"),
    }
    async with TopicReader(kafka_bootstrap, dlq) as dead:
        await publish(kafka_bootstrap, topic, order, *forged.values())
        letters = await dead.wait_for(4, timeout=30)
        # The improvement order, before them in the partition, was applied.
        body = await eventually(lambda: permit(client, officer, id), timeout=10)
        assert [o["deadline"] for o in body["improvement_orders"]] == ["2027-05-01"]

        # Check: each forgery is in the DLQ with its reason, tried once, and none was applied.
        reasons = {orjson.loads(m.value).get("id"): dict(m.headers) for m in letters}
        for kind, event in forged.items():
            headers = reasons[str(event.id)]
            expected = "BrokenChain" if kind == "BadHash" else kind
            assert headers["titp-error-type"] == expected.encode(), (kind, headers)
            assert headers["titp-attempts"] == b"1" and headers["titp-original-topic"] == topic.encode()
        assert b"/titp/inspectorate" in reasons[str(forged["ForeignSource"].id)]["titp-error"]
        assert b"does not continue the hash of version 1" in reasons[str(forged["BrokenChain"].id)]["titp-error"]
        assert b"hash does not match its content" in reasons[str(forged["BadHash"].id)]["titp-error"]
        assert b"titp.registry.PermitRevoked.v1" in reasons[str(forged["ForeignType"].id)]["titp-error"]
        body = await permit(client, officer, id)
        assert body["lifecycle"] == "active" and body.get("revocation") is None
        inbox = {r["event_id"] for r in await app.state.pool.fetch("SELECT event_id FROM inbox")}
        assert inbox == {order.id}
        assert app.state.subscription.dead_lettered == 4

        # Check: the normal flow goes on: the inspection's real revocation, continuing the chain, is applied.
        await publish(kafka_bootstrap, topic, revocation)
        revoked = await eventually(
            lambda: _revoked(client, officer, id), timeout=30, message="the real referral was not applied"
        )
        assert revoked["revocation"]["ground"] == "law_breached"
    assert len(dead.messages) == 4


async def _revoked(client, officer, id):
    body = await permit(client, officer, id)
    return body if body["lifecycle"] == "revoked" else None


async def test_a_record_too_big_for_the_dlq_is_dead_lettered_as_a_reference_and_the_partition_moves_on(
    registry, kafka_bootstrap, token
):
    app, client, prefix, topic, dlq = registry
    officer = token("otit")
    id = await granted_permit(client, officer)
    inspection = uuid.uuid4()
    revocation = next_event(inspection_events, inspection, referral(id, "permit_revocation", ground="law_breached"))
    big = b"x" * NEAR_LIMIT  # no JSON: dead-lettered at once, but its copy with the DLQ's headers is over the limit
    producer = AIOKafkaProducer(**client_options(kafka_bootstrap), acks="all")
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            topic, big, key=str(inspection).encode(), headers=[("content-type", b"application/cloudevents+json")]
        )
    finally:
        await producer.stop()
    async with TopicReader(kafka_bootstrap, dlq) as dead:
        # A proper event after it, in the same partition (the same stream key).
        await publish(kafka_bootstrap, topic, revocation)
        # Check: the partition moved on: the event after the big record is applied.
        await eventually(lambda: _revoked(client, officer, id), timeout=30, message="the partition is stalled")
        [message] = await dead.wait_for(1, timeout=10)
    # Check: the DLQ holds a small reference with the usual headers, saying why and where the record stays.
    headers = dict(message.headers)
    assert orjson.loads(message.value) == {
        "topic": topic,
        "partition": sent.partition,
        "offset": sent.offset,
        "size": NEAR_LIMIT,
        "reason": "JSONDecodeError: unexpected character, expected a JSON value: line 1 column 1 (char 0)",
    }
    assert headers["titp-error-type"] == b"JSONDecodeError" and headers["titp-attempts"] == b"1"
    assert headers["titp-original-topic"] == topic.encode()
    assert headers["titp-original-offset"] == str(sent.offset).encode()
    assert headers["content-type"] == b"application/json"
    assert headers["titp-reference"].startswith(b"MessageSizeTooLargeError")
    assert app.state.subscription.dead_lettered == 1

    # Check: the operator's listing shows it as a reference, and a redrive leaves it (the record stays where it is).
    operator = {"TITP_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap, "TITP_TOPIC_PREFIX": prefix}
    code, out, err = await titp("dlq", "list", "registry", "--json", **operator)
    assert code == 0, err
    [listed] = [orjson.loads(line) for line in out.splitlines()]
    assert listed["original"] == f"{topic}[{sent.partition}]@{sent.offset}"
    assert (listed["size"], listed["error_type"], listed["event_id"]) == (NEAR_LIMIT, "JSONDecodeError", None)
    assert listed["not_copied"].startswith("MessageSizeTooLargeError")
    code, out, err = await titp("dlq", "list", "registry", **operator)
    assert code == 0, err
    assert f"a reference to a record of {NEAR_LIMIT} bytes left at {topic}[{sent.partition}]@{sent.offset}" in out
    code, out, err = await titp("dlq", "redrive", "registry", "--yes", **operator)
    assert (code, out.strip()) == (0, f"{dlq}: re-drove 0 messages to their original topics"), err
