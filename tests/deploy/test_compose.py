"""docker-compose.yml without a container engine: valid by the Compose Specification's JSON schema (as
check-jsonschema ships it), and in step with the local stack: the same Kafka version and broker settings,
the same databases, settings the services accept, healthchecks."""

import json
import os
import re
import subprocess
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

from services.console.settings import CONSOLE_HTTP_PORT
from shared.settings import SERVICES, load_settings
from shared.web.auth import JWKS_FILE, PRIVATE_KEY_FILE, ensure_dev_keys
from tests.deploy.conftest import (
    ROOT,
    console_settings,
    grant_lines,
    load_yaml_documents,
    local_stack_services,
    local_stack_variable,
    settings_fields,
    unknown_titp_variables,
)

COMPOSE_FILE = ROOT / "docker-compose.yml"
CONTAINER_PORT = 8000  # the Dockerfile's: what every service listens on inside its container
# Images with no shell or HTTP client inside, where Compose cannot run a healthcheck.
NO_HEALTHCHECK = {"otel-collector", "kafka-setup"}  # kafka-setup: a one-shot job, waited for until it exits
# Broker settings that name addresses or paths, which differ between a host and containers.
HOST_SPECIFIC = {
    "listeners",
    "advertised.listeners",
    "controller.quorum.voters",
    "log.dirs",
    "listener.security.protocol.map",
}


ADMIN_PASSWORD = "${TITP_KAFKA_ADMIN_PASSWORD:?run deploy/compose/passwords.sh}"


@pytest.fixture(scope="module")
def compose() -> dict:
    [document] = load_yaml_documents(COMPOSE_FILE)  # anchors and `<<` merges resolved, as Compose does
    return document


def test_the_file_is_valid_by_the_compose_specification(compose):
    schema = json.loads(
        resources.files("check_jsonschema.builtin_schemas.vendor").joinpath("compose-spec.json").read_text()
    )
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in Draft202012Validator(schema).iter_errors(compose)
    ]
    assert errors == []


def test_dependencies_volumes_and_mounted_files_exist(compose):
    services = compose["services"]
    for name, service in services.items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                assert "healthcheck" in services[dependency], f"{name} waits for {dependency}'s missing healthcheck"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./deploy/"):
                assert (ROOT / source).exists(), f"{name} mounts missing {source}"
            elif not source.startswith("./.data/"):  # created by `titp dev-token`
                assert source in compose["volumes"], f"{name} uses undeclared volume {source}"
    assert {n for n, s in services.items() if "healthcheck" not in s} == NO_HEALTHCHECK


def dev_key_files(service: dict, data) -> dict[str, str]:
    """What a container sees of the dev issuer's folder (`data`/dev-keys, as `titp dev-token` writes it into
    .data/dev-keys): path in the container -> the file's text."""
    seen = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith("./.data/dev-keys"):
            on_host = data / source.removeprefix("./.data/")
            files = sorted(on_host.iterdir()) if on_host.is_dir() else [on_host]
            for file in files:
                seen[target if file == on_host else f"{target}/{file.name}"] = file.read_text()
    return seen


def test_the_services_see_the_dev_issuers_public_keys_and_not_its_signing_key(compose, tmp_path):
    ensure_dev_keys(tmp_path / "dev-keys")  # what `titp dev-token` writes into .data/dev-keys
    for name in SERVICES:
        service = compose["services"][name]
        seen = dev_key_files(service, tmp_path)
        jwks = service["environment"]["TITP_AUTH_JWKS_URL"].removeprefix("file://")
        assert list(seen) == [jwks], name
        assert "PRIVATE KEY" not in seen[jwks] and json.loads(seen[jwks])["keys"]


def test_the_console_alone_is_given_the_dev_issuers_signing_key_and_runs_as_its_owner(compose, tmp_path):
    keys = ensure_dev_keys(tmp_path / "dev-keys")  # what `titp dev-token` writes into .data/dev-keys
    console = compose["services"]["console"]
    settings = console_settings({key: str(value) for key, value in console["environment"].items()})
    seen = dev_key_files(console, tmp_path)
    # Check: it finds the key where dev sign-in looks, <TITP_CONSOLE_DATA_DIR>/dev-keys, and cannot change it.
    signing_key, jwks = f"{settings.dev_keys_dir}/{PRIVATE_KEY_FILE}", f"{settings.dev_keys_dir}/{JWKS_FILE}"
    assert settings.dev_sign_in and set(seen) == {signing_key, jwks}
    assert "PRIVATE KEY" in seen[signing_key] and json.loads(seen[jwks])["keys"]
    assert [v for v in console["volumes"] if v.startswith("./.data/dev-keys")] == [
        f"./.data/dev-keys:{settings.dev_keys_dir}:ro"
    ]
    # Check: no other container sees it.
    assert [
        name
        for name, service in compose["services"].items()
        if name != "console" and any("PRIVATE KEY" in text for text in dev_key_files(service, tmp_path).values())
    ] == []
    # The key is its owner's only, so the console runs as that uid, which passwords.sh writes into .env.
    assert (keys / PRIVATE_KEY_FILE).stat().st_mode & 0o077 == 0
    assert re.fullmatch(r"\$\{TITP_UID:\?[^}]+\}", console["user"])
    env_file = subprocess.run(
        [str(ROOT / "deploy/compose/passwords.sh")], capture_output=True, text=True, check=True
    ).stdout
    assert f"TITP_UID={os.getuid()}" in env_file.splitlines()


def test_the_console_runs_from_the_services_image_and_reaches_them_by_their_compose_names(compose):
    services = compose["services"]
    console = services["console"]
    assert (console["build"], console["image"]) == (".", services["registry"]["image"])
    assert console["entrypoint"] == ["python", "-m", "services.console"] and "command" not in console
    settings = console_settings({key: str(value) for key, value in console["environment"].items()})
    assert {name: settings.service_url(name) for name in SERVICES} == {
        name: f"http://{name}:{CONTAINER_PORT}" for name in SERVICES
    }
    assert (settings.http_host, settings.http_port) == ("0.0.0.0", CONSOLE_HTTP_PORT)
    assert console["ports"] == [f"127.0.0.1:{CONSOLE_HTTP_PORT}:{settings.http_port}"]
    # Started once every service is ready; healthy once it sees them all (/readyz).
    assert console["depends_on"] == {name: {"condition": "service_healthy"} for name in SERVICES}
    assert f"http://127.0.0.1:{settings.http_port}/readyz" in " ".join(console["healthcheck"]["test"])


def test_the_four_services_run_from_one_image_with_settings_they_accept(compose):
    services = compose["services"]
    for name in SERVICES:
        service = services[name]
        assert service["build"] == "."
        assert service["command"] == [f"services.{name}.app:create_app"]
        environment = {key: str(value) for key, value in service["environment"].items()}
        assert unknown_titp_variables(environment) == []
        settings = load_settings(name, **settings_fields(environment))
        assert settings.database_url.endswith(f"/titp_{name}")
        # The service connects as the role that owns nothing; its migrations run as the databases' owner.
        assert settings.migration_url().endswith(f"/titp_{name}") and settings.app_role() == "titp_app"
        assert settings.otel_exporter == "otlp" and environment["OTEL_EXPORTER_OTLP_ENDPOINT"].endswith(":4318")
    assert set(compose["services"]) >= set(SERVICES) | {"kafka", "postgres", "otel-collector", "jaeger"}


def test_kafka_is_the_local_stacks_version_and_configuration(compose):
    kafka = compose["services"]["kafka"]
    assert kafka["image"] == f"apache/kafka:{local_stack_variable('KAFKA_VERSION')}"
    environment = {key: str(value) for key, value in kafka["environment"].items()}
    local = {}
    for line in (ROOT / "deploy/local/kafka/server.properties").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            local[key] = value
    for key, value in local.items():
        # The apache/kafka image's naming: . -> _, _ -> __, - -> ___; the admin's password from .env.
        variable = "KAFKA_" + key.replace("_", "__").replace("-", "___").replace(".", "_").upper()
        value = value.replace("@ADMIN_PASSWORD@", ADMIN_PASSWORD)
        if key not in HOST_SPECIFIC:
            assert environment.get(variable) == value, f"{variable}: {environment.get(variable)!r}, local {value!r}"
    assert environment["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper
    assert environment["KAFKA_LOG_RETENTION_MS"] == "-1"  # the topics are the audit log


def test_postgres_holds_the_same_databases_as_the_local_stack(compose):
    created = (ROOT / "deploy/compose/create-databases.sql").read_text()
    databases = re.findall(r"CREATE DATABASE (\w+) OWNER titp_owner;", created)
    assert re.search(r"^CREATE ROLE titp_app LOGIN PASSWORD", created, re.MULTILINE)  # no SUPERUSER, no CREATEDB
    assert sorted(databases) == sorted(database for _, _, database in local_stack_services())
    assert sorted(databases) == sorted(f"titp_{name}" for name in SERVICES)
    assert compose["services"]["postgres"]["image"] == "postgres:15"


def test_prometheus_scrapes_every_service_and_the_collector_sends_to_jaeger():
    [prometheus] = load_yaml_documents(ROOT / "deploy/compose/prometheus.yml")
    targets = {t for job in prometheus["scrape_configs"] for c in job["static_configs"] for t in c["targets"]}
    assert targets == {f"{name}:8000" for name in SERVICES}
    [collector] = load_yaml_documents(ROOT / "deploy/otel/collector.yaml")
    traces = collector["service"]["pipelines"]["traces"]
    assert traces["receivers"] == ["otlp"] and collector["receivers"]["otlp"]["protocols"]["http"]
    assert [collector["exporters"][name]["endpoint"] for name in traces["exporters"]] == ["jaeger:4317"]


def test_kafka_authenticates_every_client_and_the_services_get_the_local_stacks_acls(compose):
    services = compose["services"]
    kafka = {key: str(value) for key, value in services["kafka"]["environment"].items()}
    protocols = dict(entry.split(":") for entry in kafka["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"].split(","))
    assert set(protocols.values()) == {"SASL_PLAINTEXT"}  # no listener without authentication
    assert kafka["KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND"] == "false" and kafka["KAFKA_SUPER_USERS"] == "User:admin"
    # kafka-setup applies what the local stack applies (deploy/local/kafka/grant.py), before any service starts.
    assert (ROOT / "deploy/local/kafka/grants.txt").read_text().splitlines() == grant_lines()
    setup = services["kafka-setup"]
    assert setup["image"] == services["kafka"]["image"]
    for name in SERVICES:
        environment = services[name]["environment"]
        password = f"${{TITP_KAFKA_{name.upper()}_PASSWORD:?run deploy/compose/passwords.sh}}"
        assert (environment["TITP_KAFKA_USERNAME"], environment["TITP_KAFKA_PASSWORD"]) == (name, password)
        assert environment["TITP_KAFKA_SECURITY_PROTOCOL"] == "SASL_PLAINTEXT"
        assert environment["TITP_KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
        assert setup["environment"][f"TITP_KAFKA_{name.upper()}_PASSWORD"] == password
        assert services[name]["depends_on"]["kafka-setup"] == {"condition": "service_completed_successfully"}
