"""The inspection rules corrected by DOMAIN §11, over REST and Kafka against the real stack:

- improvement guidance asks for an improvement report by a date and goes overdue after it, like a
  recommendation; the permit's expiry (the registry's sweep) then closes every inspection of the organization,
  the scheduled ones and the one awaiting its report: each leaves the worklists, with the reason;
- an Art. 15 improvement order is referred against an implementing organization, never a supervising one;
- an employer whose last plan in force completes leaves the schedule (its next regular inspection is cancelled,
  no_plans_in_force), and a new certified plan starts it again. The plans are published on
  titp.accreditation.v1 as accreditation publishes them (hash-chained per plan), twice for one of them.
"""

import uuid
from datetime import date, timedelta

from contracts.accreditation import TrainingPlanCertified, TrainingPlanCompleted, accreditation_events
from shared.events import RecordedEvent
from shared.topics import service_topic
from tests.e2e.test_inspection_story import WAIT, worklist
from tests.helpers import eventually, grant, next_event, post, publish
from tests.helpers import permit_application as application

SO = "/v1/supervising-organizations"
SHORTFALL = {"code": "records_not_kept", "legal_breach": False, "description": "supervision visit logs irregular"}
BREACH = {"code": "wages_below_plan", "legal_breach": True, "description": "overtime unpaid for three months"}


async def shown(client, id: str, headers: dict) -> dict:
    response = await client.get(f"/v1/inspections/{id}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def stream(client, id: str, auditor: dict) -> list[dict]:
    response = await client.get(f"/v1/audit/streams/{id}", headers=auditor)
    assert response.status_code == 200, response.text
    return response.json()["events"]


async def test_guidance_s_report_goes_overdue_and_an_expired_permit_closes_every_inspection(start_service, token):
    registry = await start_service("registry")
    inspection = await start_service("inspection")
    officer, inspector, auditor = (
        token("otit", subject="officer-ito"),
        token("otit", subject="inspector-kato"),
        token("auditor"),
    )
    cooperative = (await post(registry, SO, application(), officer, 201))["id"]
    await post(registry, f"{SO}/{cooperative}/grant", grant(granted_on="2026-05-01"), officer)

    async def scheduled():
        items = await worklist(inspection, inspector, target_id=cooperative, status="scheduled")
        return items[0] if items else None

    first = await eventually(scheduled, timeout=WAIT, message="the permit never put an inspection on the schedule")
    complete = f"/v1/inspections/{first['id']}/complete"

    # Check: guidance without a report's due date, and an Art. 15 order on a supervising organization, are
    # refused by name and change nothing.
    for body, rule in [
        (
            {"inspected_on": "2027-04-10", "inspector": "Kato Ken", "outcome": "guidance", "findings": [SHORTFALL]},
            "improvement_report.due_for_guidance_or_recommendation",
        ),
        (
            {
                "inspected_on": "2027-04-10",
                "inspector": "Kato Ken",
                "outcome": "referral",
                "findings": [BREACH],
                "referral": {"action": "employer_improvement_order", "reason": "x", "deadline": "2027-06-30"},
            },
            "referral.employer_improvement_order_target",
        ),
    ]:
        refused = await inspection.post(complete, headers=inspector, json=body)
        assert (refused.status_code, refused.json()["rule"]) == (409, rule), refused.text
        assert refused.headers["content-type"] == "application/problem+json"
    assert (await shown(inspection, first["id"], inspector))["version"] == 1

    # Improvement guidance asks for the improvement report by 10 June; the next inspection is due a year on.
    await post(
        inspection,
        complete,
        {
            "inspected_on": "2027-04-10",
            "inspector": "Kato Ken",
            "outcome": "guidance",
            "findings": [SHORTFALL],
            "improvement_report_due": "2027-06-10",
        },
        inspector,
    )
    second = await scheduled()
    assert second["due_by"] == "2028-04-10"

    def ids(items):
        return [i["id"] for i in items if i["target_id"] == cooperative]

    # Check: the report is awaited, and overdue from the day after its due day, as a recommendation's.
    assert ids(await worklist(inspection, inspector, awaiting_report="true")) == [first["id"]]
    assert ids(await worklist(inspection, inspector, report_overdue_as_of="2027-06-10")) == []
    assert ids(await worklist(inspection, inspector, report_overdue_as_of="2027-06-11")) == [first["id"]]
    guided = await shown(inspection, first["id"], inspector)
    assert (guided["outcome"], guided["improvement_report_due"], guided["awaiting_report"]) == (
        "guidance",
        "2027-06-10",
        True,
    )
    complaint = await post(
        inspection,
        "/v1/inspections",
        {
            "target_type": "supervising_organization",
            "target_id": cooperative,
            "reason": "complaint",
            "due_by": "2031-06-30",
            "scheduled_on": "2031-04-01",
        },
        inspector,
        201,
    )

    # The report never comes, and the permit runs out: the registry's sweep records its expiry.
    permit = (await registry.get(f"{SO}/{cooperative}", headers=officer)).json()
    day_after = (date.fromisoformat(permit["expires_on"]) + timedelta(days=1)).isoformat()
    swept = await post(registry, f"{SO}/expiries", {"as_of": day_after}, officer)
    assert swept["expired"] == [cooperative]
    expiry = (await stream(registry, cooperative, auditor))[-1]
    assert expiry["type"] == "titp.registry.PermitExpired.v1"
    expired_on = expiry["data"]["expired_on"]

    # Check: every inspection of the organization is closed, with the reason: the scheduled ones cancelled, and
    # the one awaiting its report awaits it no more.
    async def closed():
        waited = await shown(inspection, first["id"], inspector)
        return waited if waited["report_wait_closed_on"] else None

    waited = await eventually(closed, timeout=WAIT, message="the expiry never closed the inspection awaiting a report")
    assert (waited["status"], waited["report_wait_closed_on"], waited["report_wait_closed_reason"]) == (
        "completed",
        expired_on,
        "permit_expired",
    )
    assert (waited["awaiting_report"], waited["outcome"]) == (False, "guidance")
    for id in (second["id"], complaint["id"]):
        cancelled = await shown(inspection, id, inspector)
        assert (cancelled["status"], cancelled["cancelled_on"], cancelled["cancellation_reason"]) == (
            "cancelled",
            expired_on,
            "permit_expired",
        )
    # Check: they have left the worklists (due, overdue, awaited); the days before the expiry still read as they
    # were, by the dates.
    assert ids(await worklist(inspection, inspector, awaiting_report="true")) == []
    assert ids(await worklist(inspection, inspector, status="scheduled")) == []
    assert ids(await worklist(inspection, inspector, due_before="2032-01-01")) == []
    assert ids(await worklist(inspection, inspector, overdue_as_of="2032-01-01")) == []
    assert ids(await worklist(inspection, inspector, report_overdue_as_of="2032-01-01")) == []
    assert ids(await worklist(inspection, inspector, report_overdue_as_of="2027-06-11")) == [first["id"]]
    # Check: the closing names the registry's expiry as its cause.
    wait_closed = (await stream(inspection, first["id"], auditor))[-1]
    assert (wait_closed["type"], wait_closed["causationid"]) == (
        "titp.inspection.ImprovementReportWaitClosed.v1",
        expiry["id"],
    )


class Accreditation:
    """Publishes plan events on titp.accreditation.v1 as accreditation does: each plan's stream hash-chained."""

    def __init__(self, bootstrap: str, employer: uuid.UUID) -> None:
        self.bootstrap, self.employer = bootstrap, employer
        self.last: dict[uuid.UUID, RecordedEvent] = {}

    def header(self, start: str) -> dict:
        start_date = date.fromisoformat(start)
        return {
            "trainee_id": uuid.uuid4(),
            "stage": "i",
            "training_type": "a",
            "job_category": "construction",
            "implementing_organization_id": self.employer,
            "start_date": start_date,
            "end_date": start_date.replace(year=start_date.year + 1) - timedelta(days=1),
        }

    async def certify(self, certified_on: str, start: str) -> uuid.UUID:
        plan = uuid.uuid4()
        payload = TrainingPlanCertified(**self.header(start), certified_on=certified_on, rule_set="titp")
        await self.publish(plan, payload)
        return plan

    async def complete(self, plan: uuid.UUID, completed_on: str, *, times: int = 1) -> RecordedEvent:
        header = {k: v for k, v in self.last[plan].data.items() if k not in ("certified_on", "rule_set")}
        payload = TrainingPlanCompleted(**header, completed_on=completed_on, exam_result="passed")
        return await self.publish(plan, payload, times=times)

    async def publish(self, plan: uuid.UUID, payload, *, times: int = 1) -> RecordedEvent:
        event = next_event(accreditation_events, plan, payload, self.last.get(plan), actor="officer-mori")
        await publish(self.bootstrap, service_topic("accreditation"), *[event] * times)
        self.last[plan] = event
        return event


async def test_an_employer_whose_last_plan_completed_leaves_the_schedule_until_a_new_plan(
    start_service, token, kafka_bootstrap
):
    inspection = await start_service("inspection")
    inspector, auditor = token("otit", subject="inspector-sato"), token("auditor")
    employer = uuid.uuid4()
    accreditation = Accreditation(kafka_bootstrap, employer)

    # Two certified plans: the first puts the employer's first inspection on the schedule, due within 3 years.
    first_plan = await accreditation.certify("2026-05-15", "2026-06-01")

    async def regular():
        items = await worklist(inspection, inspector, target_id=str(employer), status="scheduled")
        return items[0] if len(items) == 1 else None

    first = await eventually(regular, timeout=WAIT, message="the certified plan never scheduled an inspection")
    assert (first["reason"], first["due_by"]) == ("first_certified_plan", "2029-05-15")
    # The second once the first is applied: two plans are two streams, on partitions with no order between them,
    # so sent together the second's certification could be applied first and schedule the inspection itself.
    second_plan = await accreditation.certify("2026-06-01", "2026-07-01")
    app = inspection._transport.app  # type: ignore[attr-defined]

    async def second_applied():
        async with app.state.pool.acquire() as conn:
            return await conn.fetchval("SELECT version FROM inbox_streams WHERE stream_id = $1", str(second_plan))

    await eventually(second_applied, timeout=WAIT, message="the second plan never reached the inspection")

    # The inspection finds overtime unpaid: a referral asks accreditation for an Art. 15 order on the employer.
    await post(
        inspection,
        f"/v1/inspections/{first['id']}/complete",
        {
            "inspected_on": "2027-03-01",
            "inspector": "Sato Mai",
            "outcome": "referral",
            "findings": [BREACH],
            "referral": {
                "action": "employer_improvement_order",
                "reason": "overtime unpaid",
                "deadline": "2027-05-31",
            },
        },
        inspector,
    )
    referred = (await stream(inspection, first["id"], auditor))[-1]
    assert referred["type"] == "titp.inspection.AdministrativeActionReferred.v1"
    assert {k: referred["data"][k] for k in ("action", "target_type", "target_id", "deadline")} == {
        "action": "employer_improvement_order",
        "target_type": "implementing_organization",
        "target_id": str(employer),
        "deadline": "2027-05-31",
    }
    next_one = await regular()
    assert (next_one["reason"], next_one["due_by"]) == ("previous_inspection", "2030-03-01")

    # Both plans complete (the second's completion delivered twice): no plan in force, the schedule ends.
    await accreditation.complete(first_plan, "2027-05-31")
    last = await accreditation.complete(second_plan, "2027-06-30", times=2)

    async def cancelled():
        found = await shown(inspection, next_one["id"], inspector)
        return found if found["status"] == "cancelled" else None

    ended = await eventually(cancelled, timeout=WAIT, message="the last plan's end never ended the schedule")
    # Check: cancelled on the last plan's end (not the first's: another was in force then), with the reason.
    assert (ended["cancelled_on"], ended["cancellation_reason"]) == ("2027-06-30", "no_plans_in_force")
    cancellation = (await stream(inspection, next_one["id"], auditor))[-1]
    assert cancellation["type"] == "titp.inspection.InspectionCancelled.v1"
    assert cancellation["causationid"] in {str(last.id), str(accreditation.last[first_plan].id)}  # either came last
    assert await worklist(inspection, inspector, target_id=str(employer), status="scheduled") == []
    assert await worklist(inspection, inspector, target_id=str(employer), due_before="2031-01-01") == []

    # A new plan certified later: the schedule starts again, as with a first plan.
    await accreditation.certify("2028-01-10", "2028-03-01")
    again = await eventually(regular, timeout=WAIT, message="the new plan never started the schedule again")
    assert (again["reason"], again["scheduled_on"], again["due_by"]) == (
        "first_certified_plan",
        "2028-01-10",
        "2031-01-10",
    )
    history = await worklist(inspection, auditor, target_id=str(employer))
    assert [(i["reason"], i["status"]) for i in history] == [
        ("first_certified_plan", "completed"),
        ("previous_inspection", "cancelled"),
        ("first_certified_plan", "scheduled"),
    ]
