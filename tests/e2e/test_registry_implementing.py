"""Implementing organizations over REST against the real stack: registration, staff counts, rating, who sees what."""

import asyncio
import uuid
from datetime import UTC, datetime

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from contracts.registry import registry_events
from services.registry.app import create_app
from shared.db import connect
from shared.store import EventStore
from tests.helpers import corporate_number, event_count, post, read_topic_from, topic_end_offsets
from tests.helpers import permit_application as application

BASE = "/v1/implementing-organizations"


@pytest.fixture
async def registry(fresh_database, service_settings, run_service):
    return await run_service(create_app(service_settings("registry", fresh_database, relay_poll_interval_s=0.5)))


def registration(**overrides):
    return {
        "name": "Kobe Precision Ltd",
        "corporate_number": corporate_number(),
        "address": "3-1 Minatojima, Kobe",
        "prefecture": "Hyogo",
        "industry": "machinery and metal",
        "training_type": "a",
        "full_time_staff": 45,
        "staff_as_of": "2026-04-01",
        "excellent": False,
        "registered_on": "2026-04-10",
        **overrides,
    }


async def permitted_supervising_organization(client, officer, **overrides):
    id = (await post(client, "/v1/supervising-organizations", application(**overrides), officer, 201))["id"]
    await post(
        client,
        f"/v1/supervising-organizations/{id}/grant",
        {"permit_type": "general", "granted_on": "2026-05-01", "meets_excellence_standard": True},
        officer,
    )
    return id


async def test_an_implementing_organization_is_registered_and_its_staff_and_rating_kept_over_time(
    registry, token, fresh_database, kafka_bootstrap
):
    offsets = await topic_end_offsets(kafka_bootstrap)
    officer = token("otit", subject="officer-mori")
    cooperative = await permitted_supervising_organization(registry, officer)

    # Check: a type b organization is registered under its supervising organization.
    created = await registry.post(
        BASE, json=registration(training_type="b", supervising_organization_id=cooperative), headers=officer
    )
    assert created.status_code == 201, created.text
    id = created.json()["id"]
    assert created.json()["version"] == 1
    assert created.headers["location"] == f"{BASE}/{id}"

    # Check: staff counts are kept as a history; the latest by date is the current one, even when an
    # older figure is reported late.
    await post(registry, f"{BASE}/{id}/staff", {"full_time_staff": 120, "as_of": "2026-10-01"}, officer)
    between = datetime.now(UTC)
    await post(registry, f"{BASE}/{id}/staff", {"full_time_staff": 60, "as_of": "2026-07-01"}, officer)
    rated = await post(registry, f"{BASE}/{id}/rating", {"excellent": True, "as_of": "2027-04-01"}, officer)
    assert rated == {"id": id, "version": 4}

    shown = await registry.get(f"{BASE}/{id}", headers=officer)
    assert shown.status_code == 200 and shown.headers["etag"] == '"4"'
    body = shown.json()
    assert (body["full_time_staff"], body["staff_as_of"], body["excellent"], body["excellent_as_of"]) == (
        120,
        "2026-10-01",
        True,
        "2027-04-01",
    )
    assert body["staff_history"] == [
        {"full_time_staff": 45, "as_of": "2026-04-01"},
        {"full_time_staff": 60, "as_of": "2026-07-01"},
        {"full_time_staff": 120, "as_of": "2026-10-01"},
    ]
    assert (body["training_type"], body["supervising_organization_id"]) == ("b", cooperative)

    # Check: as_of answers what was recorded by then, with the same document as the read model.
    then = (await registry.get(f"{BASE}/{id}", headers=officer, params={"as_of": between.isoformat()})).json()
    assert (then["version"], then["full_time_staff"], len(then["staff_history"]), then["excellent"]) == (
        2,
        120,
        2,
        False,
    )
    now = (await registry.get(f"{BASE}/{id}", headers=officer, params={"as_of": "2999-01-01"})).json()
    assert now == body
    before = await registry.get(f"{BASE}/{id}", headers=officer, params={"as_of": "2020-01-01"})
    assert before.status_code == 404

    # Check: every event is on titp.registry.v1, and each of its types parses with the CloudEvents SDK
    # from what the store holds and from what Kafka carries.
    conn = await connect(fresh_database)
    try:
        stored = await EventStore(registry_events).read_stream(conn, id)
    finally:
        await conn.close()
    assert [e.type for e in stored] == [
        "titp.registry.ImplementingOrganizationRegistered.v1",
        "titp.registry.StaffCountRecorded.v1",
        "titp.registry.StaffCountRecorded.v1",
        "titp.registry.ExcellenceRated.v1",
    ]
    for event in stored:
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
            id,
            event.data,
        )
        assert parsed.get_extension("actor") == "officer-mori"
        assert registry_events.parse(parsed.get_type(), parsed.get_data()) is not None
    published = await read_topic_from(kafka_bootstrap, offsets, {id}, 4)
    assert [
        from_structured_event(KafkaMessage(headers=dict(m.headers), key=m.key, value=m.value)).get_id()
        for m in published
    ] == [str(e.id) for e in stored]


async def test_refusals_and_bad_input_append_nothing(registry, token, fresh_database):
    officer = token("otit")
    number = corporate_number()
    cooperative = await permitted_supervising_organization(registry, officer, corporate_number=number)
    id = (await post(registry, BASE, registration(), officer, 201))["id"]
    before = await event_count(fresh_database)

    # Check: a type b registration under an unknown supervising organization is refused by name.
    unknown = await registry.post(
        BASE, json=registration(training_type="b", supervising_organization_id=str(uuid.uuid4())), headers=officer
    )
    assert unknown.status_code == 409
    assert unknown.headers["content-type"] == "application/problem+json"
    assert unknown.json()["rule"] == "implementing_organization.supervising_organization_unknown"

    # Check: the corporate number is unique across the registry, supervising organizations included.
    taken = await registry.post(BASE, json=registration(corporate_number=number), headers=officer)
    assert (taken.status_code, taken.json().get("rule")) == (409, "corporate_number.unique")

    # Check: bad input is a 422 naming the field.
    for body, field in [
        (registration(training_type="b"), "body.supervising_organization_id"),
        (registration(supervising_organization_id=cooperative), "body.supervising_organization_id"),
        (registration(corporate_number="12345"), "body.corporate_number"),
        (registration(full_time_staff=-1), "body.full_time_staff"),
        (registration(training_type="c"), "body.training_type"),
    ]:
        bad = await registry.post(BASE, json=body, headers=officer)
        assert bad.status_code == 422, bad.text
        assert field in [e["field"] for e in bad.json()["errors"]], bad.text
    bad_staff = await registry.post(f"{BASE}/{id}/staff", json={"full_time_staff": 10}, headers=officer)
    assert bad_staff.status_code == 422 and bad_staff.json()["errors"][0]["field"] == "body.as_of"

    # Check: unknown organizations are 404; organizations and auditors may not write (403).
    missing = await registry.post(
        f"{BASE}/{uuid.uuid4()}/staff", json={"full_time_staff": 10, "as_of": "2026-05-01"}, headers=officer
    )
    assert missing.status_code == 404
    for role, org in [("implementing_org", id), ("supervising_org", cooperative), ("auditor", None)]:
        refused = await registry.post(
            f"{BASE}/{id}/rating", json={"excellent": True, "as_of": "2026-05-01"}, headers=token(role, org=org)
        )
        assert refused.status_code == 403
    assert await event_count(fresh_database) == before


async def test_two_registrations_with_one_corporate_number_end_with_exactly_one_accepted(
    registry, token, fresh_database
):
    officer = token("otit")
    number = corporate_number()
    answers = await asyncio.gather(
        *(
            registry.post(BASE, json=registration(corporate_number=number, name=name), headers=officer)
            for name in ("Kobe Precision Ltd", "Kobe Precision Co")
        )
    )
    assert sorted(a.status_code for a in answers) == [201, 409]
    [refused] = [a for a in answers if a.status_code == 409]
    assert refused.json()["rule"] == "corporate_number.unique"
    assert await event_count(fresh_database) == 1
    listed = (await registry.get(BASE, headers=officer)).json()["items"]
    assert [item["corporate_number"] for item in listed] == [number]


async def test_each_organization_sees_only_its_own_records(registry, token):
    officer = token("otit")
    north = await permitted_supervising_organization(registry, officer)
    south = await permitted_supervising_organization(registry, officer)
    ids = {}
    for name, overrides in [
        ("north-1", {"supervising_organization_id": north, "prefecture": "Hokkaido"}),
        ("north-2", {"supervising_organization_id": north, "excellent": True}),
        ("south-1", {"supervising_organization_id": south}),
        ("sponsor", {"training_type": "a"}),
    ]:
        body = (
            registration(name=name, training_type="b", **overrides)
            if overrides.get("supervising_organization_id")
            else registration(name=name)
        )
        ids[name] = (await post(registry, BASE, body, officer, 201))["id"]

    async def names(headers, **filters):
        found, cursor = [], None
        while True:
            page = await registry.get(
                BASE, headers=headers, params={**filters, "limit": 1, **({"cursor": cursor} if cursor else {})}
            )
            assert page.status_code == 200, page.text
            found += [item["name"] for item in page.json()["items"]]
            if not (cursor := page.json()["next_cursor"]):
                return sorted(found)

    # Check: officers and auditors see all, filtered, a page at a time.
    assert await names(officer) == ["north-1", "north-2", "south-1", "sponsor"]
    assert await names(token("auditor")) == ["north-1", "north-2", "south-1", "sponsor"]
    assert await names(officer, supervising_organization_id=north) == ["north-1", "north-2"]
    assert await names(officer, prefecture="Hokkaido") == ["north-1"]
    assert await names(officer, training_type="a") == ["sponsor"]
    assert await names(officer, excellent="true") == ["north-2"]

    # Check: a supervising organization sees the implementing organizations under it, and no others.
    north_token = token("supervising_org", org=north)
    assert await names(north_token) == ["north-1", "north-2"]
    assert await names(north_token, supervising_organization_id=south) == []
    assert (await registry.get(f"{BASE}/{ids['north-1']}", headers=north_token)).status_code == 200
    assert (await registry.get(f"{BASE}/{ids['south-1']}", headers=north_token)).status_code == 404

    # Check: an implementing organization sees itself only; another's record is a 404, never its data.
    itself = token("implementing_org", org=ids["south-1"])
    assert await names(itself) == ["south-1"]
    assert (await registry.get(f"{BASE}/{ids['south-1']}", headers=itself)).status_code == 200
    other = await registry.get(f"{BASE}/{ids['sponsor']}", headers=itself)
    assert other.status_code == 404 and "name" not in other.json()
    assert (await registry.get(BASE, headers=token("immigration"))).status_code == 403
