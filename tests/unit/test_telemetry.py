import logging

import httpx
import orjson
import pytest
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from shared.settings import load_settings
from shared.telemetry import (
    FASTAPI_TELEMETRY_OFF,
    context_from_traceparent,
    current_traceparent,
    resource_for,
    sampler_for,
    setup_logging,
    setup_telemetry,
    start_span,
)


@pytest.fixture
def spans():
    exporter = setup_telemetry(load_settings("registry", otel_exporter="memory"))
    exporter.clear()
    return exporter


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_consumer_span_continues_the_trace_of_the_producer(spans):
    with start_span("append PermitGranted") as producer:
        traceparent = current_traceparent()

    with start_span("consume PermitGranted", traceparent=traceparent, kind=SpanKind.CONSUMER) as consumer:
        assert current_traceparent().split("-")[1] == traceparent.split("-")[1]

    assert consumer.get_span_context().trace_id == producer.get_span_context().trace_id
    exported = {span.name: span for span in spans.get_finished_spans()}
    assert exported["consume PermitGranted"].parent.span_id == producer.get_span_context().span_id
    assert exported["consume PermitGranted"].kind is SpanKind.CONSUMER


def test_traceparent_is_w3c(spans):
    with start_span("grant permit", attributes={"titp.stream_id": "ORG-1"}) as span:
        traceparent = current_traceparent()

    version, trace_id, span_id, flags = traceparent.split("-")
    assert version == "00"
    assert int(flags, 16) & 1  # sampled
    assert trace_id == format(span.get_span_context().trace_id, "032x")
    assert span_id == format(span.get_span_context().span_id, "016x")
    assert spans.get_finished_spans()[0].attributes["titp.stream_id"] == "ORG-1"


def test_without_a_span_there_is_no_traceparent(spans):
    assert current_traceparent() is None


@pytest.mark.parametrize(
    "traceparent", [None, "", "garbage", "00-00000000000000000000000000000000-0000000000000000-01"]
)
def test_a_missing_or_malformed_traceparent_starts_a_new_trace(spans, traceparent):
    assert not trace.get_current_span(context_from_traceparent(traceparent)).get_span_context().is_valid

    with start_span("outer") as outer:
        with start_span("consume", traceparent=traceparent or "garbage") as inner:
            pass

    assert inner.get_span_context().trace_id != outer.get_span_context().trace_id


async def test_a_request_is_traced_and_continues_the_callers_trace(spans):
    app = FastAPI()

    @app.get("/permits")
    async def permits() -> dict:
        return {"traceparent": current_traceparent()}

    settings = load_settings("registry", otel_exporter="memory")
    assert setup_telemetry(settings, app) is spans
    assert setup_telemetry(settings, app) is spans  # a second call changes nothing
    caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://titp.test") as client:
        response = await client.get("/permits", headers={"traceparent": caller})

    assert response.json()["traceparent"].split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
    server_spans = [span for span in spans.get_finished_spans() if span.kind is SpanKind.SERVER]
    assert len(server_spans) == 1
    assert server_spans[0].context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C


async def test_with_nothing_exported_a_request_still_continues_the_callers_trace_and_records_nothing(spans):
    app = FastAPI(telemetry=FASTAPI_TELEMETRY_OFF)  # as create_service_app makes it

    @app.get("/permits")
    async def permits() -> dict:
        return {"traceparent": current_traceparent()}

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"traceparent": current_traceparent()}

    try:
        assert setup_telemetry(load_settings("registry", otel_exporter="none"), app) is None
        caller = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://titp.test") as client:
            continued = (await client.get("/permits", headers={"traceparent": caller})).json()["traceparent"]
            started = (await client.get("/permits")).json()["traceparent"]
            probe = (await client.get("/healthz", headers={"traceparent": caller})).json()["traceparent"]
    finally:
        setup_telemetry(load_settings("registry", otel_exporter="memory"))
    # The caller's trace, a span of the request's own (not the caller's), not sampled: nothing was recorded.
    assert continued.split("-")[1] == "0af7651916cd43dd8448eb211c80319c"
    assert continued.split("-")[2] != "b7ad6b7169203331" and continued.endswith("-00")
    assert started.split("-")[1] not in ("0af7651916cd43dd8448eb211c80319c", "0" * 32)
    assert probe is None  # the probes are not traced
    assert spans.get_finished_spans() == ()


async def test_one_span_per_request_and_none_for_the_probes(spans):
    app = FastAPI()

    @app.get("/healthz")
    async def healthz() -> dict:
        return {"status": "ok"}

    @app.get("/permits")
    async def permits() -> dict:
        return {}

    setup_telemetry(load_settings("registry", otel_exporter="memory"), app)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://titp.test") as client:
        for path in ("/healthz", "/permits", "/healthz"):
            assert (await client.get(path)).status_code == 200

    # The request's server span only: no span for the probe, none per ASGI message (http send / http receive).
    assert [(span.name, span.kind) for span in spans.get_finished_spans()] == [("GET /permits", SpanKind.SERVER)]


def test_a_share_of_the_traces_is_recorded_and_children_follow_their_parent(spans):
    setup_telemetry(load_settings("registry", otel_exporter="memory", otel_sample_ratio=0))
    try:
        with start_span("not sampled") as span:
            traceparent = current_traceparent()
        assert not span.is_recording() and not int(traceparent.rsplit("-", 1)[1], 16) & 1  # flags: not sampled
        sampled = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        with start_span("consume", traceparent=sampled) as child:  # the caller sampled it: so is this
            assert child.is_recording()
    finally:
        setup_telemetry(load_settings("registry", otel_exporter="memory"))
    assert [span.name for span in spans.get_finished_spans()] == ["consume"]


def test_another_exporter_replaces_the_first(spans):
    assert setup_telemetry(load_settings("registry", otel_exporter="none")) is None

    with start_span("unexported") as unexported:
        assert current_traceparent() is not None  # ids still flow to logs and events
    assert not unexported.is_recording()  # nothing is built for no exporter (issue 22)

    fresh = setup_telemetry(load_settings("registry", otel_exporter="memory"))
    with start_span("exported"):
        pass

    assert spans.get_finished_spans() == ()
    assert [span.name for span in fresh.get_finished_spans()] == ["exported"]


def test_log_lines_are_json_with_the_trace_of_the_current_span(spans, capsys, restore_logging):
    setup_logging(load_settings("inspection", log_level="info"))
    log = logging.getLogger("services.inspection.commands")

    with start_span("schedule inspection") as span:
        log.info("inspection %s scheduled", "INS-1", extra={"stream_id": "INS-1", "version": 3})
    log.debug("not shown at info")

    [line] = capsys.readouterr().err.splitlines()
    record = orjson.loads(line)
    assert record["message"] == "inspection INS-1 scheduled"
    assert record["level"] == "INFO"
    assert record["logger"] == "services.inspection.commands"
    assert record["service"] == "inspection"
    assert record["trace_id"] == format(span.get_span_context().trace_id, "032x")
    assert record["span_id"] == format(span.get_span_context().span_id, "016x")
    assert (record["stream_id"], record["version"]) == ("INS-1", 3)


def test_an_exception_is_logged_with_its_traceback(capsys, restore_logging):
    setup_logging(load_settings("visa"))
    setup_logging(load_settings("visa"))  # replaces its handler rather than adding a second

    try:
        raise LookupError("no certificate of eligibility COE-9")
    except LookupError:
        logging.getLogger("services.visa").exception("issuing the visa failed")

    [line] = capsys.readouterr().err.splitlines()
    record = orjson.loads(line)
    assert record["trace_id"] is None
    assert "LookupError: no certificate of eligibility COE-9" in record["exception"]


def test_text_logs_for_people(capsys, restore_logging):
    setup_logging(load_settings("registry", log_json=False))

    logging.getLogger("shared.outbox").warning("relay is behind")

    line = capsys.readouterr().err
    assert "WARNING shared.outbox [registry trace=-] relay is behind" in line


# What operators read: no colour codes in JSON lines; an access log uvicorn turned off stays off; the standard
# OTEL_* variables reach the resource and the sampler.


def test_json_lines_carry_no_colour_codes(capsys, restore_logging):
    setup_logging(load_settings("registry"))
    log = logging.getLogger("uvicorn.error")

    # As uvicorn logs it: the plain message, and a coloured copy for its own formatter.
    log.info("Started server process [%d]", 42, extra={"color_message": "Started server process [\x1b[36m%d\x1b[0m]"})
    log.warning("a \x1b[1mbold\x1b[0m word")

    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\u001b" not in err, err
    started, bold = [orjson.loads(line) for line in err.splitlines()]
    assert started["message"] == "Started server process [42]" and "color_message" not in started
    assert bold["message"] == "a bold word"


def test_an_access_log_uvicorn_turned_off_stays_off(restore_logging):
    access = logging.getLogger("uvicorn.access")
    try:
        # What `uvicorn --no-access-log` does before it calls the app factory (which sets up logging).
        access.handlers, access.propagate = [], False
        setup_logging(load_settings("registry"))
        assert not access.hasHandlers()  # uvicorn logs a request only if it has
        # Check: left on, it goes through the service's handler.
        access.propagate = True
        setup_logging(load_settings("registry"))
        assert access.hasHandlers()
    finally:
        access.propagate = True


def test_the_resource_names_the_service_from_the_standard_variable_first(monkeypatch):
    for name in ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES", "TITP_OTEL_SERVICE_NAME"):
        monkeypatch.delenv(name, raising=False)
    assert resource_for(load_settings("visa")).attributes["service.name"] == "titp-visa"
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attributes,deployment.environment=staging")
    resource = resource_for(load_settings("visa"))
    assert resource.attributes["service.name"] == "from-attributes"
    assert resource.attributes["deployment.environment"] == "staging"
    monkeypatch.setenv("TITP_OTEL_SERVICE_NAME", "titp-side")
    assert resource_for(load_settings("visa")).attributes["service.name"] == "titp-side"
    monkeypatch.setenv("OTEL_SERVICE_NAME", "visa-eu")
    assert resource_for(load_settings("visa")).attributes["service.name"] == "visa-eu"


@pytest.mark.parametrize(
    ("sampler", "ratio", "description"),
    [
        ("always_on", "0.5", "AlwaysOnSampler"),
        ("always_off", "0.5", "AlwaysOffSampler"),
        ("traceidratio", "0.25", "TraceIdRatioBased{0.25}"),
        ("parentbased_always_off", "0.5", "ParentBased{root:AlwaysOffSampler,"),
        ("parentbased_traceidratio", "0.5", "ParentBased{root:TraceIdRatioBased{0.5},"),
    ],
)
def test_the_sampler_is_the_one_the_standard_variables_name(monkeypatch, sampler, ratio, description):
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", sampler)
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", ratio)
    assert sampler_for(load_settings("registry")).get_description().startswith(description)


def test_always_off_records_nothing_even_with_an_exporter(monkeypatch):
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "always_off")
    exporter = setup_telemetry(load_settings("registry", otel_exporter="memory"))
    exporter.clear()
    try:
        with start_span("not sampled"):
            pass
        assert exporter.get_finished_spans() == ()
    finally:
        monkeypatch.delenv("OTEL_TRACES_SAMPLER")
        setup_telemetry(load_settings("registry", otel_exporter="memory"))
