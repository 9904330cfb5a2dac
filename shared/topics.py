"""Kafka topic names and their creation (the broker does not auto-create topics)."""

from __future__ import annotations

import asyncio
import logging
import re
import time

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

from shared.kafka import client_options

log = logging.getLogger(__name__)

METADATA_WAIT_S = 10

# The topics are the cross-service audit log: they keep every event forever.
TOPIC_CONFIG = {"retention.ms": "-1"}
# With three replicas or more, a write (acks=all) is acknowledged once two of them have it: one node may be lost.
REPLICATED_TOPIC_CONFIG = {**TOPIC_CONFIG, "min.insync.replicas": "2"}


def service_topic(service: str) -> str:
    return f"titp.{service}.v1"


def dlq_topic(service: str) -> str:
    return f"titp.{service}.dlq"


_SERVICE_TOPIC = re.compile(r".*titp\.(?P<service>[^.]+)\.v[0-9]+")


def topic_service(topic: str) -> str:
    """The service whose events `topic` carries: the inverse of `service_topic`, after any topic prefix."""
    match = _SERVICE_TOPIC.fullmatch(topic)
    if match is None:
        raise ValueError(f"{topic!r} is no service's topic (<topic prefix>titp.<service>.v<N>)")
    return match["service"]


async def ensure_topics(bootstrap: str, topics: list[str], *, partitions: int = 3, replication: int = 1) -> list[str]:
    """Create the topics that do not exist yet; returns the ones this call created.

    Safe to run from several processes at once: losing the race to create is not an error. Returns once the
    broker's metadata shows each topic's partitions (a moment after creation), so a producer or a consumer
    group started next finds them.
    """
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    t,
                    num_partitions=partitions,
                    replication_factor=replication,
                    topic_configs=REPLICATED_TOPIC_CONFIG if replication >= 3 else TOPIC_CONFIG,
                )
                for t in missing
            ]
        )
        created = []
        for topic, code, *rest in response.topic_errors:
            if code == 0:
                created.append(topic)
                log.info("created topic %s", topic, extra={"topic": topic, "partitions": partitions})
            elif code != TopicAlreadyExistsError.errno:
                raise for_code(code)(f"creating topic {topic}: {rest[0] if rest else ''}")
        await _partitions_known(admin, missing)
        return created
    finally:
        await admin.close()


async def _partitions_known(admin: AIOKafkaAdminClient, topics: list[str]) -> None:
    deadline = time.monotonic() + METADATA_WAIT_S
    while not all(t["partitions"] for t in await admin.describe_topics(topics)):
        if time.monotonic() > deadline:
            log.warning(
                "topics created but their partitions not in the metadata after %ss: %s", METADATA_WAIT_S, topics
            )
            return
        await asyncio.sleep(0.05)
