"""A running service signs its log periodically with its configured key, publishes the public key, and creates
its topics itself: under its prefix, with the configured partitions, keeping events forever."""

import asyncio

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from services.registry.app import create_app
from shared.audit.checkpoints import CHECKPOINT_STREAM, PublicKey, load_signing_key
from shared.audit.log import read_topic
from shared.kafka import client_options
from tests.helpers import eventually, permit_application, post


async def test_a_service_signs_its_log_as_it_grows_and_publishes_the_key(
    fresh_database, service_settings, run_service, token, kafka_bootstrap, unique, tmp_path
):
    prefix, key_file = f"test-checkpoints-{unique}.", tmp_path / "keys" / "registry.pem"
    app = create_app(
        service_settings(
            "registry",
            fresh_database,
            topic_prefix=prefix,
            topic_partitions=2,
            checkpoint_interval_s=0.2,
            checkpoint_key_file=key_file,
            relay_poll_interval_s=0.2,
        )
    )
    client = await run_service(app)
    auditor = token("auditor")

    # Check: the key was created where configured, and its public half is published.
    published = (await client.get("/v1/audit/public-key", headers=auditor)).json()
    key = PublicKey.of(load_signing_key(key_file).public_key())
    assert published == {"service": "registry", "keys": [key.to_json()]}
    assert published["keys"][0]["algorithm"] == "Ed25519"

    await post(client, "/v1/supervising-organizations", permit_application(), token("otit"), 201)

    async def sealed():
        report = (await client.get("/v1/audit/verify", headers=auditor)).json()
        return report if report["ok"] and report["checkpoints"] and not report["unsealed"] else None

    report = await eventually(sealed, timeout=30, message="the log was never sealed")
    # Check: a quiet log gets no new checkpoints.
    await asyncio.sleep(1)
    assert (await client.get("/v1/audit/verify", headers=auditor)).json()["checkpoints"] == report["checkpoints"]

    # Check: the checkpoint travels on the topic with the events, to the stream `checkpoints`.
    async def published_checkpoint():
        contents = await read_topic(kafka_bootstrap, f"{prefix}titp.registry.v1")
        return [e for e in contents.events if e.subject == CHECKPOINT_STREAM]

    [checkpoint, *_] = await eventually(published_checkpoint, timeout=30, message="no checkpoint on the topic")
    assert (checkpoint.type, checkpoint.actor) == ("titp.registry.CheckpointSigned.v2", "registry:sealer")
    assert checkpoint.data["key_id"] == published["keys"][0]["key_id"]

    # Check: the topics it writes and reads exist under its prefix, with 2 partitions, kept forever.
    topics = [f"{prefix}titp.registry.v1", f"{prefix}titp.registry.dlq", f"{prefix}titp.inspection.v1"]
    admin = AIOKafkaAdminClient(**client_options(kafka_bootstrap))
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
        [configs] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, name, {"retention.ms": None}) for name in topics]
        )
    finally:
        await admin.close()
    assert sorted((t["topic"], len(t["partitions"])) for t in described) == sorted((t, 2) for t in topics)
    assert sorted((r[3], r[4][0][0], r[4][0][1]) for r in configs.resources) == sorted(
        (t, "retention.ms", "-1") for t in topics
    )
