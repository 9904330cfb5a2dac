"""The published event catalogue: an AsyncAPI 3 document generated from the services' event models.

One channel per service topic, one message per event type (every version still stored, the old ones
with the shape their upcaster reads): the CloudEvents envelope with the pydantic model's JSON schema
as `data`, the Kafka headers and key. The Kafka servers of each environment, the topics' bindings
(partitions, replicas, configuration), a `send` operation per publisher, a `receive` operation per
subscriber and topic (its consumer group and client id), and each subscriber's DLQ with the headers
the dead-letter code adds. `titp asyncapi` writes the catalogue of all four services to
docs/asyncapi.yaml (a test fails when a model changes and the file does not; tools/asyncapi checks
it with the official parser); each service serves its part at GET /asyncapi.yaml: what it publishes
and reads, on its deployment's broker and topics.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import yaml
from fastapi import FastAPI, Response
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.audit.checkpoints import CheckpointSigned, CheckpointSignedV1
from shared.consumer import REFERENCE_HEADER, redrive_group
from shared.events import CLOUDEVENTS_CONTENT_TYPE, EventTypes
from shared.kafka import KafkaIdentity
from shared.settings import SERVICES, ServiceSettings
from shared.topics import REPLICATED_TOPIC_CONFIG, TOPIC_CONFIG, dlq_topic, service_topic, topic_service

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
        "partitionkey": {
            "type": "string",
            "description": "CloudEvents partitioning extension: the Kafka key, always equal to `subject`. Added when"
            " the event is published or exported, derived from `subject`: not covered by `hash` (nor stored), so"
            " records published before it existed verify alike; a record whose partitionkey is not its subject is"
            " refused.",
        },
    },
}


BINDING_VERSION = "0.5.0"  # of the AsyncAPI Kafka bindings


EVENT_HEADERS = {
    "type": "object",
    "description": "The Kafka headers of a published event.",
    "required": ["content-type"],
    "properties": {
        "content-type": {"const": CLOUDEVENTS_CONTENT_TYPE, "description": "CloudEvents structured mode."},
        "traceparent": {
            "type": "string",
            "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
            "description": "W3C trace context, in the trace of the event's own `traceparent` (the command's): the"
            " relay's producer span, a child of it, while traces are exported; else the event's own traceparent."
            " Absent when the event has none.",
        },
    },
}

_DLQ_HEADERS: dict[str, tuple[dict[str, Any], str]] = {
    "titp-error": ({"type": "string", "maxLength": 4000}, "Why the subscriber gave up on the record (truncated)."),
    "titp-error-type": ({"type": "string"}, "The exception's class, e.g. StreamGap, ForeignSource, ValidationError."),
    "titp-original-topic": ({"type": "string"}, "The topic the record was read from (redrive sends it back there)."),
    "titp-original-partition": ({"type": "string", "pattern": "^[0-9]+$"}, "Its partition, in decimal."),
    "titp-original-offset": ({"type": "string", "pattern": "^[0-9]+$"}, "Its offset, in decimal."),
    "titp-attempts": ({"type": "string", "pattern": "^[0-9]+$"}, "How often the handler was tried, in decimal."),
}

_DEAD_LETTER_HEADER_PROPERTIES: dict[str, Any] = {
    "content-type": {"type": "string", "description": "The original record's (CloudEvents JSON, as a rule)."},
    **{name: {**schema, "description": text} for name, (schema, text) in _DLQ_HEADERS.items()},
    "traceparent": {
        "type": "string",
        "description": "While traces are exported: the subscriber's producer span (the aiokafka instrumentation's).",
    },
}

DEAD_LETTER_HEADERS = {
    "type": "object",
    "description": "The headers the subscriber's dead-letter code (shared/consumer.py) puts on a DLQ record.",
    "required": ["content-type", *_DLQ_HEADERS],
    "properties": _DEAD_LETTER_HEADER_PROPERTIES,
}

DEAD_LETTER_REFERENCE_HEADERS = {
    **DEAD_LETTER_HEADERS,
    "required": ["content-type", *_DLQ_HEADERS, REFERENCE_HEADER],
    "properties": {
        **_DEAD_LETTER_HEADER_PROPERTIES,
        "content-type": {"const": "application/json"},
        REFERENCE_HEADER: {"type": "string", "description": "Why the record itself could not be copied here."},
    },
}

DEAD_LETTER_REFERENCE = {
    "type": "object",
    "description": "Stands for a record the DLQ could not take a copy of (e.g. one near the size limit): it stays"
    " on its topic, at the place named.",
    "required": ["topic", "partition", "offset", "size", "reason"],
    "properties": {
        "topic": {"type": "string"},
        "partition": {"type": "integer", "minimum": 0},
        "offset": {"type": "integer", "minimum": 0},
        "size": {"type": "integer", "minimum": 0, "description": "The record's value in bytes."},
        "reason": {"type": "string", "description": "Why it was dead-lettered."},
    },
}

# Where the services meet the broker: every environment the repository deploys to, each over SASL/SCRAM-SHA-512.
SERVERS: dict[str, dict[str, str]] = {
    "local": {
        "host": "127.0.0.1:9092",
        "description": "`make run` / `make up` (deploy/local/stack.sh): KRaft on this machine, SASL_PLAINTEXT.",
    },
    "compose": {
        "host": "kafka:9092",
        "description": "docker-compose.yml, inside its network (127.0.0.1:9092 from the host), SASL_PLAINTEXT.",
    },
    "kubernetes": {
        "host": "titp-kafka-bootstrap:9092",
        "description": "deploy/k8s: the Strimzi cluster's bootstrap service, SASL_PLAINTEXT.",
    },
}

_SCHEMES = {"SCRAM-SHA-512": "scramSha512", "SCRAM-SHA-256": "scramSha256", "PLAIN": "plain"}


def _security_scheme(mechanism: str) -> dict[str, Any]:
    return {
        "type": _SCHEMES[mechanism],
        "description": f"SASL/{mechanism}: each service its own Kafka user (TITP_KAFKA_USERNAME, TITP_KAFKA_PASSWORD),"
        " allowed by ACLs to write only its own topic and DLQ, read the topics it subscribes to and use the consumer"
        " groups <prefix>titp.<service>* (shared/kafka.py service_acls).",
    }


def _kafka(**binding: Any) -> dict[str, Any]:
    return {"kafka": {**binding, "bindingVersion": BINDING_VERSION}}


def _const(value: str) -> dict[str, str]:
    return {"type": "string", "const": value}


def asyncapi_document(
    registries: Sequence[EventTypes],
    *,
    title: str = "TITP events",
    topic: Callable[[str], str] = lambda name: name,
    subscriptions: Mapping[str, Sequence[str]] | None = None,
    servers: Mapping[str, Mapping[str, str]] = SERVERS,
    sasl_mechanism: str | None = "SCRAM-SHA-512",
    partitions: int = ServiceSettings.model_fields["topic_partitions"].default,
    replicas: int = ServiceSettings.model_fields["topic_replication"].default,
) -> dict[str, Any]:
    """The document of the services whose event registries are given; `topic` names topics in a deployment.

    `subscriptions`: the topics (unprefixed) each service reads. A subscriber gets a `receive` operation for each
    of them whose publisher is among `registries`, and its DLQ channel. `servers` and `sasl_mechanism` (None: no
    authentication) say where the broker is; `partitions` and `replicas` how the services create topics."""
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {"CloudEvent": ENVELOPE, "EventHeaders": EVENT_HEADERS}
    # As shared/topics.py ensure_topics creates them.
    topic_configuration = {k: int(v) for k, v in (REPLICATED_TOPIC_CONFIG if replicas >= 3 else TOPIC_CONFIG).items()}
    published: dict[str, list[str]] = {}
    for types in registries:
        service = types.service
        current: dict[str, type[BaseModel]] = {**types.models, types.type_name(CheckpointSigned): CheckpointSigned}
        old = {**types.old_types, f"titp.{service}.CheckpointSigned.v1": CheckpointSignedV1}
        missing = sorted(name for name, shape in old.items() if shape is None)
        if missing:
            raise ValueError(f"no schema for the stored types {missing}: give their upcasters a shape=")
        models = dict(sorted({**current, **{name: shape for name, shape in old.items() if shape}}.items()))
        unique = list(dict.fromkeys(models.values()))
        refs, definitions = models_json_schema(
            [(m, "serialization") for m in unique], ref_template=f"#/components/schemas/{service}.{{model}}"
        )
        schemas |= {f"{service}.{name}": schema for name, schema in definitions.get("$defs", {}).items()}
        for type_name, model in models.items():
            read_as = types.type_name(types.model_of(type_name)) if type_name in types.old_types else None
            if type_name.endswith(".CheckpointSigned.v1"):
                read_as = types.type_name(CheckpointSigned)
            summary = (model.__doc__ or "").strip().splitlines()[0] if model.__doc__ else None
            messages[type_name] = {
                "name": type_name,
                "title": model.model_config.get("title") or model.__name__.removesuffix("V1"),
                **({"summary": summary} if summary else {}),
                **(
                    {"description": f"An older version, no longer written but stored and read back (as {read_as})."}
                    if read_as
                    else {}
                ),
                "contentType": CLOUDEVENTS_CONTENT_TYPE,
                "headers": {"$ref": "#/components/schemas/EventHeaders"},
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
                "bindings": _kafka(key={"type": "string", "description": "The stream id (subject, partitionkey)."}),
            }
        address = topic(service_topic(service))
        published[service_topic(service)] = list(models)
        channels[service] = {
            "address": address,
            "title": f"The {service} service's events",
            "description": f"Every event the {service} service records, in each stream's order (one stream, one key,"
            " one partition). Kept forever (retention.ms=-1): read from offset 0, the topics are the"
            " cross-service audit log. Created by the services with TITP_TOPIC_PARTITIONS partitions and"
            " TITP_TOPIC_REPLICATION replicas (min.insync.replicas 2 from 3 replicas on): the bindings give the"
            " values of this deployment.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"} for name in models},
            "bindings": _kafka(
                topic=address, partitions=partitions, replicas=replicas, topicConfiguration=topic_configuration
            ),
        }
        operations[f"{service}.publish"] = {
            "action": "send",
            "title": f"The {service} service publishes its events",
            "description": "Its outbox relay: what the event store committed, in position order, keyed by stream id"
            " (idempotent producer, acks=all). At least once: subscribers deduplicate by event id.",
            "channel": {"$ref": f"#/channels/{service}"},
            "messages": [{"$ref": f"#/channels/{service}/messages/{name}"} for name in models if name not in old],
        }
    for subscriber, topics in sorted((subscriptions or {}).items()):
        if not topics:
            continue
        group = topic(f"titp.{subscriber}")
        for read in topics:
            publisher = topic_service(read)
            if read not in published:
                continue
            operations[f"{subscriber}.receive.{publisher}"] = {
                "action": "receive",
                "title": f"The {subscriber} service reads the {publisher} service's events",
                "description": f"Its subscription, consumer group {group} (TITP_CONSUMER_GROUP overrides), from"
                " offset 0, committing after each record is applied; a record it cannot apply goes to its DLQ.",
                "channel": {"$ref": f"#/channels/{publisher}"},
                "messages": [{"$ref": f"#/channels/{publisher}/messages/{name}"} for name in published[read]],
                "bindings": _kafka(groupId=_const(group), clientId=_const(f"{group}-consumer")),
            }
        dlq = topic(dlq_topic(subscriber))
        channels[f"{subscriber}.dlq"] = {
            "address": dlq,
            "title": f"The {subscriber} service's dead letters",
            "description": f"Records the {subscriber} service's subscription could not apply (after its retries) or"
            " did not trust, each with why and where from in its headers. `titp dlq list` shows them, `titp dlq"
            " redrive` sends them back to their topics.",
            "messages": {
                "DeadLetter": {"$ref": "#/components/messages/DeadLetter"},
                "DeadLetterReference": {"$ref": "#/components/messages/DeadLetterReference"},
            },
            "bindings": _kafka(
                topic=dlq, partitions=partitions, replicas=replicas, topicConfiguration=topic_configuration
            ),
        }
        operations[f"{subscriber}.deadLetter"] = {
            "action": "send",
            "title": f"The {subscriber} service dead-letters a record",
            "channel": {"$ref": f"#/channels/{subscriber}.dlq"},
            "messages": [
                {"$ref": f"#/channels/{subscriber}.dlq/messages/DeadLetter"},
                {"$ref": f"#/channels/{subscriber}.dlq/messages/DeadLetterReference"},
            ],
        }
        operations[f"{subscriber}.redrive"] = {
            "action": "receive",
            "title": f"`titp dlq redrive {subscriber}` reads the dead letters back",
            "description": "And sends each to its titp-original-topic, with its content-type header only.",
            "channel": {"$ref": f"#/channels/{subscriber}.dlq"},
            "messages": [{"$ref": f"#/channels/{subscriber}.dlq/messages/DeadLetter"}],
            "bindings": _kafka(groupId=_const(redrive_group(dlq))),
        }
    if any(name.endswith(".dlq") for name in channels):
        schemas |= {
            "DeadLetterHeaders": DEAD_LETTER_HEADERS,
            "DeadLetterReferenceHeaders": DEAD_LETTER_REFERENCE_HEADERS,
            "DeadLetterReference": DEAD_LETTER_REFERENCE,
        }
        messages |= {
            "DeadLetter": {
                "name": "DeadLetter",
                "title": "A record a subscriber gave up on",
                "summary": "The original record's key and value, unchanged, with why and where from in its headers.",
                "description": "The value is the original record's bytes: as a rule a CloudEvent of a channel the"
                " subscriber reads, but a record that is no CloudEvent at all (not JSON, no id) is dead-lettered too.",
                "headers": {"$ref": "#/components/schemas/DeadLetterHeaders"},
                "payload": {"description": "The original record's value, as it was."},
                "bindings": _kafka(key={"type": "string", "description": "The original record's key."}),
            },
            "DeadLetterReference": {
                "name": "DeadLetterReference",
                "title": "A reference to a record the DLQ could not take",
                "contentType": "application/json",
                "headers": {"$ref": "#/components/schemas/DeadLetterReferenceHeaders"},
                "payload": {"$ref": "#/components/schemas/DeadLetterReference"},
                "bindings": _kafka(
                    key={"type": "string", "description": "The original record's key (left out over 1024 bytes)."}
                ),
            },
        }
    document: dict[str, Any] = {
        "asyncapi": "3.1.0",
        "info": {
            "title": title,
            "version": "1",
            "description": "Events of the Technical Intern Training Program back office, generated from the"
            " pydantic models of each service's event types.",
        },
        "defaultContentType": CLOUDEVENTS_CONTENT_TYPE,
    }
    if servers:
        document["servers"] = {
            name: {
                "host": server["host"],
                "protocol": "kafka",
                **server,
                "security": [{"$ref": "#/components/securitySchemes/sasl"}] if sasl_mechanism else [],
            }
            for name, server in servers.items()
        }
    components: dict[str, Any] = {"schemas": schemas, "messages": messages}
    if servers and sasl_mechanism:
        components["securitySchemes"] = {"sasl": _security_scheme(sasl_mechanism)}
    return {**document, "channels": channels, "operations": operations, "components": components}


class _Dumper(yaml.SafeDumper):
    """Writes a value used twice out twice: no YAML anchors and aliases for a reader to follow."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def render(document: dict[str, Any]) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120)


def _definition(service: str) -> Any:
    return importlib.import_module(f"services.{service}.app").DEFINITION


def _registry(service: str) -> EventTypes:
    return getattr(importlib.import_module(f"contracts.{service}"), f"{service}_events")


def event_catalogue() -> str:
    """The document of the four services (docs/asyncapi.yaml): `<service>_events` in contracts/<service>.py, and
    what each reads (its ServiceDefinition's subscribes_to)."""
    return render(
        asyncapi_document(
            [_registry(s) for s in SERVICES], subscriptions={s: list(_definition(s).subscribes_to) for s in SERVICES}
        )
    )


def service_document(types: EventTypes, settings: ServiceSettings, subscribes_to: Sequence[str] = ()) -> dict[str, Any]:
    """What one service publishes and reads, on this deployment's broker and topics."""
    identity = KafkaIdentity()
    publishers = [topic_service(t) for t in subscribes_to]
    return asyncapi_document(
        [types, *(_registry(p) for p in publishers if p != types.service)],
        title=f"TITP {types.service} events",
        topic=settings.topic,
        subscriptions={types.service: list(subscribes_to)},
        servers={
            "this": {
                "host": settings.kafka_bootstrap_servers,
                "description": f"The broker this {types.service} instance uses ({identity.security_protocol}).",
            }
        },
        sasl_mechanism=identity.sasl_mechanism if identity.security_protocol != "PLAINTEXT" else None,
        partitions=settings.topic_partitions,
        replicas=settings.topic_replication,
    )


def install_asyncapi(
    app: FastAPI, types: EventTypes, settings: ServiceSettings, subscribes_to: Sequence[str] = ()
) -> None:
    """GET /asyncapi.yaml: the events this service publishes and reads, on its deployment's broker and topics."""

    @functools.cache
    def document() -> str:
        return render(service_document(types, settings, subscribes_to))

    @app.get("/asyncapi.yaml", include_in_schema=False)
    def asyncapi() -> Response:
        return Response(document(), media_type="application/yaml")
