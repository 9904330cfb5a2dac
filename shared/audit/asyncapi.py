"""The published event catalogue: an AsyncAPI 3 document generated from the services' event models.

One channel per service topic, one message per event type: the CloudEvents envelope with
the pydantic model's JSON schema as `data`. `titp asyncapi` writes the catalogue of all four
services to docs/asyncapi.yaml (a test fails when a model changes and the file does not);
each service serves the part it publishes at GET /asyncapi.yaml.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

import yaml
from fastapi import FastAPI, Response
from pydantic.json_schema import models_json_schema

from shared.audit.checkpoints import CheckpointSigned
from shared.events import CLOUDEVENTS_CONTENT_TYPE, EventPayload, EventTypes
from shared.settings import ServiceSettings
from shared.topics import service_topic

_HEX_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}

ENVELOPE = {
    "type": "object",
    "description": "CloudEvents 1.0 in structured JSON mode, with the TITP extensions. The same envelope is"
    " stored, published and exported.",
    "required": [
        "specversion",
        "id",
        "source",
        "type",
        "subject",
        "time",
        "datacontenttype",
        "data",
        "streamversion",
        "position",
        "prevhash",
        "hash",
    ],
    "properties": {
        "specversion": {"const": "1.0"},
        "id": {"type": "string", "format": "uuid", "description": "The event id: the deduplication key everywhere."},
        "source": {"type": "string", "description": "/titp/<service>"},
        "type": {"type": "string", "description": "titp.<service>.<EventName>.v<N>"},
        "subject": {"type": "string", "description": "The stream id (the aggregate's id); also the Kafka key."},
        "time": {"type": "string", "format": "date-time", "description": "When it was recorded (UTC)."},
        "datacontenttype": {"const": "application/json"},
        "data": {"type": "object"},
        "streamversion": {"type": "integer", "minimum": 1, "description": "The event's version in its stream."},
        "position": {"type": "integer", "description": "The service's global order (sparse, increasing)."},
        "prevhash": {**_HEX_HASH, "description": "The hash of the stream's previous event (64 zeros for the first)."},
        "hash": {
            **_HEX_HASH,
            "description": "sha256(prevhash || the event without its hashes, as JSON with sorted keys).",
        },
        "actor": {"type": "string", "description": "Who did it: the token's subject, or the service reacting."},
        "correlationid": {"type": "string"},
        "causationid": {"type": "string", "description": "The id of the event this one reacts to."},
        "traceparent": {"type": "string", "description": "W3C trace context of the command."},
    },
}


def asyncapi_document(
    registries: Sequence[EventTypes], *, title: str = "TITP events", topic: Callable[[str], str] = lambda name: name
) -> dict[str, Any]:
    """The document of the services whose event registries are given; `topic` names topics in a deployment."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEvent": ENVELOPE}
    for types in registries:
        service = types.service
        registered: dict[str, type[EventPayload]] = {
            **types.models,
            types.type_name(CheckpointSigned): CheckpointSigned,
        }
        models = dict(sorted(registered.items()))
        refs, definitions = models_json_schema(
            [(m, "serialization") for m in models.values()], ref_template=f"#/components/schemas/{service}.{{model}}"
        )
        schemas |= {f"{service}.{name}": schema for name, schema in definitions.get("$defs", {}).items()}
        for type_name, model in models.items():
            messages[type_name] = {
                "name": type_name,
                "title": model.__name__,
                **({"summary": model.__doc__.strip().splitlines()[0]} if model.__doc__ else {}),
                "contentType": CLOUDEVENTS_CONTENT_TYPE,
                "payload": {
                    "allOf": [
                        {"$ref": "#/components/schemas/CloudEvent"},
                        {
                            "type": "object",
                            "properties": {
                                "type": {"const": type_name},
                                "source": {"const": types.source},
                                "data": refs[(model, "serialization")],
                            },
                        },
                    ]
                },
                "bindings": {"kafka": {"key": {"type": "string", "description": "The stream id (subject)."}}},
            }
        address = topic(service_topic(service))
        channels[service] = {
            "address": address,
            "title": f"The {service} service's events",
            "description": f"Every event the {service} service records, in each stream's order (one stream, one key,"
            " one partition). Kept forever (retention.ms=-1): read from offset 0, the topics are the"
            " cross-service audit log.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in models},
        }
        operations[f"{service}.publish"] = {
            "action": "send",
            "title": f"The {service} service publishes its events",
            "channel": {"$ref": f"#/channels/{service}"},
            "messages": [{"$ref": f"#/channels/{service}/messages/{name}"} for name in models],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": title,
            "version": "1",
            "description": "Events of the Technical Intern Training Program back office, generated from the"
            " pydantic models of each service's event types.",
        },
        "defaultContentType": CLOUDEVENTS_CONTENT_TYPE,
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def render(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)


def install_asyncapi(app: FastAPI, types: EventTypes, settings: ServiceSettings) -> None:
    """GET /asyncapi.yaml: the events this service publishes, on the topic it publishes them to."""

    @functools.cache
    def document() -> str:
        return render(asyncapi_document([types], title=f"TITP {types.service} events", topic=settings.topic))

    @app.get("/asyncapi.yaml", include_in_schema=False)
    def asyncapi() -> Response:
        return Response(document(), media_type="application/yaml")
