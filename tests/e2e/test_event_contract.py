"""The event contract as a subscriber team meets it on the topics: each record keyed and partitioned by its stream
(`partitionkey`), its Kafka `traceparent` in the trace of the event's own, its type in docs/asyncapi.yaml, and a
dead letter's headers as the catalogue says."""

import asyncio
from collections import defaultdict

import orjson
import pytest
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from opentelemetry import trace
from opentelemetry.instrumentation.aiokafka import AIOKafkaInstrumentor

from services.registry.app import create_app
from shared.consumer import Subscription
from shared.kafka import client_options
from shared.settings import REPO_ROOT
from shared.telemetry import setup_telemetry
from shared.topics import dlq_topic, topic_service
from tests.helpers import TopicReader, eventually, permit_application, post, read_topic_from, topic_end_offsets

CATALOGUE = yaml.safe_load((REPO_ROOT / "docs" / "asyncapi.yaml").read_text())


def trace_id(traceparent: str | bytes) -> str:
    return (traceparent.decode() if isinstance(traceparent, bytes) else traceparent).split("-")[1]


@pytest.fixture
def aiokafka_instrumented():
    """instrumented(on): the aiokafka instrumentation on or off for the test, as it was afterwards (it is on in a
    process once any service in it exported traces, off until then)."""
    instrumentor = AIOKafkaInstrumentor()
    before = instrumentor.is_instrumented_by_opentelemetry

    def instrumented(on: bool) -> None:
        if on and not instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.instrument(tracer_provider=trace.get_tracer_provider())
        elif not on and instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()

    yield instrumented
    instrumented(before)


@pytest.mark.parametrize("exporter", ["none", "memory"])
async def test_a_published_record_names_its_streams_key_and_its_events_trace(
    exporter, aiokafka_instrumented, fresh_database, service_settings, run_service, token, kafka_bootstrap
):
    aiokafka_instrumented(exporter != "none")
    app = create_app(service_settings("registry", fresh_database, otel_exporter=exporter, relay_poll_interval_s=0.2))
    try:
        registry = await run_service(app)
        offsets = await topic_end_offsets(kafka_bootstrap)
        id = (await post(registry, "/v1/supervising-organizations", permit_application(), token("otit"), 201))["id"]
        [record] = await read_topic_from(kafka_bootstrap, offsets, {id}, 1)
        spans = app.state.span_exporter.get_finished_spans() if exporter == "memory" else ()
    finally:
        setup_telemetry(service_settings("registry", fresh_database))  # back to no exporter

    event = orjson.loads(record.value)
    # Check: the CloudEvents partitioning extension is the Kafka key, the stream id.
    assert event["partitionkey"] == record.key.decode() == event["subject"] == id
    # Check: the Kafka traceparent names the event's trace (once: no second header from the instrumentation).
    [header] = [value for name, value in record.headers if name == "traceparent"]
    assert trace_id(header) == trace_id(event["traceparent"])
    if exporter == "none":
        assert header.decode() == event["traceparent"]
    else:
        # Check: the header is the relay's producer span, a child of the span the event's traceparent names.
        [producer] = [
            s for s in spans if s.kind == trace.SpanKind.PRODUCER and s.context.span_id == int(header[36:52], 16)
        ]
        assert format(producer.context.trace_id, "032x") == trace_id(event["traceparent"])
        assert producer.parent is not None and format(producer.parent.span_id, "016x") == event["traceparent"][36:52]


async def test_a_dead_letter_carries_the_headers_the_catalogue_names(
    fresh_database, service_settings, run_service, kafka_bootstrap, unique
):
    app = create_app(service_settings("registry", fresh_database))
    await run_service(app)
    topic, dlq = f"contract-{unique}.titp.inspection.v1", dlq_topic(f"contract-{unique}")

    async def handler(conn, event):
        raise AssertionError("nothing here is an event")

    subscription = Subscription(
        "registry", app.state.pool, kafka_bootstrap, [topic], handler, dlq_topic=dlq, group_id=f"contract-{unique}"
    )
    async with subscription, TopicReader(kafka_bootstrap, dlq) as dead_letters:
        producer = AIOKafkaProducer(**client_options(kafka_bootstrap))
        await producer.start()
        try:
            await producer.send_and_wait(topic, b"not json", key=b"stream-1")
        finally:
            await producer.stop()
        [letter] = await dead_letters.wait_for(1, timeout=20)
    headers = dict(letter.headers)
    schema = CATALOGUE["components"]["schemas"]["DeadLetterHeaders"]
    # Check: every header the catalogue requires, and none it does not name (`traceparent` while traces are exported).
    assert set(headers) - {"traceparent"} == set(schema["required"]) == set(schema["properties"]) - {"traceparent"}
    assert headers["titp-original-topic"].decode() == topic and letter.value == b"not json"
    assert letter.key == b"stream-1"


async def test_every_event_the_services_published_in_these_tests_is_in_the_catalogue(
    published_by_the_services, start_service, token, kafka_bootstrap
):
    """Runs last (tests/e2e/conftest.py): reads back every record the services' relays published in the tests before
    it (and one of its own, so there is always one to check), from its topic."""
    registry = await start_service("registry")
    id = (await post(registry, "/v1/supervising-organizations", permit_application(), token("otit"), 201))["id"]
    await eventually(lambda: any(p.event.subject == id for p in published_by_the_services), timeout=20)

    wanted: dict[TopicPartition, dict[int, str]] = defaultdict(dict)
    for p in list(published_by_the_services):
        wanted[TopicPartition(p.topic, p.partition)][p.offset] = str(p.event.id)
    records = {}
    consumer = AIOKafkaConsumer(**client_options(kafka_bootstrap), enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = list(wanted)
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, min(wanted[tp]))
        ends = await consumer.end_offsets(partitions)
        last = {tp: min(max(wanted[tp]) + 1, ends[tp]) for tp in partitions}
        deadline = asyncio.get_running_loop().time() + 60
        while [tp for tp in partitions if await consumer.position(tp) < last[tp]]:
            assert asyncio.get_running_loop().time() < deadline, "the published records could not be read back"
            for tp, batch in (await consumer.getmany(timeout_ms=500)).items():
                records.update({(tp, m.offset): m for m in batch if m.offset in wanted[tp]})
    finally:
        await consumer.stop()

    problems, types = [], set()
    for (tp, offset), record in records.items():
        event = orjson.loads(record.value)
        if event["id"] != wanted[tp][offset]:
            continue  # a topic deleted and created again by a test since: not the record that was published
        channel = CATALOGUE["channels"][topic_service(tp.topic)]
        where = f"{tp.topic}[{tp.partition}]@{offset}"
        types.add(event["type"])
        if event["type"] not in channel["messages"]:
            problems.append(f"{where}: {event['type']} is not a message of channel {topic_service(tp.topic)}")
        if not event.get("partitionkey") == record.key.decode() == event["subject"]:
            problems.append(f"{where}: partitionkey {event.get('partitionkey')!r}, key {record.key!r}")
        headers = [v for k, v in record.headers if k == "traceparent"]
        if event.get("traceparent") and [trace_id(h) for h in headers] != [trace_id(event["traceparent"])]:
            problems.append(f"{where}: Kafka traceparent {headers} is not in the event's trace {event['traceparent']}")
    checked = sum(1 for (tp, offset), r in records.items() if orjson.loads(r.value)["id"] == wanted[tp][offset])
    assert not problems, f"{len(problems)} of {checked} records:\n" + "\n".join(problems[:50])
    assert checked >= 1 and "titp.registry.PermitApplied.v1" in types
    print(f"{checked} published records of {len(types)} event types read back and found in the catalogue")
