"""Replay from the topics alone: the four services run against the real Kafka and PostgreSQL, commands cross
all of them, then the four topics, read from offset 0, are replayed into fresh databases, and the replayed
read models equal the live ones row by row.

The shared topics (`titp.<service>.v1`) hold every earlier test's events, and the services of tests running
at the same time consume them too, so a live read model there would not be the function of one test's
events. Here the services run under a topic prefix of their own (TITP_TOPIC_PREFIX): their topics hold
exactly what this test caused, the live services consume exactly that, and a replay of those topics from
offset 0 must give the same read models.
"""

import importlib

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.audit.log import log_from_database, verify_log
from shared.audit.replay import diff_read_models, read_model_tables, replay_topics
from shared.kafka import client_options
from shared.settings import SERVICES
from tests.e2e.test_visa_coe import COE, day
from tests.e2e.test_visa_path import once_accepted, plan_application
from tests.helpers import eventually, post, registered_partners
from tests.integration.test_accreditation_service import PLANS
from tests.integration.test_audit_tamper import sealed_to_the_end

WAIT = 30

# Read models the story below fills, so that the comparison compares something.
FILLED = {
    "registry": {
        "supervising_organizations",
        "corporate_numbers",
        "implementing_organizations",
        "sending_organizations",
        "sending_agreements",
    },
    "accreditation": {
        "training_plans",
        "registry_permits",
        "registry_implementing_organizations",
        "registry_sending_organizations",
        "registry_sending_agreements",
    },
    "inspection": {"inspections", "organizations"},
    "visa": {"known_training_plans", "known_permit_restrictions", "coe_applications", "visas"},
}


async def start_all(service_settings, another_database, run_service, prefix: str, **overrides) -> dict:
    """The four services under `prefix`, each with its own database: {name: (client, app)}."""
    running = {}
    for name in SERVICES:
        settings = service_settings(
            name,
            await another_database(),
            topic_prefix=prefix,
            consumer_group=f"{prefix}{name}",
            relay_poll_interval_s=0.2,
            **overrides,
        )
        app = importlib.import_module(f"services.{name}.app").create_app(settings)
        running[name] = (await run_service(app), app)
    return running


async def settled(apps, bootstrap: str) -> bool:
    """Every outbox published and every subscription's committed offsets at its topics' ends."""
    for app in apps:
        async with app.state.pool.acquire() as conn:
            if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM outbox)"):
                return False
    consumer, admin = AIOKafkaConsumer(**client_options(bootstrap)), AIOKafkaAdminClient(**client_options(bootstrap))
    await consumer.start()
    await admin.start()
    try:
        for app in apps:
            settings, definition = app.state.settings, app.state.definition
            topics = [settings.topic(t) for t in definition.subscribes_to]
            await consumer.topics()
            partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
            ends = await consumer.end_offsets(partitions)
            committed = await admin.list_consumer_group_offsets(settings.consumer_group)
            if any(end and (tp not in committed or committed[tp].offset < end) for tp, end in ends.items()):
                return False
        return True
    finally:
        await consumer.stop()
        await admin.close()


async def cross_service_story(running, token) -> dict:
    """A permit, an implementing organization, a certified plan, a COE and a visa, then an inspection whose
    referral revokes the permit: every service reacts to others' events. Returns the ids it made."""
    (registry, _), (accreditation, _), (inspection, _), (visa, _) = (running[s] for s in SERVICES)
    otit, immigration = token("otit", subject="officer-mori"), token("immigration", subject="officer-kimura")
    partners = await registered_partners(registry, otit)
    supervising, implementing, sending = partners.supervising, partners.implementing, partners.sending

    plan = (await post(accreditation, PLANS, plan_application(supervising, implementing, sending), otit, 201))["id"]
    await once_accepted(accreditation, f"{PLANS}/{plan}/certify", {"certified_on": "2026-10-15"}, otit)
    coe = (await once_accepted(visa, COE, {"training_plan_id": plan, "applied_on": day(-10)}, immigration, 201))["id"]
    await post(visa, f"{COE}/{coe}/issue", {"issued_on": day(0)}, immigration)
    await post(
        visa, "/v1/visas", {"coe_id": coe, "post": "Embassy of Japan in Hanoi", "issued_on": day(1)}, immigration, 201
    )

    async def first_inspection():
        items = (await inspection.get("/v1/inspections", headers=otit, params={"target_id": supervising})).json()
        return items["items"][0] if items["items"] else None

    first = await eventually(first_inspection, timeout=WAIT, message="the permit never scheduled an inspection")
    await post(
        inspection,
        f"/v1/inspections/{first['id']}/complete",
        {
            "inspected_on": "2027-04-20",
            "inspector": "Kato Ken",
            "outcome": "referral",
            "findings": [
                {
                    "code": "passport_or_residence_card_kept",
                    "legal_breach": True,
                    "description": "passports kept in the office safe",
                }
            ],
            "referral": {
                "action": "permit_revocation",
                "reason": "passports kept",
                "ground": "law_breached",
                "decided_on": "2027-05-01",
            },
        },
        otit,
    )

    async def flagged():
        events = (await accreditation.get(f"/v1/audit/streams/{plan}", headers=token("auditor"))).json()["events"]
        return events[-1]["type"] == "titp.accreditation.NewSupervisingOrganizationRequired.v1"

    await eventually(flagged, timeout=WAIT, message="the revoked permit never reached accreditation")
    return {"supervising": supervising, "implementing": implementing, "plan": plan, "coe": coe}


async def test_a_replay_of_the_four_topics_rebuilds_the_same_read_models(
    service_settings, another_database, run_service, kafka_bootstrap, token, unique
):
    running = await start_all(service_settings, another_database, run_service, f"test-audit-{unique}.")
    apps = [app for _, app in running.values()]
    await cross_service_story(running, token)
    await eventually(lambda: settled(apps, kafka_bootstrap), timeout=WAIT, message="the services never settled")
    # Each service signs a checkpoint; those travel on the topics too (and are ignored by the subscribers).
    for app in apps:
        await sealed_to_the_end(app)
    await eventually(lambda: settled(apps, kafka_bootstrap), timeout=WAIT, message="the checkpoints never settled")

    # At rest: every chore has run once since the last event (e.g. counters folded), as a replay's do at its end.
    for app in apps:
        for _, chore in app.state.definition.chores:
            await chore(app.state.runner)

    targets = {app.state.definition.name: await another_database() for app in apps}
    results = await replay_topics([(app.state.definition, app.state.settings) for app in apps], targets)

    for app in apps:
        name, live = app.state.definition.name, app.state.settings.database_url
        # Check: every read-model table, row by row, is the same; nothing refused; and there was something to compare.
        assert results[name].failed == []
        assert await diff_read_models(live, targets[name], app.state.definition.outside_the_log) == [], name
        async with app.state.pool.acquire() as conn:
            assert FILLED[name] <= await read_model_tables(conn)
            assert [t for t in FILLED[name] if not await conn.fetchval(f'SELECT EXISTS (SELECT 1 FROM "{t}")')] == []
        # Check: the replayed store is the live store, event for event, and its chains and checkpoint verify.
        replayed, original = await log_from_database(targets[name], name), await log_from_database(live, name)
        assert [e.to_cloudevent() for e in replayed] == [e.to_cloudevent() for e in original]
        report = verify_log(name, replayed, [app.state.sealer.public_key])
        assert (report.ok, report.unsealed) == (True, 0) and report.checkpoints >= 1, report.findings
        assert results[name].events == len(original)
