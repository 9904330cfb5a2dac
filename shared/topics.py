"""Kafka topic names and their creation (the broker does not auto-create topics)."""

from __future__ import annotations

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError, for_code

log = logging.getLogger(__name__)

# The topics are the cross-service audit log: they keep every event forever.
TOPIC_CONFIG = {"retention.ms": "-1"}


def service_topic(service: str) -> str:
    return f"titp.{service}.v1"


def dlq_topic(service: str) -> str:
    return f"titp.{service}.dlq"


async def ensure_topics(bootstrap: str, topics: list[str], *, partitions: int = 3,
                        replication: int = 1) -> list[str]:
    """Create the topics that do not exist yet; returns the ones this call created.

    Safe to run from several processes at once: losing the race to create is not an error.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in dict.fromkeys(topics) if t not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [NewTopic(t, num_partitions=partitions, replication_factor=replication,
                      topic_configs=TOPIC_CONFIG) for t in missing])
        created = []
        for topic, code, *rest in response.topic_errors:
            if code == 0:
                created.append(topic)
                log.info("created topic %s", topic, extra={"topic": topic, "partitions": partitions})
            elif code != TopicAlreadyExistsError.errno:
                raise for_code(code)(f"creating topic {topic}: {rest[0] if rest else ''}")
        return created
    finally:
        await admin.close()
