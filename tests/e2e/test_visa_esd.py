"""ESD in the visa service over REST against the real stack (DOMAIN §9, issue 17 item 6): an ESD worker's
certified plan -> a COE naming the ESD status of residence (育成就労) -> a visa without a stage; a transfer to
another employer as a change of status to the new plan; Specified Skilled Worker (i) refused without Japanese
A2 and allowed with it; and a revoked ESD plan withdrawing its pending application.

ESD plans are published on titp.accreditation.v1 as the accreditation service publishes them (as
tests/e2e/test_visa_coe.py does for TITP), so that this story does not wait on that service.
"""

import uuid
from datetime import date

import pytest
from aiokafka import AIOKafkaProducer

from contracts.accreditation import (
    ExamPassed,
    ExamResultRecorded,
    PersonalData,
    PlanHeader,
    SealedTrainee,
    TrainingPlanApplied,
    TrainingPlanCertified,
    TrainingPlanTransferred,
    trainee_stream_id,
)
from services.visa.app import create_app
from services.visa.subscriptions import SUBSCRIBES_TO
from shared.crypto import new_data_key, seal_model
from shared.kafka import client_options
from shared.topics import ensure_topics
from tests.e2e.test_visa_coe import ACCREDITATION_TOPIC, COE, Accreditation, day, known, refused, wait_for_plans
from tests.helpers import eventually, group_at_end, post

ESD_STATUS = "employment_for_skill_development"


@pytest.fixture
async def visa(fresh_database, service_settings, run_service, kafka_bootstrap, unique):
    """The visa service in a consumer group of its own, reading only what is published from now on."""
    group = f"test-visa-esd-{unique}"
    await group_at_end(kafka_bootstrap, group, SUBSCRIBES_TO)
    return await run_service(
        create_app(service_settings("visa", fresh_database, relay_poll_interval_s=0.2, consumer_group=group))
    )


@pytest.fixture
async def accreditation(kafka_bootstrap):
    await ensure_topics(kafka_bootstrap, [ACCREDITATION_TOPIC])
    producer = AIOKafkaProducer(**client_options(kafka_bootstrap), enable_idempotence=True)
    await producer.start()
    try:
        yield Accreditation(producer)
    finally:
        await producer.stop()


async def esd_plan(
    publisher: Accreditation,
    worker: uuid.UUID,
    *,
    start: date,
    transfer_from: uuid.UUID | None = None,
    exams: tuple[ExamPassed, ...] = (),
) -> uuid.UUID:
    """An ESD plan (no stage) in the construction field, applied for and certified."""
    plan_id = uuid.uuid4()
    header = PlanHeader(
        trainee_id=worker,
        scheme="esd",
        stage=None,
        training_type="b",
        job_category="construction",
        implementing_organization_id=uuid.uuid4(),
        supervising_organization_id=uuid.uuid4(),
        start_date=start,
        end_date=date(2030, 3, 31),
    )
    personal_data = PersonalData(name="Tran Thi Mai", date_of_birth=date(2004, 5, 2), passport_number="C7654321")
    await publisher.publish(
        plan_id,
        TrainingPlanApplied(
            **header.model_dump(),
            trainee=SealedTrainee(
                nationality="VN", personal_data=seal_model(new_data_key(), personal_data, f"trainee/{worker}")
            ),
            monthly_wage=230_000,
            comparable_japanese_wage=225_000,
            exams_passed=exams,
            field="construction",
            transfer_from=transfer_from,
            transfer_reason="own_wish" if transfer_from else None,
            applied_on=date(2026, 11, 2),
        ),
    )
    await publisher.publish(
        plan_id, TrainingPlanCertified(**header.model_dump(), certified_on=date(2026, 12, 1), rule_set="esd")
    )
    publisher.headers[plan_id] = header
    return plan_id


async def test_an_esd_worker_enters_with_the_esd_status_transfers_and_moves_to_ssw_i_with_japanese_a2(
    visa, accreditation, token, fresh_database
):
    officer, auditor, worker = token("immigration", subject="officer-kimura"), token("auditor"), uuid.uuid4()
    a1 = ExamPassed(grade="japanese_a1", passed_on=date(2026, 8, 20))
    first = await esd_plan(accreditation, worker, start=date(2027, 4, 1), exams=(a1,))
    await wait_for_plans(fresh_database, first)

    # Check: a certified ESD plan takes a COE, which names the ESD status of residence and no stage.
    coe = (await post(visa, COE, {"training_plan_id": str(first), "applied_on": day(-10)}, officer, 201))["id"]
    await post(visa, f"{COE}/{coe}/issue", {"issued_on": day(0)}, officer)
    shown = (await visa.get(f"{COE}/{coe}", headers=auditor)).json()
    assert (shown["status"], shown["scheme"], shown["status_of_residence"]) == ("issued", "esd", ESD_STATUS)

    # Check: the visa on it grants the ESD status, without a stage, for ESD's period of stay (12 months by default).
    granted = await post(
        visa, "/v1/visas", {"coe_id": coe, "post": "Embassy of Japan in Hanoi", "issued_on": day(1)}, officer, 201
    )
    shown = (await visa.get(f"/v1/visas/{granted['id']}", headers=auditor)).json()
    assert (shown["scheme"], shown["status_of_residence"], shown["stage"], shown["period_of_stay_months"]) == (
        "esd",
        ESD_STATUS,
        None,
        12,
    )
    history = (await visa.get(f"/v1/audit/streams/{coe}", headers=auditor)).json()["events"]
    assert {e["data"]["status_of_residence"] for e in history} == {ESD_STATUS}

    # The worker transfers at their own wish: a new ESD plan with another employer, the first plan transferred.
    second = await esd_plan(accreditation, worker, start=date(2029, 4, 1), transfer_from=first, exams=(a1,))
    await accreditation.publish(
        first,
        TrainingPlanTransferred(
            **accreditation.headers[first].model_dump(),
            transferred_on=date(2029, 3, 31),
            to_plan_id=second,
            reason="own_wish",
        ),
    )
    await wait_for_plans(fresh_database, second)
    await eventually(
        lambda: known(fresh_database, "SELECT transferred_to FROM known_training_plans WHERE id = $1", first),
        timeout=30,
        message="the transfer never reached the visa service",
    )

    # Check: the worker is in Japan: no COE for the new plan, a change of status to it instead; none on the first.
    await refused(
        visa, COE, {"training_plan_id": str(second), "applied_on": day(0)}, officer, "coe.esd_transfer_changes_status"
    )
    await refused(visa, COE, {"training_plan_id": str(first), "applied_on": day(0)}, officer, "coe.plan_transferred")
    changed = await post(
        visa, "/v1/status-changes", {"training_plan_id": str(second), "decided_on": "2029-03-25"}, officer, 201
    )
    shown = (await visa.get(f"/v1/status-changes/{changed['id']}", headers=auditor)).json()
    assert (shown["kind"], shown["from_training_plan_id"], shown["status_of_residence"], shown["to_stage"]) == (
        "transfer",
        str(first),
        ESD_STATUS,
        None,
    )
    listed = (
        await visa.get("/v1/status-changes", headers=auditor, params={"scheme": "esd", "trainee_id": str(worker)})
    ).json()
    assert [item["id"] for item in listed["items"]] == [changed["id"]]
    assert (await visa.get("/v1/visas", headers=auditor, params={"scheme": "titp", "trainee_id": str(worker)})).json()[
        "items"
    ] == []

    async def ssw(as_of="2030-02-01"):
        response = await visa.get(
            f"/v1/trainees/{worker}/ssw-eligibility", headers=auditor, params={"field": "construction", "as_of": as_of}
        )
        assert response.status_code == 200, response.text
        return response.json()

    # Check: no TITP exemption for an ESD worker: without the tests SSW (i) is refused, naming both.
    answer = await ssw()
    assert (answer["scheme"], answer["rule"], answer["eligible"], answer["unmet"]) == (
        "esd",
        "ssw.esd_grade_3_and_japanese_a2",
        False,
        ["ssw.skills_test_not_passed", "ssw.japanese_a2_not_passed"],
    )
    # The exam body reports to accreditation: grade 3 passed, Japanese A2 failed.
    results = uuid.UUID(trainee_stream_id(worker))
    for grade, result, taken_on in (
        ("grade_3", "passed", date(2029, 11, 10)),
        ("japanese_a2", "failed", date(2029, 7, 7)),
    ):
        await accreditation.publish(
            results, ExamResultRecorded(trainee_id=worker, grade=grade, result=result, taken_on=taken_on)
        )

    async def answered(unmet, as_of="2030-02-01"):
        answer = await ssw(as_of)
        return answer if answer["unmet"] == unmet else None

    # Check: grade 3 without Japanese A2 (a failed A2 is not a pass) is still refused.
    answer = await eventually(
        lambda: answered(["ssw.japanese_a2_not_passed"]), timeout=30, message="the exam results never arrived"
    )
    assert (answer["eligible"], answer["exams_passed"]) == (False, ["grade_3", "japanese_a1"])

    # Check: with A2 passed SSW (i) is allowed, on the worker's plan in the field; not before the day it was passed.
    await accreditation.publish(
        results, ExamResultRecorded(trainee_id=worker, grade="japanese_a2", result="passed", taken_on=date(2029, 12, 6))
    )
    answer = await eventually(lambda: answered([]), timeout=30, message="the A2 pass never arrived")
    assert (answer["eligible"], answer["qualifying_training_plan_id"], answer["exempt_from"]) == (True, str(second), [])
    assert (await ssw(as_of="2029-12-05"))["unmet"] == ["ssw.japanese_a2_not_passed"]


async def test_a_revoked_esd_plan_cancels_its_pending_application_and_revokes_its_unused_certificate(
    visa, accreditation, token, fresh_database
):
    officer = token("immigration")
    pending_plan, issued_plan = [await esd_plan(accreditation, uuid.uuid4(), start=date(2027, 4, 1)) for _ in range(2)]
    await wait_for_plans(fresh_database, pending_plan, issued_plan)
    pending = (await post(visa, COE, {"training_plan_id": str(pending_plan), "applied_on": day(-5)}, officer, 201))[
        "id"
    ]
    issued = (await post(visa, COE, {"training_plan_id": str(issued_plan), "applied_on": day(-5)}, officer, 201))["id"]
    await post(visa, f"{COE}/{issued}/issue", {"issued_on": day(0)}, officer)

    for plan in (pending_plan, issued_plan):
        await accreditation.revoke(plan, date(2027, 2, 1))

    async def withdrawn():
        statuses = [(await visa.get(f"{COE}/{id}", headers=officer)).json()["status"] for id in (pending, issued)]
        return statuses if statuses == ["cancelled", "revoked"] else None

    # Check: as for TITP, the pending application is cancelled and the unused certificate revoked.
    assert await eventually(withdrawn, timeout=15, message="the revocations never withdrew the ESD certificates")
    listed = (
        await visa.get(COE, headers=officer, params={"scheme": "esd", "training_plan_id": str(pending_plan)})
    ).json()
    assert [(i["id"], i["status_of_residence"]) for i in listed["items"]] == [(pending, ESD_STATUS)]
