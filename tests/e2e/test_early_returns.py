"""Early returns home, disappearances and deaths (issue 25 items 1 and 4), over REST and Kafka only: registry,
accreditation and inspection, each with its own database.

A trainee's return home before the plan's end is recorded only with the trainee's own confirmation of their wish. The
supervising organization files a return without it: the return is flagged for the agency, the plan stays in force and
may not end by it (`early_return.unconfirmed`), and the inspection service opens an extraordinary inspection of the
employer; an officer then accepts it and the plan ends. A confirmed return ends the plan at once and is counted by
reason per employer. An employer with three flagged returns of three plans goes on the inspection worklist. A
disappearance and a death are recorded with the day reported and by whom, each opens an inspection of the employer,
and they are counted per employer and fiscal year.
"""

from tests.e2e.test_accreditation_law import certified, plan
from tests.helpers import eventually, post, registered_partners

PLANS = "/v1/training-plans"
INSPECTIONS = "/v1/inspections"
WAIT = 30  # seconds for an effect to cross Kafka into another service
STATEMENT = "Tôi muốn về nước vì mẹ tôi bị ốm."  # the trainee's own words, in Vietnamese


def refused(response, rule: str, status: int = 409) -> None:
    assert (response.status_code, response.json().get("rule")) == (status, rule), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


async def inspections_of(inspection, officer, employer: str, reason: str, count: int = 1) -> list[dict]:
    """The employer's inspections for `reason`, once `count` of them crossed Kafka into the inspection service."""

    async def found():
        answer = await inspection.get(INSPECTIONS, params={"target_id": employer, "reason": reason}, headers=officer)
        assert answer.status_code == 200, answer.text
        items = answer.json()["items"]
        return items if len(items) >= count else None

    return await eventually(found, timeout=WAIT, message=f"no {reason} inspection of {employer}")


def confirmation(**changes) -> dict:
    return {
        "confirmed_on": "2026-11-18",
        "language": "vi",
        "taken_by": "Sakura Cooperative, Vietnamese interpreter",
        "wish_stated": True,
        "contested": False,
        "statement": STATEMENT,
        **changes,
    }


async def test_an_early_return_without_the_trainees_confirmation_is_flagged_inspected_and_decided_by_an_officer(
    start_service, token
):
    registry, accreditation = await start_service("registry"), await start_service("accreditation")
    inspection = await start_service("inspection")
    officer, auditor = token("otit", subject="officer-ueda"), token("auditor")
    partners = await registered_partners(registry, officer, permit_type="specified")
    supervisor = token("supervising_org", org=partners.supervising, subject="staff-kato")
    employer = token("implementing_org", org=partners.implementing, subject="staff-mori")
    id = await certified(accreditation, officer, plan(partners))
    early_return = f"{PLANS}/{id}/early-return"
    body = {
        "returned_on": "2026-11-20",
        "reason": "own_wish",
        "detail": "left after a dispute",
        "filed_on": "2026-11-25",
    }

    # Check: a type (b) plan's return is filed through its supervising organization, not by the employer.
    refused(
        await accreditation.post(early_return, json=body, headers=employer), "filing.through_supervising_organization"
    )
    # Check: a statement without the trainee's stated wish is bad input (422, naming the field).
    bad = await accreditation.post(
        early_return, json={**body, "confirmation": confirmation(wish_stated=False)}, headers=supervisor
    )
    assert bad.status_code == 422 and "confirmation" in bad.text, bad.text

    # The supervising organization files the return without the trainee's confirmation.
    filed = await accreditation.post(early_return, json=body, headers=supervisor)
    assert filed.status_code == 201, filed.text
    return_id = filed.json()["id"]
    assert filed.headers["location"] == f"{PLANS}/{id}/early-returns"

    # Check: it is flagged; the plan stays in progress; the agency reads the sealed detail, the organization does not.
    [shown] = (await accreditation.get(f"{PLANS}/{id}/early-returns", headers=officer)).json()
    assert (shown["id"], shown["status"], shown["flags"]) == (return_id, "flagged", ["unconfirmed"])
    assert (shown["detail"], shown["words_recorded"], shown["confirmation"]) == ("left after a dispute", True, None)
    [theirs] = (await accreditation.get(f"{PLANS}/{id}/early-returns", headers=supervisor)).json()
    assert (theirs["status"], theirs["detail"], theirs["words_recorded"]) == ("flagged", None, True)
    assert (await accreditation.get(f"{PLANS}/{id}", headers=officer)).json()["status"] == "in_progress"
    # Check: the event on the plan's stream carries the detail sealed, never in the clear.
    events = (await accreditation.get(f"/v1/audit/streams/{id}", headers=auditor)).json()["events"]
    assert events[-1]["type"] == "titp.accreditation.TrainingPlanEarlyReturnFiled.v1"
    assert "dispute" not in str(events[-1]["data"]) and events[-1]["data"]["words"]

    # Check: the plan may not end by the return until an officer decides, under no name, nor be completed; nor be
    # filed twice.
    for reason in ("early_return", "other"):
        ended = await accreditation.post(
            f"{PLANS}/{id}/discontinue", json={"on": "2026-11-20", "reason": reason}, headers=officer
        )
        refused(ended, "early_return.unconfirmed")
    completion = {"completed_on": "2026-12-01", "exam_result": "passed"}
    refused(
        await accreditation.post(f"{PLANS}/{id}/complete", json=completion, headers=officer), "early_return.unconfirmed"
    )
    refused(await accreditation.post(early_return, json=body, headers=supervisor), "early_return.pending")

    # Check: it is on the agency's worklist of flagged returns, which no organization reads.
    worklist = (await accreditation.get("/v1/early-returns", params={"status": "flagged"}, headers=officer)).json()
    assert [r["id"] for r in worklist["items"]] == [return_id]
    assert (await accreditation.get("/v1/early-returns", headers=supervisor)).status_code == 403

    # Check: the inspection service opened an extraordinary inspection of the employer, due 30 days after the filing.
    [opened] = await inspections_of(inspection, officer, partners.implementing, "early_return")
    assert (opened["kind"], opened["status"], opened["target_type"]) == (
        "extraordinary",
        "scheduled",
        "implementing_organization",
    )
    assert (opened["scheduled_on"], opened["due_by"]) == ("2026-11-25", "2026-12-25")
    assert return_id in opened["detail"] and "unconfirmed" in opened["detail"]

    # An officer decides: only officers; not before the filing; accepted, the plan ends on the day of the return.
    decision = f"{early_return}/decision"
    accept = {"decision": "accept", "reason": "the trainee confirmed to OTIT by phone", "decided_on": "2026-12-01"}
    assert (await accreditation.post(decision, json=accept, headers=supervisor)).status_code == 403
    early = await accreditation.post(decision, json={**accept, "decided_on": "2026-11-24"}, headers=officer)
    refused(early, "early_return.decided_before_filing")
    await post(accreditation, decision, accept, officer)
    ended = (await accreditation.get(f"{PLANS}/{id}", headers=officer)).json()
    assert ended["status"] == "discontinued"
    assert (ended["discontinuation"]["discontinued_on"], ended["discontinuation"]["reason"]) == (
        "2026-11-20",
        "early_return",
    )
    [decided] = (await accreditation.get(f"{PLANS}/{id}/early-returns", headers=officer)).json()
    assert decided["status"] == "accepted"
    assert decided["decision"] == {"decided_on": "2026-12-01", "decision": "accepted", "reason": accept["reason"]}
    refused(await accreditation.post(decision, json=accept, headers=officer), "early_return.not_pending")

    # Check: the employer's last plan ended, its regular inspection is cancelled; the extraordinary one stays.
    async def regular_cancelled():
        [regular] = await inspections_of(inspection, officer, partners.implementing, "first_certified_plan")
        return regular["status"] == "cancelled"

    await eventually(regular_cancelled, timeout=WAIT, message="the regular inspection was not cancelled")
    [still] = await inspections_of(inspection, officer, partners.implementing, "early_return")
    assert still["status"] == "scheduled"
    types = [e["type"] for e in (await accreditation.get(f"/v1/audit/streams/{id}", headers=auditor)).json()["events"]]
    assert types[-2:] == [
        "titp.accreditation.TrainingPlanEarlyReturnDecided.v1",
        "titp.accreditation.TrainingPlanDiscontinued.v1",
    ]


async def test_a_confirmed_early_return_ends_the_plan_at_once_and_is_counted_by_reason(start_service, token):
    registry, accreditation = await start_service("registry"), await start_service("accreditation")
    officer = token("otit", subject="officer-ueda")
    partners = await registered_partners(registry, officer, permit_type="specified")
    supervisor = token("supervising_org", org=partners.supervising, subject="staff-kato")
    confirmed, contested = [await certified(accreditation, officer, plan(partners)) for _ in range(2)]

    # Check: a confirmation taken after the trainee left is no confirmation of their wish.
    late = {"returned_on": "2026-11-20", "reason": "family", "confirmation": confirmation(confirmed_on="2026-11-21")}
    refused(
        await accreditation.post(f"{PLANS}/{confirmed}/early-return", json=late, headers=supervisor),
        "early_return.confirmation_after_return",
    )
    body = {"returned_on": "2026-11-20", "reason": "family", "confirmation": confirmation(), "filed_on": "2026-11-21"}
    await post(accreditation, f"{PLANS}/{confirmed}/early-return", body, supervisor, 201)

    # Check: the plan ended at once, on the day of the return; the trainee's words are opened for the agency only.
    ended = (await accreditation.get(f"{PLANS}/{confirmed}", headers=officer)).json()
    assert (ended["status"], ended["discontinuation"]["reason"]) == ("discontinued", "early_return")
    [shown] = (await accreditation.get(f"{PLANS}/{confirmed}/early-returns", headers=officer)).json()
    assert (shown["status"], shown["flags"], shown["statement"]) == ("confirmed", [], STATEMENT)
    assert shown["confirmation"]["language"] == "vi" and "statement" not in shown["confirmation"]

    # A return the trainee contests is flagged, confirmation or not.
    contest = {**body, "reason": "end_of_contract", "confirmation": confirmation(contested=True)}
    await post(accreditation, f"{PLANS}/{contested}/early-return", contest, supervisor, 201)
    [flagged] = (await accreditation.get(f"{PLANS}/{contested}/early-returns", headers=officer)).json()
    assert (flagged["status"], flagged["flags"]) == ("flagged", ["contested"])

    # Check: counted by reason per employer and per supervising organization, by the month of the return.
    params = {"from": "2026-11", "to": "2026-11"}
    counts = (await accreditation.get("/v1/statistics/early-returns", params=params, headers=officer)).json()
    assert (counts["returns"], counts["flagged"], counts["confirmed"]) == (2, 1, 1)
    assert counts["by_reason"] == {"family": 1, "end_of_contract": 1}
    [employer] = counts["organizations"]
    assert employer["organization_id"] == partners.implementing
    assert employer["by_reason"] == {"family": 1, "end_of_contract": 1}
    per_supervisor = (
        await accreditation.get(
            "/v1/statistics/early-returns", params={**params, "per": "supervising_organization"}, headers=officer
        )
    ).json()
    assert [(o["organization_id"], o["returns"]) for o in per_supervisor["organizations"]] == [
        (partners.supervising, 2)
    ]
    family = (
        await accreditation.get("/v1/statistics/early-returns", params={**params, "reason": "family"}, headers=officer)
    ).json()
    assert (family["returns"], family["where"]) == (1, {"reason": "family"})
    october = (
        await accreditation.get(
            "/v1/statistics/early-returns", params={"from": "2026-10", "to": "2026-10"}, headers=officer
        )
    ).json()
    assert (october["returns"], october["organizations"]) == (0, [])
    assert (await accreditation.get("/v1/statistics/early-returns", headers=supervisor)).status_code == 403


async def test_an_employer_above_the_rate_of_flagged_early_returns_goes_on_the_inspection_worklist(
    start_service, token
):
    registry, accreditation = await start_service("registry"), await start_service("accreditation")
    inspection = await start_service("inspection")
    officer = token("otit", subject="officer-ueda")
    partners = await registered_partners(registry, officer, permit_type="specified")
    supervisor = token("supervising_org", org=partners.supervising, subject="staff-kato")
    plans = [await certified(accreditation, officer, plan(partners)) for _ in range(3)]
    # Three returns of its three plans, none with the trainee's confirmed, uncontested wish (the default: more than
    # 1/5 of its plans ended or returned from in 12 months, at least 3 returns).
    confirmations = [None, confirmation(contested=True), confirmation(wish_stated=False, statement=None)]
    for n, (id, given) in enumerate(zip(plans, confirmations, strict=True)):
        body = {"returned_on": f"2026-11-{20 + n}", "reason": "other", "filed_on": "2026-11-25"}
        await post(accreditation, f"{PLANS}/{id}/early-return", {**body, "confirmation": given}, supervisor, 201)

    # Check: three inspections for the flagged returns, and one for the employer's rate, naming it.
    flagged = await inspections_of(inspection, officer, partners.implementing, "early_return", count=3)
    assert len(flagged) == 3
    [rate] = await inspections_of(inspection, officer, partners.implementing, "early_return_rate")
    assert rate["kind"] == "extraordinary" and rate["scheduled_on"] == "2026-11-22"
    assert "3 flagged early returns of 3 plans" in rate["detail"] and "1/5" in rate["detail"]
    counted = (
        await accreditation.get(
            "/v1/statistics/early-returns", params={"from": "2026-11", "to": "2026-11"}, headers=officer
        )
    ).json()
    assert (counted["returns"], counted["flagged"]) == (3, 3)


async def test_a_disappearance_and_a_death_are_recorded_as_reported_inspected_and_counted_per_employer(
    start_service, token
):
    registry, accreditation = await start_service("registry"), await start_service("accreditation")
    inspection = await start_service("inspection")
    officer = token("otit", subject="officer-ueda")
    partners = await registered_partners(registry, officer, permit_type="specified")
    supervisor = token("supervising_org", org=partners.supervising, subject="staff-kato")
    gone, died = [await certified(accreditation, officer, plan(partners)) for _ in range(2)]
    reporter = {"party": "supervising_organization", "office": "Sakura Cooperative, supervision manager"}
    disappeared = {"on": "2026-11-03", "reason": "disappearance"}

    # Check: a disappearance is recorded only with the day it was reported and who reported it, not before it happened.
    discontinue = f"{PLANS}/{gone}/discontinue"
    refused(await accreditation.post(discontinue, json=disappeared, headers=supervisor), "discontinuation.reported")
    early = {**disappeared, "reported_on": "2026-11-02", "reported_by": reporter}
    refused(await accreditation.post(discontinue, json=early, headers=supervisor), "discontinuation.reported_before")
    bankrupt = {"on": "2026-11-03", "reason": "bankruptcy", "reported_on": "2026-11-05", "reported_by": reporter}
    refused(await accreditation.post(discontinue, json=bankrupt, headers=supervisor), "discontinuation.reported")
    await post(
        accreditation, discontinue, {**disappeared, "reported_on": "2026-11-05", "reported_by": reporter}, supervisor
    )
    police = {"party": "police", "office": "Naka police station, Nagoya"}
    died_on = {"on": "2026-12-01", "reason": "death", "reported_on": "2026-12-01", "reported_by": police}
    await post(accreditation, f"{PLANS}/{died}/discontinue", died_on, officer)

    # Check: the plan shows the report.
    shown = (await accreditation.get(f"{PLANS}/{gone}", headers=officer)).json()["discontinuation"]
    assert (shown["reason"], shown["reported_on"], shown["reported_by"]) == ("disappearance", "2026-11-05", reporter)

    # Check: each opens an extraordinary inspection of the employer, on the day it was reported.
    [missing] = await inspections_of(inspection, officer, partners.implementing, "disappearance")
    assert (missing["kind"], missing["scheduled_on"], missing["due_by"]) == (
        "extraordinary",
        "2026-11-05",
        "2026-12-05",
    )
    assert gone in missing["detail"] and "supervising_organization" in missing["detail"]
    [death] = await inspections_of(inspection, officer, partners.implementing, "death")
    assert (death["scheduled_on"], death["status"]) == ("2026-12-01", "scheduled")

    # Check: counted per employer and fiscal year, and per month.
    per_employer = (
        await accreditation.get(
            "/v1/statistics/disappearances/per-employer",
            params={"from_fiscal_year": 2026, "to_fiscal_year": 2026},
            headers=officer,
        )
    ).json()
    [year] = per_employer["fiscal_years"]
    assert (year["fiscal_year"], year["from"], year["to"], year["disappearances"], year["deaths"]) == (
        2026,
        "2026-04-01",
        "2027-03-31",
        1,
        1,
    )
    assert year["implementing_organizations"] == [
        {"implementing_organization_id": partners.implementing, "disappearances": 1, "deaths": 1}
    ]
    november = {"from": "2026-11", "to": "2026-12"}
    monthly = (await accreditation.get("/v1/statistics/disappearances", params=november, headers=officer)).json()
    assert [m["total"] for m in monthly["months"]] == [1, 0]
    deaths = (
        await accreditation.get("/v1/statistics/disappearances", params={**november, "kind": "death"}, headers=officer)
    ).json()
    assert [m["total"] for m in deaths["months"]] == [0, 1]
