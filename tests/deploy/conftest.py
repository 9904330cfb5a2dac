"""What the deployment tests share: the files under test and the settings they must agree with."""

import functools
import importlib
import importlib.util
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families
from pydantic_settings import BaseSettings

from services.console.settings import ConsoleSettings
from shared.kafka import KafkaIdentity
from shared.settings import SERVICES

ROOT = Path(__file__).resolve().parents[2]
LOCAL_STACK = ROOT / "deploy" / "local" / "stack.sh"
K8S = ROOT / "deploy" / "k8s"
# kustomize itself: deploy/k8s/kustomize.sh builds it (once) and says where it is.
KUSTOMIZE_SH = K8S / "kustomize.sh"


def load_yaml_documents(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


@functools.cache
def kustomize() -> Path:
    """The kustomize binary: $TITP_KUSTOMIZE, or the one deploy/k8s/kustomize.sh built into .data/tools."""
    if given := os.environ.get("TITP_KUSTOMIZE"):
        return Path(given)
    built = subprocess.run([str(KUSTOMIZE_SH)], capture_output=True, text=True, timeout=1200)
    if built.returncode != 0:
        pytest.fail(f"deploy/k8s is rendered by kustomize, and {KUSTOMIZE_SH} could not build it:\n{built.stderr}")
    return Path(built.stdout.strip())


def kustomize_build(folder: Path) -> list[dict]:
    """`kustomize build folder`: the objects `kubectl apply -k folder` would send."""
    built = subprocess.run([str(kustomize()), "build", str(folder)], capture_output=True, text=True, timeout=120)
    assert built.returncode == 0, f"kustomize build {folder}:\n{built.stderr}"
    return [doc for doc in yaml.safe_load_all(built.stdout) if doc is not None]


def local_stack_variable(name: str) -> str:
    """A variable set at the top of deploy/local/stack.sh, e.g. KAFKA_VERSION."""
    match = re.search(rf"^{name}=(\"[^\"]*\"|\S+)$", LOCAL_STACK.read_text(), re.MULTILINE)
    assert match, f"{name} is not set in {LOCAL_STACK}"
    return match.group(1).strip('"')


def local_stack_services() -> list[tuple[str, int, str]]:
    """What `deploy/local/stack.sh services` says it runs: (name, HTTP port, database), in its order."""
    out = subprocess.run([str(LOCAL_STACK), "services"], capture_output=True, text=True, check=True).stdout
    return [(name, int(port), database) for name, port, database in (line.split() for line in out.splitlines())]


def settings_variables() -> set[str]:
    """Every environment variable a settings class of the project reads: ServiceSettings' TITP_* and
    each service's own (TITP_REGISTRY_*, TITP_INSPECTION_*, ...), and the Kafka identity's TITP_KAFKA_*."""
    classes = {KafkaIdentity} | {
        cls
        for name in SERVICES
        for cls in vars(importlib.import_module(f"services.{name}.app")).values()
        if isinstance(cls, type) and issubclass(cls, BaseSettings) and cls is not BaseSettings
    }
    return {f"{cls.model_config['env_prefix']}{field}".upper() for cls in classes for field in cls.model_fields}


def subscribes_to(service: str) -> list[str]:
    return list(importlib.import_module(f"services.{service}.app").DEFINITION.subscribes_to)


def grant_lines() -> list[str]:
    """The topic and ACL lines deploy/local/kafka/grant.py writes into grants.txt (what the stacks apply)."""
    spec = importlib.util.spec_from_file_location("grant", ROOT / "deploy" / "local" / "kafka" / "grant.py")
    assert spec and spec.loader
    grant = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(grant)
    return grant.lines()


def settings_fields(environment: dict) -> dict:
    """TITP_* variables as keyword arguments of load_settings: the Kafka identity's are not ServiceSettings'."""
    identity = {f"TITP_KAFKA_{field}".upper() for field in KafkaIdentity.model_fields}
    return {
        k.removeprefix("TITP_").lower(): v
        for k, v in environment.items()
        if k.startswith("TITP_") and k not in identity
    }


def console_settings(environment: dict[str, str]) -> ConsoleSettings:
    """The console's settings as it reads them from `environment`; every variable there must be one it reads
    (TITP_CONSOLE_*): it has no database and no Kafka, so their settings would only mislead."""
    known = {f"{ConsoleSettings.model_config['env_prefix']}{field}".upper() for field in ConsoleSettings.model_fields}
    assert sorted(set(environment) - known) == [], "variables the console does not read"
    return ConsoleSettings(**{name.removeprefix("TITP_CONSOLE_").lower(): value for name, value in environment.items()})


def unknown_titp_variables(names) -> list[str]:
    """The TITP_* names that no settings class reads: a typo there would be silently ignored at run time."""
    known = settings_variables()
    return sorted(n for n in names if n.startswith("TITP_") and n not in known)


async def scrape(client) -> dict[tuple[str, frozenset], float]:
    """GET /metrics as Prometheus reads it: (sample name, labels) -> value."""
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(response.text)
        for s in family.samples
    }


def value(samples, name: str, **labels) -> float | None:
    return samples.get((name, frozenset(labels.items())))
