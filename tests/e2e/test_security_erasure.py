"""Crypto-shredding a trainee's personal data (issue 8, docs/adr/0002), across the four services
against the real Kafka and PostgreSQL: the name, date of birth and passport number are never stored
or published in the clear; erasing the trainee's key makes every copy unreadable, every hash chain
still verifies, and the rest of the history stays readable. Every event names who caused it.
"""

import asyncpg
import pytest

from shared.events import RecordedEvent, verify_chain
from shared.settings import SERVICES
from shared.topics import service_topic
from tests.e2e.test_visa_coe import COE, day
from tests.e2e.test_visa_path import once_accepted, plan_application
from tests.helpers import post, read_topic_from, registered_partners, topic_end_offsets
from tests.integration.test_accreditation_service import PLANS

SO = "/v1/supervising-organizations"


@pytest.fixture
async def services(start_service):
    return {name: await start_service(name) for name in SERVICES}


async def tables_holding(client, text: str) -> list[str]:
    """The tables of a service's database with a row whose text contains `text`."""
    conn = await asyncpg.connect(client._transport.app.state.settings.database_url)
    try:
        tables = [
            r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        ]
        return [
            t for t in tables if await conn.fetchval(f'SELECT count(*) FROM "{t}" x WHERE x::text LIKE $1', f"%{text}%")
        ]
    finally:
        await conn.close()


async def audit_log(client, auditor) -> list[dict]:
    return (await client.get("/v1/audit/events", params={"limit": 1000}, headers=auditor)).json()["events"]


async def test_erasing_a_trainee_makes_every_copy_of_their_personal_data_unreadable(
    services, token, kafka_bootstrap, unique
):
    registry, accreditation, inspection, visa = (services[name] for name in SERVICES)
    officer, immigration = token("otit", subject="officer-mori"), token("immigration", subject="officer-kimura")
    admin, auditor = token("admin", subject="dpo-sato"), token("auditor", subject="auditor-ito")
    offsets = await topic_end_offsets(kafka_bootstrap, service_topic("accreditation"))

    # The registry: a permit, an implementing organization, a sending organization and their agreement.
    partners = await registered_partners(registry, officer)
    supervising, implementing, sending = partners.supervising, partners.implementing, partners.sending

    # A trainee's plan, certified, and a COE applied for on it.
    name, passport = f"Erasable Nguyen {unique}", f"E{unique[:8].upper()}"
    application = plan_application(supervising, implementing, sending)
    application["trainee"] |= {"name": name, "passport_number": passport, "date_of_birth": "1999-12-31"}
    trainee = application["trainee_id"]
    plan = (await post(accreditation, PLANS, application, officer, 201))["id"]
    await once_accepted(accreditation, f"{PLANS}/{plan}/certify", {"certified_on": "2026-10-15"}, officer)
    coe = (await once_accepted(visa, COE, {"training_plan_id": plan, "applied_on": day(-10)}, immigration, 201))["id"]
    extraordinary = await post(
        inspection,
        "/v1/inspections",
        {
            "target_type": "supervising_organization",
            "target_id": supervising,
            "reason": "complaint",
            "due_by": "2027-01-31",
        },
        token("otit", subject="inspector-abe"),
        201,
    )
    shown = (await accreditation.get(f"{PLANS}/{plan}", headers=officer)).json()["trainee"]
    assert (shown["name"], shown["passport_number"], shown["date_of_birth"]) == (name, passport, "1999-12-31")

    # Check: the personal data is in no service's database and on no topic in the clear, only sealed.
    for client in services.values():
        for secret in (name, passport, "1999-12-31"):
            assert await tables_holding(client, secret) == []
    published = await read_topic_from(kafka_bootstrap, offsets, {plan}, 2)
    assert not any(secret.encode() in m.value for m in published for secret in (name, passport, "1999-12-31"))
    sealed = RecordedEvent.from_json(published[0].value).data["trainee"]
    assert sealed["nationality"] == "VN" and len(sealed["personal_data"]) > 40

    erased = await accreditation.post(
        f"/v1/trainees/{trainee}/erase", json={"reason": "the trainee's request"}, headers=admin
    )
    assert erased.status_code == 200, erased.text
    assert erased.json()["id"] == trainee

    # Check: every copy is unreadable now: the key is gone, reads show the fields erased, as of any time.
    conn = await asyncpg.connect(accreditation._transport.app.state.settings.database_url)
    try:
        assert await conn.fetchval("SELECT data_key FROM trainee_keys WHERE subject_id = $1", trainee) is None
        stored = await conn.fetchval(
            "SELECT data->'trainee'->>'personal_data' FROM events WHERE stream_id = $1 AND version = 1", plan
        )
    finally:
        await conn.close()
    assert stored == sealed["personal_data"]
    for params in ({}, {"as_of": "2099-01-01"}):
        after = (await accreditation.get(f"{PLANS}/{plan}", params=params, headers=officer)).json()
        assert after["trainee"] == {
            "nationality": "VN",
            "name": None,
            "date_of_birth": None,
            "passport_number": None,
            "personal_data_erased": True,
        }
        # Check: the rest of the plan's history is readable as before.
        assert after["status"] in ("certified", "in_progress")
        assert (after["stage"], after["start_date"], after["certified_on"]) == ("i", "2027-02-05", "2026-10-15")
    [listed] = (await accreditation.get(PLANS, params={"trainee_id": trainee}, headers=officer)).json()["items"]
    assert listed["trainee"]["personal_data_erased"] is True
    assert (await visa.get(f"{COE}/{coe}", headers=immigration)).json()["training_plan_id"] == plan

    # Check: every hash chain still verifies, as stored and as published.
    for client in services.values():
        streams: dict[str, list[RecordedEvent]] = {}
        for event in await audit_log(client, auditor):
            streams.setdefault(event["subject"], []).append(RecordedEvent.from_cloudevent(event))
        assert streams and all(
            verify_chain(sorted(events, key=lambda e: e.streamversion)) is None for events in streams.values()
        )
    history = (await accreditation.get(f"/v1/audit/streams/{plan}", headers=auditor)).json()
    assert history["chain"] == "ok"
    assert verify_chain([RecordedEvent.from_json(m.value) for m in published]) is None

    # Check: the erasure is on record, with who did it and why, and no personal data.
    log = await audit_log(accreditation, auditor)
    [erasure] = [e for e in log if e["type"] == "titp.accreditation.TraineePersonalDataErased.v1"]
    assert (erasure["actor"], erasure["data"]) == (
        "dpo-sato",
        {"trainee_id": trainee, "reason": "the trainee's request"},
    )

    # Erased is final: not twice, not for someone never seen, no new plan under the same trainee id.
    again = await accreditation.post(f"/v1/trainees/{trainee}/erase", json={"reason": "again"}, headers=admin)
    assert (again.status_code, again.json()["rule"]) == (409, "trainee.already_erased")
    unknown = await accreditation.post(f"/v1/trainees/{plan}/erase", json={"reason": "x"}, headers=admin)
    assert unknown.status_code == 404
    refused = await accreditation.post(PLANS, json={**application, "stage": "ii"}, headers=officer)
    # ... answered as any application naming another person under a bound trainee id: nothing of the erasure.
    assert (refused.status_code, refused.json()["rule"]) == (409, "trainee.identity")
    assert "erase" not in refused.text and name not in refused.text

    # Check: every event of every service names who caused it: the officer's token, or the event it reacts to.
    for service, client in services.items():
        for event in await audit_log(client, auditor):
            assert event["actor"] in {"officer-mori", "officer-kimura", "inspector-abe", "dpo-sato"} or (
                event["actor"].startswith("/titp/") and event["actor"] != f"/titp/{service}"
            ), (service, event)
    actors = {e["subject"]: e["actor"] for e in await audit_log(inspection, auditor)}
    assert actors[extraordinary["id"]] == "inspector-abe"
    assert {e["actor"] for e in await audit_log(visa, auditor) if e["subject"] == coe} == {"officer-kimura"}
