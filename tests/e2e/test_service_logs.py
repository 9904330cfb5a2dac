"""What a running service writes for its operators (issue 23, item 4): the registry started as deployed (`python -m
shared.web.serve`) or by plain `uvicorn --factory`, its stderr read line by line. No access lines unless asked for,
and none when uvicorn is told `--no-access-log`; no ANSI colour codes in the JSON lines; with the standard OTEL_*
variables alone it exports spans under OTEL_SERVICE_NAME to OTEL_EXPORTER_OTLP_ENDPOINT, and the probes and the
metrics scrape make none."""

import asyncio
import sys

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from tests.helpers import SERVE, RegistryProcess, eventually

PROBES = ("/healthz", "/readyz", "/metrics")


@pytest.fixture
async def start_registry(another_database, service_settings, unique, tmp_path):
    started: list[RegistryProcess] = []

    async def start(command: list[str], **env: str) -> RegistryProcess:
        settings = service_settings("registry", await another_database())
        registry = RegistryProcess(settings, tmp_path, f"test-logs-{unique}.", command, **env)
        started.append(registry)
        return await registry.ready()

    yield start
    for registry in started:
        registry.stop()


async def requests(registry: RegistryProcess) -> None:
    """The probes, the scrape and one request of the API (unauthenticated: 401, but served and logged)."""
    async with httpx.AsyncClient(base_url=registry.url) as client:
        for _ in range(3):
            for probe in PROBES:
                assert (await client.get(probe)).status_code == 200
        assert (await client.get("/v1/supervising-organizations")).status_code == 401


def access_lines(records: list[dict]) -> list[dict]:
    return [r for r in records if r["logger"] == "uvicorn.access"]


def check_plain_json(registry: RegistryProcess) -> None:
    """Every line is a JSON object, and none has an ANSI escape (uvicorn's `color_message` included)."""
    lines = registry.lines()
    assert lines and all(line.startswith(b"{") for line in lines), lines[:5]
    assert not [line for line in lines if b"\\u001b[" in line or b"\x1b[" in line], lines
    started = [r for r in registry.records() if r["message"].startswith("Started server process")]
    assert started and all("color_message" not in r for r in started), started


async def test_served_as_deployed_it_writes_no_access_line_and_no_colour_code(start_registry):
    registry = await start_registry(SERVE)
    await requests(registry)
    registry.stop()
    assert access_lines(registry.records()) == []
    check_plain_json(registry)


async def test_plain_uvicorn_with_no_access_log_writes_no_access_line(start_registry):
    command = [sys.executable, "-m", "uvicorn", "services.registry.app:create_app", "--factory"]
    registry = await start_registry([*command, "--no-access-log", "--port", "{port}", "--log-level", "info"])
    await requests(registry)
    registry.stop()
    assert access_lines(registry.records()) == []
    check_plain_json(registry)


async def test_with_the_access_log_asked_for_each_request_is_a_json_line(start_registry):
    registry = await start_registry([*SERVE, "--access-log"])
    await requests(registry)
    registry.stop()
    logged = [r["message"] for r in access_lines(registry.records())]
    assert any('"GET /v1/supervising-organizations HTTP/1.1" 401' in m for m in logged), logged
    assert sum('"GET /readyz HTTP/1.1" 200' in m for m in logged) >= 3, logged
    check_plain_json(registry)


def spans(received: list[ExportTraceServiceRequest]) -> list[tuple[str, object]]:
    """(service.name, span) of every span received."""
    out = []
    for request in received:
        for resource in request.resource_spans:
            [name] = [a.value.string_value for a in resource.resource.attributes if a.key == "service.name"]
            out += [(name, span) for scope in resource.scope_spans for span in scope.spans]
    return out


async def test_the_standard_otel_variables_alone_export_spans_under_the_service_name_and_probes_make_none(
    start_registry, otlp_receiver
):
    endpoint, received = otlp_receiver
    registry = await start_registry(
        SERVE,
        OTEL_TRACES_EXPORTER="otlp",
        OTEL_SERVICE_NAME="registry-under-test",
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_TRACES_SAMPLER="parentbased_always_on",
        OTEL_BSP_SCHEDULE_DELAY="100",
    )
    await requests(registry)

    def served() -> bool:
        return any(span.name == "GET /v1/supervising-organizations" for _, span in spans(received))

    await eventually(served, message="the request's span was not exported")
    await asyncio.sleep(0.5)  # what the probes made, if anything, is exported in the same batches
    registry.stop()
    exported = spans(received)
    assert {name for name, _ in exported} == {"registry-under-test"}
    # Check: no span of a probe or the scrape, nor of their queries (only /readyz and /metrics ask pg_stat_activity).
    assert not [span.name for _, span in exported if any(probe in span.name for probe in PROBES)]
    statements = [
        a.value.string_value
        for _, span in exported
        for a in span.attributes
        if a.key in ("db.statement", "db.query.text")
    ]
    assert statements, "no query span at all: the check below would prove nothing"
    assert not [s for s in statements if "pg_stat_activity" in s], statements
