"""Sending organizations and sending agreements over REST against the real stack."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from contracts.registry import registry_events
from services.registry.app import RegistrySettings, create_app
from shared.db import connect
from shared.store import POSITION_BITS, EventStore
from tests.helpers import permit_application as application
from tests.helpers import post, read_topic_from, sending_approval, topic_end_offsets

SENDING = "/v1/sending-organizations"


@pytest.fixture
async def registry(fresh_database, service_settings, run_service):
    return await run_service(create_app(service_settings("registry", fresh_database, relay_poll_interval_s=0.5)))


def approval(**overrides):
    return sending_approval(**overrides)


async def supervising_organization(client, officer, granted_on="2026-05-01"):
    id = (await post(client, "/v1/supervising-organizations", application(), officer, 201))["id"]
    if granted_on:
        await post(
            client,
            f"/v1/supervising-organizations/{id}/grant",
            {"permit_type": "specified", "granted_on": granted_on},
            officer,
        )
    return id


def agreements(cooperative):
    return f"/v1/supervising-organizations/{cooperative}/sending-agreements"


async def stored_events(dsn):
    """Every stream's events. (Not read_all: it stops short of transactions still open anywhere in the cluster.)"""
    store = EventStore(registry_events)
    conn = await connect(dsn)
    try:
        return [e for stream in await store.stream_ids(conn) for e in await store.read_stream(conn, stream)]
    finally:
        await conn.close()


async def test_withdrawing_a_sending_organization_ends_its_agreements_in_the_same_transaction(
    registry, token, fresh_database, kafka_bootstrap
):
    offsets = await topic_end_offsets(kafka_bootstrap)
    officer = token("otit", subject="officer-abe")
    cooperative = await supervising_organization(registry, officer)
    hanoi = (await post(registry, SENDING, approval(), officer, 201))["id"]
    manila = (await post(registry, SENDING, approval(name="Manila Skills Inc", country="PH"), officer, 201))["id"]

    # Check: agreements with both are registered while the permit is in force.
    signed = await registry.post(
        agreements(cooperative), json={"sending_organization_id": hanoi, "signed_on": "2026-06-01"}, headers=officer
    )
    assert signed.status_code == 201, signed.text
    with_hanoi = signed.json()["id"]
    assert signed.headers["location"] == f"/v1/sending-agreements/{with_hanoi}"
    with_manila = (
        await post(
            registry,
            agreements(cooperative),
            {"sending_organization_id": manila, "signed_on": "2026-06-15"},
            officer,
            201,
        )
    )["id"]
    shown = (await registry.get(f"/v1/sending-agreements/{with_hanoi}", headers=officer)).json()
    assert (
        shown["supervising_organization_id"],
        shown["sending_organization_id"],
        shown["signed_on"],
        shown["status"],
    ) == (cooperative, hanoi, "2026-06-01", "in_force")
    before_withdrawal = datetime.now(UTC)

    # Check: withdrawing Hanoi's approval ends its agreement, not Manila's.
    withdrawn = await post(
        registry,
        f"{SENDING}/{hanoi}/withdraw",
        {"reason": "approval cancelled by DOLAB", "withdrawn_on": "2026-09-30"},
        officer,
    )
    assert withdrawn == {"id": hanoi, "version": 2}
    organization = (await registry.get(f"{SENDING}/{hanoi}", headers=officer)).json()
    assert (organization["status"], organization["withdrawn_on"]) == ("withdrawn", "2026-09-30")
    listed = (await registry.get(agreements(cooperative), headers=officer)).json()["items"]
    assert {a["id"]: (a["status"], a["ended_on"]) for a in listed} == {
        with_hanoi: ("ended", "2026-09-30"),
        with_manila: ("in_force", None),
    }
    assert [
        a["id"]
        for a in (await registry.get(agreements(cooperative), headers=officer, params={"status": "in_force"})).json()[
            "items"
        ]
    ] == [with_manila]

    # Check: the withdrawal and the end of the agreement were appended by one transaction.
    events = await stored_events(fresh_database)
    [withdrawal] = [e for e in events if e.type == "titp.registry.SendingOrganizationWithdrawn.v1"]
    [end] = [e for e in events if e.type == "titp.registry.SendingAgreementEnded.v1"]
    assert end.subject == with_hanoi and end.data["ended_on"] == "2026-09-30"
    assert withdrawal.position >> POSITION_BITS == end.position >> POSITION_BITS

    # Check: as_of shows the sending organization and the agreement as recorded before the withdrawal.
    as_of = {"as_of": before_withdrawal.isoformat()}
    assert (await registry.get(f"{SENDING}/{hanoi}", headers=officer, params=as_of)).json()["status"] == "approved"
    then = (await registry.get(f"/v1/sending-agreements/{with_hanoi}", headers=officer, params=as_of)).json()
    assert then == shown

    # Check: each of the sending event types parses with the CloudEvents SDK, from the store and from Kafka.
    mine = [e for e in events if e.type.startswith("titp.registry.Sending")]
    assert sorted({e.type for e in mine}) == [
        "titp.registry.SendingAgreementEnded.v1",
        "titp.registry.SendingAgreementSigned.v1",
        "titp.registry.SendingOrganizationApproved.v1",
        "titp.registry.SendingOrganizationWithdrawn.v1",
    ]
    for event in mine:
        parsed = from_structured_event(
            KafkaMessage(
                headers={"content-type": b"application/cloudevents+json"},
                key=event.subject.encode(),
                value=event.to_json(),
            )
        )
        assert (parsed.get_id(), parsed.get_type(), parsed.get_subject(), parsed.get_data()) == (
            str(event.id),
            event.type,
            event.subject,
            event.data,
        )
        assert parsed.get_extension("hash") == event.hash
        assert registry_events.parse(parsed.get_type(), parsed.get_data()) is not None
    published = await read_topic_from(kafka_bootstrap, offsets, {e.subject for e in mine}, len(mine))
    assert sorted(
        from_structured_event(KafkaMessage(headers=dict(m.headers), key=m.key, value=m.value)).get_id()
        for m in published
    ) == sorted(str(e.id) for e in mine)


async def test_refusals_name_their_rule_and_append_nothing(registry, token, fresh_database):
    officer = token("otit")
    cooperative = await supervising_organization(registry, officer, granted_on="2026-05-01")
    pending = await supervising_organization(registry, officer, granted_on=None)
    hanoi = (await post(registry, SENDING, approval(), officer, 201))["id"]
    withdrawn = (await post(registry, SENDING, approval(name="Old Agency"), officer, 201))["id"]
    await post(registry, f"{SENDING}/{withdrawn}/withdraw", {"reason": "closed", "withdrawn_on": "2026-03-01"}, officer)
    await post(
        registry, agreements(cooperative), {"sending_organization_id": hanoi, "signed_on": "2026-06-01"}, officer, 201
    )
    await post(
        registry,
        f"/v1/supervising-organizations/{cooperative}/suspend",
        {
            "from_date": "2026-07-01",
            "until_date": "2026-07-31",
            "scope": "all",
            "reason": "Art. 37(3)",
            "ground": "law_breached",
        },
        officer,
    )
    count = len(await stored_events(fresh_database))

    refusals = [
        (SENDING, approval(recommendation_reference=None), "sending_organization.recommendation_required"),
        (SENDING, approval(approval_reference=None), "sending_organization.approval_required"),
        (
            f"{SENDING}/{withdrawn}/withdraw",
            {"reason": "again", "withdrawn_on": "2026-04-01"},
            "sending_organization.already_withdrawn",
        ),
        (
            f"{SENDING}/{hanoi}/withdraw",
            {"reason": "typo", "withdrawn_on": "2026-01-01"},
            "sending_organization.withdrawn_before_approval",
        ),
        (
            agreements(pending),
            {"sending_organization_id": hanoi, "signed_on": "2026-06-01"},
            "sending_agreement.permit_not_in_force",
        ),
        (
            agreements(cooperative),
            {"sending_organization_id": hanoi, "signed_on": "2026-04-30"},
            "sending_agreement.permit_not_in_force",
        ),
        (
            agreements(cooperative),
            {"sending_organization_id": hanoi, "signed_on": "2026-07-15"},
            "sending_agreement.permit_not_in_force",
        ),
        (
            agreements(cooperative),
            {"sending_organization_id": str(uuid.uuid4()), "signed_on": "2026-06-01"},
            "sending_agreement.sending_organization_not_approved",
        ),
        (
            agreements(cooperative),
            {"sending_organization_id": withdrawn, "signed_on": "2026-06-01"},
            "sending_agreement.sending_organization_withdrawn",
        ),
        (
            agreements(cooperative),
            {"sending_organization_id": hanoi, "signed_on": "2026-08-01"},
            "sending_agreement.already_in_force",
        ),
    ]
    for path, body, rule in refusals:
        refused = await registry.post(path, json=body, headers=officer)
        assert refused.status_code == 409, (rule, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["rule"] == rule

    for body, field in [
        (approval(country="vn"), "body.country"),
        (approval(approved_on="soon"), "body.approved_on"),
        (approval(approval_reference=""), "body.approval_reference"),
    ]:
        bad = await registry.post(SENDING, json=body, headers=officer)
        assert bad.status_code == 422 and [e["field"] for e in bad.json()["errors"]] == [field], bad.text
    assert (
        await registry.post(f"{SENDING}/{hanoi}/withdraw", json={"withdrawn_on": "2026-09-01"}, headers=officer)
    ).status_code == 422
    assert (
        await registry.post(
            f"{SENDING}/{uuid.uuid4()}/withdraw", json={"reason": "x", "withdrawn_on": "2026-09-01"}, headers=officer
        )
    ).status_code == 404
    assert (
        await registry.post(
            agreements(uuid.uuid4()),
            json={"sending_organization_id": hanoi, "signed_on": "2026-06-01"},
            headers=officer,
        )
    ).status_code == 404
    assert (
        await registry.post(SENDING, json=approval(), headers=token("supervising_org", org=cooperative))
    ).status_code == 403
    assert len(await stored_events(fresh_database)) == count


async def test_a_supervising_organization_reads_its_own_agreements_only(registry, token):
    officer = token("otit")
    mine, theirs = [await supervising_organization(registry, officer) for _ in range(2)]
    hanoi = (await post(registry, SENDING, approval(), officer, 201))["id"]
    own = (
        await post(
            registry, agreements(mine), {"sending_organization_id": hanoi, "signed_on": "2026-06-01"}, officer, 201
        )
    )["id"]
    other = (
        await post(
            registry, agreements(theirs), {"sending_organization_id": hanoi, "signed_on": "2026-06-01"}, officer, 201
        )
    )["id"]
    me = token("supervising_org", org=mine)
    assert [a["id"] for a in (await registry.get(agreements(mine), headers=me)).json()["items"]] == [own]
    assert (await registry.get(f"/v1/sending-agreements/{own}", headers=me)).status_code == 200
    assert (await registry.get(agreements(theirs), headers=me)).status_code == 404
    assert (await registry.get(f"/v1/sending-agreements/{other}", headers=me)).status_code == 404
    # The approved sending organizations are what a supervising organization chooses from.
    assert [s["id"] for s in (await registry.get(SENDING, headers=me, params={"country": "VN"})).json()["items"]] == [
        hanoi
    ]
    assert (await registry.get(SENDING, headers=token("implementing_org", org=str(uuid.uuid4())))).status_code == 403


async def test_a_signing_racing_a_withdrawal_never_leaves_an_agreement_in_force(registry, token, fresh_database):
    officer = token("otit")
    cooperatives = [await supervising_organization(registry, officer) for _ in range(4)]
    for _ in range(3):
        hanoi = (await post(registry, SENDING, approval(), officer, 201))["id"]
        answers = await asyncio.gather(
            *(
                registry.post(
                    agreements(c), json={"sending_organization_id": hanoi, "signed_on": "2026-06-01"}, headers=officer
                )
                for c in cooperatives
            ),
            registry.post(
                f"{SENDING}/{hanoi}/withdraw",
                json={"reason": "cancelled", "withdrawn_on": "2026-09-01"},
                headers=officer,
            ),
        )
        assert answers[-1].status_code == 200, answers[-1].text
        assert {a.status_code for a in answers[:-1]} <= {201, 409}
        assert all(
            a.json()["rule"] == "sending_agreement.sending_organization_withdrawn"
            for a in answers[:-1]
            if a.status_code == 409
        )
        conn = await connect(fresh_database)
        try:
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM sending_agreements WHERE sending_organization_id = $1"
                    " AND status = 'in_force'",
                    uuid.UUID(hanoi),
                )
                == 0
            )
        finally:
            await conn.close()


async def test_the_moc_list_is_configurable(fresh_database, service_settings, run_service, token):
    registry = await run_service(
        create_app(service_settings("registry", fresh_database), RegistrySettings(moc_countries="VN,KH"))
    )
    officer = token("otit")
    # Check: an MoC country listed needs its government's certification; one not listed only the recommendation.
    refused = await registry.post(SENDING, json=approval(country="KH", approval_reference=None), headers=officer)
    assert (refused.status_code, refused.json()["rule"]) == (409, "sending_organization.approval_required")
    assert refused.json()["field"] == "approval_reference"
    assert (
        await registry.post(SENDING, json=approval(country="PH", approval_reference=None), headers=officer)
    ).status_code == 201


async def test_a_sending_organization_from_a_country_without_an_moc_is_approved_with_a_recommendation(
    registry, token, fresh_database
):
    officer = token("otit")
    china = approval(name="Dalian Overseas Co", country="CN", approval_reference=None)
    created = await post(registry, SENDING, china, officer, 201)
    shown = (await registry.get(f"{SENDING}/{created['id']}", headers=officer)).json()
    assert (shown["country"], shown["approval_reference"], shown["recommendation_reference"], shown["status"]) == (
        "CN",
        None,
        "MOLISA-REC-2026-0042",
        "approved",
    )
    # Check: without the recommendation it is refused, by the rule, naming the field, and nothing is recorded.
    before = len(await stored_events(fresh_database))
    refused = await registry.post(SENDING, json={**china, "recommendation_reference": None}, headers=officer)
    assert (refused.status_code, refused.json()["rule"], refused.json()["field"]) == (
        409,
        "sending_organization.recommendation_required",
        "recommendation_reference",
    )
    assert len(await stored_events(fresh_database)) == before
