"""The accreditation service against the real PostgreSQL and Kafka, over REST.

What it knows of the registry and inspection comes only from their topics. Until those
services publish everything these stories need, each test here runs a registry (and an
inspection) event store of its own, in a second database, whose real outbox relay publishes
real registry events to `titp.registry.v1` (unique ids); the cross-service story against the
registry's REST API is tests/e2e/test_accreditation_cross_service.py.
"""

import asyncio
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from contracts.inspection import AdministrativeActionReferred, inspection_events
from contracts.registry import (
    BusinessSuspended,
    ImplementingOrganizationRegistered,
    PermitApplication,
    PermitApplied,
    PermitGranted,
    PermitRevoked,
    SendingAgreementEnded,
    SendingAgreementSigned,
    SendingOrganizationApproved,
    StaffCountRecorded,
    SupervisingOffice,
    registry_events,
)
from services.accreditation.app import create_app
from shared.dates import add_months
from shared.db import create_pool, migrate
from shared.events import EventTypes, RecordedEvent
from shared.kafka import client_options
from shared.outbox import OutboxRelay
from shared.store import EventStore
from shared.topics import ensure_topics, service_topic
from tests.helpers import eventually, group_at_end, post

REGISTRY_TOPIC, INSPECTION_TOPIC, OWN_TOPIC = (service_topic(s) for s in ("registry", "inspection", "accreditation"))
PLANS = "/v1/training-plans"


# Other services' event stores, publishing through a real relay


class Upstream:
    """Another service's event store in a database of its own, with its outbox relay running."""

    def __init__(self, types: EventTypes, pool: asyncpg.Pool, dsn: str, bootstrap: str) -> None:
        self.pool, self.store = pool, EventStore(types)
        self.relay = OutboxRelay(
            pool, dsn, self.store, service_topic(types.service), bootstrap, lock_key=7_340_201, poll_interval=0.2
        )

    async def append(self, stream_id: object, *payloads) -> list[RecordedEvent]:
        async with self.pool.acquire() as conn, conn.transaction():
            return await self.store.append(conn, str(stream_id), None, payloads)


@pytest.fixture
async def upstream(another_database, kafka_bootstrap):
    """upstream(event_types) -> an Upstream publishing to that service's topic, stopped after the test."""
    made: list[tuple[asyncpg.Pool, OutboxRelay]] = []

    async def make(types: EventTypes) -> Upstream:
        dsn = await another_database()
        pool = await create_pool(dsn, max_size=4)
        await migrate(pool)
        service = Upstream(types, pool, dsn, kafka_bootstrap)
        await service.relay.start()
        made.append((pool, service.relay))
        return service

    yield make
    for pool, relay in made:
        await relay.stop()
        await pool.close()


@dataclass
class Service:
    client: Any
    app: Any

    @property
    def pool(self) -> asyncpg.Pool:
        return self.app.state.pool

    async def fetchval(self, sql: str, *args):
        async with self.pool.acquire() as conn:
            return await conn.fetchval(sql, *args)


@pytest.fixture
async def accreditation(fresh_database, service_settings, run_service, kafka_bootstrap, unique):
    group = f"test-accreditation-{unique}"
    await group_at_end(kafka_bootstrap, group, [REGISTRY_TOPIC, INSPECTION_TOPIC])
    app = create_app(service_settings("accreditation", fresh_database, relay_poll_interval_s=0.2, consumer_group=group))
    client = await run_service(app)
    return Service(client, app)


@pytest.fixture
async def registry(upstream):
    return Registry(await upstream(registry_events))


# What the registry publishes about the organizations of a plan


@dataclass(frozen=True)
class Organizations:
    supervising: UUID
    implementing: UUID
    sending: UUID
    agreement: UUID


def corporate_number() -> str:
    return f"{uuid4().int % 10**13:013d}"


class Registry:
    def __init__(self, store: Upstream) -> None:
        self.store = store

    async def organizations(
        self, accreditation: Service, *, permit_type="specified", staff=40, excellent=False
    ) -> Organizations:
        """A supervising organization with a permit, a member implementing organization, an approved
        sending organization and their agreement, once the accreditation service has heard of them all."""
        orgs = Organizations(uuid4(), uuid4(), uuid4(), uuid4())
        application = PermitApplication(
            name="Sakura Cooperative",
            corporate_number=corporate_number(),
            address="1-2-3 Chiyoda",
            prefecture="Tokyo",
            representative="Yamada Taro",
            supervising_offices=(
                SupervisingOffice(name="Head office", address="1-2-3 Chiyoda", supervision_manager="Suzuki Hanako"),
            ),
            job_categories=("construction",),
            requested_permit_type=permit_type,
            external_auditor="Tanaka Law",
        )
        await self.store.append(
            orgs.supervising,
            PermitApplied(application=application, applied_on=date(2024, 1, 10)),
            PermitGranted(permit_type=permit_type, granted_on=date(2024, 3, 1), expires_on=date(2029, 2, 28)),
        )
        await self.store.append(
            orgs.implementing,
            ImplementingOrganizationRegistered(
                name="Fuji Construction",
                corporate_number=corporate_number(),
                address="4-5-6 Naka",
                prefecture="Aichi",
                industry="construction",
                training_type="b",
                supervising_organization_id=orgs.supervising,
                full_time_staff=staff,
                staff_as_of=date(2024, 4, 1),
                excellent=excellent,
                registered_on=date(2024, 4, 1),
            ),
        )
        await self.store.append(
            orgs.sending,
            SendingOrganizationApproved(
                name="Hanoi Manpower JSC",
                country="VN",
                approval_reference="VN-123",
                recommendation_reference="MOLISA-REC-2023-0042",
                approved_on=date(2023, 6, 1),
            ),
        )
        await self.store.append(
            orgs.agreement,
            SendingAgreementSigned(
                supervising_organization_id=orgs.supervising,
                sending_organization_id=orgs.sending,
                signed_on=date(2024, 5, 1),
            ),
        )
        await eventually(
            lambda: accreditation.fetchval(
                "SELECT count(*) = 4 FROM (SELECT id FROM registry_implementing_organizations WHERE id = $2"
                " UNION ALL SELECT id FROM registry_sending_organizations WHERE id = $3"
                " UNION ALL SELECT id FROM registry_sending_agreements WHERE id = $4"
                " UNION ALL SELECT supervising_organization_id FROM registry_permits"
                " WHERE supervising_organization_id = $1 AND status = 'active') known",
                orgs.supervising,
                orgs.implementing,
                orgs.sending,
                orgs.agreement,
            ),
            timeout=30,
            message="the registry's events never reached the accreditation service",
        )
        return orgs


def filed_on(start_date: str) -> str:
    """A filing day within the window (DOMAIN §11): 5 months before the start (from 6, by 4 or 3 before it)."""
    return add_months(date.fromisoformat(start_date), -5).isoformat()


def application(orgs: Organizations, **changes) -> dict:
    """A type (b) stage-i plan in building carpentry (construction), in progress since April 2026, filed 5 months
    before its start."""
    changes.setdefault("applied_on", filed_on(changes.get("start_date", "2026-04-01")))
    return {
        "trainee_id": str(uuid4()),
        "trainee": {
            "name": "Nguyen Van An",
            "date_of_birth": "2001-05-01",
            "nationality": "VN",
            "passport_number": "C1234567",
        },
        "stage": "i",
        "training_type": "b",
        "job_category": "construction",
        "operation": "construction.carpentry.building",
        "implementing_organization_id": str(orgs.implementing),
        "supervising_organization_id": str(orgs.supervising),
        "sending_organization_id": str(orgs.sending),
        "start_date": "2026-04-01",
        "end_date": "2027-03-31",
        "monthly_wage": 210_000,
        "comparable_japanese_wage": 200_000,
        "exams_passed": [],
        **changes,
    }


async def certified_plan(client, orgs: Organizations, officer: dict, **changes) -> str:
    """Certified on 20 Feb 2026, or the day it was filed if that is later."""
    body = application(orgs, **changes)
    id = (await post(client, PLANS, body, officer, 201))["id"]
    await post(client, f"{PLANS}/{id}/certify", {"certified_on": max("2026-02-20", body["applied_on"])}, officer)
    return id


async def own_topic_ends(bootstrap: str) -> dict[TopicPartition, int]:
    await ensure_topics(bootstrap, [OWN_TOPIC])
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        [described] = await admin.describe_topics([OWN_TOPIC])
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(**client_options(bootstrap), enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.end_offsets([TopicPartition(OWN_TOPIC, p["partition"]) for p in described["partitions"]])
    finally:
        await consumer.stop()


async def published(bootstrap: str, since: dict[TopicPartition, int], subject: str, count: int) -> list[RecordedEvent]:
    """The events about `subject` on titp.accreditation.v1 after `since`, once `count` arrived."""
    consumer = AIOKafkaConsumer(**client_options(bootstrap), enable_auto_commit=False)
    await consumer.start()
    found: list[RecordedEvent] = []
    try:
        consumer.assign(list(since))
        for tp, offset in since.items():
            consumer.seek(tp, offset)

        async def arrived():
            for messages in (await consumer.getmany(timeout_ms=300)).values():
                found.extend(
                    e for e in map(RecordedEvent.from_json, (m.value for m in messages)) if e.subject == subject
                )
            return len(found) >= count

        await eventually(arrived, timeout=20, message=lambda: f"{len(found)} of {count} events published")
    finally:
        await consumer.stop()
    return found


# The stories


async def test_a_plan_is_applied_for_certified_and_completed_over_rest_and_published(
    accreditation, registry, token, kafka_bootstrap
):
    client, officer = accreditation.client, token("otit", subject="officer-ito")
    orgs = await registry.organizations(accreditation)
    since = await own_topic_ends(kafka_bootstrap)

    applied = await client.post(PLANS, json=application(orgs), headers=officer)
    assert applied.status_code == 201, applied.text
    id = applied.json()["id"]
    assert applied.json()["version"] == 1 and applied.headers["location"] == f"{PLANS}/{id}"
    shown = await client.get(f"{PLANS}/{id}", headers=officer)
    assert shown.json()["status"] == "applied" and shown.headers["etag"] == '"1"'
    assert shown.json()["trainee"]["passport_number"] == "C1234567"

    # Check: certified under the TITP rules; in progress, since it started in April.
    assert await post(client, f"{PLANS}/{id}/certify", {"certified_on": "2026-02-20"}, officer) == {
        "id": id,
        "version": 2,
    }
    body = (await client.get(f"{PLANS}/{id}", headers=officer)).json()
    assert (body["status"], body["certified_on"], body["rule_set"]) == ("in_progress", "2026-02-20", "titp")

    # Check: an improvement order, complied with, then the plan completed with the exam result.
    await post(
        client,
        f"{PLANS}/{id}/improvement-orders",
        {"issued_on": "2026-06-01", "deadline": "2026-07-01", "reason": "training log incomplete"},
        officer,
    )
    [order] = (await client.get(f"{PLANS}/{id}", headers=officer)).json()["improvement_orders"]
    await post(
        client, f"{PLANS}/{id}/improvement-orders/{order['order_id']}/close", {"closed_on": "2026-06-20"}, officer
    )
    await post(client, f"{PLANS}/{id}/complete", {"completed_on": "2027-03-31", "exam_result": "passed"}, officer)
    body = (await client.get(f"{PLANS}/{id}", headers=officer)).json()
    assert body["status"] == "completed" and body["version"] == 5
    assert body["completion"] == {"completed_on": "2027-03-31", "exam_result": "passed"}
    assert body["improvement_orders"][0]["closed_on"] == "2026-06-20"

    # Check: as it was recorded just after the certification.
    history = (await client.get(f"/v1/audit/streams/{id}", headers=token("auditor"))).json()["events"]
    then = await client.get(f"{PLANS}/{id}", params={"as_of": history[1]["time"]}, headers=officer)
    assert then.json()["status"] == "in_progress" and then.headers["etag"] == '"2"'
    assert (
        await client.get(f"{PLANS}/{id}", params={"as_of": "2026-03-01T00:00:00+09:00"}, headers=officer)
    ).status_code == 404

    # Check: every event is on titp.accreditation.v1 with the plan's header, by the officer.
    events = await published(kafka_bootstrap, since, id, 5)
    assert [e.type.split(".")[2] for e in events] == [
        "TrainingPlanApplied",
        "TrainingPlanCertified",
        "ImprovementOrderIssued",
        "ImprovementOrderClosed",
        "TrainingPlanCompleted",
    ]
    header = (
        "trainee_id",
        "stage",
        "training_type",
        "job_category",
        "implementing_organization_id",
        "supervising_organization_id",
        "start_date",
        "end_date",
    )
    for event in events:
        assert {k: event.data[k] for k in header} == {k: body[k] for k in header}
        assert event.actor == "officer-ito"


async def test_each_refusal_is_a_409_naming_its_rule_and_422_names_bad_fields(accreditation, registry, token):
    client, officer = accreditation.client, token("otit")
    orgs = await registry.organizations(accreditation)

    async def refused(changes: dict, certified_on: str = "2026-02-20") -> dict:
        id = (await post(client, PLANS, application(orgs, **changes), officer, 201))["id"]
        response = await client.post(f"{PLANS}/{id}/certify", json={"certified_on": certified_on}, headers=officer)
        assert response.status_code == 409, response.text
        assert response.headers["content-type"] == "application/problem+json"
        return response.json()

    problem = await refused({"implementing_organization_id": str(uuid4())})
    assert problem["rule"] == "implementing_organization.registered"
    assert problem["type"].endswith("/rule/implementing_organization.registered")
    assert (await refused({"monthly_wage": 150_000}))["rule"] == "wage.at_least_japanese_equivalent"
    assert (await refused({"trainee": {**application(orgs)["trainee"], "date_of_birth": "2008-06-01"}}))["rule"] == (
        "trainee.minimum_age"
    )
    assert (await refused({"stage": "ii", "end_date": "2028-03-31"}))["rule"] == "previous_stage.plan"
    assert (await refused({"sending_organization_id": str(uuid4())}))["rule"] == "sending_organization.approved"
    assert (await refused({}, certified_on="2029-03-01"))["rule"] == "supervising_organization.permit_active"
    # The switch (DOMAIN §9): from 2027-04-01 a new trainee's TITP application is refused as it arrives.
    late = application(orgs, applied_on="2027-04-01", start_date="2027-06-01", end_date="2028-05-31")
    closed = await client.post(PLANS, json=late, headers=officer)
    assert closed.status_code == 409 and closed.json()["rule"] == "switch.titp_application_closed"

    bad = await client.post(PLANS, json=application(orgs, end_date="2026-03-01"), headers=officer)
    assert bad.status_code == 422 and "end_date is before start_date" in bad.text
    bad = await client.post(PLANS, json=application(orgs, supervising_organization_id=None), headers=officer)
    assert bad.status_code == 422 and "type (b)" in bad.text
    bad = await client.post(PLANS, json=application(orgs, stage="iv"), headers=officer)
    assert bad.status_code == 422 and any(e["field"] == "body.stage" for e in bad.json()["errors"])


async def test_the_quota_counts_only_the_plans_in_force_that_overlap(accreditation, registry, token):
    client, officer = accreditation.client, token("otit")
    # 2 full-time staff: a basic quota of 3, but never more trainees than staff in stage i.
    orgs = await registry.organizations(accreditation, staff=2)
    await certified_plan(client, orgs, officer)
    await certified_plan(client, orgs, officer, start_date="2025-01-10", end_date="2026-01-09")  # over before
    done = await certified_plan(client, orgs, officer)
    await post(client, f"{PLANS}/{done}/complete", {"completed_on": "2026-10-31", "exam_result": "passed"}, officer)
    gone = await certified_plan(client, orgs, officer)
    reported = {"reported_on": "2026-07-02", "reported_by": {"party": "police", "office": "Naka police station"}}
    await post(
        client, f"{PLANS}/{gone}/discontinue", {"on": "2026-07-01", "reason": "disappearance", **reported}, officer
    )
    revoked = await certified_plan(client, orgs, officer)
    await post(client, f"{PLANS}/{revoked}/revoke", {"revoked_on": "2026-08-01", "reason": "false statements"}, officer)

    # Check: one plan in force overlaps, so a second fits under the cap of 2 ...
    await certified_plan(client, orgs, officer, start_date="2026-10-01", end_date="2027-03-31")
    # ... and a third does not; a plan of another stage does not count.
    id = (await post(client, PLANS, application(orgs), officer, 201))["id"]
    response = await client.post(f"{PLANS}/{id}/certify", json={"certified_on": "2026-02-20"}, headers=officer)
    assert response.status_code == 409
    assert response.json()["rule"] == "quota.hard_cap"
    assert "2 are allowed" in response.json()["detail"]


async def test_concurrent_certifications_cannot_together_exceed_a_quota_or_double_a_stage(
    accreditation, registry, token
):
    client, officer = accreditation.client, token("otit")
    orgs = await registry.organizations(accreditation, staff=2)
    await certified_plan(client, orgs, officer)
    ids = [(await post(client, PLANS, application(orgs), officer, 201))["id"] for _ in range(3)]
    responses = await asyncio.gather(
        *(client.post(f"{PLANS}/{id}/certify", json={"certified_on": "2026-02-20"}, headers=officer) for id in ids)
    )
    assert sorted(r.status_code for r in responses) == [200, 409, 409]
    assert {r.json()["rule"] for r in responses if r.status_code == 409} == {"quota.hard_cap"}

    roomy = await registry.organizations(accreditation, staff=100)
    trainee = str(uuid4())
    ids = [(await post(client, PLANS, application(roomy, trainee_id=trainee), officer, 201))["id"] for _ in range(2)]
    responses = await asyncio.gather(
        *(client.post(f"{PLANS}/{id}/certify", json={"certified_on": "2026-02-20"}, headers=officer) for id in ids)
    )
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert [r.json()["rule"] for r in responses if r.status_code == 409] == ["trainee.one_plan_per_stage"]


async def test_the_local_read_model_follows_the_registrys_events(accreditation, registry, token):
    client, officer = accreditation.client, token("otit")
    orgs = await registry.organizations(accreditation, staff=40)
    # A staff count as of an earlier day than the registered one changes nothing; a later one does.
    await registry.store.append(
        orgs.implementing,
        StaffCountRecorded(full_time_staff=500, as_of=date(2024, 1, 1)),
        StaffCountRecorded(full_time_staff=25, as_of=date(2026, 1, 1)),
    )
    await eventually(
        lambda: accreditation.fetchval(
            "SELECT full_time_staff = 25 FROM registry_implementing_organizations WHERE id = $1", orgs.implementing
        ),
        timeout=20,
    )
    await registry.store.append(
        orgs.supervising,
        BusinessSuspended(
            suspension_id=uuid4(),
            from_date=date(2026, 2, 1),
            until_date=date(2026, 4, 30),
            scope="all",
            reason="false reports",
        ),
    )
    await eventually(
        lambda: accreditation.fetchval(
            "SELECT jsonb_array_length(suspensions) = 1 FROM registry_permits WHERE supervising_organization_id = $1",
            orgs.supervising,
        ),
        timeout=20,
    )

    async def certify(certified_on: str) -> tuple[int, str | None]:
        id = (await post(client, PLANS, application(orgs), officer, 201))["id"]
        response = await client.post(f"{PLANS}/{id}/certify", json={"certified_on": certified_on}, headers=officer)
        return response.status_code, response.json().get("rule")

    # Check: refused while the business is suspended, certified after.
    assert await certify("2026-03-01") == (409, "supervising_organization.permit_not_suspended")
    assert await certify("2026-05-01") == (200, None)

    await registry.store.append(orgs.agreement, SendingAgreementEnded(ended_on=date(2026, 6, 1), reason="expired"))
    await eventually(
        lambda: accreditation.fetchval(
            "SELECT ended_on IS NOT NULL FROM registry_sending_agreements WHERE id = $1", orgs.agreement
        ),
        timeout=20,
    )
    assert await certify("2026-05-15") == (200, None)
    assert await certify("2026-06-01") == (409, "sending_organization.agreement")


async def test_a_revoked_permit_flags_the_plans_in_force_and_refuses_new_ones_once(
    accreditation, registry, token, kafka_bootstrap
):
    client, officer = accreditation.client, token("otit")
    orgs = await registry.organizations(accreditation)
    in_progress = await certified_plan(client, orgs, officer)
    not_started = await certified_plan(client, orgs, officer, start_date="2027-01-05", end_date="2028-01-04")
    ended = await certified_plan(client, orgs, officer)
    await post(client, f"{PLANS}/{ended}/complete", {"completed_on": "2026-10-31", "exam_result": "passed"}, officer)
    pending = (await post(client, PLANS, application(orgs), officer, 201))["id"]

    [revocation] = await registry.store.append(
        orgs.supervising, PermitRevoked(revoked_on=date(2026, 11, 20), ground="law_breached", reason="passports kept")
    )

    async def flagged():
        page = (
            await client.get(
                PLANS,
                params={
                    "needs_new_supervising_organization": "true",
                    "supervising_organization_id": str(orgs.supervising),
                },
                headers=officer,
            )
        ).json()
        return sorted(p["id"] for p in page["items"]) if len(page["items"]) == 2 else None

    # Check: the plans in force, started or not, are flagged; the completed one is not.
    assert await eventually(flagged, timeout=30) == sorted([in_progress, not_started])
    body = (await client.get(f"{PLANS}/{in_progress}", headers=officer)).json()
    assert body["new_supervising_organization_required"]["since"] == "2026-11-20"
    assert "law_breached" in body["new_supervising_organization_required"]["reason"]
    assert body["status"] == "in_progress" and body["version"] == 3
    history = (await client.get(f"/v1/audit/streams/{in_progress}", headers=token("auditor"))).json()["events"]
    assert history[-1]["causationid"] == str(revocation.id) and history[-1]["actor"] == "/titp/registry"

    # Check: no new plan is certified under the revoked permit.
    response = await client.post(f"{PLANS}/{pending}/certify", json={"certified_on": "2026-11-21"}, headers=officer)
    assert response.status_code == 409 and response.json()["rule"] == "supervising_organization.permit_active"

    # Check: the revocation delivered again changes nothing.
    await redeliver(kafka_bootstrap, REGISTRY_TOPIC, revocation)
    await eventually(lambda: accreditation.app.state.subscription.duplicates >= 1, timeout=20)
    assert (await client.get(f"{PLANS}/{in_progress}", headers=officer)).json()["version"] == 3


async def redeliver(bootstrap: str, topic: str, event: RecordedEvent) -> None:
    producer = AIOKafkaProducer(**client_options(bootstrap))
    await producer.start()
    try:
        await producer.send_and_wait(
            topic,
            event.to_json(),
            key=event.subject.encode(),
            headers=[("content-type", b"application/cloudevents+json")],
        )
    finally:
        await producer.stop()


async def test_an_inspection_referral_revokes_the_implementing_organizations_plans_once(
    accreditation, registry, upstream, token, kafka_bootstrap
):
    client, officer = accreditation.client, token("otit")
    inspection = await upstream(inspection_events)
    orgs = await registry.organizations(accreditation)
    others = await registry.organizations(accreditation)
    in_force = [await certified_plan(client, orgs, officer) for _ in range(2)]
    ended = await certified_plan(client, orgs, officer)
    await post(client, f"{PLANS}/{ended}/discontinue", {"on": "2026-06-01", "reason": "bankruptcy"}, officer)
    pending = (await post(client, PLANS, application(orgs), officer, 201))["id"]
    elsewhere = await certified_plan(client, others, officer)

    referral = AdministrativeActionReferred(
        referral_id=uuid4(),
        inspection_id=uuid4(),
        action="plan_revocation",
        target_type="implementing_organization",
        target_id=orgs.implementing,
        decided_on=date(2026, 11, 1),
        reason="wages withheld",
    )
    [referred] = await inspection.append(referral.inspection_id, referral)

    async def revoked():
        page = (
            await client.get(
                PLANS,
                params={"status": "revoked", "implementing_organization_id": str(orgs.implementing)},
                headers=officer,
            )
        ).json()
        return page["items"] if len(page["items"]) == 2 else None

    plans = await eventually(revoked, timeout=30)
    assert sorted(p["id"] for p in plans) == sorted(in_force)
    assert {(p["revocation"]["revoked_on"], p["revocation"]["referral_id"]) for p in plans} == {
        ("2026-11-01", str(referral.referral_id))
    }

    # Check: the delivered-again referral revokes nothing twice; other plans are as they were.
    await redeliver(kafka_bootstrap, INSPECTION_TOPIC, referred)
    await eventually(lambda: accreditation.app.state.subscription.duplicates >= 1, timeout=20)
    statuses = {
        id: (await client.get(f"{PLANS}/{id}", headers=officer)).json() for id in [*in_force, ended, pending, elsewhere]
    }
    assert [statuses[id]["version"] for id in in_force] == [3, 3]
    assert [statuses[id]["status"] for id in (ended, pending, elsewhere)] == ["discontinued", "applied", "in_progress"]


async def test_organizations_file_and_read_their_own_plans_only(accreditation, registry, token):
    client, officer = accreditation.client, token("otit")
    orgs = await registry.organizations(accreditation)
    others = await registry.organizations(accreditation)
    employer = token("implementing_org", org=str(orgs.implementing))
    supervisor = token("supervising_org", org=str(orgs.supervising))

    mine = (await post(client, PLANS, application(orgs), employer, 201))["id"]
    theirs = (await post(client, PLANS, application(others), officer, 201))["id"]
    assert (await client.post(PLANS, json=application(others), headers=employer)).status_code == 404
    assert (await client.get(f"{PLANS}/{mine}", headers=supervisor)).status_code == 200
    assert (await client.get(f"{PLANS}/{theirs}", headers=employer)).status_code == 404
    assert [p["id"] for p in (await client.get(PLANS, headers=employer)).json()["items"]] == [mine]
    assert (
        await client.post(f"{PLANS}/{mine}/certify", json={"certified_on": "2026-02-20"}, headers=employer)
    ).status_code == 403
    assert (
        await client.post(
            f"{PLANS}/{theirs}/discontinue", json={"on": "2026-06-01", "reason": "transfer"}, headers=employer
        )
    ).status_code == 404
    assert (await client.get(PLANS)).status_code == 401


async def test_retries_stale_versions_and_pages(accreditation, registry, token, fresh_database):
    client, officer = accreditation.client, token("otit")
    orgs = await registry.organizations(accreditation)

    retried = {**officer, "idempotency-key": "plan-nguyen-1"}
    body = application(orgs)
    first, again = [await client.post(PLANS, json=body, headers=retried) for _ in range(2)]
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    id = first.json()["id"]
    stale = await client.post(
        f"{PLANS}/{id}/certify", json={"certified_on": "2026-02-20"}, headers={**officer, "if-match": '"2"'}
    )
    assert stale.status_code == 412
    await post(client, f"{PLANS}/{id}/certify", {"certified_on": "2026-02-20"}, {**officer, "if-match": '"1"'})
    upcoming = await certified_plan(client, orgs, officer, start_date="2027-01-05", end_date="2028-01-04")
    applied = (await post(client, PLANS, application(orgs), officer, 201))["id"]
    assert await accreditation.fetchval("SELECT count(*) FROM events WHERE type LIKE '%TrainingPlanApplied%'") == 3

    def listed(**params):
        return client.get(
            PLANS, params={"implementing_organization_id": str(orgs.implementing), **params}, headers=officer
        )

    seen, cursor = [], None
    while True:
        page = (await listed(limit=1, **({"cursor": cursor} if cursor else {}))).json()
        seen += [p["id"] for p in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == sorted([id, upcoming, applied])
    assert [p["id"] for p in (await listed(status="in_progress")).json()["items"]] == [id]
    assert [p["id"] for p in (await listed(status="certified")).json()["items"]] == [upcoming]
    assert (await listed(stage="ii")).json()["items"] == []
    assert (await listed(cursor="nonsense")).status_code == 422
