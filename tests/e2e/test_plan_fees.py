"""What trainees paid before coming (issue 25 item 2, DOMAIN §7), over REST and Kafka only.

Two trainees come through the same sending organization on certified stage-i plans (from 1 Oct 2026). The
supervising organization declares what the first paid (the sending organization's fee and a language school's
course, part of it borrowed): the plan shows it, below the ceiling. For the second it declares a penalty contract
(違約金) beside the fee, then a deposit (保証金): each is refused naming its rule and field, and nothing is recorded.
Its corrected declaration, above the ceiling (¥700,000 by default), flags the sending organization: the flag is on
titp.accreditation.v1, on the officers' worklist (GET /v1/statistics/fees?flagged=true) and in the registry's
sending organizations (GET /v1/sending-organizations?flagged=true), and the statistics
show the fees by sending organization and by country. Another organization cannot declare or read them.
"""

import json

from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from tests.e2e.test_accreditation_law import certified, plan
from tests.helpers import eventually, read_topic_from, registered_partners, topic_end_offsets

PLANS = "/v1/training-plans"
STATISTICS = "/v1/statistics/fees"


def fee(kind: str, recipient: str, amount: int, purpose: str, declared_by: str = "sending_organization", **more):
    return {
        "kind": kind,
        "recipient": recipient,
        "purpose": purpose,
        "amount_yen": amount,
        "declared_by": declared_by,
        **more,
    }


PLACEMENT = fee("sending_fee", "sending_organization", 320_000, "placement fee")
COURSE = fee(
    "pre_entry_training",
    "language_school",
    95_000,
    "four months of Japanese",
    "supervising_organization",
    recipient_name="Hanoi Japanese Center",
)


async def test_fees_are_declared_a_penalty_contract_is_refused_and_a_fee_above_the_ceiling_flags_the_sender(
    start_service, token, kafka_bootstrap
):
    registry, accreditation = await start_service("registry"), await start_service("accreditation")
    officer, auditor = token("otit", subject="officer-mori"), token("auditor")
    partners = await registered_partners(registry, officer, permit_type="specified")
    supervisor = token("supervising_org", org=partners.supervising, subject="supervisor-staff")
    employer = token("implementing_org", org=partners.implementing, subject="employer-staff")
    stranger = token("supervising_org", org="00000000-0000-4000-8000-000000000003", subject="stranger")
    first = await certified(accreditation, officer, plan(partners))
    second = await certified(accreditation, officer, plan(partners))
    october = {"from": "2026-10", "to": "2026-10"}

    async def statistics(**params) -> dict:
        response = await accreditation.get(STATISTICS, params={**october, **params}, headers=auditor)
        assert response.status_code == 200, response.text
        return response.json()

    def group(answer: dict, key: str) -> dict | None:
        return next((g for g in answer["groups"] if g["key"] == key), None)

    vietnam_before = group(await statistics(by="country"), "VN") or {"plans": 0, "total_yen": 0}

    async def declare(id: str, body: dict, headers: dict):
        return await accreditation.post(f"{PLANS}/{id}/fees", json=body, headers=headers)

    # The supervising organization declares what the first trainee paid: below the ceiling.
    declared = await declare(
        first, {"declared_on": "2026-06-10", "items": [PLACEMENT, COURSE], "borrowed_yen": 300_000}, supervisor
    )
    assert declared.status_code == 201, declared.text
    assert declared.headers["location"] == f"{PLANS}/{first}/fees"

    # Check: the plan shows it, to its organizations and officers; not to another organization.
    shown = (await accreditation.get(f"{PLANS}/{first}", headers=employer)).json()["fees"]
    assert shown["declaration_id"] == declared.json()["id"]
    assert (shown["total_yen"], shown["borrowed_yen"], shown["ceiling_yen"], shown["above_ceiling"]) == (
        415_000,
        300_000,
        700_000,
        False,
    )
    assert [(i["kind"], i["recipient"], i["amount_yen"]) for i in shown["items"]] == [
        ("sending_fee", "sending_organization", 320_000),
        ("pre_entry_training", "language_school", 95_000),
    ]
    assert (shown["sending_organization_id"], shown["sending_organization_flagged_on"]) == (partners.sending, None)
    fees = await accreditation.get(f"{PLANS}/{first}/fees", headers=officer)
    assert fees.status_code == 200, fees.text
    assert fees.json()["fees"] == shown
    assert fees.headers["etag"] == f'"{fees.json()["version"]}"'
    assert (await accreditation.get(f"{PLANS}/{first}/fees", headers=stranger)).status_code == 404
    refused_stranger = await declare(first, {"declared_on": "2026-06-11", "items": []}, stranger)
    assert refused_stranger.status_code == 404, refused_stranger.text
    assert (await declare(first, {"declared_on": "2026-06-11", "items": []}, employer)).status_code == 403

    # A penalty contract beside the fee for the second trainee, then a deposit: each refused by its rule.
    version = (await accreditation.get(f"{PLANS}/{second}", headers=officer)).json()["version"]
    penalty = fee("penalty_contract", "sending_organization", 0, "penalty if the trainee leaves early")
    refused = await declare(second, {"declared_on": "2026-06-10", "items": [PLACEMENT, penalty]}, supervisor)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (refused.json()["rule"], refused.json()["field"]) == ("fees.penalty_contract_forbidden", "items[1].kind")
    deposit = fee("deposit", "broker", 150_000, "deposit returned at the end")
    refused = await declare(second, {"declared_on": "2026-06-10", "items": [deposit]}, officer)
    assert (refused.status_code, refused.json()["rule"]) == (409, "fees.deposit_forbidden"), refused.text

    # Check: nothing was recorded.
    after_refusals = (await accreditation.get(f"{PLANS}/{second}", headers=officer)).json()
    assert (after_refusals["version"], after_refusals["fees"]) == (version, None)
    stream = (await accreditation.get(f"/v1/audit/streams/{second}", headers=auditor)).json()["events"]
    assert not [e for e in stream if "Fees" in e["type"]]
    assert group(await statistics(flagged="true"), partners.sending) is None  # not on the worklist yet

    # The corrected declaration: ¥770,000 paid to the sending organization and a broker, above the ceiling.
    offsets = await topic_end_offsets(kafka_bootstrap, "titp.accreditation.v1")
    broker = fee("brokerage", "broker", 120_000, "introduction to the sending organization")
    high = fee("sending_fee", "sending_organization", 650_000, "placement fee")
    above = await declare(second, {"declared_on": "2026-06-12", "items": [high, broker]}, supervisor)
    assert above.status_code == 201, above.text

    # Check: the plan shows the flag ...
    shown = (await accreditation.get(f"{PLANS}/{second}/fees", headers=supervisor)).json()["fees"]
    assert (shown["total_yen"], shown["above_ceiling"], shown["sending_organization_flagged_on"]) == (
        770_000,
        True,
        "2026-06-12",
    )

    # ... titp.accreditation.v1 has the declaration and the flag of the sending organization ...
    published = await read_topic_from(kafka_bootstrap, offsets, {second}, 2, timeout=30)
    cloud = [from_structured_event(KafkaMessage(headers=dict(m.headers), key=m.key, value=m.value)) for m in published]
    assert [e.get_type() for e in cloud] == [
        "titp.accreditation.TrainingPlanFeesDeclared.v1",
        "titp.accreditation.SendingOrganizationFeesFlagged.v1",
    ]
    flag = json.loads(d) if isinstance(d := cloud[1].get_data(), bytes | str) else d
    assert (flag["sending_organization_id"], flag["total_yen"], flag["ceiling_yen"], flag["flagged_on"]) == (
        partners.sending,
        770_000,
        700_000,
        "2026-06-12",
    )
    assert flag["declaration_id"] == above.json()["id"]

    # ... and the officers' worklist has the sending organization, with its fees.
    worklist = await statistics(flagged="true")
    assert worklist["where"] == {"from": "2026-10", "to": "2026-10", "flagged": "true"}
    flagged = group(worklist, partners.sending)
    assert flagged is not None, worklist
    assert flagged == {
        "key": partners.sending,
        "country": "VN",
        "plans": 2,
        "total_yen": 415_000 + 770_000,
        "mean_yen": 592_500,
        "max_yen": 770_000,
        "plans_above_ceiling": 1,
        "borrowed_yen": 300_000,
        "flagged_on": "2026-06-12",
    }
    assert group(await statistics(flagged="false"), partners.sending) is None

    # ... and the registry, from the event, lists it among the flagged sending organizations.
    async def flagged_in_registry() -> list | None:
        listed = await registry.get("/v1/sending-organizations", params={"flagged": "true"}, headers=officer)
        assert listed.status_code == 200, listed.text
        return [o["id"] for o in listed.json()["items"] if o["id"] == partners.sending] or None

    await eventually(flagged_in_registry, timeout=30, message="the registry never saw the flag")
    flags = await registry.get(f"/v1/sending-organizations/{partners.sending}/fee-flags", headers=auditor)
    assert flags.status_code == 200, flags.text
    assert flags.json() == {
        "sending_organization_id": partners.sending,
        "flags": [
            {"training_plan_id": second, "flagged_on": "2026-06-12", "total_yen": 770_000, "ceiling_yen": 700_000}
        ],
    }
    unflagged = await registry.get("/v1/sending-organizations", params={"flagged": "false"}, headers=officer)
    assert partners.sending not in [o["id"] for o in unflagged.json()["items"]]
    # The flags are the agency's: a supervising organization may read sending organizations, not their flags.
    assert (
        await registry.get("/v1/sending-organizations", params={"flagged": "true"}, headers=supervisor)
    ).status_code == 403
    assert (
        await registry.get(f"/v1/sending-organizations/{partners.sending}/fee-flags", headers=supervisor)
    ).status_code == 403
    assert group(await statistics(scheme="esd"), partners.sending) is None
    assert group(await statistics(**{"from": "2026-11", "to": "2026-12"}), partners.sending) is None

    # Check: by country, Viet Nam counts both plans.
    vietnam = group(await statistics(by="country"), "VN")
    assert vietnam is not None
    assert (vietnam["plans"] - vietnam_before["plans"], vietnam["total_yen"] - vietnam_before["total_yen"]) == (
        2,
        1_185_000,
    )
    assert vietnam["max_yen"] >= 770_000 and vietnam["country"] is None

    # Check: the statistics are the agency's: not the organizations'.
    assert (await accreditation.get(STATISTICS, headers=supervisor)).status_code == 403
    bad = await accreditation.get(STATISTICS, params={"from": "2026-12", "to": "2026-10"}, headers=officer)
    assert bad.status_code == 422, bad.text
