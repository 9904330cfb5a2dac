"""A stage-i trainee's plan is paused for her pregnancy and resumed with the stage's remaining months (issue 25 item 3,
DOMAIN §7, §10), over REST and Kafka only: registry, accreditation and visa, each with its own database.

The plan runs 12 months, from 1 Mar 2027 to 29 Feb 2028; the trainee entered on a COE and a visa. Three months in,
on 1 Jun 2027, her supervising organization pauses it (pregnancy); another organization cannot, nor can anyone
complete it while it is paused. The visa service sees the pause: immigration reads the trainee's residence, paused
since 1 Jun, and the status of residence she holds, unchanged. On 1 Oct 2027, four months later, her employer resumes
it: the plan now ends on 30 Jun 2028, four months later than certified, and its days in training are still the 12
months' 366. The visa service sees the resumption; the status of residence was never cancelled.
"""

from datetime import UTC, date, datetime
from uuid import uuid4

from tests.e2e.test_accreditation_law import certified, plan
from tests.e2e.test_bankruptcy_transfer import refused
from tests.e2e.test_visa_coe import COE, day
from tests.e2e.test_visa_path import once_accepted
from tests.helpers import eventually, post, registered_partners

PLANS = "/v1/training-plans"
START, CERTIFIED_END = "2027-03-01", "2028-02-29"


async def test_a_pregnancy_pause_and_its_resumption_keep_the_stages_remaining_months(start_service, token):
    registry, accreditation, visa = (
        await start_service("registry"),
        await start_service("accreditation"),
        await start_service("visa"),
    )
    officer, auditor = token("otit", subject="officer-sato"), token("auditor")
    immigration = token("immigration", subject="officer-kimura")
    partners = await registered_partners(registry, officer, permit_type="specified")
    supervisor = token("supervising_org", org=partners.supervising, subject="staff-kato")
    employer = token("implementing_org", org=partners.implementing, subject="staff-ito")
    stranger = token("supervising_org", org=str(uuid4()), subject="staff-of-another")

    # The stage-i plan: 12 months from 1 Mar 2027, filed in its window (Sep-Nov 2026), certified on 1 Nov 2026.
    body = plan(partners, start_date=START, end_date=CERTIFIED_END, applied_on="2026-10-15")
    id = await certified(accreditation, officer, body, certified_on="2026-11-01")
    trainee = (await accreditation.get(f"{PLANS}/{id}", headers=officer)).json()["trainee_id"]

    # The trainee enters: a COE for the plan, then the visa.
    coe = (await once_accepted(visa, COE, {"training_plan_id": id, "applied_on": day(-10)}, immigration, 201))["id"]
    await post(visa, f"{COE}/{coe}/issue", {"issued_on": day(0)}, immigration)
    entry = await post(
        visa, "/v1/visas", {"coe_id": coe, "post": "Embassy of Japan in Hanoi", "issued_on": day(1)}, immigration, 201
    )
    residence = f"/v1/trainees/{trainee}/residence"
    before = (await visa.get(residence, params={"on": "2027-05-01"}, headers=immigration)).json()
    held = before["status_of_residence"]
    assert (held["granted_by"], held["id"], held["status_of_residence"]) == (
        "visa",
        entry["id"],
        "technical_intern_training",
    )
    assert [(p["training_plan_id"], p["paused"], p["pauses"]) for p in before["training_plans"]] == [(id, False, [])]

    # Check: a pause before the plan's start, and a resumption of a plan not paused, are refused naming the rule.
    pause = {"on": "2027-06-01", "reason": "pregnancy", "detail": "expected delivery 2027-08-20"}
    await refused(
        await accreditation.post(f"{PLANS}/{id}/pause", json={**pause, "on": "2027-02-28"}, headers=supervisor),
        "pause.before_start",
    )
    await refused(
        await accreditation.post(f"{PLANS}/{id}/resume", json={"on": "2027-06-01"}, headers=supervisor),
        "pause.not_paused",
    )
    # Check: another organization's pause is answered as if the plan did not exist.
    answer = await accreditation.post(f"{PLANS}/{id}/pause", json=pause, headers=stranger)
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")

    # Three months in, the supervising organization pauses the plan: pregnancy.
    before_the_pause = datetime.now(UTC).isoformat()
    await post(accreditation, f"{PLANS}/{id}/pause", pause, supervisor)
    shown = (await accreditation.get(f"{PLANS}/{id}", headers=employer)).json()
    assert (shown["paused_since"], shown["end_date"], shown["paused_days"]) == ("2027-06-01", CERTIFIED_END, 0)
    assert shown["pauses"] == [
        {
            "from": "2027-06-01",
            "until": None,
            "resumed_on": None,
            "days": 0,
            "reason": "pregnancy",
            "detail": "expected delivery 2027-08-20",
        }
    ]
    # Check: the list shows it paused on a day of the pause, and filters it as paused; not before the pause.
    where = {"implementing_organization_id": partners.implementing}
    on_july = (await accreditation.get(PLANS, params={**where, "on": "2027-07-01"}, headers=officer)).json()
    assert [(p["id"], p["status"]) for p in on_july["items"]] == [(id, "paused")]
    paused = (
        await accreditation.get(PLANS, params={**where, "status": "paused", "on": "2027-07-01"}, headers=officer)
    ).json()
    assert [p["id"] for p in paused["items"]] == [id]
    in_may = (await accreditation.get(PLANS, params={**where, "on": "2027-05-31"}, headers=officer)).json()
    assert [p["status"] for p in in_may["items"]] == ["in_progress"]

    # Check: paused twice, or completed while paused, is refused naming the rule.
    await refused(
        await accreditation.post(f"{PLANS}/{id}/pause", json={**pause, "on": "2027-07-01"}, headers=supervisor),
        "pause.already_paused",
    )
    await refused(
        await accreditation.post(
            f"{PLANS}/{id}/complete", json={"completed_on": "2027-07-15", "exam_result": "passed"}, headers=officer
        ),
        "plan.paused",
    )

    # Check: the visa service sees the pause: paused since 1 Jun; the status of residence is the same visa's.
    async def paused_at_immigration():
        seen = (await visa.get(residence, params={"on": "2027-07-01"}, headers=immigration)).json()
        [known] = seen["training_plans"]
        return seen if known["paused"] else None

    seen = await eventually(paused_at_immigration, timeout=30, message="the visa service never saw the pause")
    [known] = seen["training_plans"]
    assert (known["paused_since"], known["status"]) == ("2027-06-01", "certified")
    assert known["pauses"] == [{"from": "2027-06-01", "until": None, "resumed_on": None, "reason": "pregnancy"}]
    assert seen["status_of_residence"] == held
    shown_visa = await visa.get(f"/v1/visas/{entry['id']}", headers=immigration)
    assert (shown_visa.status_code, shown_visa.json()["issued_on"]) == (200, day(1))

    # Check: a resumption not after the pause's first day is refused; then the employer resumes it on 1 Oct 2027.
    await refused(
        await accreditation.post(f"{PLANS}/{id}/resume", json={"on": "2027-06-01"}, headers=employer),
        "pause.resumed_before_pause",
    )
    await post(accreditation, f"{PLANS}/{id}/resume", {"on": "2027-10-01"}, employer)

    # Check: the plan ends four months later than certified, its days in training still the 12 months' 366.
    resumed = (await accreditation.get(f"{PLANS}/{id}", headers=supervisor)).json()
    assert (resumed["end_date"], resumed["paused_since"], resumed["paused_days"]) == ("2028-06-30", None, 122)
    assert resumed["pauses"] == [
        {
            "from": "2027-06-01",
            "until": "2027-09-30",
            "resumed_on": "2027-10-01",
            "days": 122,
            "reason": "pregnancy",
            "detail": "expected delivery 2027-08-20",
        }
    ]

    def days(first: str, last: str) -> int:
        return (date.fromisoformat(last) - date.fromisoformat(first)).days + 1

    assert days(START, resumed["end_date"]) - resumed["paused_days"] == days(START, CERTIFIED_END) == 366
    after = (await accreditation.get(PLANS, params={**where, "on": "2027-10-01"}, headers=officer)).json()
    assert [p["status"] for p in after["items"]] == ["in_progress"]
    # ... while the plan as recorded before the pause had no pause and its certified end.
    then = (await accreditation.get(f"{PLANS}/{id}", params={"as_of": before_the_pause}, headers=officer)).json()
    assert (then["pauses"], then["paused_since"], then["end_date"]) == ([], None, CERTIFIED_END)

    # Check: the audit history has both, with the detail sealed (no plain text on the record).
    history = (await accreditation.get(f"/v1/audit/streams/{id}", headers=auditor)).json()["events"]
    assert [e["type"].split(".")[-2] for e in history[-2:]] == ["TrainingPlanPaused", "TrainingPlanResumed"]
    assert "expected delivery" not in str(history)
    assert (history[-1]["data"]["end_date"], history[-1]["data"]["paused_days"]) == ("2028-06-30", 122)

    # Check: the visa service sees the resumption and the new end; the status of residence was never cancelled.
    async def resumed_at_immigration():
        seen = (await visa.get(residence, params={"on": "2027-11-01"}, headers=immigration)).json()
        [known] = seen["training_plans"]
        return seen if known["end_date"] == "2028-06-30" else None

    seen = await eventually(resumed_at_immigration, timeout=30, message="the visa service never saw the resumption")
    [known] = seen["training_plans"]
    assert (known["paused"], known["paused_since"]) == (False, None)
    assert known["pauses"] == [
        {"from": "2027-06-01", "until": "2027-09-30", "resumed_on": "2027-10-01", "reason": "pregnancy"}
    ]
    assert seen["status_of_residence"] == held

    # Check: completed on its new end, the plan ends as any other.
    await post(
        accreditation, f"{PLANS}/{id}/complete", {"completed_on": "2028-06-30", "exam_result": "passed"}, officer
    )
    done = (await accreditation.get(f"{PLANS}/{id}", headers=officer)).json()
    assert (done["status"], done["completion"]["completed_on"]) == ("completed", "2028-06-30")
