"""The broker authenticates every client, and its ACLs keep each service to its own topics (issue 18, item 2).

Against the stack the suite runs on (deploy/local/stack.sh: SASL, StandardAuthorizer, one SCRAM-SHA-512
identity a service). The services' ACLs are granted for a topic prefix of this module's own, so nothing
here writes to the stack's live topics."""

import uuid

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from shared.kafka import client_options
from shared.topics import service_topic
from tests.helpers import identity_options, topic_end_offsets

PREFIX = f"test.auth.{uuid.uuid4().hex[:8]}."
REGISTRY, INSPECTION, ACCREDITATION = (PREFIX + service_topic(s) for s in ("registry", "inspection", "accreditation"))


@pytest.fixture(scope="module")
def identity(kafka_bootstrap):
    """identity(name) -> client options of that service's own identity, its ACLs granted for PREFIX."""
    yield lambda name: identity_options(kafka_bootstrap, name, PREFIX)


@pytest.fixture(scope="module", autouse=True)
async def drop_topics(kafka_bootstrap):
    yield
    admin = AIOKafkaAdminClient(**client_options(kafka_bootstrap))
    await admin.start()
    try:
        await admin.delete_topics([t for t in await admin.list_topics() if t.startswith(PREFIX)])
    finally:
        await admin.close()


async def _produce(options: dict, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(**options, enable_idempotence=True, acks="all", request_timeout_ms=10000)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=b"k")
    finally:
        await producer.stop()


async def test_a_producer_without_credentials_or_with_a_wrong_password_is_refused(kafka_bootstrap, identity):
    identity("registry")  # the topics exist
    before = await topic_end_offsets(kafka_bootstrap, REGISTRY)
    anonymous = {"bootstrap_servers": kafka_bootstrap}
    wrong = {**identity("registry"), "sasl_plain_password": "not-the-password"}
    for options in (anonymous, wrong):
        with pytest.raises(KafkaError):
            await _produce(options, REGISTRY, b"forged")
    assert await topic_end_offsets(kafka_bootstrap, REGISTRY) == before


async def test_the_registry_identity_cannot_write_the_inspection_topic(kafka_bootstrap, identity):
    before = await topic_end_offsets(kafka_bootstrap, INSPECTION)
    with pytest.raises(TopicAuthorizationFailedError):
        await _produce(identity("registry"), INSPECTION, b'{"type": "forged administrative action referral"}')
    assert await topic_end_offsets(kafka_bootstrap, INSPECTION) == before


async def test_a_service_identity_writes_its_own_topic_and_a_subscriber_reads_it_in_its_own_group(
    kafka_bootstrap, identity
):
    await _produce(identity("registry"), REGISTRY, b"own")
    consumer = AIOKafkaConsumer(
        REGISTRY,
        **identity("inspection"),  # inspection subscribes to the registry's topic
        group_id=f"{PREFIX}titp.inspection",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        record = await consumer.getone()
        await consumer.commit()
    finally:
        await consumer.stop()
    assert record.value == b"own"


async def test_visa_cannot_read_a_topic_it_does_not_subscribe_to(kafka_bootstrap, identity):
    await _produce(identity("inspection"), INSPECTION, b"for inspection's subscribers")
    assert await _refused_in_group(identity("visa"), INSPECTION, f"{PREFIX}titp.visa") == TopicAuthorizationFailedError


async def test_a_service_identity_cannot_use_another_services_consumer_group(kafka_bootstrap, identity):
    # Inspection may read the accreditation topic, in its own groups only.
    refused = await _refused_in_group(identity("inspection"), ACCREDITATION, f"{PREFIX}titp.visa")
    assert refused == GroupAuthorizationFailedError


async def _refused_in_group(options: dict, topic: str, group: str) -> type[Exception]:
    """The error a consumer of `topic` in `group` gets, as a subscriber's consumer would."""
    consumer = AIOKafkaConsumer(
        topic, **options, group_id=group, auto_offset_reset="earliest", enable_auto_commit=False
    )
    try:
        await consumer.start()
        records = await consumer.getmany(timeout_ms=10000)
    except KafkaError as error:
        return type(error)
    finally:
        await consumer.stop()
    raise AssertionError(f"read {records} from {topic} in group {group}")
