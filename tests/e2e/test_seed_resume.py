"""`titp seed` resumes after an interruption: what the checkpoint holds is skipped, and a command that was sent
but not recorded is answered as the first time (its Idempotency-Key), never done twice."""

from datetime import date

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
    assert listed["/v1/training-plans"] == len(blueprint.plans) == 40

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
