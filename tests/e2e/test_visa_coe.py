"""The visa service over REST against the real stack: COEs, visas, changes of status, SSW (i), and the
cascades that arrive from titp.accreditation.v1 and titp.registry.v1.

Training plans are published here as the accreditation service publishes them, so that these stories do
not wait on that service; tests/e2e/test_visa_path.py runs the real one.
"""

import dataclasses
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from aiokafka import AIOKafkaProducer

from contracts.accreditation import (
    DiscontinuationReason,
    PersonalData,
    PlanHeader,
    SealedTrainee,
    TrainingPlanApplied,
    TrainingPlanCertified,
    TrainingPlanCompleted,
    TrainingPlanDiscontinued,
    TrainingPlanRevoked,
    accreditation_events,
)
from services.visa.app import create_app
from services.visa.domain.rules import VisaRules
from services.visa.subscriptions import SUBSCRIBES_TO
from shared.crypto import new_data_key, seal_model
from shared.db import connect
from shared.events import CLOUDEVENTS_CONTENT_TYPE, GENESIS_HASH, EventPayload, RecordedEvent, chain_hash
from shared.kafka import client_options
from shared.topics import dlq_topic, ensure_topics, service_topic
from shared.web.http import today
from tests.helpers import TopicReader, eventually, grant, group_at_end, post
from tests.helpers import permit_application as application

ACCREDITATION_TOPIC = service_topic("accreditation")
COE = "/v1/coe-applications"


@pytest.fixture
async def visa(fresh_database, service_settings, run_service, kafka_bootstrap, unique):
    """The visa service in a consumer group of its own, reading only what is published from now on."""
    group = f"test-visa-{unique}"
    await group_at_end(kafka_bootstrap, group, SUBSCRIBES_TO)
    return await run_service(
        create_app(service_settings("visa", fresh_database, relay_poll_interval_s=0.2, consumer_group=group))
    )


@pytest.fixture
async def registry(another_database, service_settings, run_service, kafka_bootstrap, unique):
    from services.registry.app import create_app as create_registry

    group = f"test-registry-{unique}"
    await group_at_end(kafka_bootstrap, group, [service_topic("inspection")])
    return await run_service(
        create_registry(
            service_settings("registry", await another_database(), relay_poll_interval_s=0.2, consumer_group=group)
        )
    )


class Accreditation:
    """Publishes training plan events on titp.accreditation.v1 as the accreditation service does."""

    def __init__(self, producer: AIOKafkaProducer) -> None:
        self.producer = producer
        self.heads: dict[str, RecordedEvent] = {}
        self.sent: list[RecordedEvent] = []
        self.headers: dict[uuid.UUID, PlanHeader] = {}

    async def publish(self, plan_id: uuid.UUID, payload: EventPayload) -> RecordedEvent:
        head = self.heads.get(str(plan_id))
        draft = RecordedEvent(
            id=uuid.uuid4(),
            source=accreditation_events.source,
            type=accreditation_events.type_name(payload),
            subject=str(plan_id),
            time=datetime.now(UTC),
            data=payload.model_dump(mode="json"),
            streamversion=head.streamversion + 1 if head else 1,
            position=1,
            prevhash=head.hash if head else GENESIS_HASH,
            hash="",
            actor="officer-mori",
        )
        event = RecordedEvent(**{**draft.__dict__, "hash": chain_hash(draft.prevhash, draft)})
        await self.send(event)
        self.heads[str(plan_id)] = event
        return event

    async def send(self, event: RecordedEvent) -> None:
        await self.producer.send_and_wait(
            ACCREDITATION_TOPIC,
            event.to_json(),
            key=event.subject.encode(),
            headers=[("content-type", CLOUDEVENTS_CONTENT_TYPE.encode())],
        )
        self.sent.append(event)

    async def certified_plan(
        self, header: PlanHeader, certified_on: date = date(2026, 6, 1), operation: str | None = None
    ) -> uuid.UUID:
        plan_id = uuid.uuid4()
        personal_data = PersonalData(name="Nguyen Van An", date_of_birth=date(2001, 3, 15), passport_number="C1234567")
        trainee = SealedTrainee(
            nationality="VN", personal_data=seal_model(new_data_key(), personal_data, f"trainee/{header.trainee_id}")
        )
        await self.publish(
            plan_id,
            TrainingPlanApplied(
                **header.model_dump(),
                trainee=trainee,
                monthly_wage=210_000,
                comparable_japanese_wage=200_000,
                operation=operation,
                applied_on=date(2026, 4, 1),
            ),
        )
        await self.publish(
            plan_id, TrainingPlanCertified(**header.model_dump(), certified_on=certified_on, rule_set="titp")
        )
        self.headers[plan_id] = header
        return plan_id

    async def discontinue(self, plan_id: uuid.UUID, on: date, reason: DiscontinuationReason) -> RecordedEvent:
        return await self.publish(
            plan_id,
            TrainingPlanDiscontinued(
                **self.headers[plan_id].model_dump(), discontinued_on=on, reason=reason, detail="employer bankrupt"
            ),
        )

    async def revoke(self, plan_id: uuid.UUID, revoked_on: date) -> RecordedEvent:
        return await self.publish(
            plan_id,
            TrainingPlanRevoked(
                **self.headers[plan_id].model_dump(), revoked_on=revoked_on, reason="Art. 16: false records"
            ),
        )

    async def complete(self, plan_id: uuid.UUID, completed_on: date, exam_result: str = "passed") -> RecordedEvent:
        return await self.publish(
            plan_id,
            TrainingPlanCompleted(
                **self.headers[plan_id].model_dump(), completed_on=completed_on, exam_result=exam_result
            ),
        )


@pytest.fixture(name="accreditation")
async def accreditation_publisher(kafka_bootstrap):
    await ensure_topics(kafka_bootstrap, [ACCREDITATION_TOPIC])
    producer = AIOKafkaProducer(**client_options(kafka_bootstrap), enable_idempotence=True)
    await producer.start()
    try:
        yield Accreditation(producer)
    finally:
        await producer.stop()


def day(offset: int) -> str:
    """A date `offset` days from today in Japan: a certificate's status is counted from today."""
    return (today() + timedelta(days=offset)).isoformat()


def header(stage="i", trainee_id=None, supervising_organization_id=None, start=date(2026, 9, 1), years=1):
    return PlanHeader(
        trainee_id=trainee_id or uuid.uuid4(),
        stage=stage,
        training_type="b",
        job_category="construction",
        implementing_organization_id=uuid.uuid4(),
        supervising_organization_id=supervising_organization_id or uuid.uuid4(),
        start_date=start,
        end_date=start.replace(year=start.year + years) - timedelta(days=1),
    )


async def refused(client, path, body, headers, rule):
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["rule"] == rule, response.text


async def known(dsn, query, *args):
    """What the visa service has heard so far, straight from its read model."""
    conn = await connect(dsn)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def wait_for_plans(dsn, *plan_ids, status="certified"):
    await eventually(
        lambda: known(
            dsn,
            "SELECT count(*) = $2 FROM known_training_plans WHERE id = ANY($1) AND status = $3",
            list(plan_ids),
            len(plan_ids),
            status,
        ),
        timeout=30,
        message=f"the plans never reached the visa service as {status}",
    )


async def event_count(dsn):
    return await known(dsn, "SELECT count(*) FROM events")


async def test_a_coe_is_issued_and_used_for_one_visa_and_a_revoked_plan_withdraws_the_unused_ones(
    visa, accreditation, token, fresh_database
):
    officer = token("immigration", subject="officer-kimura")
    used, unused, pending = [await accreditation.certified_plan(header()) for _ in range(3)]
    await wait_for_plans(fresh_database, used, unused, pending)

    # Check: the application for a certified stage-i plan is accepted, then issued for 3 months.
    filed = await visa.post(COE, json={"training_plan_id": str(used), "applied_on": day(-10)}, headers=officer)
    assert filed.status_code == 201, filed.text
    coe = filed.json()["id"]
    assert filed.headers["location"] == f"{COE}/{coe}" and filed.headers["etag"] == '"1"'
    before_issue = datetime.now(UTC)
    assert (await post(visa, f"{COE}/{coe}/issue", {"issued_on": day(0)}, officer))["version"] == 2
    shown = (await visa.get(f"{COE}/{coe}", headers=officer)).json()
    assert (shown["status"], shown["issued_on"], shown["expires_on"]) == (
        "issued",
        day(0),
        VisaRules().coe_expiry(today()).isoformat(),
    )
    earlier = await visa.get(f"{COE}/{coe}", headers=officer, params={"as_of": before_issue.isoformat()})
    assert (earlier.json()["status"], earlier.headers["etag"]) == ("pending", '"1"')

    # Check: a visa is issued on it with stage i's period of stay; the certificate is used and serves no other.
    granted = await post(
        visa, "/v1/visas", {"coe_id": coe, "post": "Embassy of Japan in Hanoi", "issued_on": day(5)}, officer, 201
    )
    shown = (await visa.get(f"/v1/visas/{granted['id']}", headers=token("auditor"))).json()
    assert (shown["coe_id"], shown["training_plan_id"], shown["stage"], shown["period_of_stay_months"]) == (
        coe,
        str(used),
        "i",
        12,
    )
    assert (await visa.get(f"{COE}/{coe}", headers=officer)).json()["visa_id"] == granted["id"]
    await refused(
        visa,
        "/v1/visas",
        {"coe_id": coe, "post": "Consulate-General in Ho Chi Minh City", "issued_on": day(6)},
        officer,
        "visa.coe_used",
    )

    # An issued certificate not yet used, and a pending application.
    unused_coe = (await post(visa, COE, {"training_plan_id": str(unused), "applied_on": day(-10)}, officer, 201))["id"]
    await post(visa, f"{COE}/{unused_coe}/issue", {"issued_on": day(0)}, officer)
    retried = {**officer, "idempotency-key": f"coe-{pending}"}
    pending_coe = (await post(visa, COE, {"training_plan_id": str(pending), "applied_on": day(-8)}, retried, 201))["id"]
    again = await post(visa, COE, {"training_plan_id": str(pending), "applied_on": day(-8)}, retried, 201)
    assert again["id"] == pending_coe
    await refused(
        visa, COE, {"training_plan_id": str(pending), "applied_on": day(-7)}, officer, "coe.plan_has_open_application"
    )
    stale = await visa.post(f"{COE}/{pending_coe}/deny", json={"reason": "x"}, headers={**officer, "if-match": '"7"'})
    assert stale.status_code == 412

    # Accreditation revokes all three plans; the revocation of one arrives twice.
    revocations = {plan: await accreditation.revoke(plan, today()) for plan in (used, unused, pending)}
    await accreditation.send(revocations[unused])

    async def withdrawn():
        statuses = [
            (await visa.get(f"{COE}/{id}", headers=officer)).json()["status"] for id in (coe, unused_coe, pending_coe)
        ]
        return statuses if statuses[1:] == ["revoked", "cancelled"] else None

    # Check: within seconds the unused certificate is revoked and the application cancelled; the used one stays.
    assert await eventually(withdrawn, timeout=15) == ["used", "revoked", "cancelled"]
    history = (await visa.get(f"/v1/audit/streams/{unused_coe}", headers=token("auditor"))).json()["events"]
    assert [e["type"] for e in history] == [
        "titp.visa.CoeApplied.v1",
        "titp.visa.CoeIssued.v1",
        "titp.visa.CoeRevoked.v1",
    ]
    assert history[2]["causationid"] == str(revocations[unused].id)
    await refused(
        visa,
        "/v1/visas",
        {"coe_id": unused_coe, "post": "Embassy of Japan in Hanoi", "issued_on": day(1)},
        officer,
        "visa.coe_revoked",
    )
    await refused(
        visa, COE, {"training_plan_id": str(pending), "applied_on": day(1)}, officer, "coe.plan_not_certified"
    )
    listed = await visa.get(COE, headers=officer, params={"status": "cancelled", "training_plan_id": str(pending)})
    assert [item["id"] for item in listed.json()["items"]] == [pending_coe]


async def test_a_suspended_or_revoked_permit_stops_new_coes_for_its_plans(
    visa, registry, accreditation, token, fresh_database
):
    otit, officer = token("otit"), token("immigration")
    cooperative = (await post(registry, "/v1/supervising-organizations", application(), otit, 201))["id"]
    await post(registry, f"/v1/supervising-organizations/{cooperative}/grant", grant("general", day(-200)), otit)
    first, second = [
        await accreditation.certified_plan(header(supervising_organization_id=cooperative)) for _ in range(2)
    ]
    await post(
        registry,
        f"/v1/supervising-organizations/{cooperative}/suspend",
        {
            "from_date": day(-30),
            "until_date": day(-1),
            "scope": "all",
            "ground": "law_breached",
            "reason": "Art. 37(3) order",
        },
        otit,
    )
    await wait_for_plans(fresh_database, first, second)
    await eventually(
        lambda: known(
            fresh_database,
            "SELECT true FROM known_permit_restrictions WHERE supervising_organization_id = $1",
            uuid.UUID(cooperative),
        ),
        timeout=30,
    )
    before = await event_count(fresh_database)

    # Check: no application while the permit is suspended; one after the suspension ends.
    await refused(visa, COE, {"training_plan_id": str(first), "applied_on": day(-1)}, officer, "coe.permit_suspended")
    assert await event_count(fresh_database) == before
    coe = (await post(visa, COE, {"training_plan_id": str(first), "applied_on": day(0)}, officer, 201))["id"]

    # Check: once the permit is revoked, neither that certificate nor another plan's application goes through.
    await post(
        registry,
        f"/v1/supervising-organizations/{cooperative}/revoke",
        {"revoked_on": day(0), "ground": "law_breached", "reason": "passports kept"},
        otit,
    )
    await eventually(
        lambda: known(
            fresh_database,
            "SELECT true FROM known_permit_restrictions WHERE supervising_organization_id = $1 AND kind = 'revoked'",
            uuid.UUID(cooperative),
        ),
        timeout=30,
    )
    await refused(visa, f"{COE}/{coe}/issue", {"issued_on": day(1)}, officer, "coe.permit_revoked")
    await refused(visa, COE, {"training_plan_id": str(second), "applied_on": day(1)}, officer, "coe.permit_revoked")


async def test_refusals_and_bad_input_append_nothing(visa, token, fresh_database):
    officer = token("immigration")
    for body, field in [
        ({"applied_on": day(0)}, "body.training_plan_id"),
        ({"training_plan_id": "not-a-uuid", "applied_on": day(0)}, "body.training_plan_id"),
        ({"training_plan_id": str(uuid.uuid4()), "applied_on": "31/12/2026"}, "body.applied_on"),
        ({"training_plan_id": str(uuid.uuid4()), "applied_on": day(0), "fee": 3000}, "body.fee"),
    ]:
        bad = await visa.post(COE, json=body, headers=officer)
        assert bad.status_code == 422 and field in {e["field"] for e in bad.json()["errors"]}, bad.text
    bad = await visa.post(
        "/v1/visas", json={"coe_id": str(uuid.uuid4()), "post": "", "issued_on": day(0)}, headers=officer
    )
    assert bad.status_code == 422

    await refused(visa, COE, {"training_plan_id": str(uuid.uuid4()), "applied_on": day(0)}, officer, "coe.plan_unknown")
    await refused(
        visa,
        "/v1/visas",
        {"coe_id": str(uuid.uuid4()), "post": "Embassy of Japan in Manila", "issued_on": day(0)},
        officer,
        "visa.coe_unknown",
    )
    await refused(
        visa,
        "/v1/status-changes",
        {"training_plan_id": str(uuid.uuid4()), "decided_on": day(0)},
        officer,
        "status_change.plan_unknown",
    )
    missing = await visa.post(f"{COE}/{uuid.uuid4()}/issue", json={"issued_on": day(0)}, headers=officer)
    assert missing.status_code == 404
    assert (await visa.get(f"/v1/visas/{uuid.uuid4()}", headers=officer)).status_code == 404
    assert (
        await visa.get(
            f"/v1/trainees/{uuid.uuid4()}/ssw-eligibility", params={"field": "construction"}, headers=officer
        )
    ).status_code == 404

    # Check: OTIT reads nothing and decides nothing here; auditors read; no token, no answer.
    assert (
        await visa.post(COE, json={"training_plan_id": str(uuid.uuid4()), "applied_on": day(0)}, headers=token("otit"))
    ).status_code == 403
    assert (await visa.get(COE, headers=token("supervising_org", org=str(uuid.uuid4())))).status_code == 403
    assert (await visa.get(COE, headers=token("auditor"))).json() == {"items": [], "next_cursor": None}
    assert (await visa.get(COE)).status_code == 401
    assert await event_count(fresh_database) == 0


async def test_a_trainee_changes_status_stage_by_stage_and_then_qualifies_for_ssw_i(
    visa, accreditation, token, fresh_database, kafka_bootstrap
):
    officer, trainee = token("immigration"), uuid.uuid4()
    stage_i = await accreditation.certified_plan(header("i", trainee, start=date(2026, 9, 1)))
    stage_ii = await accreditation.certified_plan(header("ii", trainee, start=date(2027, 9, 1), years=2))
    stage_iii = await accreditation.certified_plan(header("iii", trainee, start=date(2029, 11, 1), years=2))
    await wait_for_plans(fresh_database, stage_i, stage_ii, stage_iii)

    # Check: no change of status before the trainee holds stage i's status, nor a skipped stage.
    change = "/v1/status-changes"
    await refused(
        visa,
        change,
        {"training_plan_id": str(stage_ii), "decided_on": "2027-08-20"},
        officer,
        "status_change.previous_stage_not_held",
    )
    await refused(
        visa,
        change,
        {"training_plan_id": str(stage_i), "decided_on": "2027-08-20"},
        officer,
        "status_change.stage_i_enters_with_coe",
    )
    coe = (await post(visa, COE, {"training_plan_id": str(stage_i), "applied_on": day(-10)}, officer, 201))["id"]
    await post(visa, f"{COE}/{coe}/issue", {"issued_on": day(0)}, officer)
    await post(
        visa, "/v1/visas", {"coe_id": coe, "post": "Embassy of Japan in Hanoi", "issued_on": day(1)}, officer, 201
    )
    await refused(
        visa,
        change,
        {"training_plan_id": str(stage_iii), "decided_on": "2027-08-20"},
        officer,
        "status_change.previous_stage_not_held",
    )

    # Check: stage i -> ii, then ii -> iii, each on the next stage's certified plan, with 2 years' stay.
    to_ii = await post(visa, change, {"training_plan_id": str(stage_ii), "decided_on": "2027-08-20"}, officer, 201)
    await refused(
        visa,
        change,
        {"training_plan_id": str(stage_ii), "decided_on": "2027-08-21"},
        officer,
        "status_change.already_granted",
    )
    await post(visa, change, {"training_plan_id": str(stage_iii), "decided_on": "2029-10-25"}, officer, 201)
    shown = (await visa.get(f"{change}/{to_ii['id']}", headers=officer)).json()
    assert (shown["from_stage"], shown["to_stage"], shown["period_of_stay_months"]) == ("i", "ii", 24)
    listed = (await visa.get(change, headers=officer, params={"trainee_id": str(trainee), "limit": 1})).json()
    following = (
        await visa.get(change, headers=officer, params={"trainee_id": str(trainee), "cursor": listed["next_cursor"]})
    ).json()
    assert {i["to_stage"] for i in listed["items"] + following["items"]} == {"ii", "iii"}
    assert following["next_cursor"] is None

    # Check: having completed stages i and ii (3 years) with grade 3 passed, the trainee qualifies for SSW (i): in the
    # same field without the tests, in another without the Japanese test.
    await accreditation.complete(stage_i, date(2027, 8, 31))
    await accreditation.complete(stage_ii, date(2029, 8, 31))
    await wait_for_plans(fresh_database, stage_i, stage_ii, status="completed")

    async def eligibility(field, as_of):
        response = await visa.get(
            f"/v1/trainees/{trainee}/ssw-eligibility", headers=token("auditor"), params={"field": field, "as_of": as_of}
        )
        assert response.status_code == 200, response.text
        body = response.json()
        return body["eligible"], body["unmet"]

    assert await eligibility("construction", "2029-09-01") == (True, [])
    assert await eligibility("food manufacturing", "2029-09-01") == (True, [])  # the skills test to take
    assert await eligibility("construction", "2029-08-01") == (
        False,
        ["ssw.stage_ii_not_completed", "ssw.titp_period_too_short", "ssw.grade_3_or_evaluation_report_missing"],
    )
    await accreditation.revoke(stage_iii, date(2030, 3, 1))
    await wait_for_plans(fresh_database, stage_iii, status="revoked")
    assert await eligibility("construction", "2030-04-01") == (False, ["ssw.plan_revoked"])

    # Check: an older event of the plan arriving again after the revocation (under a new id, hashed over it) does
    # not continue the plan's chain: it is dead-lettered, never applied, and the revocation stands.
    [certification] = [e for e in accreditation.sent if e.subject == str(stage_iii) and e.streamversion == 2]
    late = dataclasses.replace(certification, id=uuid.uuid4())
    late = dataclasses.replace(late, hash=chain_hash(late.prevhash, late))
    async with TopicReader(kafka_bootstrap, dlq_topic("visa")) as dead:
        await accreditation.send(late)

        def dead_lettered():
            return [m for m in dead.messages if str(late.id).encode() in (m.value or b"")]

        [letter] = await eventually(dead_lettered, timeout=30, message="the late event was not dead-lettered")
    assert dict(letter.headers)["titp-error-type"] == b"BrokenChain"
    assert not await known(fresh_database, "SELECT true FROM inbox WHERE event_id = $1", late.id)
    await wait_for_plans(fresh_database, stage_iii, status="revoked")
