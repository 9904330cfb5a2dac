"""A certified plan's terms change (issue 20, DOMAIN §11 "after certification", Art. 11), over REST and Kafka only.

A stage-i plan (1 Oct 2026 to 30 Sep 2027) is certified. The employer applies for an extension by a month: the
officer's certification is refused by the plan's own rule (stage i lasts a year, `plan.stage_length`), and the
change is rejected. Meanwhile a second change is refused as pending, a term that is not changeable and a material
term in a notice of minor changes are refused naming their rules, and the supervising organization notifies a raise
of the wage (a minor change). Then the supervising organization applies to move the whole year a month later; the
officer certifies it. The plan shows the new terms and their version, its as-of view before the change the old
ones, its history every change with its status; the changes are on titp.accreditation.v1 with the plan's header as
it stands after each, and visa and inspection follow the new dates from that header alone.
"""

import json
from datetime import UTC, datetime
from uuid import UUID

import asyncpg
from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from tests.e2e.test_accreditation_law import certified, plan
from tests.helpers import eventually, read_topic_from, registered_partners, topic_end_offsets

PLANS = "/v1/training-plans"


async def fetchval(client, query: str, *args):
    conn = await asyncpg.connect(client._transport.app.state.settings.database_url)
    try:
        return await conn.fetchval(query, *args)
    finally:
        await conn.close()


async def test_a_change_of_the_plans_dates_is_certified_by_the_plans_rules(start_service, token, kafka_bootstrap):
    registry, accreditation = await start_service("registry"), await start_service("accreditation")
    inspection, visa = await start_service("inspection"), await start_service("visa")
    officer, auditor = token("otit", subject="officer-kato"), token("auditor")
    partners = await registered_partners(registry, officer, permit_type="specified")
    employer = token("implementing_org", org=partners.implementing, subject="employer-staff")
    supervisor = token("supervising_org", org=partners.supervising, subject="supervisor-staff")
    stranger = token("supervising_org", org="00000000-0000-4000-8000-000000000002", subject="stranger")
    id = await certified(accreditation, officer, plan(partners))
    offsets = await topic_end_offsets(kafka_bootstrap, "titp.accreditation.v1")

    async def apply(body: dict, headers: dict, **more):
        return await accreditation.post(f"{PLANS}/{id}/changes", json=body, headers={**headers, **more})

    async def notify(body: dict, headers: dict):
        return await accreditation.post(f"{PLANS}/{id}/minor-changes", json=body, headers=headers)

    def refused(response, status: int, rule: str | None = None) -> None:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        if rule is not None:
            assert response.json()["rule"] == rule, response.text

    # The employer applies for an extension by a month; a second change meanwhile is refused.
    extension = await apply(
        {"applied_on": "2026-07-01", "reason": "injury", "changes": {"end_date": "2027-10-31"}}, employer
    )
    assert extension.status_code == 201, extension.text
    extension_id = extension.json()["id"]
    assert extension.headers["location"] == f"{PLANS}/{id}/changes"
    refused(
        await apply({"applied_on": "2026-07-02", "reason": "x", "changes": {"monthly_wage": 216_000}}, employer),
        409,
        "change.pending",
    )

    # Check: the officer's certification is refused by the plan's own rule, and nothing changes; then it is rejected.
    refused(
        await accreditation.post(
            f"{PLANS}/{id}/changes/{extension_id}/certify", json={"certified_on": "2026-07-15"}, headers=officer
        ),
        409,
        "plan.stage_length",
    )
    refused(
        await accreditation.post(
            f"{PLANS}/{id}/changes/{extension_id}/certify", json={"certified_on": "2026-07-15"}, headers=employer
        ),
        403,
    )
    body = (await accreditation.get(f"{PLANS}/{id}", headers=officer)).json()
    assert (body["end_date"], body["terms_version"], body["changes"][0]["status"]) == ("2027-09-30", 1, "pending")
    rejected = await accreditation.post(
        f"{PLANS}/{id}/changes/{extension_id}/reject", json={"reason": "stage i lasts a year"}, headers=officer
    )
    assert rejected.status_code == 200, rejected.text

    # Check: refusals name their rule and field; another organization's plan is not found.
    not_changeable = await apply(
        {"applied_on": "2026-07-05", "reason": "x", "changes": {"end_date": "2027-08-31", "stage": "ii"}}, employer
    )
    refused(not_changeable, 409, "change.not_changeable")
    assert not_changeable.json()["field"] == "changes.stage"
    material = await notify(
        {"notified_on": "2026-07-05", "description": "a shorter plan", "changes": {"end_date": "2027-08-31"}},
        supervisor,
    )
    refused(material, 409, "change.material_needs_certification")
    assert material.json()["field"] == "changes.end_date"
    refused(await notify({"notified_on": "2026-07-05", "description": "x"}, stranger), 404)

    # The supervising organization notifies a raise of the wage: in force as notified, the terms' version 2.
    raised = await notify(
        {"notified_on": "2026-07-06", "description": "a raise", "changes": {"monthly_wage": 220_000}}, supervisor
    )
    assert raised.status_code == 201, raised.text

    # The supervising organization applies to move the year a month later (retried: one change), before the start.
    later = {
        "applied_on": "2026-07-10",
        "reason": "the entry is delayed",
        "changes": {"start_date": "2026-11-01", "end_date": "2027-10-31"},
    }
    first = await apply(later, supervisor, **{"Idempotency-Key": "move-a-month"})
    again = await apply(later, supervisor, **{"Idempotency-Key": "move-a-month"})
    assert first.status_code == again.status_code == 201, first.text
    assert first.json() == again.json()
    change_id = first.json()["id"]
    before = datetime.now(UTC).isoformat()

    # The officer certifies it at the plan's current version.
    version = (await accreditation.get(f"{PLANS}/{id}", headers=officer)).json()["version"]
    stale = await accreditation.post(
        f"{PLANS}/{id}/changes/{change_id}/certify",
        json={"certified_on": "2026-07-20"},
        headers={**officer, "If-Match": f'"{version - 1}"'},
    )
    assert stale.status_code == 412, stale.text
    certified_change = await accreditation.post(
        f"{PLANS}/{id}/changes/{change_id}/certify",
        json={"certified_on": "2026-07-20"},
        headers={**officer, "If-Match": f'"{version}"'},
    )
    assert certified_change.status_code == 200, certified_change.text
    assert certified_change.json() == {"id": change_id, "version": version + 1}

    # Check: the plan shows the new terms and their version; as of before the certification, the old ones.
    now = (await accreditation.get(f"{PLANS}/{id}", headers=employer)).json()
    assert (now["start_date"], now["end_date"], now["monthly_wage"], now["terms_version"]) == (
        "2026-11-01",
        "2027-10-31",
        220_000,
        3,
    )
    then = (await accreditation.get(f"{PLANS}/{id}", params={"as_of": before}, headers=officer)).json()
    assert (then["start_date"], then["end_date"], then["monthly_wage"], then["terms_version"]) == (
        "2026-10-01",
        "2027-09-30",
        220_000,
        2,
    )
    assert [c["status"] for c in then["changes"]] == ["rejected", "notified", "pending"]
    listed = await accreditation.get(
        PLANS, params={"implementing_organization_id": partners.implementing}, headers=officer
    )
    assert [(p["id"], p["start_date"]) for p in listed.json()["items"]] == [(id, "2026-11-01")]

    # Check: the history lists both kinds with status and the terms' version each made ...
    history = await accreditation.get(f"{PLANS}/{id}/changes", headers=supervisor)
    assert history.status_code == 200, history.text
    assert history.headers["etag"] == f'"{version + 1}"'
    assert history.json()["terms_version"] == 3
    assert [(c["id"], c["kind"], c["status"], c["terms_version"]) for c in history.json()["changes"]] == [
        (extension_id, "change", "rejected", None),
        (raised.json()["id"], "minor_change", "notified", 2),
        (change_id, "change", "certified", 3),
    ]
    stated = {term: value for term, value in history.json()["changes"][2]["changes"].items() if value is not None}
    assert stated == {"start_date": "2026-11-01", "end_date": "2027-10-31"}
    assert history.json()["changes"][2]["certified_on"] == "2026-07-20"
    assert history.json()["changes"][0]["rejection_reason"] == "stage i lasts a year"
    as_of = await accreditation.get(f"{PLANS}/{id}/changes", params={"as_of": before}, headers=officer)
    assert [c["status"] for c in as_of.json()["changes"]] == ["rejected", "notified", "pending"]
    assert (await accreditation.get(f"{PLANS}/{id}/changes", headers=stranger)).status_code == 404

    # ... the audit trail has every change ...
    events = (await accreditation.get(f"/v1/audit/streams/{id}", headers=auditor)).json()["events"]
    assert [e["type"].split(".")[2] for e in events[-5:]] == [
        "TrainingPlanChangeApplied",
        "TrainingPlanChangeRejected",
        "TrainingPlanMinorChangeNotified",
        "TrainingPlanChangeApplied",
        "TrainingPlanChangeCertified",
    ]

    # ... and titp.accreditation.v1 too, each with the plan's header as it stands after it.
    published = await read_topic_from(kafka_bootstrap, offsets, {id}, 5, timeout=30)
    cloud = [from_structured_event(KafkaMessage(headers=dict(m.headers), key=m.key, value=m.value)) for m in published]
    assert [e.get_type() for e in cloud] == [f"titp.accreditation.{e['type'].split('.')[2]}.v1" for e in events[-5:]]
    data = [json.loads(d) if isinstance(d := e.get_data(), bytes | str) else d for e in cloud]
    assert [(d["start_date"], d["end_date"]) for d in data] == [("2026-10-01", "2027-09-30")] * 4 + [
        ("2026-11-01", "2027-10-31")
    ]
    assert (data[4]["change_id"], data[4]["terms_version"]) == (change_id, 3)

    # Check: visa and inspection follow the new dates from the header alone.
    async def start_notice_due() -> str | None:  # 30 days after the first plan's start
        params = {"kind": "start_notice", "implementing_organization_id": partners.implementing, "as_of": "2027-01-15"}
        items = (await inspection.get("/v1/filings", params=params, headers=officer)).json()["items"]
        return items[0]["due_on"] if items else None

    await eventually(
        lambda: _equals(
            lambda: fetchval(visa, "SELECT end_date::text FROM known_training_plans WHERE id = $1", UUID(id)),
            "2027-10-31",
        ),
        timeout=30,
        message="visa never learned the changed end date",
    )
    await eventually(
        lambda: _equals(start_notice_due, "2026-12-01"),
        timeout=30,
        message="inspection never learned the changed start date",
    )


async def _equals(read, expected) -> bool | None:
    return (await read()) == expected or None
