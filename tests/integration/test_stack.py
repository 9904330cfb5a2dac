"""The local stack is real: PostgreSQL answers SQL and Kafka round-trips a message."""

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from shared.kafka import client_options


async def test_postgres_answers_real_queries(fresh_database):
    conn = await asyncpg.connect(fresh_database)
    try:
        version = await conn.fetchval("SHOW server_version_num")
        assert int(version) >= 150000
        await conn.execute("CREATE TABLE t (x int)")
        await conn.execute("INSERT INTO t VALUES (42)")
        assert await conn.fetchval("SELECT x FROM t") == 42
    finally:
        await conn.close()


async def test_kafka_round_trips_a_message(kafka_bootstrap, unique):
    topic = f"test.stack.{unique}"
    admin = AIOKafkaAdminClient(**client_options(kafka_bootstrap))
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(**client_options(kafka_bootstrap), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, b"hello", key=b"k")
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        **client_options(kafka_bootstrap),
        auto_offset_reset="earliest",
        group_id=f"test-{unique}",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        message = await consumer.getone()
        assert (message.key, message.value) == (b"k", b"hello")
    finally:
        await consumer.stop()
