"""The sealer against the real PostgreSQL: it signs over what it checked. Several instances of a service take
turns without a false alarm; a burst of streams is sealed in several bounded checkpoints; a stream rewritten
under a checkpoint that is still there is refused when it grows (its new event does not continue the chain
the sealer sealed)."""

from dataclasses import replace

import asyncpg
import orjson
import pytest

from services.registry.app import create_app
from shared.audit import checkpoints
from shared.audit.checkpoints import CHECKPOINT_STREAM, Sealer, checkpoint_of
from shared.audit.log import verify_log, whole_log
from shared.events import chain_hash
from tests.helpers import eventually, grant, permit_application, post
from tests.integration.test_audit_tamper import as_superuser, sealed_to_the_end

SO = "/v1/supervising-organizations"


@pytest.fixture
async def registry(fresh_database, service_settings, run_service, token, unique):
    app = create_app(service_settings("registry", fresh_database, topic_prefix=f"test-sealer-{unique}."))
    return await run_service(app), app, fresh_database


async def apply(client, token) -> str:
    return (await post(client, SO, permit_application(), token("otit"), 201))["id"]


async def the_log(app) -> list:
    async with app.state.pool.acquire() as conn:
        return await whole_log(app.state.store, conn)


async def test_instances_of_a_service_take_turns_without_a_false_alarm(registry, token):
    client, app, _ = registry
    one: Sealer = app.state.sealer
    other = Sealer("registry", one.key)  # a second instance, with the service's key
    for sealer in (one, other, one, other):
        await apply(client, token)
        await sealed_to_the_end_by(sealer, app)
    assert (one.refusals, other.refusals) == (0, 0)
    report = verify_log("registry", await the_log(app), [one.public_key])
    assert (report.ok, report.unsealed) == (True, 0) and report.checkpoints >= 4


async def sealed_to_the_end_by(sealer: Sealer, app) -> None:
    original = app.state.sealer
    app.state.sealer = sealer
    try:
        await sealed_to_the_end(app)
    finally:
        app.state.sealer = original


async def test_a_burst_of_streams_is_sealed_in_bounded_checkpoints(registry, token, monkeypatch):
    client, app, _ = registry
    await sealed_to_the_end(app)
    before = len([e for e in await the_log(app) if e.subject == CHECKPOINT_STREAM])
    monkeypatch.setattr(checkpoints, "MAX_HEADS", 2)
    ids = [await apply(client, token) for _ in range(3)]
    await sealed_to_the_end(app)
    log = await the_log(app)
    new = [checkpoint_of(e) for e in log if e.subject == CHECKPOINT_STREAM][before:]
    # Check: no checkpoint names more than 2 streams (so 3 new streams took 2 or more); together they name them.
    assert len(new) >= 2 and all(1 <= len(c.heads or {}) <= 2 for c in new), new
    assert {stream for c in new for stream in c.heads or {}} == set(ids)
    assert verify_log("registry", log, [app.state.sealer.public_key]).ok


async def test_a_stream_rewritten_under_a_checkpoint_is_refused_when_it_grows(registry, token, admin_dsn):
    client, app, dsn = registry
    otit = token("otit")
    permit = await apply(client, token)
    await sealed_to_the_end(app)
    async with app.state.pool.acquire() as conn:
        [applied] = await app.state.store.read_stream(conn, permit)
    application = {**applied.data["application"], "representative": "Someone Else"}
    forged = replace(applied, data={**applied.data, "application": application})
    forged = replace(forged, hash=chain_hash(forged.prevhash, forged))
    conn = await asyncpg.connect(as_superuser(admin_dsn, dsn))
    try:
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")
            await conn.execute(
                "UPDATE events SET data = $2::jsonb, hash = $3 WHERE id = $1",
                forged.id,
                orjson.dumps(forged.data).decode(),
                forged.hash,
            )
    finally:
        await conn.close()
    # The service appends the next event on the rewritten head, as it would.
    await post(client, f"{SO}/{permit}/grant", grant(), otit)
    sealer: Sealer = app.state.sealer
    before = len([e for e in await the_log(app) if e.subject == CHECKPOINT_STREAM])

    async def refused() -> bool:
        # The sealer sees the new event once no transaction anywhere in the (shared) cluster holds it back.
        assert await sealer(app.state.runner) is None
        return sealer.refusals > 0

    await eventually(refused, timeout=30, message="the sealer never refused")
    assert len([e for e in await the_log(app) if e.subject == CHECKPOINT_STREAM]) == before
