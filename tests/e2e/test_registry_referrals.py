"""The registry applies an inspection's referral from titp.inspection.v1, once."""

import uuid
from datetime import UTC, datetime

from aiokafka import AIOKafkaProducer

from contracts.inspection import AdministrativeActionReferred, inspection_events
from shared.events import GENESIS_HASH, RecordedEvent, chain_hash
from shared.kafka import client_options
from shared.topics import ensure_topics
from tests.helpers import eventually, post
from tests.helpers import permit_application as application


def referral_event(referral: AdministrativeActionReferred) -> RecordedEvent:
    """The event as the inspection service publishes it (until that service exists, the test sends it)."""
    draft = RecordedEvent(
        id=uuid.uuid4(),
        source=inspection_events.source,
        type=inspection_events.type_name(referral),
        subject=str(referral.inspection_id),
        time=datetime.now(UTC),
        data=referral.model_dump(mode="json"),
        streamversion=1,
        position=1,
        prevhash=GENESIS_HASH,
        hash="",
        actor="inspector-kato",
    )
    return RecordedEvent(**{**draft.__dict__, "hash": chain_hash(GENESIS_HASH, draft)})


async def test_a_revocation_referral_revokes_the_permit_once(start_service, token, kafka_bootstrap):
    registry = await start_service("registry")
    officer = token("otit")
    base = "/v1/supervising-organizations"
    id = (await post(registry, base, application(), officer, 201))["id"]
    await post(
        registry,
        f"{base}/{id}/grant",
        {"permit_type": "general", "granted_on": "2026-05-01", "meets_excellence_standard": True},
        officer,
    )

    order = referral_event(
        AdministrativeActionReferred(
            referral_id=uuid.uuid4(),
            inspection_id=uuid.uuid4(),
            action="improvement_order",
            target_type="supervising_organization",
            target_id=id,
            decided_on="2027-02-01",
            reason="no logs",
            deadline="2027-05-01",
        )
    )
    revocation = referral_event(
        AdministrativeActionReferred(
            referral_id=uuid.uuid4(),
            inspection_id=uuid.uuid4(),
            action="permit_revocation",
            target_type="supervising_organization",
            target_id=id,
            decided_on="2027-06-01",
            reason="passports kept",
            ground="law_breached",
        )
    )
    await ensure_topics(kafka_bootstrap, ["titp.inspection.v1"])
    producer = AIOKafkaProducer(**client_options(kafka_bootstrap))

    async def ordered():
        body = (await registry.get(f"{base}/{id}", headers=officer)).json()
        return body if body["improvement_orders"] else None

    await producer.start()
    try:
        # Two inspections are two streams, keyed apart onto partitions with no order between them: the
        # revocation (months later in real life) is sent once the order has been applied.
        await producer.send_and_wait("titp.inspection.v1", order.to_json(), key=order.subject.encode())
        await eventually(ordered, timeout=30, message="the referral never ordered an improvement")
        for event in (revocation, revocation):  # the revocation delivered twice
            await producer.send_and_wait("titp.inspection.v1", event.to_json(), key=event.subject.encode())
    finally:
        await producer.stop()

    async def revoked():
        body = (await registry.get(f"{base}/{id}", headers=officer)).json()
        return body if body["lifecycle"] == "revoked" else None

    body = await eventually(revoked, timeout=30, message="the referral never revoked the permit")
    assert body["revocation"]["ground"] == "law_breached"
    assert [o["deadline"] for o in body["improvement_orders"]] == ["2027-05-01"]
    history = (await registry.get(f"/v1/audit/streams/{id}", headers=token("auditor"))).json()["events"]
    assert [e["type"].split(".")[2] for e in history] == [
        "PermitApplied",
        "PermitGranted",
        "ImprovementOrderIssued",
        "PermitRevoked",
    ]
    # Check: each effect names the referral that caused it.
    assert history[2]["causationid"] == str(order.id) and history[3]["causationid"] == str(revocation.id)
