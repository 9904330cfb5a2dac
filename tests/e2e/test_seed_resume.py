"""`titp seed` resumes after an interruption: what the checkpoint holds is skipped, and a command that was sent
but not recorded is answered as the first time (its Idempotency-Key), never done twice."""

from shared.web.http import today
from tools.seed import Checkpoint, Seeder, build_blueprint, checkpoint_identity

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
