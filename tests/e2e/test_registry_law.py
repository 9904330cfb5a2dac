"""The registry's rules as the law has them (DOMAIN §11), over REST and Kafka against the real stack: a revoked or
expired permit ends its sending agreements; Art. 15 orders and Art. 16 revocations of plans are published from
accreditation's events; Art. 26 bars a revoked organization for 5 years, no longer; specified -> general (Art. 32);
what identifies an organization (corporate number, prefecture code); type (a) stability; suspension grounds."""

import uuid
from datetime import UTC, datetime

import pytest

from contracts.accreditation import EmployerImprovementOrderIssued, TrainingPlanRevoked, accreditation_events
from contracts.inspection import AdministrativeActionReferred, inspection_events
from contracts.registry import registry_events
from services.registry.app import create_app
from shared.events import GENESIS_HASH, RecordedEvent, chain_hash
from tests.helpers import (
    corporate_number,
    event_count,
    eventually,
    grant,
    implementing_registration,
    next_event,
    permit_application,
    post,
    publish,
    read_topic_from,
    registered_partners,
    sending_approval,
    topic_end_offsets,
)

SO = "/v1/supervising-organizations"
IO = "/v1/implementing-organizations"
SENDING = "/v1/sending-organizations"
PUBLIC = "/v1/public/administrative-actions"
WAIT = 30


@pytest.fixture
async def registry(fresh_database, service_settings, run_service):
    return await run_service(create_app(service_settings("registry", fresh_database, relay_poll_interval_s=0.2)))


async def agreement(client, id: str, officer) -> dict:
    return (await client.get(f"/v1/sending-agreements/{id}", headers=officer)).json()


async def test_a_revoked_permit_ends_its_sending_agreements(registry, token, kafka_bootstrap, fresh_database):
    offsets = await topic_end_offsets(kafka_bootstrap)
    officer = token("otit")
    partners = await registered_partners(registry, officer)
    manila = (await post(registry, SENDING, sending_approval(name="Manila Skills", country="PH"), officer, 201))["id"]
    second = (
        await post(
            registry,
            f"{SO}/{partners.supervising}/sending-agreements",
            {"sending_organization_id": manila, "signed_on": "2026-06-01"},
            officer,
            201,
        )
    )["id"]

    await post(
        registry,
        f"{SO}/{partners.supervising}/revoke",
        {"revoked_on": "2027-03-01", "ground": "law_breached", "reason": "wages unpaid"},
        officer,
    )

    # Check: both agreements ended the day of the revocation, reason permit_revoked, published on the topic.
    for id in (partners.agreement, second):
        shown = await agreement(registry, id, officer)
        assert (shown["status"], shown["ended_on"], shown["end_reason"]) == ("ended", "2027-03-01", "permit_revoked")
    ended = [
        m
        for m in await read_topic_from(kafka_bootstrap, offsets, {partners.agreement, second}, 4, timeout=WAIT)
        if ".SendingAgreementEnded." in m.value.decode()
    ]
    assert {RecordedEvent.from_json(m.value).data["reason"] for m in ended} == {"permit_revoked"}
    assert {m.key.decode() for m in ended} == {partners.agreement, second}
    # Check: no agreement can be signed under the revoked permit; the sending organizations stay approved.
    refused = await registry.post(
        f"{SO}/{partners.supervising}/sending-agreements",
        json={"sending_organization_id": manila, "signed_on": "2027-03-02"},
        headers=officer,
    )
    assert (refused.status_code, refused.json()["rule"]) == (409, "sending_agreement.permit_not_in_force")
    assert (await registry.get(f"{SENDING}/{manila}", headers=officer)).json()["status"] == "approved"


async def test_an_expired_permit_ends_its_sending_agreements(registry, token):
    officer = token("otit")
    partners = await registered_partners(registry, officer, permit_type="specified")  # its last day: 2029-04-30
    assert (await agreement(registry, partners.agreement, officer))["status"] == "in_force"

    swept = await post(registry, f"{SO}/expiries", {"as_of": "2029-04-30"}, officer)
    assert swept["expired"] == [] and (await agreement(registry, partners.agreement, officer))["status"] == "in_force"

    swept = await post(registry, f"{SO}/expiries", {"as_of": "2029-05-01"}, officer)
    assert swept["expired"] == [partners.supervising]
    shown = await agreement(registry, partners.agreement, officer)
    assert (shown["status"], shown["ended_on"], shown["end_reason"]) == ("ended", "2029-05-01", "permit_expired")
    history = (await registry.get(f"/v1/audit/streams/{partners.agreement}", headers=token("auditor"))).json()
    assert [e["type"] for e in history["events"]][-1] == "titp.registry.SendingAgreementEnded.v1"


def accreditation_event(type_name: str, subject: str, data: dict) -> RecordedEvent:
    """An event as accreditation publishes it (its stream's first), hashed."""
    draft = RecordedEvent(
        id=uuid.uuid4(),
        source=accreditation_events.source,
        type=f"titp.accreditation.{type_name}.v1",
        subject=subject,
        time=datetime.now(UTC),
        data=data,
        streamversion=1,
        position=1,
        prevhash=GENESIS_HASH,
        hash="",
        actor="officer-ono",
    )
    return RecordedEvent(**{**draft.__dict__, "hash": chain_hash(GENESIS_HASH, draft)})


async def test_art_15_orders_and_art_16_plan_revocations_are_published_with_the_employer_and_nothing_personal(
    start_service, token, kafka_bootstrap
):
    registry = await start_service("registry")
    officer = token("otit")
    partners = await registered_partners(registry, officer)  # the employer: Fuji Construction, Aichi ("23")
    employer = partners.implementing
    trainee, plan, other_plan = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    secret = "Nguyen Van A's passport was kept by the foreman"

    order_id = uuid.uuid4()
    order = accreditation_event(
        "EmployerImprovementOrderIssued",
        str(uuid.uuid5(uuid.NAMESPACE_URL, f"employer/{employer}")),
        EmployerImprovementOrderIssued(
            implementing_organization_id=employer,
            order_id=order_id,
            issued_on="2027-02-01",
            deadline="2027-04-30",
            reason=secret,
        ).model_dump(mode="json"),
    )

    def revoked(plan_id: uuid.UUID) -> RecordedEvent:
        payload = TrainingPlanRevoked(
            trainee_id=trainee,
            stage="i",
            training_type="b",
            job_category="construction",
            implementing_organization_id=employer,
            supervising_organization_id=partners.supervising,
            start_date="2026-07-01",
            end_date="2027-06-30",
            revoked_on="2027-05-10",
            reason=secret,
        )
        return accreditation_event("TrainingPlanRevoked", str(plan_id), payload.model_dump(mode="json"))

    unknown_employer = accreditation_event(
        "EmployerImprovementOrderIssued",
        str(uuid.uuid4()),
        {
            "implementing_organization_id": str(uuid.uuid4()),
            "order_id": str(uuid.uuid4()),
            "issued_on": "2027-02-01",
            "deadline": "2027-04-30",
            "reason": "x",
            "referral_id": None,
        },
    )
    first = revoked(plan)
    # Two plans of the employer revoked the same day (one decision on the employer), the first delivered twice.
    await publish(kafka_bootstrap, "titp.accreditation.v1", unknown_employer, order, first, revoked(other_plan), first)

    async def published():
        items = (await registry.get(PUBLIC, params={"prefecture": "Aichi"})).json()["items"]
        return items if {i["action"] for i in items} == {"employer_improvement_order", "plan_revocation"} else None

    items = await eventually(published, timeout=WAIT, message="accreditation's decisions were never published")
    assert [(i["action"], i["action_date"], i["legal_basis"], i["deadline"]) for i in items] == [
        ("plan_revocation", "2027-05-10", "Art. 16(1)", None),
        ("employer_improvement_order", "2027-02-01", "Art. 15", "2027-04-30"),
    ]
    for item in items:
        assert {k: item[k] for k in ("organization_id", "organization_type", "supervising_organization_id")} == {
            "organization_id": employer,
            "organization_type": "implementing_organization",
            "supervising_organization_id": None,
        }
        assert (item["name"], item["prefecture"], item["scheme"]) == ("Fuji Construction", "23", "titp")
    # Check: nothing of the trainee or the plans, nor what the officer wrote.
    everything = (await registry.get(PUBLIC, params={"format": "csv"})).text + str(items)
    for personal in (secret, str(trainee), str(plan), str(other_plan), str(order_id)):
        assert personal not in everything
    assert (await registry.get(PUBLIC, params={"action": "plan_revocation"})).json()["items"] == items[:1]


async def test_a_revoked_organization_gets_no_permit_for_5_years_then_may_apply(registry, token, fresh_database):
    officer = token("otit")
    number = corporate_number()
    body = permit_application(corporate_number=number, requested_permit_type="specified")
    revoked = (await post(registry, SO, body, officer, 201))["id"]
    await post(registry, f"{SO}/{revoked}/grant", grant("specified"), officer)
    await post(
        registry,
        f"{SO}/{revoked}/revoke",
        {"revoked_on": "2027-01-01", "ground": "wrongful_act", "reason": "false records"},
        officer,
    )
    before = await event_count(fresh_database)

    # Check: the same corporate number is refused through the 5 years' last day, by rule and field.
    again = await registry.post(SO, json={**body, "applied_on": "2032-01-01"}, headers=officer)
    assert again.status_code == 409, again.text
    assert (again.json()["rule"], again.json()["field"]) == ("permit.revoked_within_bar", "corporate_number")
    # Check: so is another organization with one of its officers (the same name and address).
    with_officer = permit_application(officers=body["officers"], applied_on="2031-06-01")
    refused = await registry.post(SO, json=with_officer, headers=officer)
    assert (refused.status_code, refused.json()["rule"], refused.json()["field"]) == (
        409,
        "permit.officer_disqualified",
        "officers",
    )
    assert await event_count(fresh_database) == before

    # Check: from the day after, it may apply again (not barred for ever), and be granted.
    anew = (await post(registry, SO, {**body, "applied_on": "2032-01-02"}, officer, 201))["id"]
    await post(registry, f"{SO}/{anew}/grant", grant("specified", "2032-02-01"), officer)
    assert (await registry.get(f"{SO}/{anew}", headers=officer)).json()["corporate_number"] == number


async def test_a_general_permit_needs_the_excellence_standard_and_specified_changes_to_general_under_art_32(
    registry, token, fresh_database
):
    officer = token("otit")
    id = (await post(registry, SO, permit_application(), officer, 201))["id"]
    before = await event_count(fresh_database, id)
    refused = await registry.post(
        f"{SO}/{id}/grant", json={"permit_type": "general", "granted_on": "2026-05-01"}, headers=officer
    )
    assert (refused.status_code, refused.json()["rule"], refused.json()["field"]) == (
        409,
        "permit.excellence_required",
        "meets_excellence_standard",
    )
    assert await event_count(fresh_database, id) == before
    await post(registry, f"{SO}/{id}/grant", grant("specified"), officer)  # its last day: 2029-04-30

    cooperative = token("supervising_org", org=id)
    await post(registry, f"{SO}/{id}/permit-type-changes", {"applied_on": "2027-04-01"}, cooperative)
    not_excellent = await registry.post(
        f"{SO}/{id}/permit-type-changes/grant",
        json={"changed_on": "2027-05-01", "meets_excellence_standard": False},
        headers=officer,
    )
    assert not_excellent.json()["rule"] == "permit.excellence_required"
    await post(
        registry,
        f"{SO}/{id}/permit-type-changes/grant",
        {"changed_on": "2027-05-01", "meets_excellence_standard": True},
        officer,
    )
    shown = (await registry.get(f"{SO}/{id}", headers=officer)).json()
    assert (shown["permit_type"], shown["expires_on"], shown["meets_excellence_standard"]) == (
        "general",
        "2029-04-30",
        True,
    )
    assert (shown["type_change"]["outcome"], shown["type_change"]["decided_on"]) == ("changed", "2027-05-01")
    history = (await registry.get(f"/v1/audit/streams/{id}", headers=token("auditor"))).json()["events"]
    assert [e["type"].split(".")[2] for e in history][-2:] == ["PermitTypeChangeApplied", "PermitTypeChanged"]

    # Check: the downgrade, ex officio, names Art. 37(2) in the event, the read model and the disclosure.
    await post(registry, f"{SO}/{id}/downgrade", {"effective_on": "2028-01-10"}, officer)
    shown = (await registry.get(f"{SO}/{id}", headers=officer)).json()
    assert (shown["permit_type"], shown["downgrade_legal_basis"]) == ("specified", "Art. 37(2)")
    history = (await registry.get(f"/v1/audit/streams/{id}", headers=token("auditor"))).json()["events"]
    assert history[-1]["data"]["legal_basis"] == "Art. 37(2)"
    [published] = (await registry.get(PUBLIC, params={"action": "downgrade"})).json()["items"]
    assert published["legal_basis"] == "Art. 37(2)"


async def test_a_suspension_records_its_ground_and_only_grounds_1_3_4_5(registry, token):
    officer = token("otit")
    id = (await post(registry, SO, permit_application(requested_permit_type="specified"), officer, 201))["id"]
    await post(registry, f"{SO}/{id}/grant", grant("specified"), officer)
    body = {"from_date": "2027-01-01", "until_date": "2027-01-31", "scope": "all", "reason": "x"}
    for ground, rule in ((None, "suspension.ground_required"), ("disqualified", "suspension.ground_not_allowed")):
        refused = await registry.post(f"{SO}/{id}/suspend", json={**body, "ground": ground}, headers=officer)
        assert (refused.status_code, refused.json()["rule"], refused.json()["field"]) == (409, rule, "ground")
    await post(registry, f"{SO}/{id}/suspend", {**body, "ground": "condition_breached"}, officer)
    shown = (await registry.get(f"{SO}/{id}", headers=officer)).json()
    assert [s["ground"] for s in shown["suspensions"]] == ["condition_breached"]


async def test_organizations_are_identified_by_a_valid_corporate_number_and_a_prefecture_code(
    registry, token, fresh_database
):
    officer = token("otit")
    before = await event_count(fresh_database)
    for body, rule, field in (
        (permit_application(corporate_number="0000000000000"), "corporate_number.check_digit", "corporate_number"),
        (permit_application(prefecture="Atlantis"), "prefecture.unknown", "prefecture"),
        (
            permit_application(officers=[{"name": "x", "address": "y"}]) | {"officers": []},
            "application.officers_required",
            "officers",
        ),
        (
            implementing_registration(training_type="a", corporate_number="0000000000000"),
            "corporate_number.check_digit",
            "corporate_number",
        ),
        (implementing_registration(training_type="a", prefecture="Atlantis"), "prefecture.unknown", "prefecture"),
    ):
        path = SO if "supervising_offices" in body else IO
        refused = await registry.post(path, json=body, headers=officer)
        assert (refused.status_code, refused.json()["rule"], refused.json()["field"]) == (409, rule, field), (
            refused.text
        )
    assert await event_count(fresh_database) == before

    # Check: "Tokyo", "東京都" and "13" are all Tokyo, recorded as "13"; a list filters by any of them.
    ids = [
        (await post(registry, SO, permit_application(prefecture=given), officer, 201))["id"]
        for given in ("Tokyo", "東京都", "13")
    ]
    osaka = (await post(registry, SO, permit_application(prefecture="Osaka"), officer, 201))["id"]
    for id in ids:
        assert (await registry.get(f"{SO}/{id}", headers=officer)).json()["prefecture"] == "13"
    for given in ("Tokyo", "東京都", "13"):
        items = (await registry.get(SO, headers=officer, params={"prefecture": given})).json()["items"]
        assert sorted(i["id"] for i in items) == sorted(ids) and osaka not in [i["id"] for i in items]
    bad = await registry.get(SO, headers=officer, params={"prefecture": "Atlantis"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.prefecture"
    stored = [e for e in await registry_stream(registry, token, ids[1])]
    assert stored[0]["data"]["application"]["prefecture"] == "13"


async def registry_stream(registry, token, id: str) -> list[dict]:
    return (await registry.get(f"/v1/audit/streams/{id}", headers=token("auditor"))).json()["events"]


async def test_a_type_a_employer_records_its_stability_recognition(registry, token):
    officer = token("otit")
    body = implementing_registration(training_type="a", prefecture="Hyogo")
    id = (await post(registry, IO, body, officer, 201))["id"]
    shown = (await registry.get(f"{IO}/{id}", headers=officer)).json()
    assert (shown["prefecture"], shown["stability_recognised"]) == ("28", False)

    await post(registry, f"{IO}/{id}/stability", {"recognised": True, "as_of": "2027-04-01"}, officer)
    shown = (await registry.get(f"{IO}/{id}", headers=officer)).json()
    assert (shown["stability_recognised"], shown["stability_recognised_as_of"]) == (True, "2027-04-01")
    events = await registry_stream(registry, token, id)
    assert events[-1]["type"] == registry_events.type_name(
        registry_events.model_of("titp.registry.StabilityRecognitionRecorded.v1")
    )
    assert [
        i["id"] for i in (await registry.get(IO, headers=officer, params={"prefecture": "兵庫県"})).json()["items"]
    ] == [id]

    supervisor = await registered_partners(registry, officer)
    refused = await registry.post(
        f"{IO}/{supervisor.implementing}/stability", json={"recognised": True, "as_of": "2027-04-01"}, headers=officer
    )
    assert (refused.status_code, refused.json()["rule"]) == (409, "stability.type_a_only")


async def test_a_suspension_referral_carries_its_ground_and_one_the_law_does_not_allow_is_not_applied(
    start_service, token, kafka_bootstrap
):
    registry = await start_service("registry")
    officer = token("otit")
    id = (await post(registry, SO, permit_application(requested_permit_type="specified"), officer, 201))["id"]
    await post(registry, f"{SO}/{id}/grant", grant("specified"), officer)

    def referral(ground: str, from_date: str) -> RecordedEvent:
        return next_event(
            inspection_events,
            uuid.uuid4(),
            AdministrativeActionReferred(
                referral_id=uuid.uuid4(),
                inspection_id=uuid.uuid4(),
                action="suspension",
                target_type="supervising_organization",
                target_id=id,
                decided_on=from_date,
                from_date=from_date,
                until_date=from_date[:8] + "28",
                scope="all",
                reason="x",
                ground=ground,
            ),
        )

    # Ground 2 (a disqualification ground) is not one Art. 37(3) allows: logged, not applied; the next is applied.
    await publish(
        kafka_bootstrap,
        "titp.inspection.v1",
        referral("disqualified", "2027-01-01"),
        referral("condition_breached", "2027-03-01"),
    )

    async def suspended():
        shown = (await registry.get(f"{SO}/{id}", headers=officer)).json()
        return shown["suspensions"] or None

    suspensions = await eventually(suspended, timeout=WAIT, message="the referral was never applied")
    assert [(s["from_date"], s["ground"]) for s in suspensions] == [("2027-03-01", "condition_breached")]
