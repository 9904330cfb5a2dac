"""What a service is doing, as an operator (`titp status`) and an officers' tool (GET /v1/status) see it, against
the real Kafka and PostgreSQL: who leads the relay, what waits to be published, the consumer group's lag per
partition, the dead letters, the last checkpoint, and what each service has applied of the others."""

import os
import socket

import orjson
import pytest

from services.accreditation.app import create_app as create_accreditation
from services.registry.app import create_app as create_registry
from tests.helpers import eventually, grant, permit_application, post, titp
from tests.integration.test_audit_tamper import sealed_to_the_end

SO = "/v1/supervising-organizations"


@pytest.fixture
async def pair(another_database, service_settings, run_service, unique):
    """The registry and accreditation under a topic prefix of their own: accreditation reads the registry's topic."""
    prefix = f"test-status-{unique}."
    services = {}
    for name, create in (("registry", create_registry), ("accreditation", create_accreditation)):
        database = await another_database()
        app = create(service_settings(name, database, topic_prefix=prefix, relay_poll_interval_s=0.2))
        services[name] = (await run_service(app), app, database)
    return prefix, services


def relay_name(service: str) -> str:
    """The leader as the services name it: this test process runs both apps."""
    return f"{service} relay {socket.gethostname()} pid {os.getpid()}"[:63]  # PostgreSQL keeps 63 bytes


async def test_status_says_who_leads_what_waits_and_what_each_service_applied_of_the_other(pair, token):
    prefix, services = pair
    (registry, registry_app, _), (accreditation, _, accreditation_db) = services["registry"], services["accreditation"]
    otit, auditor = token("otit"), token("auditor")
    cooperative = (await post(registry, SO, permit_application(), otit, 201))["id"]
    await post(registry, f"{SO}/{cooperative}/grant", grant(), otit)
    stream = (await registry.get(f"/v1/audit/streams/{cooperative}", headers=auditor)).json()
    granted_at = stream["events"][-1]["position"]
    await sealed_to_the_end(registry_app)

    # The registry: its relay leads (this process), has published everything and the log is sealed to its end.
    async def published():
        status = (await registry.get("/v1/status", headers=otit)).json()
        return status if status["relay"]["backlog"] == 0 else None

    status = await eventually(published, timeout=20, message="the registry's relay never emptied its outbox")
    assert status["service"] == "registry" and status["problems"] == []
    relay = status["relay"]
    assert (relay["leader"], relay["this_instance_leads"]) == (relay_name("registry"), True)
    assert relay["leader_since"] is not None and relay["oldest_unpublished_s"] is None and relay["parked"] == 0
    sealed_at = relay["last_position"]
    assert sealed_at > granted_at  # the checkpoint, after the grant
    checkpoint = status["checkpoint"]
    assert (checkpoint["through_position"], checkpoint["events"], status["unsealed"]) == (granted_at, 2, 0)
    assert status["dead_letters"] == {"topic": f"{prefix}titp.registry.dlq", "messages": 0, "pending": 0}
    # It reads inspection's and accreditation's topics, three partitions each, with nothing on them yet.
    consumer = status["consumer"]
    assert (consumer["group"], consumer["lag"]) == (f"{prefix}titp.registry", 0)
    assert sorted((p["topic"], p["partition"], p["end"], p["lag"]) for p in consumer["partitions"]) == [
        (f"{prefix}titp.{service}.v1", partition, 0, 0)
        for service in ("accreditation", "inspection")
        for partition in range(3)
    ]
    assert status["sources"] == []

    # Accreditation: it has applied the registry's events up to the checkpoint, with no lag left.
    async def caught_up():
        status = (await accreditation.get("/v1/status", headers=auditor)).json()
        applied = {s["source"]: s for s in status["sources"]}
        registry_applied = applied.get("/titp/registry", {})
        done = registry_applied.get("last_position") == sealed_at and status["consumer"]["lag"] == 0
        return status if done else None

    status = await eventually(caught_up, timeout=30, message="accreditation never applied the registry's events")
    [applied] = status["sources"]
    # Two of its streams: the organization's and the checkpoints'.
    assert (applied["source"], applied["last_position"], applied["streams"]) == ("/titp/registry", sealed_at, 2)
    assert applied["last_applied_at"] is not None
    partitions = [p for p in status["consumer"]["partitions"] if p["topic"] == f"{prefix}titp.registry.v1"]
    assert sum(p["end"] for p in partitions) == 3 and all(p["committed"] == p["end"] for p in partitions if p["end"])
    assert status["relay"]["leader"] == relay_name("accreditation")

    # Only the agency's officers see it.
    assert (await registry.get("/v1/status", headers=token("supervising_org", org=cooperative))).status_code == 403
    assert (await registry.get("/v1/status")).status_code == 401

    # The operator's command reads the same from the database and Kafka, as a table or as JSON.
    environment = {"TITP_DATABASE_URL": accreditation_db, "TITP_TOPIC_PREFIX": prefix}
    code, out, err = await titp("status", "accreditation", "--json", **environment)
    assert code == 0, err
    [shown] = orjson.loads(out)
    assert shown["sources"] == status["sources"] and shown["consumer"] == status["consumer"]
    assert shown["relay"]["leader"] == relay_name("accreditation") and shown["relay"]["this_instance_leads"] is None
    code, out, err = await titp("status", "accreditation", **environment)
    assert code == 0, err
    assert f"leader: {relay_name('accreditation')}" in out
    assert f"group {prefix}titp.accreditation: lag 0" in out and "/titp/registry" in out and str(sealed_at) in out


async def test_status_shows_what_it_could_read_and_says_what_it_could_not(pair):
    prefix, services = pair
    _, _, database = services["registry"]
    environment = {"TITP_DATABASE_URL": database, "TITP_TOPIC_PREFIX": prefix}
    # Kafka out of reach: the database's part is still shown; the command says what it could not read, and exits 1.
    code, out, err = await titp(
        "status", "registry", "--json", TITP_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:1", **environment
    )
    assert code == 1, err
    [shown] = orjson.loads(out)
    [problem] = shown["problems"]
    assert problem.startswith("Kafka (127.0.0.1:1) could not be read: ") and "\n" not in problem
    assert shown["relay"]["leader"] == relay_name("registry") and shown["consumer"] is None
    # The database out of reach: Kafka's part is still shown.
    code, out, err = await titp(
        "status", "registry", TITP_DATABASE_URL="postgresql://titp:titp@127.0.0.1:1/none", TITP_TOPIC_PREFIX=prefix
    )
    assert code == 1, err
    assert "problem      the database could not be read: " in out and "lag 0" in out
