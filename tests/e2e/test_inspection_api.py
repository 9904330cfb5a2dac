"""The inspection service's REST contract against the real stack: who may do what, refusals, concurrency
guards, and the worklist's pages."""

import asyncio
import uuid

from tests.e2e.test_inspection_story import PASSPORTS, WAIT, worklist
from tests.helpers import eventually, post
from tests.helpers import permit_application as application


async def known_cooperative(registry, inspection, officer) -> str:
    """A supervising organization that has applied for a permit, once the inspection service has heard of it."""
    id = (await post(registry, "/v1/supervising-organizations", application(), officer, 201))["id"]

    async def heard_of():
        response = await inspection.post(
            "/v1/inspections",
            headers=officer,
            json={
                "target_type": "supervising_organization",
                "target_id": id,
                "reason": "complaint",
                "due_by": "2027-01-31",
                "scheduled_on": "2027-01-05",
                "detail": "a trainee called the OTIT hotline",
            },
        )
        return response.status_code == 201

    await eventually(heard_of, timeout=WAIT, message="the inspection service never heard of the cooperative")
    return id


async def test_commands_are_guarded_and_refusals_change_nothing(start_service, token):
    registry = await start_service("registry")
    inspection = await start_service("inspection")
    officer = token("otit")
    cooperative = await known_cooperative(registry, inspection, officer)
    [complaint] = await worklist(inspection, officer, target_id=cooperative)
    assert (complaint["kind"], complaint["reason"], complaint["version"]) == ("extraordinary", "complaint", 1)
    path = f"/v1/inspections/{complaint['id']}"
    shown = await inspection.get(path, headers=officer)
    assert shown.headers["etag"] == '"1"'

    # Check: invalid input is a 422 naming the field.
    bad = await inspection.post(
        f"{path}/complete",
        headers=officer,
        json={
            "inspected_on": "2027-01-20",
            "inspector": "Kato",
            "outcome": "recommendation",
            "findings": [{"code": "rude_manager", "legal_breach": True, "description": "x"}],
        },
    )
    assert bad.status_code == 422 and bad.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in bad.json()["errors"]] == ["body.findings[0].code"]
    routine = await inspection.post(
        "/v1/inspections",
        headers=officer,
        json={
            "target_type": "supervising_organization",
            "target_id": cooperative,
            "reason": "permit_granted",
            "due_by": "2027-01-31",
        },
    )
    assert routine.status_code == 422

    # Check: a rule of the program is a 409 naming it.
    refusals = [
        (
            {"inspected_on": "2027-01-20", "inspector": "Kato", "outcome": "guidance", "findings": [PASSPORTS]},
            "outcome.guidance_without_breach",
        ),
        (
            {"inspected_on": "2027-01-20", "inspector": "Kato", "outcome": "recommendation", "findings": [PASSPORTS]},
            "improvement_report.due_for_guidance_or_recommendation",
        ),
        (
            {
                "inspected_on": "2027-01-20",
                "inspector": "Kato",
                "outcome": "referral",
                "findings": [PASSPORTS],
                "referral": {"action": "plan_revocation", "reason": "x"},
            },
            "referral.action_for_target",
        ),
        (
            {"inspected_on": "2027-01-01", "inspector": "Kato", "outcome": "no_finding"},
            "inspection.inspected_before_scheduled",
        ),
    ]
    for body, rule in refusals:
        refused = await inspection.post(f"{path}/complete", headers=officer, json=body)
        assert (refused.status_code, refused.json().get("rule")) == (409, rule), refused.text
    unknown = await inspection.post(
        "/v1/inspections",
        headers=officer,
        json={
            "target_type": "implementing_organization",
            "target_id": str(uuid.uuid4()),
            "reason": "tip",
            "due_by": "2027-01-31",
        },
    )
    assert (unknown.status_code, unknown.json()["rule"]) == (409, "inspection.target_unknown")
    not_awaited = await inspection.post(
        f"{path}/improvement-report", headers=officer, json={"received_on": "2027-02-01"}
    )
    assert (not_awaited.status_code, not_awaited.json()["rule"]) == (409, "improvement_report.not_awaited")

    # Check: who may do what.
    missing = await inspection.post(
        f"/v1/inspections/{uuid.uuid4()}/complete",
        headers=officer,
        json={"inspected_on": "2027-01-20", "inspector": "Kato", "outcome": "no_finding"},
    )
    assert missing.status_code == 404
    assert (await inspection.get(f"/v1/inspections/{uuid.uuid4()}", headers=officer)).status_code == 404
    assert (await inspection.get("/v1/inspections")).status_code == 401
    assert (await inspection.get(path, headers=token("auditor"))).status_code == 200
    assert (await inspection.get(path, headers=token("admin"))).status_code == 200
    assert (await inspection.get(path, headers=token("supervising_org", org=cooperative))).status_code == 403
    assert (
        await inspection.post(
            f"{path}/improvement-report", headers=token("auditor"), json={"received_on": "2027-02-01"}
        )
    ).status_code == 403

    # Check: If-Match guards against a change the officer has not seen.
    done = {
        "inspected_on": "2027-01-20",
        "inspector": "Kato",
        "outcome": "recommendation",
        "findings": [PASSPORTS],
        "improvement_report_due": "2027-03-20",
    }
    stale = await inspection.post(f"{path}/complete", headers={**officer, "if-match": '"7"'}, json=done)
    assert stale.status_code == 412
    assert await post(inspection, f"{path}/complete", done, {**officer, "if-match": '"1"'}) == {
        "id": complaint["id"],
        "version": 2,
    }

    # Check: a retried request with its Idempotency-Key answers as the first did and records once.
    retry = {**officer, "idempotency-key": "report-2027-02-01"}
    answers = await asyncio.gather(
        *[
            inspection.post(f"{path}/improvement-report", headers=retry, json={"received_on": "2027-02-01"})
            for _ in range(3)
        ]
    )
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert {a.json()["version"] for a in answers} == {3}
    history = (await inspection.get(f"/v1/audit/streams/{complaint['id']}", headers=token("auditor"))).json()
    assert [e["type"].split(".")[2] for e in history["events"]] == [
        "InspectionScheduled",
        "InspectionCompleted",
        "ImprovementReportReceived",
    ]
    assert history["chain"] == "ok"


async def test_the_worklist_pages_in_due_date_order(start_service, token):
    registry = await start_service("registry")
    inspection = await start_service("inspection")
    officer = token("otit")
    cooperative = await known_cooperative(registry, inspection, officer)
    for due_by in ("2027-03-31", "2027-02-28", "2027-02-28", "2027-06-30"):
        await post(
            inspection,
            "/v1/inspections",
            {
                "target_type": "supervising_organization",
                "target_id": cooperative,
                "reason": "tip",
                "due_by": due_by,
                "scheduled_on": "2027-01-06",
            },
            officer,
            201,
        )
    seen, cursor = [], None
    while True:
        response = await inspection.get(
            "/v1/inspections",
            headers=officer,
            params={"target_id": cooperative, "limit": 2, **({"cursor": cursor} if cursor else {})},
        )
        page = response.json()
        seen += [(i["due_by"], i["id"]) for i in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert len(seen) == 5 and seen == sorted(seen)
    assert [d for d, _ in seen] == ["2027-01-31", "2027-02-28", "2027-02-28", "2027-03-31", "2027-06-30"]
    assert len(await worklist(inspection, officer, target_id=cooperative, due_before="2027-03-01")) == 3
    assert len(await worklist(inspection, officer, target_id=cooperative, target_type="implementing_organization")) == 0
    bad = await inspection.get("/v1/inspections", headers=officer, params={"cursor": "bm90IGEgY3Vyc29y"})
    assert bad.status_code == 422
