"""Traces leave the service over OTLP (HTTP/protobuf), as they do to the collector in docker-compose and
Kubernetes: a real HTTP receiver on 127.0.0.1 gets the spans of a request."""

import pytest
from opentelemetry import trace

from services.registry.app import create_app
from shared.telemetry import setup_telemetry
from tests.helpers import permit_application, post


@pytest.fixture
def receiver(otlp_receiver):
    """The OTLP/HTTP traces endpoint: (its URL, the export requests it received)."""
    base, received = otlp_receiver
    return f"{base}/v1/traces", received


async def test_a_request_is_traced_to_the_otlp_endpoint(
    receiver, monkeypatch, fresh_database, service_settings, run_service, token
):
    url, received = receiver
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url)
    client = await run_service(create_app(service_settings("registry", fresh_database, otel_exporter="otlp")))
    try:
        await post(client, "/v1/supervising-organizations", permit_application(), token("otit"), 201)
        assert trace.get_tracer_provider().force_flush()
    finally:
        setup_telemetry(service_settings("registry", fresh_database))  # back to no exporter

    spans = [
        span
        for request in received
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    names = {span.name for span in spans}
    assert "POST /v1/supervising-organizations" in names, names
    resources = {
        a.value.string_value
        for request in received
        for resource in request.resource_spans
        for a in resource.resource.attributes
        if a.key == "service.name"
    }
    assert resources and all(name.startswith("titp-") for name in resources)
