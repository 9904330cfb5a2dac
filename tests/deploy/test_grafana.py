"""The Grafana dashboard asks only for what the services export: every metric and label its queries name
is in a real scrape of a running service, and its data source is the provisioned Prometheus."""

import json
import re

from tests.deploy.conftest import ROOT, load_yaml_documents, scrape
from tests.helpers import permit_application, post

DASHBOARD = ROOT / "deploy/grafana/dashboards/titp.json"


def queries(dashboard: dict) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


async def test_every_query_names_metrics_and_labels_a_running_service_exports(start_service, token):
    registry = await start_service("registry")
    await post(registry, "/v1/supervising-organizations", permit_application(), token("otit"), 201)
    samples = await scrape(registry)
    labels: dict[str, set[str]] = {}
    for name, sample_labels in samples:
        labels.setdefault(name, set()).update(key for key, _ in sample_labels)

    dashboard = json.loads(DASHBOARD.read_text())
    for expr in queries(dashboard):
        metrics = set(re.findall(r"\btitp_\w+", expr))
        assert metrics, expr
        assert metrics <= set(labels), f"{expr}: {metrics - set(labels)} not exported"
        known = set.union(*(labels[m] for m in metrics)) | {"le"}
        for group in re.findall(r"by \(([^)]*)\)", expr):
            used = {label.strip() for label in group.split(",")}
            assert used <= known, f"{expr}: labels {used - known} not exported"
        assert 'service=~"$service"' in expr
    # Check: the dashboard shows each thing the issue asks for.
    shown = " ".join(queries(dashboard))
    for metric in (
        "titp_http_requests_total",
        "titp_http_request_duration_seconds_bucket",
        "titp_consumer_lag",
        "titp_relay_backlog",
        "titp_dlq_pending",
    ):
        assert metric in shown


def test_the_dashboard_uses_the_provisioned_data_source_and_folder():
    [datasources] = load_yaml_documents(ROOT / "deploy/grafana/provisioning/datasources/prometheus.yaml")
    uids = {source["uid"] for source in datasources["datasources"]}
    dashboard = json.loads(DASHBOARD.read_text())
    assert {panel["datasource"]["uid"] for panel in dashboard["panels"]} == uids
    [providers] = load_yaml_documents(ROOT / "deploy/grafana/provisioning/dashboards/titp.yaml")
    [compose] = load_yaml_documents(ROOT / "docker-compose.yml")
    mounts = dict(volume.split(":")[:2] for volume in compose["services"]["grafana"]["volumes"])
    assert mounts["./deploy/grafana/dashboards"] == providers["providers"][0]["options"]["path"]
