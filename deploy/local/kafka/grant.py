"""Write deploy/local/kafka/grants.txt: every service's topics and its ACLs, for an empty topic prefix.

    .venv/bin/python deploy/local/kafka/grant.py > deploy/local/kafka/grants.txt

after a service's subscriptions change (tests/deploy/test_compose.py fails until then). The local stack
(Provision.java, `stack.sh grant <prefix>` puts the prefix before every topic and group name) and
docker-compose.yml (deploy/compose/kafka-setup.sh) apply that file, so starting a stack imports no service.
What each service may do is `shared.kafka.service_acls`, fed with the service's own subscriptions.
"""

import importlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))

from shared.kafka import service_acls  # noqa: E402
from shared.settings import SERVICES  # noqa: E402
from shared.topics import dlq_topic, service_topic  # noqa: E402


def lines() -> list[str]:
    """`topic <name>` for every service's topics, then `allow <user> <topic|group> <pattern> <name> <op>`."""
    topics = [f"topic {t}" for name in SERVICES for t in (service_topic(name), dlq_topic(name))]
    allowed = []
    for name in SERVICES:
        subscribes_to = importlib.import_module(f"services.{name}.app").DEFINITION.subscribes_to
        for acl in service_acls(name, subscribes_to):
            allowed += [f"allow {name} {acl.resource} {acl.pattern} {acl.name} {op}" for op in acl.operations]
    return topics + allowed


if __name__ == "__main__":
    print("\n".join(lines()))
