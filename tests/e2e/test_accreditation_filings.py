"""The filings the agency receives from an employer and its supervising organization (issue 20 item 4), over REST
and Kafka only.

An employer under a supervising organization has a certified stage-i plan starting 1 Oct 2026. The employer files its
implementation-start notice late and gets a receipt number (a retry with the same Idempotency-Key answers the same; a
second notice is refused). A difficulty notice of the supervised plan comes through the supervising organization
quoting the receipt number (the employer itself, or a wrong receipt number, is refused naming the rule); the plan
stays certified and shows the notice. The supervising organization records its monthly visit (not for a month without
a stage-i plan). The annual report on FY2026 is refused before the year ends and filed late after it. The employer's
filings list each with its due date and lateness, as of any time; a stranger organization sees none; each filing is
on titp.accreditation.v1.
"""

import json
from datetime import UTC, datetime

from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from tests.e2e.test_accreditation_law import certified, plan
from tests.helpers import post, read_topic_from, registered_partners, topic_end_offsets

PLANS = "/v1/training-plans"
IO = "/v1/implementing-organizations"


async def test_an_employers_filings_are_received_with_their_due_dates_and_lateness(
    start_service, token, kafka_bootstrap
):
    registry, accreditation = await start_service("registry"), await start_service("accreditation")
    officer = token("otit", subject="officer-kato")
    partners = await registered_partners(registry, officer, permit_type="specified")
    plan_id = await certified(accreditation, officer, plan(partners))
    employer = token("implementing_org", org=partners.implementing, subject="employer-staff")
    supervisor = token("supervising_org", org=partners.supervising, subject="supervisor-staff")
    stranger = token("supervising_org", org="00000000-0000-4000-8000-000000000001", subject="stranger")
    offsets = await topic_end_offsets(kafka_bootstrap, "titp.accreditation.v1")
    filings = f"{IO}/{partners.implementing}"

    async def refused(path: str, body: dict, headers: dict, rule: str, status: int = 409) -> dict:
        response = await accreditation.post(f"{filings}/{path}", json=body, headers=headers)
        assert (response.status_code, response.json().get("rule")) == (status, rule), response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        return response.json()

    # Check: the employer's start notice, 5 days after it was due (30 days after 1 Oct), gets a receipt number; a
    # retry with the same Idempotency-Key answers the same, a second notice is refused.
    notice = {"training_plan_id": plan_id, "started_on": "2026-10-01", "filed_on": "2026-11-05"}
    retried = {**employer, "Idempotency-Key": "start-notice-1"}
    first = await accreditation.post(f"{filings}/start-notices", json=notice, headers=retried)
    assert first.status_code == 201, first.text
    again = await accreditation.post(f"{filings}/start-notices", json=notice, headers=retried)
    assert (again.status_code, again.json()) == (201, first.json())
    start = first.json()
    receipt = start["receipt_number"]
    assert receipt.startswith("S-2026-") and len(receipt) == 13
    problem = await refused("start-notices", notice, employer, "filing.duplicate")
    assert problem["field"] == "body"
    await refused("start-notices", {**notice, "started_on": "2026-09-30"}, officer, "filing.duplicate")

    # Check: the supervised plan's difficulty notice comes through its supervising organization, quoting the
    # receipt number; the plan stays certified and shows it.
    difficulty = {
        "training_plan_id": plan_id,
        "occurred_on": "2027-02-01",
        "filed_on": "2027-02-10",
        "cause": "bankruptcy",
        "measures": "a transfer to another employer in building carpentry is being arranged",
        "receipt_number": receipt,
    }
    await refused("difficulty-notices", difficulty, employer, "filing.through_supervising_organization")
    wrong = await refused(
        "difficulty-notices", {**difficulty, "receipt_number": "S-1999-000001"}, supervisor, "filing.receipt_number"
    )
    assert wrong["field"] == "body.receipt_number"
    await refused(
        "difficulty-notices", {**difficulty, "occurred_on": "2026-09-30"}, supervisor, "filing.plan_not_in_force"
    )
    assert (await refused("difficulty-notices", difficulty, stranger, None, status=404))["resource"] == (
        "implementing organization"
    )
    difficulty_notice = await post(accreditation, f"{filings}/difficulty-notices", difficulty, supervisor, 201)
    shown = (await accreditation.get(f"{PLANS}/{plan_id}", headers=employer)).json()
    assert shown["status"] in ("certified", "in_progress")
    [on_plan] = shown["difficulty_notices"]
    assert (on_plan["id"], on_plan["cause"], on_plan["due_on"], on_plan["late_days"]) == (
        difficulty_notice["id"],
        "bankruptcy",
        "2027-02-15",
        0,
    )
    assert on_plan["supervising_organization_id"] == partners.supervising

    # Check: the monthly visit record of stage i, by the supervising organization only, late after the next month.
    visit = {"month": "2026-10-01", "visited_on": "2026-10-15", "filed_on": "2026-12-02"}
    bad_month = await refused("visit-records", {**visit, "month": "2026-10-02"}, supervisor, None, status=422)
    assert bad_month["errors"][0]["field"] == "body.month"
    await refused(
        "visit-records",
        {"month": "2026-09-01", "visited_on": "2026-09-15", "filed_on": "2026-10-01"},
        supervisor,
        "filing.no_stage_i_plan",
    )
    assert (await accreditation.post(f"{filings}/visit-records", json=visit, headers=employer)).status_code == 403
    visit_record = await post(accreditation, f"{filings}/visit-records", visit, supervisor, 201)
    await refused("visit-records", visit, officer, "filing.duplicate")

    # Check: the annual report on FY2026 (Apr 2026 - Mar 2027) only after the year; due 31 May 2027.
    report = {"fiscal_year": 2026, "filed_on": "2027-03-31", "receipt_number": receipt, "trainees": 1}
    await refused("annual-reports", report, employer, "filing.too_early")
    before_report = datetime.now(UTC).isoformat()
    annual = await post(accreditation, f"{filings}/annual-reports", {**report, "filed_on": "2027-06-03"}, employer, 201)
    await refused("annual-reports", {**report, "filed_on": "2027-06-04"}, employer, "filing.duplicate")

    # Check: the employer's filings, by due date, with their lateness; as of before the report, without it.
    async def listed(headers: dict, **params) -> list[tuple]:
        response = await accreditation.get(f"{filings}/filings", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [(f["kind"], f["due_on"], f["filed_on"], f["late_days"], f["receipt_number"]) for f in response.json()]

    everything = [
        ("start_notice", "2026-10-31", "2026-11-05", 5, receipt),
        ("visit_record", "2026-11-30", "2026-12-02", 2, None),
        ("difficulty_notice", "2027-02-15", "2027-02-10", 0, receipt),
        ("annual_report", "2027-05-31", "2027-06-03", 3, receipt),
    ]
    assert await listed(employer) == everything
    assert await listed(supervisor, kind="annual_report") == everything[3:]
    assert await listed(officer, as_of=before_report) == everything[:3]
    stranger_view = await accreditation.get(f"{filings}/filings", headers=stranger)
    assert stranger_view.status_code == 404

    # Check: each filing is on titp.accreditation.v1, on its own stream, with its due date.
    ids = {start["id"], difficulty_notice["id"], visit_record["id"], annual["id"]}
    published = await read_topic_from(kafka_bootstrap, offsets, ids, 4, timeout=30)
    events = [from_structured_event(KafkaMessage(headers=dict(m.headers), key=m.key, value=m.value)) for m in published]
    by_type = {}
    for event in events:
        data = event.get_data()
        by_type[event.get_type()] = (event.get_subject(), json.loads(data) if isinstance(data, bytes | str) else data)
    assert sorted(by_type) == [
        "titp.accreditation.AnnualImplementationReportFiled.v1",
        "titp.accreditation.DifficultyNoticeFiled.v1",
        "titp.accreditation.ImplementationStartNoticeFiled.v1",
        "titp.accreditation.VisitRecordFiled.v1",
    ]
    subject, started = by_type["titp.accreditation.ImplementationStartNoticeFiled.v1"]
    assert subject == start["id"]
    assert (started["receipt_number"], started["due_on"], started["training_plan_id"]) == (
        receipt,
        "2026-10-31",
        plan_id,
    )
    _, visited = by_type["titp.accreditation.VisitRecordFiled.v1"]
    assert (visited["supervising_organization_id"], visited["month"], visited["due_on"]) == (
        partners.supervising,
        "2026-10-01",
        "2026-11-30",
    )
