"""Years of inspections in seconds, over REST and Kafka against the real stack: the schedule builds itself
from the registry's permits and accreditation's certified plans, and a referral's decision is applied by
the registry (permit revoked) and accreditation (plans revoked), once each."""

import uuid

from tests.helpers import corporate_number, eventually, grant, post
from tests.helpers import permit_application as application

WAIT = 30  # seconds for an effect to cross Kafka into another service


async def worklist(client, headers, **params) -> list[dict]:
    response = await client.get("/v1/inspections", headers=headers, params=params)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def one_inspection(client, headers, **params) -> dict | None:
    items = await worklist(client, headers, **params)
    assert len(items) <= 1, items
    return items[0] if items else None


PASSPORTS = {
    "code": "passport_or_residence_card_kept",
    "legal_breach": True,
    "description": "the trainees' passports are kept in the office safe",
}


async def test_a_supervising_organization_is_inspected_yearly_until_a_referral_revokes_its_permit(start_service, token):
    registry = await start_service("registry")
    inspection = await start_service("inspection")
    officer, inspector = token("otit", subject="officer-ito"), token("otit", subject="inspector-kato")

    # A permit granted puts the cooperative's first inspection on the schedule, due within a year.
    cooperative = (await post(registry, "/v1/supervising-organizations", application(), officer, 201))["id"]
    await post(
        registry,
        f"/v1/supervising-organizations/{cooperative}/grant",
        grant(granted_on="2026-05-01"),
        officer,
    )
    first = await eventually(
        lambda: one_inspection(inspection, inspector, target_id=cooperative),
        timeout=WAIT,
        message="the permit never put an inspection on the schedule",
    )
    assert (first["reason"], first["kind"], first["status"], first["scheduled_on"], first["due_by"]) == (
        "permit_granted",
        "regular",
        "scheduled",
        "2026-05-01",
        "2027-05-01",
    )

    # Check: the worklist answers by the date, without a clock.
    def ids(items):
        return [i["id"] for i in items if i["target_id"] == cooperative]

    assert ids(await worklist(inspection, inspector, due_before="2027-06-01")) == [first["id"]]
    assert ids(await worklist(inspection, inspector, due_before="2027-05-01")) == []
    assert ids(await worklist(inspection, inspector, overdue_as_of="2027-05-02")) == [first["id"]]
    assert ids(await worklist(inspection, inspector, overdue_as_of="2027-05-01")) == []

    # Year one: no finding; the next inspection is due a year after it.
    done = await post(
        inspection,
        f"/v1/inspections/{first['id']}/complete",
        {"inspected_on": "2027-04-20", "inspector": "Kato Ken", "outcome": "no_finding"},
        inspector,
    )
    assert done == {"id": first["id"], "version": 2}
    second = await one_inspection(inspection, inspector, target_id=cooperative, status="scheduled")
    assert (second["reason"], second["follows"], second["due_by"]) == ("previous_inspection", first["id"], "2028-04-20")

    # Year two: improvement guidance for records that fall short of policy.
    await post(
        inspection,
        f"/v1/inspections/{second['id']}/complete",
        {
            "inspected_on": "2028-05-10",
            "inspector": "Kato Ken",
            "outcome": "guidance",
            "findings": [
                {
                    "code": "records_not_kept",
                    "legal_breach": False,
                    "description": "supervision visit logs kept irregularly",
                }
            ],
            "improvement_report_due": "2028-06-30",
        },
        inspector,
    )
    # Check: it was inspected late, so it counts as overdue on the days between.
    assert second["id"] in ids(await worklist(inspection, inspector, overdue_as_of="2028-05-01"))
    assert second["id"] not in ids(await worklist(inspection, inspector, overdue_as_of="2028-05-11"))
    third = await one_inspection(inspection, inspector, target_id=cooperative, status="scheduled")
    assert third["due_by"] == "2029-05-10"
    # Check: guidance asks for an improvement report too (DOMAIN §11); it comes on time.
    assert ids(await worklist(inspection, inspector, awaiting_report="true")) == [second["id"]]
    await post(
        inspection, f"/v1/inspections/{second['id']}/improvement-report", {"received_on": "2028-06-25"}, inspector
    )

    # Year three: the passports are kept, a legal breach; an improvement report is due by 10 June.
    await post(
        inspection,
        f"/v1/inspections/{third['id']}/complete",
        {
            "inspected_on": "2029-04-10",
            "inspector": "Kato Ken",
            "outcome": "recommendation",
            "findings": [PASSPORTS],
            "improvement_report_due": "2029-06-10",
        },
        inspector,
    )
    fourth = await one_inspection(inspection, inspector, target_id=cooperative, status="scheduled")
    assert fourth["due_by"] == "2030-04-10"
    assert ids(await worklist(inspection, inspector, awaiting_report="true")) == [third["id"]]
    assert ids(await worklist(inspection, inspector, report_overdue_as_of="2029-06-10")) == []
    assert ids(await worklist(inspection, inspector, report_overdue_as_of="2029-06-11")) == [third["id"]]

    # The report is overdue: OTIT follows up with an extraordinary inspection.
    follow_up = await post(
        inspection,
        "/v1/inspections",
        {
            "target_type": "supervising_organization",
            "target_id": cooperative,
            "reason": "follow_up",
            "due_by": "2029-07-31",
            "scheduled_on": "2029-06-12",
            "detail": "no improvement report by 10 June",
        },
        inspector,
        201,
    )
    # Check: the worklist orders by due date across both.
    assert ids(await worklist(inspection, inspector, status="scheduled")) == [follow_up["id"], fourth["id"]]

    # The report comes late; the follow-up finds the passports still kept and refers the permit for revocation.
    await post(
        inspection, f"/v1/inspections/{third['id']}/improvement-report", {"received_on": "2029-06-20"}, inspector
    )
    assert ids(await worklist(inspection, inspector, awaiting_report="true")) == []
    assert ids(await worklist(inspection, inspector, report_overdue_as_of="2029-06-15")) == [third["id"]]
    await post(
        inspection,
        f"/v1/inspections/{follow_up['id']}/complete",
        {
            "inspected_on": "2029-07-01",
            "inspector": "Kato Ken",
            "outcome": "referral",
            "findings": [PASSPORTS],
            "referral": {
                "action": "permit_revocation",
                "reason": "passports kept after a recommendation",
                "ground": "law_breached",
                "decided_on": "2029-07-05",
            },
        },
        inspector,
    )

    # Check: the registry revokes the permit, naming the referral as the cause.
    async def revoked():
        body = (await registry.get(f"/v1/supervising-organizations/{cooperative}", headers=officer)).json()
        return body if body["lifecycle"] == "revoked" else None

    permit = await eventually(revoked, timeout=WAIT, message="the referral never revoked the permit")
    assert (permit["revocation"]["revoked_on"], permit["revocation"]["ground"]) == ("2029-07-05", "law_breached")
    auditor = token("auditor")
    follow_up_history = (await inspection.get(f"/v1/audit/streams/{follow_up['id']}", headers=auditor)).json()
    referral = follow_up_history["events"][-1]
    assert referral["type"] == "titp.inspection.AdministrativeActionReferred.v1"
    permit_history = (await registry.get(f"/v1/audit/streams/{cooperative}", headers=auditor)).json()["events"]
    assert permit_history[-1]["type"] == "titp.registry.PermitRevoked.v1"
    assert permit_history[-1]["causationid"] == referral["id"]

    # Check: the revocation cancels the open inspection, and nothing more is scheduled.
    async def cancelled():
        shown = (await inspection.get(f"/v1/inspections/{fourth['id']}", headers=inspector)).json()
        return shown if shown["status"] == "cancelled" else None

    shown = await eventually(cancelled, timeout=WAIT, message="the revocation never cancelled the open inspection")
    assert (shown["cancelled_on"], shown["cancellation_reason"]) == ("2029-07-05", "permit_revoked")
    cancellation = (await inspection.get(f"/v1/audit/streams/{fourth['id']}", headers=auditor)).json()["events"][-1]
    assert cancellation["causationid"] == permit_history[-1]["id"]
    assert cancellation["correlationid"] == referral["correlationid"]  # one thread from the inspector's command
    history = await worklist(inspection, auditor, target_id=cooperative)
    assert [(i["reason"], i["status"], i["outcome"]) for i in history] == [
        ("permit_granted", "completed", "no_finding"),
        ("previous_inspection", "completed", "guidance"),
        ("previous_inspection", "completed", "recommendation"),
        ("follow_up", "completed", "referral"),
        ("previous_inspection", "cancelled", None),
    ]
    # Check: as of before the revocation, the last inspection was still on the schedule.
    before = (
        await inspection.get(
            f"/v1/inspections/{fourth['id']}", headers=auditor, params={"as_of": follow_up_history["events"][0]["time"]}
        )
    ).json()
    assert before["status"] == "scheduled"


def plan_application(implementing_organization_id: str, trainee: str, **overrides) -> dict:
    return {
        "trainee_id": str(uuid.uuid4()),
        "stage": "i",
        "training_type": "a",
        "job_category": "machinery and metal",
        "implementing_organization_id": implementing_organization_id,
        "start_date": "2026-06-01",
        "end_date": "2027-05-31",
        "monthly_wage": 210_000,
        "comparable_japanese_wage": 205_000,
        "trainee": {
            "name": trainee,
            "date_of_birth": "2001-03-14",
            "nationality": "VN",
            "passport_number": f"C{uuid.uuid4().int % 10**7:07d}",
        },
        "applied_on": "2026-01-20",  # stage i: filed 4 to 6 months before its start
        **overrides,
    }


async def test_an_implementing_organization_s_plans_are_revoked_in_accreditation_on_a_referral(start_service, token):
    registry = await start_service("registry")
    accreditation = await start_service("accreditation")
    inspection = await start_service("inspection")
    officer, inspector = token("otit", subject="officer-mori"), token("otit", subject="inspector-sato")

    # An enterprise-sponsored (type a) implementing organization, and two trainees' plans for it.
    company = (
        await post(
            registry,
            "/v1/implementing-organizations",
            {
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
            },
            officer,
            201,
        )
    )["id"]
    plans = [
        (await post(accreditation, "/v1/training-plans", plan_application(company, name), officer, 201))["id"]
        for name in ("Nguyen Van An", "Tran Thi Binh")
    ]

    async def certified(plan, on):
        response = await accreditation.post(
            f"/v1/training-plans/{plan}/certify", json={"certified_on": on}, headers=officer
        )
        assert response.status_code in (200, 409), response.text  # 409 until accreditation has heard of the company
        return response.status_code == 200

    await eventually(
        lambda: certified(plans[0], "2026-05-15"),
        timeout=WAIT,
        message="accreditation never heard of the implementing organization",
    )
    assert await certified(plans[1], "2026-05-20")

    # Check: the first certified plan, and only it, puts the company's first inspection on the schedule.
    first = await eventually(
        lambda: one_inspection(inspection, inspector, target_id=company),
        timeout=WAIT,
        message="the certified plan never put an inspection on the schedule",
    )
    assert (first["target_type"], first["reason"], first["scheduled_on"], first["due_by"]) == (
        "implementing_organization",
        "first_certified_plan",
        "2026-05-15",
        "2029-05-15",
    )

    # The inspection finds deposits taken from the trainees and refers the plans for revocation.
    await post(
        inspection,
        f"/v1/inspections/{first['id']}/complete",
        {
            "inspected_on": "2027-03-01",
            "inspector": "Sato Mai",
            "outcome": "referral",
            "findings": [
                {
                    "code": "penalty_or_deposit_contract",
                    "legal_breach": True,
                    "description": "a 300,000 yen deposit forfeited on leaving early",
                }
            ],
            "referral": {"action": "plan_revocation", "reason": "deposit contracts with the trainees"},
        },
        inspector,
    )
    next_one = await one_inspection(inspection, inspector, target_id=company, status="scheduled")
    assert next_one["due_by"] == "2030-03-01"  # the company stays on the 3-year cadence

    # Check: accreditation revokes both plans, naming the referral.
    referral = (await inspection.get(f"/v1/inspections/{first['id']}", headers=inspector)).json()["referral"]

    async def revoked():
        shown = [(await accreditation.get(f"/v1/training-plans/{plan}", headers=officer)).json() for plan in plans]
        return shown if all(p["status"] == "revoked" for p in shown) else None

    shown = await eventually(revoked, timeout=WAIT, message="the referral never revoked the plans")
    auditor = token("auditor")
    for plan in plans:
        [revocation] = [
            e
            for e in (await accreditation.get(f"/v1/audit/streams/{plan}", headers=auditor)).json()["events"]
            if e["type"] == "titp.accreditation.TrainingPlanRevoked.v1"
        ]
        assert (revocation["data"]["revoked_on"], revocation["data"]["referral_id"]) == (
            "2027-03-01",
            referral["referral_id"],
        )
    assert len(shown) == 2

    # Check: with no plan in force, the company leaves the schedule (DOMAIN §11): its next inspection is cancelled.
    async def left_the_schedule():
        found = (await inspection.get(f"/v1/inspections/{next_one['id']}", headers=inspector)).json()
        return found if found["status"] == "cancelled" else None

    cancelled = await eventually(left_the_schedule, timeout=WAIT, message="the revoked plans never ended the schedule")
    assert (cancelled["cancelled_on"], cancelled["cancellation_reason"]) == ("2027-03-01", "no_plans_in_force")
    # Check: the second plan's certification scheduled nothing more.
    assert [i["reason"] for i in await worklist(inspection, auditor, target_id=company)] == [
        "first_certified_plan",
        "previous_inspection",
    ]
