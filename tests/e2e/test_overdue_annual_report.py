"""An overdue annual implementation report on the inspection worklist (issue 20 item 4), over REST and Kafka only.

An employer under a supervising organization has a certified stage-i plan in force in FY2026 (from 1 Oct 2026) and
filed its implementation-start notice on time. Its annual report on FY2026 is due on 31 May 2027: the filings
worklist shows it due that day and overdue on 1 June. An officer cannot open an inspection from it while it is not
overdue (named rule); on 1 June the officer opens an extraordinary inspection of the employer from it, once; the
inspection names the filing and is on titp.inspection.v1. The employer files the report on 10 June: from that day the
worklist shows it filed, 10 days late, and no longer overdue (as of 9 June it still was).
"""

import json

from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from tests.e2e.test_accreditation_law import certified, plan
from tests.helpers import eventually, post, read_topic_from, registered_partners, topic_end_offsets

IO = "/v1/implementing-organizations"
WAIT = 60


async def test_an_overdue_annual_report_leads_to_an_inspection_and_its_late_filing_clears_it(
    start_service, token, kafka_bootstrap
):
    registry, accreditation = await start_service("registry"), await start_service("accreditation")
    inspection = await start_service("inspection")
    officer, inspector = token("otit", subject="officer-kato"), token("otit", subject="inspector-ueda")
    partners = await registered_partners(registry, officer, permit_type="specified")
    plan_id = await certified(accreditation, officer, plan(partners))
    employer = token("implementing_org", org=partners.implementing, subject="employer-staff")
    filings = f"{IO}/{partners.implementing}"
    start = await post(
        accreditation,
        f"{filings}/start-notices",
        {"training_plan_id": plan_id, "started_on": "2026-10-01", "filed_on": "2026-10-20"},
        employer,
        201,
    )
    receipt = start["receipt_number"]

    async def owed(**params) -> list[dict]:
        params = {"implementing_organization_id": partners.implementing, **params}
        response = await inspection.get("/v1/filings", params=params, headers=inspector)
        assert response.status_code == 200, response.text
        return response.json()["items"]

    async def annual_report(**params) -> dict | None:
        items = [i for i in await owed(kind="annual_report", **params) if i["fiscal_year"] == 2026]
        return items[0] if items else None

    # The plan in force in FY2026 puts the employer's annual report on the worklist; the start notice shows filed.
    overdue = await eventually(
        lambda: annual_report(overdue_as_of="2027-06-01"),
        timeout=WAIT,
        message="the certified plan never put the annual report on the worklist",
    )
    assert {k: overdue[k] for k in ("kind", "implementing_organization_id", "due_on", "status", "overdue")} == {
        "kind": "annual_report",
        "implementing_organization_id": partners.implementing,
        "due_on": "2027-05-31",
        "status": "overdue",
        "overdue": True,
    }
    assert (overdue["filed_on"], overdue["late_days"], overdue["status_on"]) == (None, 1, "2027-06-01")
    on_due_day = await annual_report(as_of="2027-05-31")
    assert (on_due_day["id"], on_due_day["status"], on_due_day["overdue"]) == (overdue["id"], "due", False)
    assert await annual_report(overdue_as_of="2027-05-31") is None
    [notice] = await eventually(
        lambda: owed(kind="start_notice", as_of="2026-11-01", status="filed"),
        timeout=WAIT,
        message="the start notice never reached the worklist",
    )
    assert (notice["due_on"], notice["filed_on"], notice["late_days"], notice["receipt_number"]) == (
        "2026-10-31",
        "2026-10-20",
        0,
        receipt,
    )

    # Check: not while it is not overdue (named rule, nothing recorded); not by an organization.
    path = f"/v1/filings/{overdue['id']}/inspection"
    early = await inspection.post(path, json={"due_by": "2027-07-31", "scheduled_on": "2027-05-31"}, headers=inspector)
    assert (early.status_code, early.json()["rule"], early.json()["field"]) == (
        409,
        "filing.not_overdue",
        "body.scheduled_on",
    )
    assert early.headers["content-type"].startswith("application/problem+json")
    by_employer = await inspection.post(path, json={"due_by": "2027-07-31"}, headers=employer)
    assert by_employer.status_code == 403, by_employer.text
    unknown = await inspection.post(
        "/v1/filings/00000000-0000-4000-8000-000000000002/inspection", json={"due_by": "2027-07-31"}, headers=inspector
    )
    assert unknown.status_code == 404, unknown.text

    # On 1 June the officer opens an extraordinary inspection of the employer from it, once.
    offsets = await topic_end_offsets(kafka_bootstrap, "titp.inspection.v1")
    body = {"due_by": "2027-07-31", "scheduled_on": "2027-06-01", "reason": "no annual report after a reminder"}
    opened = await post(inspection, path, body, {**inspector, "Idempotency-Key": "overdue-fy2026"}, 201)
    retried = await post(inspection, path, body, {**inspector, "Idempotency-Key": "overdue-fy2026"}, 201)
    assert retried == opened
    twice = await inspection.post(path, json=body, headers=inspector)
    assert (twice.status_code, twice.json()["rule"]) == (409, "filing.inspection_open")
    scheduled = (await inspection.get(f"/v1/inspections/{opened['id']}", headers=inspector)).json()
    assert {k: scheduled[k] for k in ("target_type", "target_id", "reason", "kind", "status", "due_by")} == {
        "target_type": "implementing_organization",
        "target_id": partners.implementing,
        "reason": "overdue_filing",
        "kind": "extraordinary",
        "status": "scheduled",
        "due_by": "2027-07-31",
    }
    assert overdue["id"] in scheduled["detail"] and "no annual report after a reminder" in scheduled["detail"]
    assert (await annual_report(overdue_as_of="2027-06-02"))["inspection_id"] == opened["id"]

    # The employer files the report late, on 10 June.
    await post(
        accreditation,
        f"{filings}/annual-reports",
        {"fiscal_year": 2026, "filed_on": "2027-06-10", "receipt_number": receipt, "trainees": 1},
        employer,
        201,
    )

    async def filed() -> dict | None:
        report = await annual_report(as_of="2027-06-10")
        return report if report and report["status"] == "filed" else None

    report = await eventually(filed, timeout=WAIT, message="the annual report never reached the worklist")
    assert (report["id"], report["filed_on"], report["late_days"], report["overdue"], report["receipt_number"]) == (
        overdue["id"],
        "2027-06-10",
        10,
        False,
        receipt,
    )
    assert await annual_report(overdue_as_of="2027-06-11") is None
    assert (await annual_report(overdue_as_of="2027-06-09"))["late_days"] == 9  # as of then, not filed yet
    assert [i["id"] for i in await owed(kind="annual_report", status="filed", as_of="2027-06-10")] == [overdue["id"]]

    # Check: the inspection is on titp.inspection.v1, naming the filing.
    [message] = await read_topic_from(kafka_bootstrap, offsets, {opened["id"]}, 1, timeout=30)
    event = from_structured_event(KafkaMessage(headers=dict(message.headers), key=message.key, value=message.value))
    assert event.get_type() == "titp.inspection.InspectionScheduled.v1"
    data = event.get_data()
    data = json.loads(data) if isinstance(data, bytes | str) else data
    assert (data["reason"], data["filing_id"], data["target_id"]) == (
        "overdue_filing",
        overdue["id"],
        partners.implementing,
    )
