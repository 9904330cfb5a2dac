"""deploy/k8s without a cluster: every manifest valid by its schema — Kubernetes' own (kubernetes-validate,
strict) for built-in kinds, the CRD schemas in deploy/schemas for Strimzi and CloudNativePG — and in step
with the services and the local stack: probes, autoscaling, disruption budgets, topics kept forever with
replication 3 and min ISR 2, the local Kafka version, settings the services accept."""

import copy
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest

from shared.kafka import service_acls
from shared.settings import SERVICES, load_settings
from shared.topics import dlq_topic, service_topic
from tests.deploy.conftest import (
    ROOT,
    load_yaml_documents,
    local_stack_variable,
    settings_fields,
    subscribes_to,
    unknown_titp_variables,
)

K8S = ROOT / "deploy" / "k8s"
SCHEMAS = ROOT / "deploy" / "schemas"
KUBERNETES_VERSION = "1.33"  # the oldest minor version the manifests must run on


def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> the openAPIV3Schema of every CRD version in deploy/schemas."""
    schemas = {}
    for path in sorted(SCHEMAS.glob("*.crd.yaml")):
        for crd in load_yaml_documents(path):
            for version in crd["spec"]["versions"]:
                key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
                schemas[key] = strict(version["schema"]["openAPIV3Schema"])
    return schemas


def strict(schema: dict) -> dict:
    """The schema refusing fields it does not name, as kubeconform -strict does; the API server would
    silently prune them, so a typo would be lost without a word."""
    schema = copy.deepcopy(schema)

    def close(node):
        if isinstance(node, dict):
            if (
                "properties" in node
                and "additionalProperties" not in node
                and not node.get("x-kubernetes-preserve-unknown-fields")
            ):
                node["additionalProperties"] = False
            for value in node.values():
                close(value)
        elif isinstance(node, list):
            for value in node:
                close(value)

    close(schema)
    return schema


def manifests() -> list[tuple[str, dict]]:
    return [
        (path.name, doc)
        for path in sorted(K8S.glob("*.yaml"))
        if path.name != "kustomization.yaml"
        for doc in load_yaml_documents(path)
    ]


def problems(doc: dict, schemas: dict) -> list[str]:
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key in schemas:
        return [
            f"{'.'.join(map(str, e.absolute_path))}: {e.message}"
            for e in jsonschema.Draft7Validator(schemas[key]).iter_errors(doc)
        ]
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as e:
        return [f"{'.'.join(map(str, e.path))}: {e.message}"]
    except kubernetes_validate.SchemaNotFoundError as e:
        return [e.message]
    return []


@pytest.fixture(scope="module")
def by_kind() -> dict[str, dict[str, dict]]:
    """kind -> name -> the manifest."""
    found: dict[str, dict[str, dict]] = {}
    for _, doc in manifests():
        found.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    return found


def test_every_manifest_is_valid_by_its_schema():
    schemas = crd_schemas()
    assert {kind for _, kind in schemas} == {"Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Cluster"}
    found = {f"{name} {doc['kind']}/{doc['metadata']['name']}": problems(doc, schemas) for name, doc in manifests()}
    assert {where: errors for where, errors in found.items() if errors} == {}
    assert len(found) > 20


def test_a_misspelt_or_mistyped_field_is_refused():
    schemas = crd_schemas()
    ((_, deployment),) = [(n, d) for n, d in manifests() if d["kind"] == "Deployment"][:1]
    ((_, topic),) = [(n, d) for n, d in manifests() if d["kind"] == "KafkaTopic"][:1]
    ((_, cluster),) = [(n, d) for n, d in manifests() if d["kind"] == "Cluster"][:1]
    typo = copy.deepcopy(deployment)
    typo["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = typo["spec"]["template"]["spec"]["containers"][
        0
    ].pop("readinessProbe")
    assert problems(typo, schemas)
    typo = copy.deepcopy(topic)
    typo["spec"]["replica"] = typo["spec"].pop("replicas")
    assert problems(typo, schemas)
    wrong = copy.deepcopy(cluster)
    wrong["spec"]["instances"] = "three"
    assert problems(wrong, schemas)


def test_kustomization_lists_every_manifest_file():
    [kustomization] = load_yaml_documents(K8S / "kustomization.yaml")
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml"
    )
    assert all(
        doc["metadata"].get("namespace", kustomization["namespace"]) == kustomization["namespace"]
        for _, doc in manifests()
        if doc["kind"] != "Namespace"
    )


def container(deployment: dict) -> dict:
    [one] = deployment["spec"]["template"]["spec"]["containers"]
    return one


def test_each_service_is_probed_sized_autoscaled_and_kept_available(by_kind):
    for name in SERVICES:
        deployment = by_kind["Deployment"][name]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        main = container(deployment)
        assert main["args"] == [f"services.{name}.app:create_app"]
        assert main["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert main["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert main["resources"]["requests"].keys() >= {"cpu", "memory"}
        assert deployment["spec"]["template"]["metadata"]["annotations"]["prometheus.io/path"] == "/metrics"
        service = by_kind["Service"][name]
        assert service["spec"]["selector"].items() <= labels.items()
        assert {p["targetPort"] for p in service["spec"]["ports"]} <= {p["name"] for p in main["ports"]}
        autoscaler = by_kind["HorizontalPodAutoscaler"][name]
        assert autoscaler["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert 2 <= autoscaler["spec"]["minReplicas"] < autoscaler["spec"]["maxReplicas"]
        budget = by_kind["PodDisruptionBudget"][name]
        assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
        assert budget["spec"]["minAvailable"] < autoscaler["spec"]["minReplicas"]


def test_services_get_settings_they_accept_and_their_own_database(by_kind):
    config = by_kind["ConfigMap"]["titp-config"]["data"]
    assert unknown_titp_variables(config) == []
    kafka = by_kind["Kafka"]["titp"]
    [plain] = [listener for listener in kafka["spec"]["kafka"]["listeners"] if not listener["tls"]]
    assert config["TITP_KAFKA_BOOTSTRAP_SERVERS"] == f"titp-kafka-bootstrap:{plain['port']}"
    for name in SERVICES:
        main = container(by_kind["Deployment"][name])
        assert [e["configMapRef"]["name"] for e in main["envFrom"]] == ["titp-config"]
        env = {e["name"]: e for e in main["env"]}
        assert unknown_titp_variables(env) == []
        # The database: migrations as CloudNativePG's app user of the service's own cluster (the database's
        # owner), the service as titp_app, a managed role that is no superuser, its password its own secret.
        secret = env["TITP_MIGRATION_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
        cluster = by_kind["Cluster"][secret["name"].removesuffix("-app")]
        assert secret["key"] == "uri"
        assert cluster["spec"]["bootstrap"]["initdb"]["database"] == f"titp_{name}"
        [app_role] = cluster["spec"]["managed"]["roles"]
        assert app_role["name"] != cluster["spec"]["bootstrap"]["initdb"]["owner"]
        assert not any(app_role[a] for a in ("superuser", "createdb", "createrole", "replication"))
        assert env["DB_APP_PASSWORD"]["valueFrom"]["secretKeyRef"]["name"] == app_role["passwordSecret"]["name"]
        cluster_name = cluster["metadata"]["name"]
        assert env["TITP_DATABASE_URL"]["value"] == (
            f"postgresql://{app_role['name']}:$(DB_APP_PASSWORD)@{cluster_name}-rw:5432/titp_{name}"
        )
        assert cluster["spec"]["instances"] >= 3
        assert cluster["spec"]["imageName"].endswith(":15")  # as the local stack and docker-compose.yml
        shared = settings_fields(config)
        url = f"postgresql://titp:secret@{cluster['metadata']['name']}-rw:5432/titp_{name}"
        settings = load_settings(name, database_url=url, **shared)
        assert settings.otel_exporter == "otlp"


def test_kafka_is_kraft_with_the_local_version_replication_3_min_isr_2_and_topics_kept_forever(by_kind):
    kafka = by_kind["Kafka"]["titp"]
    assert kafka["metadata"]["annotations"] == {"strimzi.io/node-pools": "enabled", "strimzi.io/kraft": "enabled"}
    assert kafka["spec"]["kafka"]["version"] == local_stack_variable("KAFKA_VERSION")
    config = kafka["spec"]["kafka"]["config"]
    assert (config["default.replication.factor"], config["min.insync.replicas"]) == (3, 2)
    assert (
        config["offsets.topic.replication.factor"],
        config["transaction.state.log.replication.factor"],
        config["transaction.state.log.min.isr"],
    ) == (3, 3, 2)
    assert config["auto.create.topics.enable"] is False and config["log.retention.ms"] == -1
    pools = [p for p in by_kind["KafkaNodePool"].values() if p["metadata"]["labels"]["strimzi.io/cluster"] == "titp"]
    assert sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"]) >= 3
    assert sum(p["spec"]["replicas"] for p in pools if "controller" in p["spec"]["roles"]) >= 3

    topics = {t["spec"]["topicName"]: t for t in by_kind["KafkaTopic"].values()}
    assert set(topics) == {topic(name) for name in SERVICES for topic in (service_topic, dlq_topic)}
    for topic in topics.values():
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "titp"
        assert topic["spec"]["replicas"] == 3
        assert topic["spec"]["config"] == {"retention.ms": -1, "min.insync.replicas": 2}
    # As many partitions as the most instances an autoscaler may run: every instance can get work.
    most = max(by_kind["HorizontalPodAutoscaler"][name]["spec"]["maxReplicas"] for name in SERVICES)
    assert all(topic["spec"]["partitions"] >= most for topic in topics.values())


def test_the_crd_schemas_are_named_as_their_resources():
    for path in SCHEMAS.glob("*.crd.yaml"):
        [crd] = load_yaml_documents(path)
        assert crd["metadata"]["name"] == f"{crd['spec']['names']['plural']}.{crd['spec']['group']}"
        assert Path(path).read_text().startswith("#"), f"{path.name} must say where it comes from"


def test_every_client_authenticates_and_each_service_gets_only_its_acls(by_kind):
    kafka = by_kind["Kafka"]["titp"]["spec"]["kafka"]
    assert [listener["authentication"] for listener in kafka["listeners"]] == [{"type": "scram-sha-512"}]
    assert kafka["authorization"]["type"] == "simple"  # the KRaft StandardAuthorizer
    users = by_kind["KafkaUser"]
    assert set(users) == {*SERVICES, *kafka["authorization"]["superUsers"]}
    config = by_kind["ConfigMap"]["titp-config"]["data"]
    assert (config["TITP_KAFKA_SECURITY_PROTOCOL"], config["TITP_KAFKA_SASL_MECHANISM"]) == (
        "SASL_PLAINTEXT",
        "SCRAM-SHA-512",
    )
    strimzi_pattern = {"literal": "literal", "prefixed": "prefix"}
    for name in SERVICES:
        user = users[name]["spec"]
        assert user["authentication"] == {"type": "scram-sha-512"}
        granted = {
            (acl["resource"]["type"], acl["resource"]["patternType"], acl["resource"]["name"], *acl["operations"])
            for acl in user["authorization"]["acls"]
            if acl.get("type", "allow") == "allow"
        }
        assert granted == {
            (acl.resource, strimzi_pattern[acl.pattern], acl.name, *acl.operations)
            for acl in service_acls(name, subscribes_to(name))
        }
        env = {e["name"]: e for e in container(by_kind["Deployment"][name])["env"]}
        assert env["TITP_KAFKA_USERNAME"]["value"] == name
        assert env["TITP_KAFKA_PASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": name, "key": "password"}
