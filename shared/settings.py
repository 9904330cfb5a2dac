"""Configuration of one service, read from `TITP_*` environment variables.

Nothing is read at import: call `load_settings(service)` from the app factory or a command.
"""

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlparse

from pydantic import Field, PostgresDsn, SecretStr, TypeAdapter, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parents[1]

# The services and their default HTTP ports: the ONE list of them. deploy/local/stack.sh (through
# deploy/local/services.py, which reads this literal), the CLI, bench/ and faults/ read it; compose, k8s and
# Prometheus are checked against it (tests/deploy/test_services_list.py). Adding one: docs/adding-a-service.md.
DEFAULT_HTTP_PORTS: dict[str, int] = {"registry": 8001, "accreditation": 8002, "inspection": 8003, "visa": 8004}
SERVICES: tuple[str, ...] = tuple(DEFAULT_HTTP_PORTS)
ServiceName = Literal["registry", "accreditation", "inspection", "visa"]  # the same names, for the type checker

# Asymmetric algorithms a token may be signed with; HS256 is allowed only through
# `auth_hs256_secret`, and `none` never.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)

_BOOTSTRAP_SERVER = re.compile(r"^[A-Za-z0-9.\-_\[\]:]+:\d{1,5}$")
_postgres_dsn = TypeAdapter(PostgresDsn)
_NOT_ECHOED = {"database_url", "migration_database_url", "auth_hs256_secret"}  # may hold a password


class InvalidSettings(ValueError):
    """The configuration cannot run a service; the message names every bad variable."""


# OpenTelemetry's own variables (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/),
# for the setting each stands for: when set (not empty) it wins over the TITP_* one; a keyword override of
# `load_settings` wins over both. OTEL_EXPORTER_OTLP_ENDPOINT and the other OTEL_EXPORTER_OTLP_* are read by the
# exporter itself. OTEL_SDK_DISABLED=true means the exporter `none`.
STANDARD_VARIABLES: dict[str, tuple[str, ...]] = {
    "otel_exporter": ("OTEL_TRACES_EXPORTER",),
    "otel_service_name": ("OTEL_SERVICE_NAME",),
    "otel_sampler": ("OTEL_TRACES_SAMPLER",),
    "otel_sample_ratio": ("OTEL_TRACES_SAMPLER_ARG",),
    "otel_exporter_otlp_protocol": ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL"),
}


def standard_variable(field: str) -> str | None:
    """The standard variable that gave `field` its value, if one is set."""
    if field == "otel_exporter" and os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return "OTEL_SDK_DISABLED"
    return next((name for name in STANDARD_VARIABLES.get(field, ()) if os.environ.get(name, "").strip()), None)


class _StandardVariables(PydanticBaseSettingsSource):
    """The standard OTEL_* variables, read before the TITP_* ones."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        name = standard_variable(field_name)
        if name is None:
            return None, field_name, False
        return ("none" if name == "OTEL_SDK_DISABLED" else os.environ[name].strip()), field_name, False

    def __call__(self) -> dict[str, Any]:
        values = {}
        for field in STANDARD_VARIABLES:
            value, key, _ = self.get_field_value(self.settings_cls.model_fields[field], field)
            if value is not None:
                values[key] = value
        return values


def _default_database_url(data: dict[str, Any]) -> str:
    return f"postgresql://titp:titp@127.0.0.1:5432/titp_{data.get('service', 'unknown')}"


def _default_http_port(data: dict[str, Any]) -> int:
    return DEFAULT_HTTP_PORTS.get(data.get("service", ""), 8000)


def _default_jwks_url(data: dict[str, Any]) -> str:
    data_dir = Path(data.get("data_dir", REPO_ROOT / ".data")).resolve()
    return (data_dir / "dev-keys" / "jwks.json").as_uri()


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TITP_", extra="forbid", env_ignore_empty=True)

    service: ServiceName
    data_dir: Path = REPO_ROOT / ".data"
    database_url: str = Field(
        default_factory=_default_database_url,
        description="What the service connects as: a role that owns no table (it gets its privileges from the"
        " migrations, see database_app_role)",
    )
    migration_database_url: str | None = Field(
        None,
        description="What the migrations run as: the tables' owner. Default: database_url (one role for"
        " everything, a dev setup: no grants are given then)",
    )
    database_app_role: str | None = Field(
        None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_$-]*$",
        description="The role the migrations grant the service's privileges to. Default: the user of database_url",
    )
    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default_factory=_default_http_port, ge=1, le=65535)
    workers: int = Field(
        1,
        ge=1,
        description="Worker processes serving the one HTTP port (shared/web/serve.py); 1: the service is one process",
    )

    auth_jwks_url: str = Field(default_factory=_default_jwks_url)
    auth_issuer: str = Field("titp-dev", min_length=1)
    auth_audience: str = Field("titp", min_length=1)
    auth_algorithms: Annotated[list[str], NoDecode] = ["RS256", "EdDSA", "ES256"]
    auth_hs256_secret: SecretStr | None = None

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_json: bool = True
    access_log: bool = Field(
        False,
        description="A log line per HTTP request (uvicorn's access log, probes included), through the service's own"
        " handler; `python -m shared.web.serve --access-log/--no-access-log` overrides it",
    )
    # Traces: each of these also reads its standard OTEL_* variable, which wins when set (STANDARD_VARIABLES above).
    # otlp: to the collector named by the standard OTEL_EXPORTER_OTLP_* variables (HTTP/protobuf).
    otel_exporter: Literal["none", "console", "memory", "otlp"] = "none"
    otel_service_name: str | None = Field(
        None, min_length=1, description="The spans' service.name. Default: titp-<service>"
    )
    otel_sampler: Literal[
        "always_on",
        "always_off",
        "traceidratio",
        "parentbased_always_on",
        "parentbased_always_off",
        "parentbased_traceidratio",
    ] = Field(
        "parentbased_traceidratio",
        description="Which traces are recorded while an exporter is set; parentbased_*: a trace continued from a"
        " caller follows the caller's choice",
    )
    # The share of traces recorded by the traceidratio samplers.
    otel_sample_ratio: float = Field(1.0, ge=0, le=1)
    otel_exporter_otlp_protocol: Literal["http/protobuf"] = Field(
        "http/protobuf", description="The one OTLP protocol the services send (no gRPC exporter is installed)"
    )

    relay_poll_interval_s: float = Field(1.0, gt=0)
    relay_linger_s: float = Field(
        0.005,
        ge=0,
        le=1,
        description="After a wake-up, how long the outbox relay lets more commits arrive before it reads the outbox",
    )
    consumer_max_retries: int = Field(5, ge=0)
    consumer_group: str | None = Field(
        None, min_length=1, description="Default: <topic_prefix>titp.<service>, the group its Kafka identity may use"
    )
    max_request_bytes: int = Field(1024 * 1024, gt=0)

    # Topics: created by the services themselves, keeping events forever (shared/topics.py).
    topic_prefix: str = Field(
        "",
        pattern=r"^[A-Za-z0-9._-]*$",
        description="Put before every topic name, e.g. `staging.`: several deployments"
        " (or test runs) share one Kafka cluster without reading each other's events",
    )
    topic_partitions: int = Field(3, ge=1)
    topic_replication: int = Field(1, ge=1)

    # Signed checkpoints of the log (shared/audit/checkpoints.py).
    checkpoint_key_file: Path | None = Field(
        None,
        description="PEM (PKCS#8) Ed25519 private key; default"
        " <data_dir>/checkpoint-keys/<service>.pem, created"
        " when missing",
    )
    checkpoint_interval_s: float = Field(60.0, gt=0)
    # Per client (the token's subject): `write_burst` writes at once, refilled at `write_rate_per_s`.
    write_rate_per_s: float = Field(50.0, gt=0)
    write_burst: int = Field(200, ge=1)
    # Slow clients (shared/web/serve.py, shared/web/security.py): a request's headers must be complete this long
    # after its first byte, its body this long after its headers; else 408 and the connection is closed.
    http_header_timeout_s: float = Field(10.0, gt=0)
    http_body_timeout_s: float = Field(30.0, gt=0)
    # An open write transaction older than this (anywhere in the cluster) holds back the audit feed and the
    # checkpoints: /readyz names it (shared/web/app.py).
    long_transaction_s: float = Field(60.0, gt=0)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return init_settings, _StandardVariables(settings_cls), env_settings, dotenv_settings, file_secret_settings

    @field_validator("database_url", "migration_database_url")
    @classmethod
    def _postgres_url(cls, value: str | None) -> str | None:
        if value is not None:
            _postgres_dsn.validate_python(value)
        return value

    @field_validator("kafka_bootstrap_servers")
    @classmethod
    def _host_port_list(cls, value: str) -> str:
        servers = [server.strip() for server in value.split(",")]
        for server in servers:
            if not _BOOTSTRAP_SERVER.match(server) or not 0 < int(server.rsplit(":", 1)[1]) < 65536:
                raise ValueError(f"expected host:port[,host:port...], {server!r} is not")
        return ",".join(servers)

    @field_validator("auth_jwks_url")
    @classmethod
    def _jwks_location(cls, value: str) -> str:
        url = urlparse(value)
        if url.scheme in ("http", "https") and url.netloc:
            return value
        if url.scheme == "file" and url.path:
            return value
        raise ValueError("expected an http(s):// or file:// URL of a JWKS document")

    @field_validator("auth_algorithms", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [name.strip() for name in value.strip("[]").replace('"', "").split(",") if name.strip()]
        return value

    @field_validator("auth_algorithms")
    @classmethod
    def _asymmetric_only(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one algorithm is needed")
        refused = [name for name in value if name not in ASYMMETRIC_ALGORITHMS]
        if refused:
            raise ValueError(
                f"not an accepted asymmetric algorithm: {', '.join(refused)} "
                f"(accepted: {', '.join(sorted(ASYMMETRIC_ALGORITHMS))}; "
                "HS256 is enabled only by setting TITP_AUTH_HS256_SECRET)"
            )
        return value

    @field_validator("auth_hs256_secret")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().encode()) < 32:
            raise ValueError("an HS256 secret must be at least 32 bytes")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    def migration_url(self) -> str:
        """The owner's URL: migrations and the operator commands that write the store (`titp rebuild`)."""
        return self.migration_database_url or self.database_url

    def app_role(self) -> str | None:
        """The role to grant the service's privileges to, or None when the service runs as the owner itself."""
        if self.migration_url() == self.database_url:
            return None
        return self.database_app_role or urlparse(self.database_url).username

    def checkpoint_key_path(self) -> Path:
        return self.checkpoint_key_file or self.data_dir / "checkpoint-keys" / f"{self.service}.pem"

    def topic(self, name: str) -> str:
        """A topic's name in this deployment: `titp.registry.v1` -> `<topic_prefix>titp.registry.v1`."""
        return self.topic_prefix + name


def load_settings(service: str, **overrides: Any) -> ServiceSettings:
    """The settings of `service`: keyword overrides, then the standard `OTEL_*` variables (STANDARD_VARIABLES), then
    `TITP_*` variables, then defaults."""
    try:
        return ServiceSettings(service=service, **overrides)
    except ValidationError as error:
        lines = []
        for problem in error.errors(include_url=False):
            if problem["type"] == "default_factory_not_called":
                continue  # a default that depends on a field already reported as bad
            field = ".".join(str(part) for part in problem["loc"]) or "settings"
            name = str(problem["loc"][0]) if problem["loc"] else ""
            variable = f" (TITP_{name.upper()})" if name in ServiceSettings.model_fields and name != "service" else ""
            if name not in overrides and (standard := standard_variable(name)):
                variable = f" ({standard})"
            message = problem["msg"].removeprefix("Value error, ")
            shown = "" if name in _NOT_ECHOED else f" [got {problem.get('input')!r}]"
            lines.append(f"  {field}{variable}: {message}{shown}")
        raise InvalidSettings(f"invalid settings for service {service!r}:\n" + "\n".join(lines)) from None
