"""The list of services is written once, `DEFAULT_HTTP_PORTS` in shared/settings.py (name -> default HTTP port).
The local stack and the fault suite read it; what cannot read Python — docker-compose.yml, deploy/k8s, the
Prometheus scrape list, the databases PostgreSQL creates — is checked here to name exactly those services, with
those ports where it has them. Each service has its package and its page in docs/services/, every page with the same
headings in the same order."""

import re
from typing import get_args

from faults import check as faults_check
from faults import load as faults_load
from faults.scenarios import SCENARIOS
from shared.settings import DEFAULT_HTTP_PORTS, SERVICES, ServiceName
from tests.deploy.conftest import K8S, ROOT, kustomize_build, load_yaml_documents, local_stack_services

CONTAINER_PORT = 8000  # the Dockerfile's: every service listens on it inside its container
# The officers' console (services/console) is an app of its own, not a service of the list: no database, no
# topics, no events; it only calls the services' REST APIs. The stacks run it apart (tests/deploy/test_local_stack.py).
CONSOLE = "console"


def test_the_list_is_one_list_and_names_exactly_the_service_packages():
    assert SERVICES == tuple(DEFAULT_HTTP_PORTS) and get_args(ServiceName) == SERVICES
    assert len(set(DEFAULT_HTTP_PORTS.values())) == len(SERVICES)
    assert {path.parent.name for path in (ROOT / "services").glob("*/app.py")} == {*SERVICES, CONSOLE}
    assert CONSOLE not in SERVICES and not (ROOT / "services" / CONSOLE / "migrations").exists()
    assert {path.stem for path in (ROOT / "docs" / "services").glob("*.md")} == set(SERVICES)


def test_every_service_page_has_the_same_headings_in_the_same_order():
    pages = {name: (ROOT / "docs" / "services" / f"{name}.md").read_text() for name in SERVICES}
    headings = {name: re.findall(r"^## (.+)$", text, re.MULTILINE) for name, text in pages.items()}
    assert headings["registry"] == [
        "What it owns",
        "The rooms",
        "REST",
        "Events",
        "Rules and their numbers",
        "Read models",
        "Run and test",
    ]
    assert all(found == headings["registry"] for found in headings.values()), headings
    for name, text in pages.items():
        assert f"### Published: `titp.{name}.v1` (`contracts/{name}.py`)" in text and "### Subscribed" in text


def test_the_local_stack_runs_the_listed_services_on_their_ports_with_their_databases():
    assert local_stack_services() == [(name, port, f"titp_{name}") for name, port in DEFAULT_HTTP_PORTS.items()]


def test_compose_runs_exactly_the_listed_services_on_their_ports():
    [compose] = load_yaml_documents(ROOT / "docker-compose.yml")
    runs = {
        name: service
        for name, service in compose["services"].items()
        if any(str(part).startswith("services.") for part in service.get("command", []))
    }
    assert set(runs) == set(SERVICES)
    for name, service in runs.items():
        assert service["command"] == [f"services.{name}.app:create_app"]
        assert service["ports"] == [f"127.0.0.1:{DEFAULT_HTTP_PORTS[name]}:{CONTAINER_PORT}"], name
    assert f"EXPOSE {CONTAINER_PORT}" in (ROOT / "Dockerfile").read_text()


def test_prometheus_and_postgres_name_exactly_the_listed_services():
    [prometheus] = load_yaml_documents(ROOT / "deploy/compose/prometheus.yml")
    targets = [t for job in prometheus["scrape_configs"] for c in job["static_configs"] for t in c["targets"]]
    assert sorted(targets) == sorted(f"{name}:{CONTAINER_PORT}" for name in SERVICES)
    databases = re.findall(r"CREATE DATABASE (\w+)\b", (ROOT / "deploy/compose/create-databases.sql").read_text())
    assert sorted(databases) == sorted(f"titp_{name}" for name in SERVICES)


def test_k8s_runs_exactly_the_listed_services_each_with_its_manifest_and_database():
    docs = kustomize_build(K8S)
    named = {}
    for doc in docs:
        named.setdefault(doc["kind"], set()).add(doc["metadata"]["name"])
    for kind in ("Deployment", "Service", "PodDisruptionBudget"):
        assert named[kind] == {*SERVICES, CONSOLE}, kind  # the console's own (deploy/k8s/console)
    assert named["HorizontalPodAutoscaler"] == set(SERVICES)
    assert named["Cluster"] == {f"{name}-db" for name in SERVICES}
    for name in SERVICES:
        assert (K8S / "services" / name / "kustomization.yaml").exists()
        [deployment] = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == name]
        [main] = deployment["spec"]["template"]["spec"]["containers"]
        assert [p["containerPort"] for p in main["ports"]] == [CONTAINER_PORT]
        assert deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/port"] == str(CONTAINER_PORT)


def test_the_fault_suite_covers_exactly_the_listed_services():
    assert [s.removesuffix("-sigkill") for s in SCENARIOS if s.removesuffix("-sigkill") in SERVICES] == list(SERVICES)
    assert set(faults_check.DEFINITIONS) == set(faults_check.READ_MODEL) == set(SERVICES)
    assert all(definition.name == name for name, definition in faults_check.DEFINITIONS.items())
    assert set(faults_load.ROLE) == set(SERVICES)
