"""The law's corrections in the visa service (DOMAIN §11, issue 19) over REST, against the real Kafka and PostgreSQL:

- an expired supervising-organization permit, recorded by the real registry and carried on titp.registry.v1,
  stops new COEs for its plans like a revoked one (`coe.permit_expired`);
- stage iii starts by landing on a new COE when the trainee left without a re-entry permit (or stayed abroad more
  than 3 months); back within a re-entry permit, the COE is refused and the trainee changes status instead;
- SSW (i) after TITP: a trainee whose first employer went bankrupt, with the implementing organization's
  evaluation report (評価調書) instead of grade 3, moves without the Japanese test, and without the skills test
  only in the field the operation relates to.

Training plans are published on titp.accreditation.v1 as the accreditation service publishes them (as
tests/e2e/test_visa_coe.py does), so that these stories do not wait on that service.
"""

import uuid
from datetime import date

import pytest

from contracts.accreditation import DiscontinuationReason
from services.registry.app import DEFINITION as REGISTRY
from services.registry.app import create_app as create_registry
from services.visa.app import create_app
from services.visa.subscriptions import SUBSCRIBES_TO
from tests.e2e.test_visa_coe import (
    COE,
    accreditation_publisher,  # noqa: F401 - the fixture `accreditation`
    day,
    header,
    known,
    refused,
    wait_for_plans,
)
from tests.helpers import event_count, eventually, grant, group_at_end, permit_application, post

SO = "/v1/supervising-organizations"
CARPENTRY = "construction.carpentry.building"  # shared.reference: its SSW (i) field is construction


@pytest.fixture
async def visa(fresh_database, service_settings, run_service, kafka_bootstrap, unique):
    """The visa service in a consumer group of its own, reading only what is published from now on."""
    group = f"test-visa-law-{unique}"
    await group_at_end(kafka_bootstrap, group, SUBSCRIBES_TO)
    return await run_service(
        create_app(service_settings("visa", fresh_database, relay_poll_interval_s=0.2, consumer_group=group))
    )


@pytest.fixture
async def registry(another_database, service_settings, run_service, kafka_bootstrap, unique):
    group = f"test-registry-law-{unique}"
    await group_at_end(kafka_bootstrap, group, REGISTRY.subscribes_to)
    return await run_service(
        create_registry(
            service_settings("registry", await another_database(), relay_poll_interval_s=0.2, consumer_group=group)
        )
    )


async def test_an_expired_permit_stops_new_coes_for_its_plans(visa, registry, accreditation, token, fresh_database):
    otit, officer = token("otit", subject="officer-mori"), token("immigration", subject="officer-kimura")

    # The registry: a specified permit granted on 1 Mar 2022 (3 years: its last day is 28 Feb 2025), its expiry
    # recorded today.
    cooperative = (await post(registry, SO, permit_application(applied_on="2022-01-05"), otit, 201))["id"]
    await post(registry, f"{SO}/{cooperative}/grant", grant("specified", "2022-03-01"), otit)
    before_expiry, after_expiry = [
        await accreditation.certified_plan(header(supervising_organization_id=uuid.UUID(cooperative))) for _ in range(2)
    ]
    await wait_for_plans(fresh_database, before_expiry, after_expiry)
    # An application filed while the permit was in force.
    pending = (
        await post(visa, COE, {"training_plan_id": str(before_expiry), "applied_on": "2025-02-20"}, officer, 201)
    )["id"]
    recorded = await post(registry, f"{SO}/expiries", {"as_of": day(0)}, otit)
    assert cooperative in recorded["expired"], recorded
    await eventually(
        lambda: known(
            fresh_database,
            "SELECT from_date FROM known_permit_restrictions WHERE supervising_organization_id = $1"
            " AND kind = 'expired'",
            uuid.UUID(cooperative),
        ),
        timeout=30,
        message="the expiry never reached the visa service",
    )
    before = await event_count(fresh_database)

    # Check: from the expiry on, no new application for a plan under that organization, and the pending one is not
    # issued; nothing is appended.
    await refused(
        visa, COE, {"training_plan_id": str(after_expiry), "applied_on": day(0)}, officer, "coe.permit_expired"
    )
    await refused(visa, f"{COE}/{pending}/issue", {"issued_on": day(0)}, officer, "coe.permit_expired")
    assert await event_count(fresh_database) == before
    # Check: an application dated on the permit's last day is still accepted (the expiry runs from the next day).
    await post(visa, COE, {"training_plan_id": str(after_expiry), "applied_on": "2025-02-28"}, officer, 201)


async def test_stage_iii_starts_by_landing_on_a_new_coe_after_leaving_without_a_re_entry_permit(
    visa, accreditation, token, fresh_database
):
    officer, trainee = token("immigration", subject="officer-kimura"), uuid.uuid4()
    stage_i = await accreditation.certified_plan(header("i", trainee, start=date(2026, 9, 1)))
    stage_ii = await accreditation.certified_plan(
        header("ii", trainee, start=date(2027, 9, 1), years=2), operation=CARPENTRY
    )
    stage_iii = await accreditation.certified_plan(
        header("iii", trainee, start=date(2029, 11, 1), years=2), operation=CARPENTRY
    )
    await wait_for_plans(fresh_database, stage_i, stage_ii, stage_iii)

    # Stage i on a COE and a visa, stage ii by a change of status.
    coe = (await post(visa, COE, {"training_plan_id": str(stage_i), "applied_on": day(-10)}, officer, 201))["id"]
    await post(visa, f"{COE}/{coe}/issue", {"issued_on": day(0)}, officer)
    await post(
        visa, "/v1/visas", {"coe_id": coe, "post": "Embassy of Japan in Hanoi", "issued_on": day(1)}, officer, 201
    )
    await post(
        visa, "/v1/status-changes", {"training_plan_id": str(stage_ii), "decided_on": "2027-08-20"}, officer, 201
    )
    before = await event_count(fresh_database)

    # Check: a stage-iii COE needs the departure that ended the stay; back within a re-entry permit after 3 months
    # or less, the trainee changes status instead; half a departure is bad input.
    await refused(
        visa,
        COE,
        {"training_plan_id": str(stage_iii), "applied_on": "2029-09-20"},
        officer,
        "coe.stage_iii_departure_not_stated",
    )
    with_permit = {"departed_on": "2029-09-01", "re_entry_permit_used": True}
    await refused(
        visa,
        COE,
        {"training_plan_id": str(stage_iii), "applied_on": "2029-12-01", **with_permit},
        officer,
        "coe.stage_iii_changes_status",
    )
    half = await visa.post(
        COE,
        json={"training_plan_id": str(stage_iii), "applied_on": "2029-09-20", "departed_on": "2029-09-01"},
        headers=officer,
    )
    assert half.status_code == 422, half.text
    await refused(
        visa,
        COE,
        {"training_plan_id": str(stage_i), "applied_on": day(0), "departed_on": day(-5), "re_entry_permit_used": False},
        officer,
        "coe.departure_only_for_stage_iii",
    )
    assert await event_count(fresh_database) == before

    # Check: left without a re-entry permit, the trainee lands on a new COE for stage iii, and the visa on it grants
    # stage iii for 2 years.
    left = {"departed_on": day(-40), "re_entry_permit_used": False}
    filed = await post(visa, COE, {"training_plan_id": str(stage_iii), "applied_on": day(-10), **left}, officer, 201)
    await post(visa, f"{COE}/{filed['id']}/issue", {"issued_on": day(0)}, officer)
    shown = (await visa.get(f"{COE}/{filed['id']}", headers=officer)).json()
    assert (shown["stage"], shown["departed_on"], shown["re_entry_permit_used"], shown["new_coe_ground"]) == (
        "iii",
        day(-40),
        False,
        "no_re_entry_permit",
    )
    granted = await post(
        visa,
        "/v1/visas",
        {"coe_id": filed["id"], "post": "Embassy of Japan in Hanoi", "issued_on": day(2)},
        officer,
        201,
    )
    visa_shown = (await visa.get(f"/v1/visas/{granted['id']}", headers=officer)).json()
    assert (visa_shown["stage"], visa_shown["period_of_stay_months"], visa_shown["training_plan_id"]) == (
        "iii",
        24,
        str(stage_iii),
    )
    history = (await visa.get(f"/v1/audit/streams/{filed['id']}", headers=token("auditor"))).json()["events"]
    assert [(e["type"], e["data"]["stage"]) for e in history] == [
        ("titp.visa.CoeApplied.v1", "iii"),
        ("titp.visa.CoeIssued.v1", "iii"),
        ("titp.visa.CoeUsed.v1", "iii"),
    ]
    # Check: holding stage iii by the visa, the trainee is not changed into it again.
    await refused(
        visa,
        "/v1/status-changes",
        {"training_plan_id": str(stage_iii), "decided_on": day(3)},
        officer,
        "status_change.previous_stage_not_held",
    )


async def test_a_trainee_whose_first_employer_went_bankrupt_moves_to_ssw_i_on_the_evaluation_report(
    visa, accreditation, token, fresh_database
):
    officer, auditor, trainee = token("immigration"), token("auditor"), uuid.uuid4()
    # Stage i with a first employer that went bankrupt after 5 months; the rest of stage i with another; stage ii
    # (carpentry) completed with grade 3 failed.
    bankrupt = await accreditation.certified_plan(header("i", trainee, start=date(2026, 9, 1)))
    continued = await accreditation.certified_plan(
        header("i", trainee, start=date(2027, 2, 1)).model_copy(update={"end_date": date(2027, 8, 31)})
    )
    stage_ii = await accreditation.certified_plan(
        header("ii", trainee, start=date(2027, 9, 1), years=2), operation=CARPENTRY
    )
    await accreditation.discontinue(bankrupt, date(2027, 1, 31), DiscontinuationReason.BANKRUPTCY)
    await accreditation.complete(continued, date(2027, 8, 31))
    await accreditation.complete(stage_ii, date(2029, 8, 31), exam_result="failed")
    await wait_for_plans(fresh_database, continued, stage_ii, status="completed")
    await wait_for_plans(fresh_database, bankrupt, status="discontinued")

    async def eligibility(field, as_of="2029-09-15"):
        response = await visa.get(
            f"/v1/trainees/{trainee}/ssw-eligibility", headers=auditor, params={"field": field, "as_of": as_of}
        )
        assert response.status_code == 200, response.text
        return response.json()

    # Check: without grade 3 and without the report, refused for that alone — not for the bankruptcy.
    answer = await eligibility("construction")
    assert (answer["eligible"], answer["unmet"]) == (False, ["ssw.grade_3_or_evaluation_report_missing"])

    # The implementing organization's evaluation report, received by immigration; once per plan, on stage ii only.
    body = {"training_plan_id": str(stage_ii), "written_on": "2029-08-25", "received_on": "2029-09-10"}
    received = await post(visa, "/v1/evaluation-reports", body, officer, 201)
    await refused(visa, "/v1/evaluation-reports", body, officer, "evaluation_report.already_received")
    await refused(
        visa,
        "/v1/evaluation-reports",
        {**body, "training_plan_id": str(continued)},
        officer,
        "evaluation_report.stage_ii_only",
    )
    shown = (await visa.get(f"/v1/evaluation-reports/{received['id']}", headers=auditor)).json()
    assert (shown["trainee_id"], shown["received_on"]) == (str(trainee), "2029-09-10")

    # Check: with the report, eligible: in construction (the carpentry operation's field) without either test; in
    # another field without the Japanese test only; not before the report was received.
    answer = await eligibility("construction")
    assert (answer["eligible"], answer["exempt_from"], answer["tests_required"], answer["skills_evidence"]) == (
        True,
        ["japanese_test", "skills_test"],
        [],
        ["evaluation_report"],
    )
    assert answer["qualifying_training_plan_id"] == str(stage_ii)
    answer = await eligibility("food_service")
    assert (answer["eligible"], answer["exempt_from"], answer["tests_required"], answer["field_related"]) == (
        True,
        ["japanese_test"],
        ["skills_test"],
        False,
    )
    answer = await eligibility("construction", as_of="2029-09-09")
    assert answer["unmet"] == ["ssw.grade_3_or_evaluation_report_missing"]
