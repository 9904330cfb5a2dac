"""The event catalogue: an AsyncAPI 3 document generated from the services' pydantic models, committed as
docs/asyncapi.yaml and served by each service for the events it publishes and reads; checked with the official
AsyncAPI parser (tools/asyncapi, installed from the npm registry by `make asyncapi-tools`)."""

import importlib
import re
import subprocess
import uuid
from datetime import date

import httpx
import jsonschema
import pytest
import yaml

from contracts.accreditation import PlanHeader, accreditation_events
from contracts.registry import registry_events
from services.registry.app import create_app
from shared.audit.asyncapi import event_catalogue, render, service_document
from shared.consumer import REFERENCE_HEADER
from shared.settings import REPO_ROOT, SERVICES, load_settings
from shared.topics import dlq_topic, service_topic, topic_service

COMMITTED = REPO_ROOT / "docs" / "asyncapi.yaml"


@pytest.fixture(scope="module")
def document():
    return yaml.safe_load(COMMITTED.read_text())


def test_the_committed_document_is_the_one_the_models_generate():
    assert COMMITTED.read_text() == event_catalogue(), (
        "an event model changed but docs/asyncapi.yaml did not: run `titp asyncapi --out docs/asyncapi.yaml`"
    )


def asyncapi_check(*files) -> subprocess.CompletedProcess:
    """The official parser on `files`: installed first by the project's make target (a failed install fails)."""
    install = subprocess.run(["make", "-s", "asyncapi-tools"], cwd=REPO_ROOT, capture_output=True, text=True)
    assert install.returncode == 0, f"make asyncapi-tools failed:\n{install.stdout}{install.stderr}"
    return subprocess.run(
        ["node", str(REPO_ROOT / "tools" / "asyncapi" / "check.mjs"), *map(str, files)], capture_output=True, text=True
    )


def test_the_official_asyncapi_parser_finds_no_error_in_the_document_nor_in_a_served_one(tmp_path):
    served = tmp_path / "registry.yaml"
    settings = load_settings("registry", topic_prefix="staging.", kafka_bootstrap_servers="kafka.example:9092")
    served.write_text(render(service_document(registry_events, settings, ["titp.inspection.v1"])))
    checked = asyncapi_check(COMMITTED, served)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"{COMMITTED}: valid AsyncAPI 3.1.0: 8 channels, 20 operations" in checked.stdout, checked.stdout
    assert f"{served}: valid AsyncAPI 3.1.0" in checked.stdout, checked.stdout


def test_the_parser_check_fails_on_an_invalid_document(tmp_path, document):
    # Check: the check can fail: a binding the Kafka bindings schema refuses, an operation with no channel.
    broken = yaml.safe_load(COMMITTED.read_text())
    broken["channels"]["registry"]["bindings"]["kafka"]["partitions"] = 0
    del broken["operations"]["visa.receive.registry"]["channel"]
    (tmp_path / "broken.yaml").write_text(render(broken))
    checked = asyncapi_check(tmp_path / "broken.yaml")
    assert checked.returncode == 1, checked.stdout + checked.stderr
    assert "error" in checked.stdout and "INVALID" in checked.stdout, checked.stdout
    assert "channels.registry.bindings.kafka.partitions" in checked.stdout, checked.stdout


def test_every_event_type_of_every_service_is_a_message_of_its_channel(document):
    assert document["asyncapi"] == "3.1.0"
    assert {name: channel["address"] for name, channel in document["channels"].items()} == {
        **{s: service_topic(s) for s in SERVICES},
        **{f"{s}.dlq": dlq_topic(s) for s in SERVICES},
    }
    registry = document["channels"]["registry"]["messages"]
    assert set(registry) == {
        *registry_events.models,
        "titp.registry.CheckpointSigned.v2",
        "titp.registry.CheckpointSigned.v1",
    }
    granted = document["components"]["messages"]["titp.registry.PermitGranted.v1"]
    envelope, specific = granted["payload"]["allOf"]
    assert envelope == {"$ref": "#/components/schemas/CloudEvent"}
    assert specific["properties"]["type"] == {"const": "titp.registry.PermitGranted.v1"}
    data = document["components"]["schemas"][specific["properties"]["data"]["$ref"].rsplit("/", 1)[1]]
    assert {"permit_type", "granted_on"} <= set(data["properties"])
    assert granted["headers"] == {"$ref": "#/components/schemas/EventHeaders"}
    assert set(document["components"]["schemas"]["EventHeaders"]["properties"]) == {"content-type", "traceparent"}
    assert granted["bindings"]["kafka"]["key"]["type"] == "string"
    assert "partitionkey" in document["components"]["schemas"]["CloudEvent"]["properties"]


def _schema_of(document, message_name):
    """The `data` schema of a message, resolvable on its own (its $refs point into components/schemas)."""
    ref = document["components"]["messages"][message_name]["payload"]["allOf"][1]["properties"]["data"]["$ref"]
    schemas = document["components"]["schemas"]
    return {**schemas[ref.rsplit("/", 1)[1]], "components": {"schemas": schemas}}


def test_every_stored_version_has_its_schema_an_old_record_validates_against(document):
    messages = document["components"]["messages"]
    for types in (importlib.import_module(f"contracts.{s}").__dict__[f"{s}_events"] for s in SERVICES):
        for old in [*types.old_types, f"titp.{types.service}.CheckpointSigned.v1"]:
            assert old in messages and old in document["channels"][types.service]["messages"], old
            assert "no longer written" in messages[old]["description"]
    # Check: a TrainingPlanApplied.v1 as stored (the trainee in the clear) is valid by its schema, and not by v2's.
    header = PlanHeader(
        trainee_id=uuid.uuid4(),
        stage="i",
        training_type="b",
        job_category="construction",
        implementing_organization_id=uuid.uuid4(),
        supervising_organization_id=uuid.uuid4(),
        start_date=date(2026, 5, 1),
        end_date=date(2027, 4, 30),
    )
    trainee = {"name": "Nguyen Van An", "date_of_birth": "2001-03-15", "passport_number": "C1234567"}
    plan_v1 = {
        **header.model_dump(mode="json"),
        "trainee": {**trainee, "nationality": "VN"},
        "monthly_wage": 210_000,
        "comparable_japanese_wage": 200_000,
        "applied_on": "2026-04-01",
    }
    v1, v2 = "titp.accreditation.TrainingPlanApplied.v1", "titp.accreditation.TrainingPlanApplied.v2"
    shape = accreditation_events.old_types[v1]
    assert shape is not None
    stored = shape.model_validate(plan_v1).model_dump(mode="json", exclude_none=True)
    jsonschema.validate(stored, _schema_of(document, v1))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(stored, _schema_of(document, v2))
    assert accreditation_events.parse(v1, stored).trainee.personal_data is None  # read back as v2


def test_each_subscriber_receives_what_it_subscribes_to_in_its_consumer_group(document):
    operations = document["operations"]
    for service in SERVICES:
        definition = importlib.import_module(f"services.{service}.app").DEFINITION
        receives = {name: op for name, op in operations.items() if name.startswith(f"{service}.receive.")}
        assert {op["channel"]["$ref"] for op in receives.values()} == {
            f"#/channels/{topic_service(t)}" for t in definition.subscribes_to
        }, service
        for op in receives.values():
            assert op["action"] == "receive"
            assert op["bindings"]["kafka"]["groupId"] == {"type": "string", "const": f"titp.{service}"}
            assert op["bindings"]["kafka"]["clientId"] == {"type": "string", "const": f"titp.{service}-consumer"}
            channel = op["channel"]["$ref"].rsplit("/", 1)[1]
            assert {m["$ref"].rsplit("/", 1)[1] for m in op["messages"]} == set(
                document["channels"][channel]["messages"]
            )
        assert operations[f"{service}.deadLetter"]["channel"] == {"$ref": f"#/channels/{service}.dlq"}
        assert (
            operations[f"{service}.redrive"]["bindings"]["kafka"]["groupId"]["const"] == f"titp.{service}.dlq.redrive"
        )
        publish = operations[f"{service}.publish"]
        assert publish["action"] == "send" and publish["channel"] == {"$ref": f"#/channels/{service}"}


def test_the_topics_bindings_are_how_the_services_create_them(document):
    settings = load_settings("registry")
    for name, channel in document["channels"].items():
        kafka = channel["bindings"]["kafka"]
        assert kafka["topic"] == channel["address"]
        assert (kafka["partitions"], kafka["replicas"]) == (settings.topic_partitions, settings.topic_replication)
        assert kafka["topicConfiguration"] == {"retention.ms": -1}
    served = service_document(registry_events, load_settings("registry", topic_replication=3, topic_partitions=6))
    assert served["channels"]["registry"]["bindings"]["kafka"] == {
        "topic": "titp.registry.v1",
        "partitions": 6,
        "replicas": 3,
        "topicConfiguration": {"retention.ms": -1, "min.insync.replicas": 2},
        "bindingVersion": "0.5.0",
    }


def test_the_dlq_headers_are_those_the_dead_letter_code_writes(document):
    consumer = (REPO_ROOT / "shared" / "consumer.py").read_text()
    written = set(re.findall(r'\("(titp-[a-z-]+)", ', consumer)) | {REFERENCE_HEADER}
    headers = document["components"]["schemas"]["DeadLetterHeaders"]
    reference_headers = document["components"]["schemas"]["DeadLetterReferenceHeaders"]
    assert set(headers["properties"]) == {"content-type", "traceparent", *written} - {REFERENCE_HEADER}
    assert set(headers["required"]) == {"content-type", *written} - {REFERENCE_HEADER}
    assert set(reference_headers["required"]) == {"content-type", *written}
    assert document["components"]["messages"]["DeadLetter"]["headers"] == {
        "$ref": "#/components/schemas/DeadLetterHeaders"
    }


def _deployed(text: str, name: str) -> set[str]:
    return set(re.findall(rf"{name}:\s*\"?([^\s\"]+)", text))


def test_the_servers_are_where_each_environment_runs_kafka_and_how_it_authenticates(document):
    servers = document["servers"]
    assert set(servers) == {"local", "compose", "kubernetes"}
    assert all(s["protocol"] == "kafka" for s in servers.values())
    assert all(s["security"] == [{"$ref": "#/components/securitySchemes/sasl"}] for s in servers.values())
    assert document["components"]["securitySchemes"]["sasl"]["type"] == "scramSha512"
    stack = (REPO_ROOT / "deploy" / "local" / "stack.sh").read_text()
    assert "KAFKA_PORT=${TITP_KAFKA_PORT:-9092}" in stack and "KAFKA_AUTH=${TITP_KAFKA_AUTH:-sasl}" in stack
    assert "SCRAM-SHA-512" in stack and servers["local"]["host"] == "127.0.0.1:9092"
    compose = (REPO_ROOT / "docker-compose.yml").read_text()
    k8s = "\n".join(p.read_text() for p in sorted((REPO_ROOT / "deploy" / "k8s").rglob("*.yaml")))
    for text, server in ((compose, "compose"), (k8s, "kubernetes")):
        assert _deployed(text, "TITP_KAFKA_BOOTSTRAP_SERVERS") == {servers[server]["host"]}, server
        assert _deployed(text, "TITP_KAFKA_SECURITY_PROTOCOL") == {"SASL_PLAINTEXT"}, server
        assert _deployed(text, "TITP_KAFKA_SASL_MECHANISM") == {"SCRAM-SHA-512"}, server


async def test_a_service_serves_the_document_of_what_it_publishes_and_reads_on_its_topics(monkeypatch):
    monkeypatch.setenv("TITP_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("TITP_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    settings = load_settings("registry", topic_prefix="staging.", kafka_bootstrap_servers="kafka.example:9092")
    app = create_app(settings)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://test") as client:
        response = await client.get("/asyncapi.yaml")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/yaml")
    served = yaml.safe_load(response.text)
    assert served["info"]["title"] == "TITP registry events"
    assert served["servers"] == {
        "this": {
            "host": "kafka.example:9092",
            "protocol": "kafka",
            "description": "The broker this registry instance uses (SASL_PLAINTEXT).",
            "security": [{"$ref": "#/components/securitySchemes/sasl"}],
        }
    }
    assert served["components"]["securitySchemes"]["sasl"]["type"] == "scramSha256"
    assert served["channels"]["registry"]["address"] == "staging.titp.registry.v1"
    assert served["channels"]["registry.dlq"]["address"] == "staging.titp.registry.dlq"
    # Check: it reads the inspection and accreditation topics, in its deployment's consumer group.
    assert {name for name, op in served["operations"].items() if op["action"] == "receive"} == {
        "registry.receive.inspection",
        "registry.receive.accreditation",
        "registry.redrive",
    }
    receive = served["operations"]["registry.receive.inspection"]
    assert receive["bindings"]["kafka"]["groupId"]["const"] == "staging.titp.registry"
    assert served["channels"]["inspection"]["address"] == "staging.titp.inspection.v1"
