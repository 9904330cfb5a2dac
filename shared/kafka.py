"""How every Kafka client of this project connects: the bootstrap servers and this process's identity.

The broker authenticates every client (SASL/SCRAM, docs/security.md), and its ACLs let each
service write only its own topics. A process has one identity, read from its environment when
a client is made (never at import):

    TITP_KAFKA_SECURITY_PROTOCOL   PLAINTEXT (default) | SASL_PLAINTEXT | SASL_SSL
    TITP_KAFKA_SASL_MECHANISM      SCRAM-SHA-512 (default) | SCRAM-SHA-256 | PLAIN
    TITP_KAFKA_USERNAME / TITP_KAFKA_PASSWORD

Every AIOKafkaProducer, AIOKafkaConsumer and AIOKafkaAdminClient is built with `client_options(bootstrap)`.

`service_acls` is the one statement of what a service's identity may do on the broker: the local stack and
docker-compose.yml grant it (deploy/local/kafka/grants.txt, written by grant.py), the KafkaUsers of deploy/k8s
say the same, and tests/deploy check both.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, NamedTuple

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaIdentity(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TITP_KAFKA_", extra="ignore", env_ignore_empty=True)

    security_protocol: Literal["PLAINTEXT", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"] = "SCRAM-SHA-512"
    username: str | None = None
    password: SecretStr | None = None

    def options(self) -> dict[str, Any]:
        if self.security_protocol == "PLAINTEXT":
            return {}
        return {
            "security_protocol": self.security_protocol,
            "sasl_mechanism": self.sasl_mechanism,
            "sasl_plain_username": self.username,
            "sasl_plain_password": self.password.get_secret_value() if self.password else None,
        }


def client_options(bootstrap: str, **identity: Any) -> dict[str, Any]:
    """Keyword arguments for an aiokafka client of `bootstrap` under this process's identity (or the one
    given: `client_options(b, security_protocol="SASL_PLAINTEXT", username="visa", password=...)`)."""
    return {"bootstrap_servers": bootstrap, **KafkaIdentity(**identity).options()}


class Acl(NamedTuple):
    """ALLOW `operations` on a topic or consumer group, named exactly (literal) or by its start (prefixed)."""

    resource: Literal["topic", "group"]
    pattern: Literal["literal", "prefixed"]
    name: str
    operations: tuple[str, ...]


def service_acls(service: str, subscribes_to: Iterable[str], prefix: str = "") -> list[Acl]:
    """What `service`'s identity may do in a deployment whose topics start with `prefix` (TITP_TOPIC_PREFIX):
    write its own topic and its DLQ (creating them if missing), read the topics it subscribes to, and use the
    consumer groups whose names start with `<prefix>titp.<service>` (its subscription's, the DLQ's redrive
    group). Nothing else: no other service's topic, no cluster operation, no other group. Topics it reads
    are created by the deployment beforehand (local and compose: deploy/local/kafka/grants.txt; k8s: the
    KafkaTopics), never by it."""
    from shared.topics import dlq_topic, service_topic  # shared.topics builds its clients with client_options

    own = (service_topic(service), dlq_topic(service))
    return [
        *(Acl("topic", "literal", prefix + topic, ("Write", "Create", "Describe")) for topic in own),
        *(Acl("topic", "literal", prefix + topic, ("Read", "Describe")) for topic in subscribes_to),
        Acl("group", "prefixed", f"{prefix}titp.{service}", ("Read", "Describe")),
    ]
