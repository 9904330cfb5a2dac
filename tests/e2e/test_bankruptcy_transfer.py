"""A stage-i trainee whose employer goes bankrupt moves to another employer for the rest of the stage (DOMAIN §4/§7,
§11; issue 20 item 1), over REST and Kafka only: registry, accreditation and visa, each with its own database.

The trainee entered Japan on a COE and a visa for a stage-i plan (1 Oct 2026 to 30 Sep 2027). The employer goes
bankrupt. A transfer at the trainee's own wish is refused (TITP: unavoidable reasons only), so is a new plan longer
than the rest of the stage. The supervising organization files the transfer plan with another member employer (from
1 Jan 2027 to 30 Sep 2027, reason bankruptcy); certifying it ends the old plan as transferred in the same transaction.
The receiving employer's quota counts the new plan. The visa service follows without a new entry: no COE for the
transfer plan, and the change of status to stage ii is granted from it. The statistics count the transfer.
"""

import json
from datetime import UTC, datetime

from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from tests.e2e.test_accreditation_law import plan
from tests.e2e.test_visa_coe import COE, day
from tests.e2e.test_visa_path import once_accepted
from tests.helpers import (
    eventually,
    implementing_registration,
    post,
    read_topic_from,
    registered_partners,
    topic_end_offsets,
)

PLANS = "/v1/training-plans"
IO = "/v1/implementing-organizations"


async def refused(response, rule: str, status: int = 409) -> None:
    assert (response.status_code, response.json().get("rule")) == (status, rule), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_a_bankrupt_employers_stage_i_trainee_moves_to_another_employer_for_the_rest_of_the_stage(
    start_service, token, kafka_bootstrap
):
    registry, accreditation, visa = (
        await start_service("registry"),
        await start_service("accreditation"),
        await start_service("visa"),
    )
    officer, auditor = token("otit", subject="officer-sato"), token("auditor")
    immigration = token("immigration", subject="officer-kimura")
    partners = await registered_partners(registry, officer, permit_type="specified")
    supervisor = token("supervising_org", org=partners.supervising, subject="staff-kato")
    # The receiving employer: another member of the same supervising organization, 30 full-time staff (stage i: 3).
    receiving = (
        await post(
            registry,
            IO,
            implementing_registration(supervising_organization_id=partners.supervising, full_time_staff=30),
            officer,
            201,
        )
    )["id"]

    # The trainee's stage-i plan with the first employer, certified; two more at the receiving employer.
    async def certify(id: str, on: str = "2026-06-01") -> None:
        await once_accepted(accreditation, f"{PLANS}/{id}/certify", {"certified_on": on}, officer)

    first = (await post(accreditation, PLANS, plan(partners), officer, 201))["id"]
    await certify(first)
    trainee = (await accreditation.get(f"{PLANS}/{first}", headers=officer)).json()["trainee_id"]
    for _ in range(2):
        other = await post(accreditation, PLANS, plan(partners, implementing_organization_id=receiving), officer, 201)
        await certify(other["id"])

    # The visa service: a COE for the first plan, then the visa the trainee entered on.
    coe = (await once_accepted(visa, COE, {"training_plan_id": first, "applied_on": day(-10)}, immigration, 201))["id"]
    await post(visa, f"{COE}/{coe}/issue", {"issued_on": day(0)}, immigration)
    await post(
        visa, "/v1/visas", {"coe_id": coe, "post": "Embassy of Japan in Hanoi", "issued_on": day(1)}, immigration, 201
    )

    # The employer goes bankrupt. The new plan: the rest of stage i with the receiving employer.
    rest = plan(
        partners,
        trainee_id=trainee,
        implementing_organization_id=receiving,
        start_date="2027-01-01",
        end_date="2027-09-30",
        applied_on="2026-12-20",
        transfer_from=first,
        transfer_reason="bankruptcy",
    )

    # Check: at the trainee's own wish it is refused at once, naming the rule; nothing is recorded.
    own_wish = await accreditation.post(PLANS, json={**rest, "transfer_reason": "own_wish"}, headers=supervisor)
    await refused(own_wish, "transfer.titp_unavoidable_only")

    # Check: a plan past the stage's year counted from the first plan's start is refused at certification.
    too_long = (await post(accreditation, PLANS, {**rest, "end_date": "2027-10-01"}, supervisor, 201))["id"]
    answer = await accreditation.post(
        f"{PLANS}/{too_long}/certify", json={"certified_on": "2026-12-24"}, headers=officer
    )
    await refused(answer, "transfer.stage_length")
    await post(accreditation, f"{PLANS}/{too_long}/reject", {"reason": "longer than the rest of stage i"}, officer)

    offsets = await topic_end_offsets(kafka_bootstrap, "titp.accreditation.v1")
    before_the_move = datetime.now(UTC).isoformat()
    moved = (await post(accreditation, PLANS, rest, supervisor, 201))["id"]
    await post(accreditation, f"{PLANS}/{moved}/certify", {"certified_on": "2026-12-24"}, officer)

    # Check: the new plan is certified for the rest of the stage; the old one ended as transferred on its start.
    new = (await accreditation.get(f"{PLANS}/{moved}", headers=officer)).json()
    assert (new["status"], new["transfer_from"], new["transfer_reason"]) == ("certified", first, "bankruptcy")
    old = (await accreditation.get(f"{PLANS}/{first}", headers=officer)).json()
    assert old["status"] == "transferred"
    assert old["transfer"] == {"transferred_on": "2027-01-01", "to_plan_id": moved, "reason": "bankruptcy"}
    # ... while the old plan as it was before the move was in progress, with no transfer.
    then = (await accreditation.get(f"{PLANS}/{first}", params={"as_of": before_the_move}, headers=officer)).json()
    assert (then["status"], then["transfer"]) == ("in_progress", None)
    [last] = (await accreditation.get(f"/v1/audit/streams/{first}", headers=auditor)).json()["events"][-1:]
    assert last["type"] == "titp.accreditation.TrainingPlanTransferred.v1"

    # Check: the receiving employer's quota counts the new plan: with it, 3 stage-i plans, its limit; a 4th is refused.
    fourth = await post(accreditation, PLANS, plan(partners, implementing_organization_id=receiving), officer, 201)
    answer = await accreditation.post(
        f"{PLANS}/{fourth['id']}/certify", json={"certified_on": "2026-12-26"}, headers=officer
    )
    await refused(answer, "quota.stage_limit")

    # Check: the certification and the end of the old plan are on titp.accreditation.v1.
    published = await read_topic_from(kafka_bootstrap, offsets, {first, moved}, 3, timeout=30)
    events = [from_structured_event(KafkaMessage(headers=dict(m.headers), key=m.key, value=m.value)) for m in published]
    assert sorted(e.get_type() for e in events) == [
        "titp.accreditation.TrainingPlanApplied.v2",
        "titp.accreditation.TrainingPlanCertified.v1",
        "titp.accreditation.TrainingPlanTransferred.v1",
    ]
    [transferred] = [e for e in events if e.get_type().endswith("TrainingPlanTransferred.v1")]
    data = transferred.get_data()
    data = json.loads(data) if isinstance(data, bytes | str) else data
    assert (data["to_plan_id"], data["reason"], data["transferred_on"]) == (moved, "bankruptcy", "2027-01-01")

    # Check: the visa service follows without a new entry: no COE for the transfer plan (the status carries on) ...
    async def coe_refused():
        response = await visa.post(COE, json={"training_plan_id": moved, "applied_on": day(0)}, headers=immigration)
        assert response.status_code == 409, response.text
        return response.json()["rule"] if response.json()["rule"] != "coe.plan_unknown" else None

    rule = await eventually(coe_refused, timeout=30, message="the transfer plan never reached the visa service")
    assert rule == "coe.transfer_status_carries_on"
    answer = await visa.post(COE, json={"training_plan_id": first, "applied_on": day(0)}, headers=immigration)
    await refused(answer, "coe.plan_transferred")

    # ... and stage ii changes status from it: the basic grade passed, a stage-ii plan certified with the new employer.
    await post(
        accreditation,
        "/v1/exam-results",
        {"trainee_id": trainee, "grade": "basic", "result": "passed", "taken_on": "2026-11-15"},
        officer,
    )
    stage_ii = plan(
        partners,
        trainee_id=trainee,
        stage="ii",
        implementing_organization_id=receiving,
        start_date="2027-10-01",
        end_date="2029-09-30",
        applied_on="2027-05-01",
    )
    second = (await post(accreditation, PLANS, stage_ii, supervisor, 201))["id"]
    await certify(second, "2027-06-01")
    changed = await once_accepted(
        visa, "/v1/status-changes", {"training_plan_id": second, "decided_on": "2027-09-25"}, immigration, 201
    )
    shown = (await visa.get(f"/v1/status-changes/{changed['id']}", headers=immigration)).json()
    assert (shown["from_stage"], shown["to_stage"]) == ("i", "ii")

    # Check: the statistics count the transfer in the month of the move, by reason, for TITP.
    params = {"from": "2027-01", "to": "2027-01", "by": "reason", "scheme": "titp"}
    counted = (await accreditation.get("/v1/statistics/transfers", params=params, headers=auditor)).json()
    assert counted["months"] == [
        {"month": "2027-01", "last_day": "2027-01-31", "total": 1, "counts": {"bankruptcy": 1}}
    ]
    none_before = (
        await accreditation.get(
            "/v1/statistics/transfers", params={"from": "2026-12", "to": "2026-12"}, headers=auditor
        )
    ).json()
    assert none_before["months"][0]["total"] == 0
