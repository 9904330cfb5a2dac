"""deploy/k8s without a cluster, rendered by kustomize itself as `kubectl apply -k` would: every object valid by
its schema — Kubernetes' own (kubernetes-validate, strict) for built-in kinds, the operators' own CRDs of the
pinned releases in deploy/schemas for Strimzi, CloudNativePG and Prometheus Operator — and in step with the
services and the local stack: probes, autoscaling, disruption budgets, topics kept forever with replication 3
and min ISR 2, the local Kafka version, settings the services accept, one Kafka user a service with its ACLs,
keys from Secrets, a ServiceMonitor and NetworkPolicies."""

import copy
import re
from pathlib import Path
from urllib.parse import urlsplit

import jsonschema
import kubernetes_validate
import pytest

from shared.kafka import service_acls
from shared.settings import SERVICES, load_settings
from shared.topics import dlq_topic, service_topic
from tests.deploy.conftest import (
    K8S,
    ROOT,
    console_settings,
    kustomize_build,
    load_yaml_documents,
    local_stack_variable,
    settings_fields,
    subscribes_to,
    unknown_titp_variables,
)

SCHEMAS = ROOT / "deploy" / "schemas"
KUBERNETES_VERSION = "1.33"  # the oldest minor version the manifests must run on
OVERLAYS = sorted(path.parent for path in (K8S / "overlays").glob("*/kustomization.yaml"))
# What the template deploy/k8s/service calls the service, before components/service-name puts the name in.
TEMPLATE_NAME = re.compile(r"^service(-|$)|titp[._-]service\b|services\.service\.")
CONSOLE = "console"  # deploy/k8s/console: no database, no topics, no Kafka user, so not from the template
CONSOLE_OIDC = "titp-console-oidc"  # its identity provider: a ConfigMap, and a Secret made in the cluster


def crd_schemas() -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> the openAPIV3Schema of every served version of a CRD in deploy/schemas."""
    schemas = {}
    for path in sorted(SCHEMAS.glob("*.crd.yaml")):
        for crd in load_yaml_documents(path):
            for version in crd["spec"]["versions"]:
                if version["served"]:
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
def rendered() -> list[dict]:
    """`kubectl apply -k deploy/k8s`: the default environment."""
    return kustomize_build(K8S)


@pytest.fixture(scope="module")
def by_kind(rendered) -> dict[str, dict[str, dict]]:
    """kind -> name -> the object."""
    found: dict[str, dict[str, dict]] = {}
    for doc in rendered:
        assert doc["metadata"]["name"] not in found.get(doc["kind"], {}), doc["metadata"]["name"]
        found.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    return found


@pytest.fixture(scope="module")
def schemas() -> dict[tuple[str, str], dict]:
    return crd_schemas()


def test_the_crds_are_the_pinned_releases_and_serve_what_the_manifests_use(schemas):
    assert set(schemas) == {
        ("kafka.strimzi.io/v1", "Kafka"),
        ("kafka.strimzi.io/v1", "KafkaNodePool"),
        ("kafka.strimzi.io/v1", "KafkaTopic"),
        ("kafka.strimzi.io/v1", "KafkaUser"),
        ("postgresql.cnpg.io/v1", "Cluster"),
        ("monitoring.coreos.com/v1", "ServiceMonitor"),
    }
    pinned = (SCHEMAS / "update.sh").read_text()
    for path in SCHEMAS.glob("*.crd.yaml"):
        first = path.read_text().splitlines()[0]
        # "# <owner/repo> <tag> <path>, unchanged below this line (...)": the tag is the one update.sh pins.
        match = re.fullmatch(r"# (\S+)/(\S+) (\S+) (\S+), unchanged below this line \(.+\)", first)
        assert match, f"{path.name} must say where it comes from: {first}"
        assert re.search(rf"^\w+={re.escape(match.group(3))} ", pinned, re.MULTILINE), f"{path.name}: {first}"
        [crd] = load_yaml_documents(path)
        assert crd["metadata"]["name"] == f"{crd['spec']['names']['plural']}.{crd['spec']['group']}"


def test_every_object_of_every_environment_is_valid_by_its_schema(rendered, schemas):
    for environment, docs in [("deploy/k8s", rendered)] + [(str(o), kustomize_build(o)) for o in OVERLAYS]:
        found = {f"{doc['kind']}/{doc['metadata']['name']}": problems(doc, schemas) for doc in docs}
        assert {where: errors for where, errors in found.items() if errors} == {}, environment
        assert len(found) == len(docs) == 54, environment


def test_a_misspelt_mistyped_or_outdated_object_is_refused(by_kind, schemas):
    deployment = by_kind["Deployment"]["registry"]
    typo = copy.deepcopy(deployment)
    [main] = typo["spec"]["template"]["spec"]["containers"]
    main["readinesProbe"] = main.pop("readinessProbe")
    assert problems(typo, schemas)
    typo = copy.deepcopy(by_kind["KafkaTopic"]["titp-registry-v1"])
    typo["spec"]["replica"] = typo["spec"].pop("replicas")
    assert problems(typo, schemas)
    typo = copy.deepcopy(by_kind["KafkaUser"]["registry"])
    typo["spec"]["authorization"]["acls"][0]["operation"] = "Write"  # removed in kafka.strimzi.io/v1
    assert problems(typo, schemas)
    wrong = copy.deepcopy(by_kind["Cluster"]["registry-db"])
    wrong["spec"]["instances"] = "three"
    assert problems(wrong, schemas)
    typo = copy.deepcopy(by_kind["ServiceMonitor"]["registry"])
    typo["spec"]["endpoint"] = typo["spec"].pop("endpoints")
    assert problems(typo, schemas)
    # Strimzi 1.0 and later serve kafka.strimzi.io/v1 only: a v1beta2 object has no schema, as it has no API.
    old = copy.deepcopy(by_kind["Kafka"]["titp"]) | {"apiVersion": "kafka.strimzi.io/v1beta2"}
    assert problems(old, schemas)


def test_the_kustomization_yields_every_object_once_each_service_named_in_full(by_kind, rendered):
    expected = {
        ("Namespace", "titp"),
        ("ConfigMap", "titp-config"),
        ("Kafka", "titp"),
        ("KafkaNodePool", "nodes"),
        ("KafkaUser", "titp-admin"),
    }
    for name in SERVICES:
        for kind in ("Deployment", "Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "ServiceMonitor"):
            expected.add((kind, name))
        expected |= {("NetworkPolicy", name), ("NetworkPolicy", f"{name}-db"), ("Cluster", f"{name}-db")}
        expected |= {("KafkaTopic", f"titp-{name}-v1"), ("KafkaTopic", f"titp-{name}-dlq"), ("KafkaUser", name)}
    expected |= {(kind, CONSOLE) for kind in ("Deployment", "Service", "PodDisruptionBudget", "NetworkPolicy")}
    expected.add(("ConfigMap", CONSOLE_OIDC))
    assert {(doc["kind"], doc["metadata"]["name"]) for doc in rendered} == expected
    assert all(doc["metadata"]["namespace"] == "titp" for doc in rendered if doc["kind"] != "Namespace")
    assert "Secret" not in by_kind  # keys and passwords are made in the cluster, never committed

    # Nothing is left as the template wrote it ("service", "service-db", "titp.service.v1", ...).
    def strings(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)
        elif isinstance(node, str):
            yield node

    assert [s for doc in rendered for s in strings(doc) if TEMPLATE_NAME.search(s)] == []


def test_every_file_under_deploy_k8s_is_used_by_a_kustomization():
    used = set()
    for kustomization in K8S.rglob("kustomization.yaml"):
        [spec] = load_yaml_documents(kustomization)
        assert spec["apiVersion"].startswith("kustomize.config.k8s.io/")
        for entry in spec.get("resources", []) + spec.get("components", []):
            path = (kustomization.parent / entry).resolve()
            assert path.exists(), f"{kustomization}: {entry}"
            used.add(path / "kustomization.yaml" if path.is_dir() else path)
    files = {path.resolve() for path in K8S.rglob("*.yaml")}
    roots = {K8S / "kustomization.yaml", *(overlay / "kustomization.yaml" for overlay in OVERLAYS)}
    assert files - used == {root.resolve() for root in roots}


def container(deployment: dict) -> dict:
    [one] = deployment["spec"]["template"]["spec"]["containers"]
    return one


def test_each_service_is_probed_sized_autoscaled_kept_available_and_scraped(by_kind):
    for name in SERVICES:
        deployment = by_kind["Deployment"][name]
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": name}
        main = container(deployment)
        assert main["name"] == name and main["image"] == "titp:0.1.0"
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
        # Prometheus Operator finds the Service by its labels and scrapes /metrics on its named port.
        monitor = by_kind["ServiceMonitor"][name]
        assert monitor["spec"]["selector"]["matchLabels"].items() <= service["metadata"]["labels"].items()
        assert [(e["port"], e["path"]) for e in monitor["spec"]["endpoints"]] == [("http", "/metrics")]
        assert {p["name"] for p in service["spec"]["ports"]} >= {"http"}


def expand(value: str, env: dict[str, str]) -> str:
    """$(NAME) as Kubernetes expands it in a container's env: only from variables defined before."""
    return re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], value)


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
        # Host, port and database from the operator's <cluster>-app secret, as CloudNativePG writes them
        # (pkg/specs/secrets.go: host <cluster>-rw, port 5432, dbname the initdb database).
        cluster_name = cluster["metadata"]["name"]
        operator_wrote = {"host": f"{cluster_name}-rw", "port": "5432", "dbname": f"titp_{name}"}
        known = {"DB_APP_PASSWORD": "secret"}
        for variable, key in (("DB_HOST", "host"), ("DB_PORT", "port"), ("DB_NAME", "dbname")):
            assert env[variable]["valueFrom"]["secretKeyRef"] == {"name": f"{cluster_name}-app", "key": key}
            known[variable] = operator_wrote[key]
        order = [e["name"] for e in main["env"]]
        assert all(order.index(v) < order.index("TITP_DATABASE_URL") for v in known)
        url = expand(env["TITP_DATABASE_URL"]["value"], known)
        assert url == f"postgresql://{app_role['name']}:secret@{cluster_name}-rw:5432/titp_{name}"
        assert cluster["spec"]["instances"] >= 3
        assert cluster["spec"]["imageName"].endswith(":15")  # as the local stack and docker-compose.yml
        shared = settings_fields(config)
        owner = cluster["spec"]["bootstrap"]["initdb"]["owner"]
        settings = load_settings(
            name,
            database_url=url,
            migration_database_url=f"postgresql://{owner}:other@{cluster_name}-rw.titp:5432/titp_{name}",  # its uri
            checkpoint_key_file=env["TITP_CHECKPOINT_KEY_FILE"]["value"],
            **shared,
        )
        assert settings.otel_exporter == "otlp" and settings.app_role() == app_role["name"]


def mounted_secret(deployment: dict, file: str) -> tuple[str, str]:
    """(Secret, key) whose content the container sees at `file`, through a secret volume."""
    spec = deployment["spec"]["template"]["spec"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    for mount in container(deployment)["volumeMounts"]:
        if Path(file).parent == Path(mount["mountPath"]) and "subPath" not in mount:
            secret = volumes[mount["name"]]["secret"]
            [item] = [i for i in secret["items"] if i["path"] == Path(file).name]
            assert mount["readOnly"] is True
            return secret["secretName"], item["key"]
    raise AssertionError(f"nothing is mounted at {file}")


def test_keys_come_from_secrets_one_checkpoint_key_a_service_and_no_private_token_key(by_kind):
    config = by_kind["ConfigMap"]["titp-config"]["data"]
    jwks = config["TITP_AUTH_JWKS_URL"]
    assert jwks.startswith("file:///")
    for name in SERVICES:
        deployment = by_kind["Deployment"][name]
        env = {e["name"]: e for e in container(deployment)["env"]}
        # Every replica signs with the same key, and a restarted pod with the one it had: a Secret, not the
        # emptyDir where the service would otherwise create a key of its own (docs/audit.md).
        assert mounted_secret(deployment, env["TITP_CHECKPOINT_KEY_FILE"]["value"]) == (
            f"{name}-checkpoint-key",
            "key.pem",
        )
        # The token keys: the public JWKS only, from one Secret every service reads.
        assert mounted_secret(deployment, jwks.removeprefix("file://")) == ("titp-jwks", "jwks.json")
        spec = deployment["spec"]["template"]["spec"]
        secrets = {v["secret"]["secretName"] for v in spec["volumes"] if "secret" in v}
        secrets |= {e["valueFrom"]["secretKeyRef"]["name"] for e in env.values() if "valueFrom" in e}
        assert secrets == {name, f"{name}-db-app", f"{name}-db-service", f"{name}-checkpoint-key", "titp-jwks"}
        [pod_security] = [spec["securityContext"]]
        assert pod_security["fsGroup"] == pod_security["runAsUser"]  # the key files are group-readable
        assert all(v["secret"]["defaultMode"] & 0o007 == 0 for v in spec["volumes"] if v["name"] == "checkpoint-key")


def test_network_policies_let_clients_reach_the_services_and_only_services_and_operators_the_data(by_kind):
    policies = by_kind["NetworkPolicy"]
    for name in SERVICES:
        labels = by_kind["Deployment"][name]["spec"]["template"]["metadata"]["labels"]
        mine = policies[name]["spec"]
        assert mine["podSelector"]["matchLabels"].items() <= labels.items()
        assert mine["ingress"] == [{"ports": [{"port": "http", "protocol": "TCP"}]}]  # from anywhere, that port
        database = policies[f"{name}-db"]["spec"]
        assert database["podSelector"]["matchLabels"] == {"cnpg.io/cluster": f"{name}-db"}
        peers = [
            (peer.get("namespaceSelector", {}).get("matchLabels"), peer["podSelector"]["matchLabels"], rule["ports"])
            for rule in database["ingress"]
            for peer in rule["from"]
        ]
        postgres = {"port": 5432, "protocol": "TCP"}
        may_connect = [(ns, pods) for ns, pods, ports in peers if postgres in ports]
        assert may_connect == [
            (None, {"app.kubernetes.io/name": name}),
            (None, {"app.kubernetes.io/name": "titp-admin"}),
            (None, {"cnpg.io/cluster": f"{name}-db"}),
            ({"kubernetes.io/metadata.name": "cnpg-system"}, {"app.kubernetes.io/name": "cloudnative-pg"}),
        ]
    # Kafka: Strimzi makes the listener's NetworkPolicy from its peers, the pods of the titp deployment.
    [listener] = by_kind["Kafka"]["titp"]["spec"]["kafka"]["listeners"]
    assert listener["networkPolicyPeers"] == [{"podSelector": {"matchLabels": {"app.kubernetes.io/part-of": "titp"}}}]
    for name in SERVICES:
        labels = by_kind["Deployment"][name]["spec"]["template"]["metadata"]["labels"]
        assert labels["app.kubernetes.io/part-of"] == "titp"


def test_kafka_is_kraft_with_the_local_version_replication_3_min_isr_2_and_topics_kept_forever(by_kind):
    kafka = by_kind["Kafka"]["titp"]
    # KRaft and node pools are all Strimzi 0.48 and later know: the old annotations are ignored, so none.
    assert "annotations" not in kafka["metadata"]
    assert kafka["spec"]["kafka"]["version"] == local_stack_variable("KAFKA_VERSION")
    major_minor = ".".join(kafka["spec"]["kafka"]["version"].split(".")[:2])
    assert kafka["spec"]["kafka"]["metadataVersion"].startswith(f"{major_minor}-IV")
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


def test_every_client_authenticates_and_each_service_gets_only_its_acls(by_kind):
    kafka = by_kind["Kafka"]["titp"]["spec"]["kafka"]
    assert [listener["authentication"] for listener in kafka["listeners"]] == [{"type": "scram-sha-512"}]
    assert kafka["authorization"]["type"] == "simple"  # the KRaft StandardAuthorizer
    users = by_kind["KafkaUser"]
    assert set(users) == {*SERVICES, *kafka["authorization"]["superUsers"]}
    assert all(user["metadata"]["labels"] == {"strimzi.io/cluster": "titp"} for user in users.values())
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


def test_an_environment_overlay_changes_only_what_it_says(rendered):
    default = {(d["kind"], d["metadata"]["name"]): d for d in rendered}
    assert OVERLAYS, "deploy/k8s/overlays/ shows how an environment is written"
    for overlay in OVERLAYS:
        docs = {(d["kind"], d["metadata"]["name"]): d for d in kustomize_build(overlay)}
        assert docs.keys() == default.keys(), overlay
        # Its differences are its own; the Kafka users, topics and network policies stay as they are.
        for key in docs:
            if key[0] in ("KafkaUser", "KafkaTopic", "NetworkPolicy", "Kafka"):
                assert docs[key] == default[key], (overlay, key)


# The officers' console.


def console_environment(by_kind: dict) -> dict[str, str]:
    """The console container's environment as Kubernetes gives it: its ConfigMaps' data, then its env (a Secret's
    value stands in as `<secret>/<key>`)."""
    main = container(by_kind["Deployment"][CONSOLE])
    environment = {}
    for source in main.get("envFrom", []):
        environment |= by_kind["ConfigMap"][source["configMapRef"]["name"]]["data"]
    for variable in main.get("env", []):
        secret = variable.get("valueFrom", {}).get("secretKeyRef")
        environment[variable["name"]] = f"{secret['name']}/{secret['key']}" if secret else variable["value"]
    return environment


def test_the_console_signs_officers_in_with_the_services_identity_provider_and_calls_them_by_their_services(by_kind):
    main = container(by_kind["Deployment"][CONSOLE])
    assert main["image"] == "titp:0.1.0" and main["command"] == ["python", "-m", "services.console"]
    assert "args" not in main  # the image's CMD (a service's app factory) is not given to it
    # Check: its own settings only: not titp-config's (Kafka, database, JWKS), nothing else of a service's.
    assert [e["configMapRef"]["name"] for e in main["envFrom"]] == [CONSOLE_OIDC]
    environment = console_environment(by_kind)
    settings = console_settings(environment)
    assert not [name for name in environment if re.search("KAFKA|DATABASE|DB_|JWKS|CHECKPOINT", name)]
    # Officers sign in with the identity provider whose tokens the services check; no dev key, secure cookies.
    assert settings.dev_sign_in is False and settings.secure_cookies is True
    assert str(settings.oidc_issuer) == by_kind["ConfigMap"]["titp-config"]["data"]["TITP_AUTH_ISSUER"]
    assert settings.oidc_client_id and settings.public_url and settings.public_url.scheme == "https"
    assert environment["TITP_CONSOLE_OIDC_CLIENT_SECRET"] == f"{CONSOLE_OIDC}/client-secret"  # a Secret, never here
    # Each service at its Service, on that Service's port.
    for name in SERVICES:
        url = urlsplit(settings.service_url(name))
        assert (url.scheme, url.hostname) == ("http", name)
        assert (url.port or 80) in {p["port"] for p in by_kind["Service"][name]["spec"]["ports"]}
    # It listens where its Service, its probes and its NetworkPolicy say.
    [http] = main["ports"]
    assert (settings.http_host, settings.http_port, http["name"]) == ("0.0.0.0", http["containerPort"], "http")


def test_the_console_is_probed_sized_kept_available_and_confined_as_the_services_are(by_kind):
    deployment = by_kind["Deployment"][CONSOLE]
    main = container(deployment)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert main["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}  # a page even with a service down
    assert main["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert main["resources"]["requests"].keys() >= {"cpu", "memory"} and "memory" in main["resources"]["limits"]
    service_pod = by_kind["Deployment"]["registry"]["spec"]["template"]["spec"]
    assert deployment["spec"]["template"]["spec"]["securityContext"] == service_pod["securityContext"]
    assert main["securityContext"] == container(by_kind["Deployment"]["registry"])["securityContext"]
    # No key of any kind in its pods: nothing mounted but a scratch folder.
    assert [v for v in deployment["spec"]["template"]["spec"]["volumes"] if "emptyDir" not in v] == []
    service = by_kind["Service"][CONSOLE]
    assert service["spec"]["selector"].items() <= labels.items()
    assert [p["targetPort"] for p in service["spec"]["ports"]] == ["http"]
    budget = by_kind["PodDisruptionBudget"][CONSOLE]
    assert budget["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert budget["spec"]["minAvailable"] < deployment["spec"]["replicas"]


NAMESPACE = {"kubernetes.io/metadata.name": "titp"}
OUTSIDE = None  # an address outside the cluster (the identity provider): no pod, no namespace


def selects(selector: dict, labels: dict) -> bool:
    """Whether a label selector (matchLabels, matchExpressions) matches these labels."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    operators = {
        "In": lambda e: labels.get(e["key"]) in e["values"],
        "NotIn": lambda e: labels.get(e["key"]) not in e["values"],
        "Exists": lambda e: e["key"] in labels,
        "DoesNotExist": lambda e: e["key"] not in labels,
    }
    return all(operators[e["operator"]](e) for e in selector.get("matchExpressions", []))


def peer_is(peer: dict, labels: dict | None, namespace: dict | None) -> bool:
    if labels is None:  # outside the cluster: only an ipBlock names it
        return "ipBlock" in peer
    if "ipBlock" in peer:
        return False
    in_namespace = (
        selects(peer["namespaceSelector"], namespace) if "namespaceSelector" in peer else namespace == NAMESPACE
    )
    return in_namespace and selects(peer.get("podSelector", {}), labels)


def may_connect(
    policies, source: dict, target: dict | None, port: int, *, name=None, protocol="TCP", namespace=NAMESPACE
):
    """Whether `policies` (NetworkPolicy specs in titp) let a pod of titp labelled `source` open a connection to a
    pod labelled `target` (in `namespace`; OUTSIDE: beyond the cluster) on `port` (its container port's `name`):
    the source's policies with Egress must allow it, and so must the target's with Ingress, as Kubernetes has it."""

    def allowed(spec: dict, direction: str, peer: tuple) -> bool:
        peers = "to" if direction == "Egress" else "from"  # a rule without peers or ports: any peer, any port
        return any(
            (not rule.get(peers) or any(peer_is(p, *peer) for p in rule[peers]))
            and (
                not rule.get("ports")
                or any(p.get("port") in (port, name) and p.get("protocol", "TCP") == protocol for p in rule["ports"])
            )
            for rule in spec.get(direction.lower(), [])
        )

    sides = [("Egress", source, (target, namespace))]
    if target is not None and namespace == NAMESPACE:
        sides.append(("Ingress", target, (source, NAMESPACE)))
    for direction, own, peer in sides:
        governing = [s for s in policies if direction in s["policyTypes"] and selects(s["podSelector"], own)]
        if governing and not any(allowed(spec, direction, peer) for spec in governing):
            return False
    return True


def test_the_console_reaches_the_services_http_port_and_neither_a_database_nor_the_broker(by_kind):
    policies = [p["spec"] for p in by_kind["NetworkPolicy"].values()]
    console = by_kind["Deployment"][CONSOLE]["spec"]["template"]["metadata"]["labels"]
    # Kafka's NetworkPolicy is Strimzi's, made from the listener's peers, on its port.
    [listener] = by_kind["Kafka"]["titp"]["spec"]["kafka"]["listeners"]
    broker = {"strimzi.io/cluster": "titp", "strimzi.io/kind": "Kafka"}
    kafka = {
        "podSelector": {"matchLabels": {"strimzi.io/cluster": "titp"}},
        "policyTypes": ["Ingress"],
        "ingress": [{"from": listener["networkPolicyPeers"], "ports": [{"port": listener["port"]}]}],
    }
    for name in SERVICES:
        service = by_kind["Deployment"][name]["spec"]["template"]["metadata"]["labels"]
        [http] = container(by_kind["Deployment"][name])["ports"]
        # Check: both ways open, the console's egress and the service's own ingress (which lets it in).
        assert may_connect(policies, console, service, http["containerPort"], name=http["name"]), name
        assert may_connect([by_kind["NetworkPolicy"][name]["spec"]], console, service, 8000, name="http"), name
        assert not may_connect(policies, console, service, 9999), name  # its HTTP port only
        # Check: no database lets it in, and it would not go there.
        database = {"cnpg.io/cluster": f"{name}-db"}
        assert not may_connect([by_kind["NetworkPolicy"][f"{name}-db"]["spec"]], console, database, 5432), name
        assert not may_connect([by_kind["NetworkPolicy"][CONSOLE]["spec"]], console, database, 5432), name
        # ... while the service itself still reaches its database and the broker (the rules above did not close it).
        assert may_connect(policies, service, database, 5432) and may_connect([*policies, kafka], service, broker, 9092)
    # Check: the broker's peers do not include it, nor does it go there.
    assert not may_connect([kafka], console, broker, listener["port"])
    assert not may_connect([by_kind["NetworkPolicy"][CONSOLE]["spec"]], console, broker, listener["port"])
    # Names, and the identity provider over HTTPS; officers' browsers (through the ingress) on its HTTP port.
    dns = ({"k8s-app": "kube-dns"}, {"kubernetes.io/metadata.name": "kube-system"})
    assert may_connect(policies, console, dns[0], 53, protocol="UDP", namespace=dns[1])
    assert may_connect(policies, console, OUTSIDE, 443, namespace=None)
    assert not may_connect(policies, console, OUTSIDE, 80, namespace=None)
    assert may_connect(policies, {"app.kubernetes.io/name": "ingress-nginx"}, console, 8000, name="http")


def test_every_environment_signs_officers_in_where_its_services_check_the_tokens(rendered):
    for environment, docs in [("deploy/k8s", rendered)] + [(str(o), kustomize_build(o)) for o in OVERLAYS]:
        config = {d["metadata"]["name"]: d["data"] for d in docs if d["kind"] == "ConfigMap"}
        assert config[CONSOLE_OIDC]["TITP_CONSOLE_OIDC_ISSUER"] == config["titp-config"]["TITP_AUTH_ISSUER"], (
            environment
        )
