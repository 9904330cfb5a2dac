"""`titp seed` resumes after an interruption: what the checkpoint holds is skipped, and a command that was sent
but not recorded is answered as the first time (its Idempotency-Key), never done twice."""

from collections import Counter
from datetime import date

import pytest

from shared.web.http import today
from tools.seed import ESD_STARTS_ON, Checkpoint, Seeder, build_blueprint, checkpoint_identity

UNLIMITED = {"write_rate_per_s": 1_000_000, "write_burst": 1_000_000}


async def count(client, path: str, headers: dict) -> int:
    total, params = 0, {"limit": 500}
    while True:
        page = (await client.get(path, params=params, headers=headers)).json()
        total += len(page["items"])
        if not page["next_cursor"]:
            return total
        params["cursor"] = page["next_cursor"]


async def test_an_interrupted_seed_started_again_creates_nothing_twice(start_service, token, tmp_path, unique):
    isolated = {**UNLIMITED, "topic_prefix": f"test-seed-{unique}."}
    clients = {name: await start_service(name, **isolated) for name in ("registry", "accreditation", "inspection")}
    officer = token("otit", subject="titp-seed")
    blueprint = build_blueprint(0.0001, 7, today())  # 1 supervising and 6 implementing organizations, 40 plans
    identity = checkpoint_identity(blueprint)

    first = Checkpoint(tmp_path / "first.jsonl", identity)
    await Seeder(blueprint, clients, officer, first, show_progress=False).run()
    first.close()
    created = {step: id for step, id in first.done.items() if step.endswith(":create")}
    listed = {
        path: await count(client, path, officer)
        for client, path in (
            (clients["registry"], "/v1/supervising-organizations"),
            (clients["registry"], "/v1/implementing-organizations"),
            (clients["accreditation"], "/v1/training-plans"),
            (clients["inspection"], "/v1/inspections"),
        )
    }
    assert listed["/v1/training-plans"] == len(blueprint.plans)
    assert sum(1 for p in blueprint.plans if not p.transfer_reason) == 40  # and a TITP transfer, some days

    # An interruption: the second half of the commands was sent, but never recorded in the checkpoint.
    lines = (tmp_path / "first.jsonl").read_bytes().splitlines(keepends=True)
    (tmp_path / "second.jsonl").write_bytes(b"".join(lines[: len(lines) // 2]))
    second = Checkpoint(tmp_path / "second.jsonl", identity)
    await Seeder(blueprint, clients, officer, second, show_progress=False).run()
    second.close()

    # Check: every creation re-sent was answered with the id it got the first time, and nothing exists twice.
    assert {step: id for step, id in second.done.items() if step.endswith(":create")} == created
    assert second.inspections() and sorted(map(str, second.inspections())) == sorted(map(str, first.inspections()))
    for client, path in (
        (clients["registry"], "/v1/supervising-organizations"),
        (clients["registry"], "/v1/implementing-organizations"),
        (clients["accreditation"], "/v1/training-plans"),
        (clients["inspection"], "/v1/inspections"),
    ):
        assert await count(client, path, officer) == listed[path], path


# Across the switch to ESD (DOMAIN §9, issue 17): a dataset whose date is after ESD starts holds TITP trainees moving
# on, supervision support organizations, employers supported under ESD, ESD plans (one transferred at the worker's
# own wish), exam results and quarterly audit reports, and the services accept every command of it.
# (Issue 19 moved TITP filings to 4-5 months before the start, so fewer workers come under ESD early: a later date.)
ACROSS_THE_SWITCH = (0.0005, 16, date(2028, 12, 1))  # 201 plans, 84 of them ESD


async def test_a_seed_across_the_switch_to_esd_is_accepted_as_generated(start_service, token, tmp_path, unique):
    isolated = {**UNLIMITED, "topic_prefix": f"test-seed-esd-{unique}."}
    clients = {name: await start_service(name, **isolated) for name in ("registry", "accreditation", "inspection")}
    officer = token("otit", subject="titp-seed")
    blueprint = build_blueprint(*ACROSS_THE_SWITCH)
    esd = [p for p in blueprint.plans if p.scheme == "esd"]
    assert any(p.transfer_from for p in esd) and any(p.exam_results for p in esd)
    assert any(p.stage == "ii" and p.applied_on >= ESD_STARTS_ON for p in blueprint.plans)
    assert all(sso.audit_reports for sso in blueprint.support)

    checkpoint = Checkpoint(tmp_path / "esd.jsonl", checkpoint_identity(blueprint))
    await Seeder(blueprint, clients, officer, checkpoint, show_progress=False).run()
    checkpoint.close()

    # Check: the ESD plans are certified under ESD (the one a transfer continues, transferred), the TITP ones too,
    # and every support organization's quarterly audit reports are filed.
    listed = {}
    for scheme, plans in (("esd", esd), ("titp", [p for p in blueprint.plans if p.scheme == "titp"])):
        answer = await clients["accreditation"].get(
            "/v1/training-plans", params={"scheme": scheme, "limit": 500}, headers=officer
        )
        listed[scheme] = {item["id"]: item["status"] for item in answer.json()["items"]}
        assert sorted(listed[scheme]) == sorted(checkpoint[f"{p.key}:create"] for p in plans), scheme
    for plan in esd:
        if plan.ending and plan.ending[0] == "transferred":
            assert listed["esd"][checkpoint[f"{plan.key}:create"]] == "transferred", plan.key
    for sso in blueprint.support:
        path = f"/v1/supervision-support-organizations/{checkpoint[f'{sso.key}:create']}"
        document = (await clients["registry"].get(path, headers=officer)).json()
        assert document["corporate_number"] == blueprint.supervising[sso.cooperative].corporate_number
        filed = (await clients["registry"].get(f"{path}/audit-reports", params={"limit": 500}, headers=officer)).json()
        assert len(filed["items"]) == len(sso.audit_reports)


# After certification (issue 20): a dataset with every kind the seeder makes of it (a TITP transfer for an unavoidable
# reason after a notice of difficulty, employers of a revoked organization moved to another with their flagged plans,
# change certifications and minor changes, start notices, annual and business reports, stage-i visit records,
# consultations, one escalated), and the services accept every command of it.
AFTER_CERTIFICATION = (0.0005, 1, date(2027, 1, 15))


@pytest.mark.timeout(300)  # some 2,000 commands, at a few hundred a second and Kafka's pace
async def test_a_seed_of_the_life_after_certification_is_accepted_as_generated(start_service, token, tmp_path, unique):
    isolated = {**UNLIMITED, "topic_prefix": f"test-seed-life-{unique}."}
    clients = {name: await start_service(name, **isolated) for name in ("registry", "accreditation", "inspection")}
    officer = token("otit", subject="titp-seed")
    blueprint = build_blueprint(*AFTER_CERTIFICATION)
    checkpoint = Checkpoint(tmp_path / "life.jsonl", checkpoint_identity(blueprint))
    await Seeder(blueprint, clients, officer, checkpoint, show_progress=False).run()
    checkpoint.close()
    accreditation, registry, inspection = clients["accreditation"], clients["registry"], clients["inspection"]

    async def plan_document(key: str) -> dict:
        return (await accreditation.get(f"/v1/training-plans/{checkpoint[f'{key}:create']}", headers=officer)).json()

    # Check: each TITP transfer is certified and the plan it continues ended as transferred.
    moved = [p for p in blueprint.plans if p.transfer_reason]
    assert moved
    for plan in moved:
        document = await plan_document(plan.key)
        assert document["status"] != "applied" and document["transfer_reason"] == plan.transfer_reason
        assert (await plan_document(plan.transfer_from))["status"] == "transferred"
    # The flagged plans of the employers that moved are under their new organizations, the flag cleared.
    for j, io in enumerate(blueprint.implementing):
        if not io.new_supervising:
            continue
        new = checkpoint[f"{blueprint.supervising[io.new_supervising[0]].key}:create"]
        for plan in (p for p in blueprint.plans if p.implementing == j and p.ending is None):
            document = await plan_document(plan.key)
            assert (
                document["supervising_organization_id"] == new and not document["new_supervising_organization_required"]
            )
    # Changes: a certified one makes a new version of the terms, a rejected one does not; a notice is recorded.
    for plan in (p for p in blueprint.plans if p.change):
        path = f"/v1/training-plans/{checkpoint[f'{plan.key}:create']}/changes"
        history = (await accreditation.get(path, headers=officer)).json()
        [entry] = history["changes"]
        assert entry["kind"] == ("minor_change" if plan.change.minor else "change"), plan.key
        if not plan.change.minor:
            assert history["terms_version"] == (1 if plan.change.rejected else 2), plan.key
    # Filings: each employer's, as generated.
    for io in blueprint.implementing:
        if not io.start_notice:
            continue
        path = f"/v1/implementing-organizations/{checkpoint[f'{io.key}:create']}/filings"
        listed = (await accreditation.get(path, headers=officer)).json()
        items = listed["items"] if isinstance(listed, dict) else listed
        kinds = Counter(i["kind"] for i in items)
        assert kinds["start_notice"] == 1 and kinds["annual_report"] == len(io.annual_reports), io.key
        assert kinds["visit_record"] == len(io.visit_records), io.key
    for so in blueprint.supervising:
        document = (
            await registry.get(f"/v1/supervising-organizations/{checkpoint[f'{so.key}:create']}", headers=officer)
        ).json()
        assert len(document["business_reports"]) == len(so.business_reports), so.key
    # Consultations: every one recorded; the escalated one opened an extraordinary inspection of the employer.
    listed = (await inspection.get("/v1/consultations", params={"limit": 500}, headers=officer)).json()
    assert len(listed["items"]) == len(blueprint.consultations)
    escalated = [c for c in blueprint.consultations if c.escalated]
    assert escalated
    for consultation in escalated:
        plan = next(p for p in blueprint.plans if p.key == consultation.plan)
        target = checkpoint[f"{blueprint.implementing[plan.implementing].key}:create"]
        inspections = (await inspection.get("/v1/inspections", params={"target_id": target}, headers=officer)).json()
        [opened] = [i for i in inspections["items"] if i["kind"] == "extraordinary"]
        assert opened["status"] == "completed" and opened["due_by"] == consultation.escalated[1].isoformat()
