"""An employer in two supervising organizations (DOMAIN §11, issue 20 items 2 and 4), over REST and Kafka only.

The registry grants two permits; the employer, registered under the first, joins the second alongside it
(`SupervisionChanged.alongside`): the registry shows both, and each organization sees the employer. Each files a plan
for it, and both are certified. The first permit is revoked: its plan is flagged, and the officer reassigns it to the
employer's remaining organization with no new supervision recorded. The registry ends the first supervision
(`SupervisionEnded`). The second organization files its business report for fiscal year 2026 late
(`BusinessReportFiled`, with its lateness); a second one for the year and one for a year not ended are refused naming
the rule. The registry's events are on titp.registry.v1, the reassignment on titp.accreditation.v1.
"""

import json
from datetime import UTC, datetime

from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from tests.e2e.test_accreditation_law import certified, plan
from tests.helpers import (
    eventually,
    grant,
    permit_application,
    post,
    read_topic_from,
    registered_partners,
    revoke_and_await_flag,
    topic_end_offsets,
)

PLANS = "/v1/training-plans"
SO = "/v1/supervising-organizations"
IO = "/v1/implementing-organizations"


def data_of(message) -> tuple[str, dict]:
    event = from_structured_event(KafkaMessage(headers=dict(message.headers), key=message.key, value=message.value))
    data = event.get_data()
    return event.get_type(), json.loads(data) if isinstance(data, bytes | str) else data


async def test_an_employer_in_two_supervising_organizations(start_service, token, kafka_bootstrap):
    registry, accreditation = await start_service("registry"), await start_service("accreditation")
    officer, auditor = token("otit", subject="officer-mori"), token("auditor")
    partners = await registered_partners(registry, officer, permit_type="specified")
    first, employer = partners.supervising, partners.implementing
    second = (await post(registry, SO, permit_application(requested_permit_type="specified"), officer, 201))["id"]
    await post(registry, f"{SO}/{second}/grant", grant("specified"), officer)
    await post(
        registry,
        f"{SO}/{second}/sending-agreements",
        {"sending_organization_id": partners.sending, "signed_on": "2026-05-15"},
        officer,
        201,
    )
    registry_offsets = await topic_end_offsets(kafka_bootstrap, "titp.registry.v1")
    before_join = datetime.now(UTC).isoformat()

    # The employer joins the second organization alongside the first from 1 Jun 2026.
    joined = await post(
        registry,
        f"{IO}/{employer}/supervision",
        {"supervising_organization_id": second, "scheme": "titp", "from": "2026-06-01", "alongside": True},
        officer,
    )
    assert joined["version"] == 2

    # Check: joining one it already has is refused naming the rule and the field; nothing recorded.
    again = await registry.post(
        f"{IO}/{employer}/supervision",
        json={"supervising_organization_id": first, "scheme": "titp", "from": "2026-07-01", "alongside": True},
        headers=officer,
    )
    assert (again.status_code, again.json()["rule"], again.json()["field"]) == (
        409,
        "supervision.already_member",
        "supervising_organization_id",
    )
    assert again.headers["content-type"].startswith("application/problem+json")

    # Check: the registry shows both supervisions, each organization sees the employer and lists it; as of before
    # the join, only the first.
    body = (await registry.get(f"{IO}/{employer}", headers=officer)).json()
    assert body["version"] == 2
    assert [(m["organization_id"], m["from"], m["until"]) for m in body["supervisions"]["titp"]] == [
        (first, "2026-05-10", None),
        (second, "2026-06-01", None),
    ]
    assert body["supervision"]["titp"] == {"organization_id": second, "from": "2026-06-01"}  # the latest begun
    for organization in (first, second):
        as_member = token("supervising_org", org=organization)
        assert (await registry.get(f"{IO}/{employer}", headers=as_member)).status_code == 200
        listed = await registry.get(IO, params={"supervising_organization_id": organization}, headers=officer)
        assert employer in [i["id"] for i in listed.json()["items"]]
        mine = await registry.get(IO, headers=as_member)
        assert employer in [i["id"] for i in mine.json()["items"]]
    then = (await registry.get(f"{IO}/{employer}", params={"as_of": before_join}, headers=officer)).json()
    assert [m["organization_id"] for m in then["supervisions"]["titp"]] == [first]

    # Each organization files a plan for the employer (the second once accreditation learned of the join).
    under_first = await certified(accreditation, officer, plan(partners))
    as_second = token("supervising_org", org=second)
    second_plan = plan(partners, supervising_organization_id=second)

    async def filed_by_second():
        response = await accreditation.post(PLANS, json=second_plan, headers=as_second)
        assert response.status_code in (201, 404), response.text  # 404 filing.member_employer until it knows
        return response.json()["id"] if response.status_code == 201 else None

    under_second = await eventually(filed_by_second, timeout=30, message="accreditation never learned of the join")
    certify = await accreditation.post(
        f"{PLANS}/{under_second}/certify", json={"certified_on": "2026-06-01"}, headers=officer
    )
    assert certify.status_code == 200, certify.text

    # Check: the employer's improvement orders are visible to each of its organizations.
    for organization in (first, second):
        orders = await accreditation.get(
            f"{IO}/{employer}/improvement-orders", headers=token("supervising_org", org=organization)
        )
        assert orders.status_code == 200, orders.text

    offsets = await topic_end_offsets(kafka_bootstrap, "titp.accreditation.v1")
    # The first organization's permit is revoked: its plan is flagged, the second organization's is not.
    await revoke_and_await_flag(registry, accreditation, officer, first, under_first)
    other = (await accreditation.get(f"{PLANS}/{under_second}", headers=officer)).json()
    assert other["new_supervising_organization_required"] is None

    # Check: the flagged plan moves to the employer's remaining organization at once (it supervises the employer
    # since 1 Jun: no new supervision to record); to one that does not supervise it, refused naming the rule.
    async def reassign(organization: str, day: str):
        return await accreditation.post(
            f"{PLANS}/{under_first}/reassign",
            json={"supervising_organization_id": organization, "reassigned_on": day},
            headers=officer,
        )

    stranger = (await post(registry, SO, permit_application(requested_permit_type="specified"), officer, 201))["id"]
    await post(registry, f"{SO}/{stranger}/grant", grant("specified"), officer)

    async def stranger_known():
        refused = await reassign(stranger, "2026-11-15")
        assert refused.status_code == 409, refused.text
        return refused.json()["rule"] == "reassign.not_supervising_the_employer" or None

    await eventually(stranger_known, timeout=30, message="accreditation never learned of the third permit")
    reassigned = await reassign(second, "2026-11-15")
    assert reassigned.status_code == 200, reassigned.text
    body = (await accreditation.get(f"{PLANS}/{under_first}", headers=officer)).json()
    assert (body["supervising_organization_id"], body["new_supervising_organization_required"]) == (second, None)

    # The registry ends the employer's supervision by the first organization on 31 Oct (its last day).
    ended = await post(
        registry,
        f"{IO}/{employer}/supervision/end",
        {"supervising_organization_id": first, "scheme": "titp", "until": "2026-10-31"},
        officer,
    )
    assert ended["version"] == 3
    not_member = await registry.post(
        f"{IO}/{employer}/supervision/end",
        json={"supervising_organization_id": first, "scheme": "titp", "until": "2026-11-30"},
        headers=officer,
    )
    assert (not_member.status_code, not_member.json()["rule"]) == (409, "supervision.not_member")
    body = (await registry.get(f"{IO}/{employer}", headers=officer)).json()
    assert [m["organization_id"] for m in body["supervisions"]["titp"]] == [second]
    assert [(m["organization_id"], m["from"], m["until"], m["alongside"]) for m in body["memberships"]] == [
        (first, "2026-05-10", "2026-10-31", False),
        (second, "2026-06-01", None, True),
    ]
    assert (await registry.get(f"{IO}/{employer}", headers=token("supervising_org", org=first))).status_code == 404

    # The second organization files its business report for fiscal year 2026, ten days late.
    reported = await post(
        registry, f"{SO}/{second}/business-reports", {"fiscal_year": 2026, "filed_on": "2027-06-10"}, as_second
    )
    assert reported["id"] == second
    reports = (await registry.get(f"{SO}/{second}/business-reports", headers=as_second)).json()
    assert reports == [{"fiscal_year": 2026, "filed_on": "2027-06-10", "due_on": "2027-05-31", "late_days": 10}]
    assert (await registry.get(f"{SO}/{second}", headers=officer)).json()["business_reports"] == reports

    # Check: a second report for the year, one for a year not ended, and one filed for another organization are
    # refused; nothing recorded.
    for report, status, rule in (
        ({"fiscal_year": 2026, "filed_on": "2027-06-11"}, 409, "filing.duplicate"),
        ({"fiscal_year": 2027, "filed_on": "2028-03-31"}, 409, "filing.too_early"),
    ):
        response = await registry.post(f"{SO}/{second}/business-reports", json=report, headers=as_second)
        assert (response.status_code, response.json()["rule"]) == (status, rule), response.text
    foreign = await registry.post(
        f"{SO}/{first}/business-reports", json={"fiscal_year": 2026, "filed_on": "2027-05-01"}, headers=as_second
    )
    assert foreign.status_code == 404
    assert len((await registry.get(f"{SO}/{second}/business-reports", headers=auditor)).json()) == 1

    # Check: the join, the end and the report are on titp.registry.v1; the reassignment on titp.accreditation.v1.
    published = [
        data_of(m) for m in await read_topic_from(kafka_bootstrap, registry_offsets, {employer, second}, 3, 30)
    ]
    kinds = {kind: data for kind, data in published}
    assert kinds["titp.registry.SupervisionChanged.v1"] == {
        "supervising_organization_id": second,
        "scheme": "titp",
        "effective_from": "2026-06-01",
        "alongside": True,
    }
    assert kinds["titp.registry.SupervisionEnded.v1"] == {
        "supervising_organization_id": first,
        "scheme": "titp",
        "effective_until": "2026-10-31",
    }
    assert kinds["titp.registry.BusinessReportFiled.v1"] == {
        "supervising_organization_id": second,
        "fiscal_year": 2026,
        "filed_on": "2027-06-10",
        "due_on": "2027-05-31",
    }
    moved = [data_of(m) for m in await read_topic_from(kafka_bootstrap, offsets, {under_first}, 2, 30)]
    assert moved[-1][0] == "titp.accreditation.TrainingPlanReassigned.v1"
    assert (moved[-1][1]["supervising_organization_id"], moved[-1][1]["previous_supervising_organization_id"]) == (
        second,
        first,
    )
