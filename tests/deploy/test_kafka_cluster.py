"""The local stack's three-broker cluster (TITP_KAFKA_BROKERS=3, docs/local-stack.md): topics get three replicas
and min.insync.replicas=2, and with one node killed (SIGKILL) a write acknowledged by all in-sync replicas is
still taken and read back; the node then rejoins. A private stack of its own
(.data/cluster-test, Kafka 28092, 28192, 28292, controllers 28093, 28193, 28293, PostgreSQL 28432: below the
ephemeral port range): the shared and test stacks are not touched. Marked `cluster`: `make test-cluster` runs it.
The compose cluster profile and the k8s config are checked for the same settings."""

import asyncio
import time
import uuid
from pathlib import Path

import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from faults.stack import PrivateStack
from shared.kafka import client_options
from shared.settings import SERVICES, load_settings
from shared.topics import ensure_topics
from tests.deploy.conftest import load_yaml_documents

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def cluster():
    stack = PrivateStack(ROOT / ".data" / "cluster-test", 28092, 28093, 28432, brokers=3)
    try:
        stack.start()
        yield stack
    finally:
        stack.remove()


async def replicas_and_min_isr(bootstrap: str, topic: str) -> tuple[list[int], list[str]]:
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        deadline = time.monotonic() + 10
        while True:  # the broker asked may learn of a topic just created a moment after the one that created it
            (described,) = await admin.describe_topics([topic])
            (configs,) = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            (resource,) = configs.to_object()["resources"]
            if (described["partitions"] and resource["error_code"] == 0) or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.2)
        assert resource["error_code"] == 0, resource
        min_isr = [e["config_value"] for e in resource["config_entries"] if e["config_names"] == "min.insync.replicas"]
        return [len(p["replicas"]) for p in described["partitions"]], min_isr
    finally:
        await admin.close()


async def read_back(bootstrap: str, topic: str, partitions: int, expected: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(**client_options(bootstrap), enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        await consumer.seek_to_beginning()
        values: list[bytes] = []
        deadline = time.monotonic() + 30
        while len(values) < expected and time.monotonic() < deadline:
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                values.extend(r.value for r in records)
        return values
    finally:
        await consumer.stop()


@pytest.mark.cluster
@pytest.mark.timeout(240)  # with the cluster's start: four JVMs and PostgreSQL on two cores, 25-62 s measured
async def test_one_node_of_three_killed_loses_no_acknowledged_write(cluster, monkeypatch):
    started = time.monotonic()
    for name, value in cluster.identity("admin").items():  # this test's clients are the cluster's admin
        monkeypatch.setenv(name, value)
    bootstrap = cluster.bootstrap
    assert bootstrap == "127.0.0.1:28092,127.0.0.1:28192,127.0.0.1:28292"
    topic = f"cluster-test.{uuid.uuid4().hex[:8]}"

    assert await ensure_topics(bootstrap, [topic], partitions=3, replication=cluster.replication) == [topic]
    assert await replicas_and_min_isr(bootstrap, topic) == ([3, 3, 3], ["2"])

    cluster.kill_broker(2)
    sent = [f"event-{i}".encode() for i in range(30)]
    producer = AIOKafkaProducer(**client_options(bootstrap), acks="all", enable_idempotence=True)
    await producer.start()
    try:
        acknowledged = await asyncio.wait_for(
            asyncio.gather(*(producer.send_and_wait(topic, value, partition=i % 3) for i, value in enumerate(sent))),
            timeout=30,
        )
    finally:
        await producer.stop()
    assert len(acknowledged) == len(sent)
    assert sorted(await read_back(bootstrap, topic, 3, len(sent))) == sorted(sent)

    cluster.start_broker(2)
    assert sorted(await read_back("127.0.0.1:28192", topic, 3, len(sent))) == sorted(sent)  # node 2 serves again
    assert time.monotonic() - started < 60


def test_compose_cluster_profile_has_the_local_clusters_replication():
    """deploy/compose/cluster.yml: three nodes with the settings the local cluster's nodes get."""

    class Loader(yaml.SafeLoader):
        pass

    Loader.add_constructor("!override", lambda loader, node: loader.construct_sequence(node))
    cluster = yaml.load((ROOT / "deploy/compose/cluster.yml").read_text(), Loader=Loader)
    services = cluster["services"]
    for node, name in enumerate(["kafka", "kafka-2", "kafka-3"], start=1):
        environment = {key: str(value) for key, value in services[name]["environment"].items()}
        assert environment["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "1@kafka:9093,2@kafka-2:9093,3@kafka-3:9093"
        assert (environment["KAFKA_DEFAULT_REPLICATION_FACTOR"], environment["KAFKA_MIN_INSYNC_REPLICAS"]) == ("3", "2")
        assert environment["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "3"
        assert environment["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "3"
        assert environment["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "2"
        if node > 1:
            assert environment["KAFKA_NODE_ID"] == str(node)
            assert services[name]["extends"] == {"file": "../../docker-compose.yml", "service": "kafka"}
    for name in SERVICES:
        environment = services[name]["environment"]
        assert environment["TITP_KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092,kafka-2:9092,kafka-3:9092"
        assert environment["TITP_TOPIC_REPLICATION"] == 3
    [config] = [d for d in load_yaml_documents(ROOT / "deploy/k8s/base/config.yaml") if d["kind"] == "ConfigMap"]
    assert config["data"]["TITP_TOPIC_REPLICATION"] == "3"


def test_bootstrap_server_lists_are_valid_settings():
    settings = load_settings("registry", kafka_bootstrap_servers="127.0.0.1:28092, 127.0.0.1:28192,127.0.0.1:28292")
    assert settings.kafka_bootstrap_servers == "127.0.0.1:28092,127.0.0.1:28192,127.0.0.1:28292"
