"""The event catalogue: an AsyncAPI 3 document generated from the services' pydantic models, committed as
docs/asyncapi.yaml and served by each service for the events it publishes."""

import httpx
import yaml

from contracts.registry import registry_events
from services.registry.app import create_app
from shared.audit.asyncapi import asyncapi_document, render
from shared.settings import REPO_ROOT, load_settings
from tools.cli import event_catalogue

COMMITTED = REPO_ROOT / "docs" / "asyncapi.yaml"


def test_the_committed_document_is_the_one_the_models_generate():
    assert COMMITTED.read_text() == event_catalogue(), (
        "an event model changed but docs/asyncapi.yaml did not: run `titp asyncapi --out docs/asyncapi.yaml`"
    )


def test_every_event_type_of_every_service_is_a_message_of_its_channel():
    document = yaml.safe_load(COMMITTED.read_text())
    assert document["asyncapi"] == "3.0.0"
    assert {name: channel["address"] for name, channel in document["channels"].items()} == {
        "registry": "titp.registry.v1",
        "accreditation": "titp.accreditation.v1",
        "inspection": "titp.inspection.v1",
        "visa": "titp.visa.v1",
    }
    registry = document["channels"]["registry"]["messages"]
    assert set(registry) == {*registry_events.models, "titp.registry.CheckpointSigned.v2"}
    granted = document["components"]["messages"]["titp.registry.PermitGranted.v1"]
    envelope, specific = granted["payload"]["allOf"]
    assert envelope == {"$ref": "#/components/schemas/CloudEvent"}
    assert specific["properties"]["type"] == {"const": "titp.registry.PermitGranted.v1"}
    data = document["components"]["schemas"][specific["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
    assert {"permit_type", "granted_on"} <= set(data["properties"])


async def test_a_service_serves_the_document_of_what_it_publishes_on_its_topics():
    app = create_app(load_settings("registry", topic_prefix="staging."))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
        response = await client.get("/asyncapi.yaml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/yaml")
    assert response.text == render(
        asyncapi_document([registry_events], title="TITP registry events", topic=lambda name: f"staging.{name}")
    )
    assert yaml.safe_load(response.text)["channels"]["registry"]["address"] == "staging.titp.registry.v1"
