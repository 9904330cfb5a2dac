"""One trace from the REST call through the store, the relay and Kafka into a subscriber."""

from opentelemetry import trace

from services.registry.app import create_app
from shared.consumer import Subscription
from shared.events import RecordedEvent
from shared.topics import dlq_topic
from tests.e2e.test_registry_slice import TOPIC
from tests.helpers import eventually, group_at_end
from tests.helpers import permit_application as application


async def test_a_consumer_span_joins_the_trace_of_the_command(
    fresh_database, service_settings, run_service, token, kafka_bootstrap, unique
):
    app = create_app(service_settings("registry", fresh_database, otel_exporter="memory", relay_poll_interval_s=0.5))
    registry = await run_service(app)
    spans = app.state.span_exporter
    spans.clear()
    await group_at_end(kafka_bootstrap, f"test-tracing-{unique}", [TOPIC])  # the subscriber reads only what follows

    applied = await registry.post("/v1/supervising-organizations", json=application(), headers=token("otit"))
    assert applied.status_code == 201
    id = applied.json()["id"]
    server_spans = [s for s in spans.get_finished_spans() if s.kind == trace.SpanKind.SERVER]
    assert server_spans, "the REST call made a server span"
    trace_id = server_spans[0].context.trace_id

    # Check: the stored event carries the request's trace.
    async with app.state.pool.acquire() as conn:
        [event] = await app.state.store.read_stream(conn, id)
    assert event.traceparent is not None
    assert int(event.traceparent.split("-")[1], 16) == trace_id

    # Check: a subscriber's span for that event is a child in the same trace.
    seen = []

    async def handler(conn, received: RecordedEvent):
        if received.subject == id:
            seen.append(trace.get_current_span().get_span_context().trace_id)

    async with Subscription(
        "tracing",
        app.state.pool,
        kafka_bootstrap,
        [TOPIC],
        handler,
        dlq_topic=dlq_topic(f"tracing-{unique}"),
        group_id=f"test-tracing-{unique}",
    ):
        await eventually(lambda: seen, timeout=20, message="the subscriber never saw the event")
    assert seen == [trace_id]
    consumer_spans = [
        s
        for s in spans.get_finished_spans()
        if s.kind == trace.SpanKind.CONSUMER
        and s.name.endswith("PermitApplied.v1 process")
        and s.context.trace_id == trace_id
    ]
    assert consumer_spans and consumer_spans[0].parent is not None
