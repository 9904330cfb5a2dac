"""A plan flagged after its supervising organization lost its permit moves to a new one (DOMAIN §11, issue 20), over
REST and Kafka only.

The registry grants two permits; an employer under the first has a certified plan. The first permit is revoked: the
plan is flagged. An officer cannot reassign it before the registry records the employer under the second
organization (named rules); the flag shows on the worklist once it is 30 days old. The registry records the
employer's new supervision (`SupervisionChanged`); the officer reassigns the plan: the flag is cleared, the plan
names the new organization (its as-of view before does not), and `TrainingPlanReassigned` is on
titp.accreditation.v1.
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


async def test_a_flagged_plan_is_reassigned_to_the_employers_new_supervising_organization(
    start_service, token, kafka_bootstrap
):
    registry, accreditation = await start_service("registry"), await start_service("accreditation")
    officer, auditor = token("otit", subject="officer-sato"), token("auditor")
    partners = await registered_partners(registry, officer, permit_type="specified")
    second = (await post(registry, SO, permit_application(requested_permit_type="specified"), officer, 201))["id"]
    await post(registry, f"{SO}/{second}/grant", grant("specified"), officer)
    id = await certified(accreditation, officer, plan(partners))
    offsets = await topic_end_offsets(kafka_bootstrap, "titp.accreditation.v1")

    # The registry revokes the first organization's permit: the plan is flagged.
    await revoke_and_await_flag(registry, accreditation, officer, partners.supervising, id)
    flagged_by = datetime.now(UTC).isoformat()  # the flag is recorded, the reassignment not yet

    # Check: before the registry moved the employer, a reassignment is refused, naming the rule; nothing recorded.
    async def reassign(body: dict):
        return await accreditation.post(f"{PLANS}/{id}/reassign", json=body, headers=officer)

    before_flag = await reassign({"supervising_organization_id": second, "reassigned_on": "2026-10-31"})
    assert (before_flag.status_code, before_flag.json()["rule"]) == (409, "reassign.before_flag")
    assert before_flag.headers["content-type"].startswith("application/problem+json")
    not_yet = await reassign({"supervising_organization_id": second, "reassigned_on": "2026-11-15"})
    assert (not_yet.status_code, not_yet.json()["rule"]) == (409, "reassign.not_supervising_the_employer")
    assert (await accreditation.get(f"{PLANS}/{id}", headers=officer)).json()["version"] == 3

    # Check: the flag shows on the worklist once nobody acted on it for 30 days (the default).
    async def worklist(day: str) -> list[str]:
        params = {"needs_new_supervising_organization": "true", "unattended_as_of": day}
        return [p["id"] for p in (await accreditation.get(PLANS, params=params, headers=officer)).json()["items"]]

    assert await worklist("2026-11-30") == []
    assert await worklist("2026-12-01") == [id]

    # The registry records the employer under the second organization from 15 Nov.
    await post(
        registry,
        f"{IO}/{partners.implementing}/supervision",
        {"supervising_organization_id": second, "scheme": "titp", "from": "2026-11-15"},
        officer,
    )

    # Check: once accreditation learned of it, the officer's reassignment is accepted (not a day before 15 Nov).
    async def knows_the_move():
        day_before = await reassign({"supervising_organization_id": second, "reassigned_on": "2026-11-14"})
        assert (day_before.status_code, day_before.json()["rule"]) == (409, "reassign.not_supervising_the_employer")
        return "from 2026-11-15" in day_before.json()["detail"]

    await eventually(knows_the_move, timeout=30, message="the supervision change never reached accreditation")
    reassigned = await reassign({"supervising_organization_id": second, "reassigned_on": "2026-11-15"})
    assert reassigned.status_code == 200, reassigned.text
    assert reassigned.json()["version"] == 4

    # Check: the flag is cleared, the plan names the new organization, and its history shows the move ...
    body = (await accreditation.get(f"{PLANS}/{id}", headers=officer)).json()
    assert body["new_supervising_organization_required"] is None
    assert body["supervising_organization_id"] == second
    assert body["reassignments"] == [
        {
            "supervising_organization_id": second,
            "previous_supervising_organization_id": partners.supervising,
            "reassigned_on": "2026-11-15",
        }
    ]
    assert await worklist("2026-12-01") == []
    listed = await accreditation.get(PLANS, params={"supervising_organization_id": second}, headers=officer)
    assert [p["id"] for p in listed.json()["items"]] == [id]
    [event] = (await accreditation.get(f"/v1/audit/streams/{id}", headers=auditor)).json()["events"][-1:]
    assert event["type"] == "titp.accreditation.TrainingPlanReassigned.v1"
    assert event["data"]["previous_supervising_organization_id"] == partners.supervising

    # ... while the plan as it was when flagged still names the first organization and the flag.
    then = (await accreditation.get(f"{PLANS}/{id}", params={"as_of": flagged_by}, headers=officer)).json()
    assert then["supervising_organization_id"] == partners.supervising
    assert then["new_supervising_organization_required"]["since"] == "2026-11-01"
    assert then["reassignments"] == []

    # ... and a second reassignment is refused: the plan is no longer flagged.
    again = await reassign({"supervising_organization_id": partners.supervising, "reassigned_on": "2026-11-20"})
    assert (again.status_code, again.json()["rule"]) == (409, "reassign.not_flagged")

    # Check: the flag and the reassignment are on titp.accreditation.v1, the reassignment naming both organizations.
    published = await read_topic_from(kafka_bootstrap, offsets, {id}, 2, timeout=30)
    events = [from_structured_event(KafkaMessage(headers=dict(m.headers), key=m.key, value=m.value)) for m in published]
    assert [e.get_type() for e in events] == [
        "titp.accreditation.NewSupervisingOrganizationRequired.v1",
        "titp.accreditation.TrainingPlanReassigned.v1",
    ]
    data = events[1].get_data()
    data = json.loads(data) if isinstance(data, bytes | str) else data
    assert (data["supervising_organization_id"], data["previous_supervising_organization_id"]) == (
        second,
        partners.supervising,
    )
    assert data["reassigned_on"] == "2026-11-15"
