"""A supervising organization's permit through its whole life, over REST against the real stack."""

import asyncio

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from contracts.registry import registry_events
from shared.db import connect
from tests.helpers import corporate_number, event_count, post
from tests.helpers import permit_application as application


@pytest.fixture
async def registry(fresh_database, service_settings, run_service):
    from services.registry.app import create_app

    return await run_service(create_app(service_settings("registry", fresh_database)))


async def test_a_permit_lives_from_grant_to_revocation(registry, token, fresh_database):
    officer = token("otit", subject="officer-ito")
    base = "/v1/supervising-organizations"
    id = (await post(registry, base, application(), officer, 201))["id"]
    await post(
        registry,
        f"{base}/{id}/grant",
        {"permit_type": "general", "granted_on": "2026-05-01", "meets_excellence_standard": True},
        officer,
    )

    # Improvement order, then closed.
    order = await post(
        registry,
        f"{base}/{id}/improvement-orders",
        {"issued_on": "2027-01-10", "deadline": "2027-03-31", "reason": "supervision logs missing"},
        officer,
    )
    assert order["version"] == 3
    shown = (await registry.get(f"{base}/{id}", headers=officer, params={"as_of": "2027-02-01"})).json()
    assert shown["status"] == "improvement_ordered"
    [issued] = shown["improvement_orders"]
    await post(
        registry, f"{base}/{id}/improvement-orders/{issued['order_id']}/close", {"closed_on": "2027-03-01"}, officer
    )

    # Suspension of part of the business for three months.
    await post(
        registry,
        f"{base}/{id}/suspend",
        {
            "from_date": "2027-06-01",
            "until_date": "2027-08-31",
            "scope": "part",
            "part": "accepting new trainees",
            "reason": "Art. 37(3) order",
            "ground": "condition_breached",
        },
        officer,
    )
    during = (await registry.get(f"{base}/{id}", headers=officer, params={"as_of": "2027-07-01"})).json()
    after = (await registry.get(f"{base}/{id}", headers=officer, params={"as_of": "2027-09-01"})).json()
    assert (during["status"], after["status"]) == ("suspended", "active")

    # Renewal with an excellent record: 7 more years from the day after the old expiry.
    await post(
        registry,
        f"{base}/{id}/renew",
        {"renewed_on": "2030-12-01", "applied_on": "2030-11-01", "excellent_record": True},
        officer,
    )
    # Downgrade to specified when excellence is lost.
    await post(registry, f"{base}/{id}/downgrade", {"effective_on": "2032-01-01"}, officer)
    current = (await registry.get(f"{base}/{id}", headers=officer)).json()
    assert (current["permit_type"], current["valid_from"], current["expires_on"]) == (
        "specified",
        "2031-05-01",
        "2038-04-30",
    )

    # Revocation on ground 4; it is final.
    revoked = await post(
        registry,
        f"{base}/{id}/revoke",
        {"revoked_on": "2032-06-01", "ground": "law_breached", "reason": "unpaid wages"},
        officer,
    )
    before = await event_count(fresh_database, id)
    assert before == revoked["version"] == 8
    again = await registry.post(
        f"{base}/{id}/suspend",
        headers=officer,
        json={
            "from_date": "2032-07-01",
            "until_date": "2032-08-01",
            "scope": "all",
            "reason": "x",
            "ground": "law_breached",
        },
    )
    assert again.status_code == 409 and again.json()["rule"] == "permit.revoked"
    assert again.headers["content-type"] == "application/problem+json"
    assert await event_count(fresh_database, id) == before

    # Check: as of a past date the state then is answered, not today's.
    past = await registry.get(f"{base}/{id}", headers=officer, params={"as_of": "2000-01-01"})
    assert past.status_code == 404
    history = await registry.get(f"/v1/audit/streams/{id}", headers=token("auditor"))
    assert [e["type"].split(".")[2] for e in history.json()["events"]] == [
        "PermitApplied",
        "PermitGranted",
        "ImprovementOrderIssued",
        "ImprovementOrderClosed",
        "BusinessSuspended",
        "PermitRenewed",
        "PermitDowngraded",
        "PermitRevoked",
    ]
    assert history.json()["chain"] == "ok"
    assert all(e["actor"] == "officer-ito" for e in history.json()["events"])


async def test_expiry_by_date(registry, token, fresh_database):
    officer = token("otit")
    base = "/v1/supervising-organizations"
    id = (await post(registry, base, application(), officer, 201))["id"]
    await post(registry, f"{base}/{id}/grant", {"permit_type": "specified", "granted_on": "2026-05-01"}, officer)

    # Check: as_of after the last day shows the permit expired, even before the expiry is recorded.
    on_last_day = (await registry.get(f"{base}/{id}", headers=officer, params={"as_of": "2029-04-30"})).json()
    after = (await registry.get(f"{base}/{id}", headers=officer, params={"as_of": "2029-05-01"})).json()
    assert (on_last_day["status"], after["status"]) == ("active", "expired")

    swept = await post(registry, f"{base}/expiries", {"as_of": "2029-04-30"}, officer)
    assert swept["expired"] == []
    swept = await post(registry, f"{base}/expiries", {"as_of": "2029-05-01"}, officer)
    assert swept["expired"] == [id]
    assert (await post(registry, f"{base}/expiries", {"as_of": "2029-06-01"}, officer))["expired"] == []

    listed = (await registry.get(base, headers=officer, params={"status": "expired"})).json()
    assert [item["id"] for item in listed["items"]] == [id]
    refused = await registry.post(
        f"{base}/{id}/renew", headers=officer, json={"renewed_on": "2029-06-01", "excellent_record": True}
    )
    assert refused.status_code == 409 and refused.json()["rule"] == "renewal.permit_expired"

    # Check: once expired, the corporate number is free for a new application.
    again = await registry.post(base, headers=officer, json=application(corporate_number=after["corporate_number"]))
    assert again.status_code == 201


async def test_one_corporate_number_two_applications_at_the_same_instant(registry, token, fresh_database):
    officer = token("otit")
    body = application(corporate_number=corporate_number())
    results = await asyncio.gather(
        *(registry.post("/v1/supervising-organizations", json=body, headers=officer) for _ in range(4))
    )
    assert sorted(r.status_code for r in results) == [201, 409, 409, 409]
    assert {r.json()["rule"] for r in results if r.status_code == 409} == {"corporate_number.unique"}
    assert await event_count(fresh_database) == 1

    # Check: a denied applicant's number can be used again.
    [accepted] = [r.json()["id"] for r in results if r.status_code == 201]
    await post(registry, f"/v1/supervising-organizations/{accepted}/deny", {"reason": "incomplete"}, officer)
    again = await registry.post("/v1/supervising-organizations", json=body, headers=officer)
    assert again.status_code == 201


async def test_lists_filter_and_page_with_a_cursor(registry, token):
    officer = token("otit")
    base = "/v1/supervising-organizations"
    ids = []
    for prefecture in ["Aichi", "Aichi", "Aichi", "Osaka"]:
        id = (await post(registry, base, application(prefecture=prefecture), officer, 201))["id"]
        ids.append(id)
    await post(
        registry,
        f"{base}/{ids[0]}/grant",
        {"permit_type": "general", "granted_on": "2026-05-01", "meets_excellence_standard": True},
        officer,
    )

    seen, cursor = [], None
    while True:
        page = (
            await registry.get(
                base,
                headers=officer,
                params={"prefecture": "Aichi", "limit": 2, **({"cursor": cursor} if cursor else {})},
            )
        ).json()
        seen += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert sorted(seen) == sorted(ids[:3]) and len(seen) == 3
    active = (await registry.get(base, headers=officer, params={"status": "active"})).json()["items"]
    assert [item["id"] for item in active] == [ids[0]]
    general = (await registry.get(base, headers=officer, params={"permit_type": "general"})).json()["items"]
    assert [item["id"] for item in general] == [ids[0]]

    # Check: a supervising organization sees only itself.
    own = token("supervising_org", org=ids[3])
    assert [i["id"] for i in (await registry.get(base, headers=own)).json()["items"]] == [ids[3]]
    assert (await registry.get(f"{base}/{ids[0]}", headers=own)).status_code == 404
    bad = await registry.get(base, headers=officer, params={"cursor": "not-a-cursor"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "query.cursor"


async def test_every_supervising_organization_event_is_a_cloudevent_the_sdk_reads(registry, token, fresh_database):
    officer = token("otit")
    base = "/v1/supervising-organizations"
    id = (await post(registry, base, application(), officer, 201))["id"]
    await post(
        registry,
        f"{base}/{id}/grant",
        {"permit_type": "general", "granted_on": "2026-05-01", "meets_excellence_standard": True},
        officer,
    )
    order = await post(
        registry,
        f"{base}/{id}/improvement-orders",
        {"issued_on": "2027-01-10", "deadline": "2027-03-31", "reason": "x"},
        officer,
    )
    state = (await registry.get(f"{base}/{id}", headers=officer)).json()
    await post(
        registry,
        f"{base}/{id}/improvement-orders/{state['improvement_orders'][0]['order_id']}/close",
        {"closed_on": "2027-02-01"},
        officer,
    )
    await post(
        registry,
        f"{base}/{id}/suspend",
        {
            "from_date": "2027-06-01",
            "until_date": "2027-06-30",
            "scope": "all",
            "reason": "x",
            "ground": "law_breached",
        },
        officer,
    )
    await post(registry, f"{base}/{id}/renew", {"renewed_on": "2030-12-01", "excellent_record": False}, officer)
    await post(registry, f"{base}/{id}/downgrade", {"effective_on": "2032-01-01"}, officer)
    await post(
        registry, f"{base}/{id}/revoke", {"revoked_on": "2032-02-01", "ground": "wrongful_act", "reason": "x"}, officer
    )
    denied = (await post(registry, base, application(), officer, 201))["id"]
    await post(registry, f"{base}/{denied}/deny", {"reason": "x"}, officer)
    expiring = (await post(registry, base, application(applied_on="2019-12-01"), officer, 201))["id"]
    await post(registry, f"{base}/{expiring}/grant", {"permit_type": "specified", "granted_on": "2020-01-01"}, officer)
    assert (await post(registry, f"{base}/expiries", {"as_of": "2026-01-01"}, officer))["expired"] == [expiring]
    assert order["version"] == 3

    conn = await connect(fresh_database)
    try:
        from shared.store import EventStore

        store = EventStore(registry_events)
        events = [e for stream in await store.stream_ids(conn) for e in await store.read_stream(conn, stream)]
    finally:
        await conn.close()
    types = set()
    for event in events:
        parsed = from_structured_event(KafkaMessage(headers={}, key=event.subject.encode(), value=event.to_json()))
        assert parsed.get_id() == str(event.id) and parsed.get_data() == event.data
        # Check: the payload parses back into its registered model.
        registry_events.parse(parsed.get_type(), parsed.get_data())
        types.add(parsed.get_type().split(".")[2])
    assert types >= {
        "PermitApplied",
        "PermitGranted",
        "PermitDenied",
        "PermitRenewed",
        "PermitDowngraded",
        "ImprovementOrderIssued",
        "ImprovementOrderClosed",
        "BusinessSuspended",
        "PermitRevoked",
        "PermitExpired",
    }
