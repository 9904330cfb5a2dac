"""Tampering with a service's store, as a DBA could (the append-only trigger disabled), against the real
PostgreSQL: an edited payload, a deleted event and a reordered stream are all caught by GET /v1/audit/verify
and by `titp audit verify`, which name the service, the stream and the event; the sealer refuses to sign over
a rewritten log."""

import logging
from dataclasses import replace

import asyncpg
import orjson
import pytest

from services.registry.app import create_app
from shared.audit.checkpoints import CHECKPOINT_STREAM, Sealer
from shared.audit.log import verify_log, whole_log
from shared.events import chain_hash
from tests.helpers import eventually, permit_application, post, titp

SO = "/v1/supervising-organizations"


async def sealed_to_the_end(app) -> None:
    """Sign checkpoints until one covers every event: the sealer passes no transaction still running anywhere
    in the database cluster, and the cluster is shared with other tests."""

    async def everything_sealed():
        await app.state.sealer(app.state.runner)
        async with app.state.pool.acquire() as conn:
            log = await whole_log(app.state.store, conn)
        report = verify_log(app.state.definition.name, log, [app.state.sealer.public_key])
        return report.ok and report.unsealed == 0

    await eventually(everything_sealed, timeout=30, message="the log was never sealed to its end")


@pytest.fixture
async def registry(fresh_database, service_settings, run_service, token, unique):
    """A registry with three permits' histories and a signed checkpoint over them."""
    app = create_app(service_settings("registry", fresh_database, topic_prefix=f"test-tamper-{unique}."))
    client = await run_service(app)
    otit = token("otit")
    ids = []
    for grant in (True, True, False):
        id = (await post(client, SO, permit_application(), otit, 201))["id"]
        if grant:
            await post(
                client,
                f"{SO}/{id}/grant",
                {"permit_type": "general", "meets_excellence_standard": True, "granted_on": "2026-05-01"},
                otit,
            )
        ids.append(id)
    await post(client, f"{SO}/{ids[0]}/downgrade", {"effective_on": "2026-09-01"}, otit)
    await sealed_to_the_end(app)
    return client, app, fresh_database, ids


async def tamper(dsn: str, *statements: str) -> None:
    """What a DBA could do to a log already published: so first, the relay has published everything."""
    conn = await asyncpg.connect(dsn)
    try:
        await eventually(
            lambda: conn.fetchval("SELECT count(*) = 0 FROM outbox"),
            timeout=20,
            message="the relay never published the log",
        )
        async with conn.transaction():
            await conn.execute("ALTER TABLE events DISABLE TRIGGER events_append_only")
            for statement in statements:
                await conn.execute(statement)
            await conn.execute("ALTER TABLE events ENABLE TRIGGER events_append_only")
    finally:
        await conn.close()


async def event_ids(client, token, stream_id: str) -> list[str]:
    history = (await client.get(f"/v1/audit/streams/{stream_id}", headers=token("auditor"))).json()
    return [e["id"] for e in history["events"]]


async def verified(client, token) -> dict:
    response = await client.get("/v1/audit/verify", headers=token("auditor"))
    assert response.status_code == 200, response.text
    return response.json()


async def test_an_untouched_log_verifies_with_its_checkpoint(registry, token):
    client, _, dsn, _ = registry
    report = await verified(client, token)
    # Check: six events in three streams, and the checkpoints' own stream.
    assert (report["ok"], report["service"], report["streams"]) == (True, "registry", 4)
    assert report["events"] == 6 + report["checkpoints"]
    assert (report["unsealed"], report["findings"]) == (0, [])
    code, out, _ = await titp("audit", "verify", "--service", "registry", TITP_DATABASE_URL=dsn)
    assert code == 0 and out.startswith(f"registry: ok: {report['events']} events in 4 streams; "), out
    assert out.rstrip().endswith(", 0 events after it"), out
    # Check: auditors and admins only.
    assert (await client.get("/v1/audit/verify", headers=token("otit"))).status_code == 403


async def test_a_changed_payload_is_named_by_service_stream_and_event(registry, token):
    client, _, dsn, (first, second, _) = registry
    granted = (await event_ids(client, token, second))[1]
    await tamper(
        dsn, f"UPDATE events SET data = jsonb_set(data, '{{permit_type}}', '\"excellent\"') WHERE id = '{granted}'"
    )

    report = await verified(client, token)
    assert report["ok"] is False
    [finding] = report["findings"]
    assert (
        finding["service"],
        finding["stream_id"],
        finding["event_id"],
        finding["streamversion"],
        finding["reason"],
    ) == ("registry", second, granted, 2, "hash does not match the event's content")
    code, out, _ = await titp("audit", "verify", "--service", "registry", TITP_DATABASE_URL=dsn)
    assert code == 1
    assert f"registry: stream {second}, event {granted} (version 2): hash does not match the event's content" in out


async def test_a_deleted_event_is_detected_inside_a_stream_and_at_its_end(registry, token):
    client, _, dsn, (first, second, _) = registry
    [_, grant, downgrade] = await event_ids(client, token, first)
    [_, last] = await event_ids(client, token, second)
    await tamper(dsn, f"DELETE FROM events WHERE id IN ('{grant}', '{last}')")

    report = await verified(client, token)
    findings = {(f["stream_id"], f["event_id"]): f["reason"] for f in report["findings"]}
    # Check: inside a stream the chain names the event after the gap; a stream's last event is missed by its
    # chain, but not by the signed checkpoints: the head they sealed is named (below), and the log no longer
    # matches them.
    assert findings.pop((first, downgrade)) == "expected version 2, found 3"
    assert {stream for stream, _ in findings} == {"checkpoints", second}
    assert "6 events were signed through position" in report["findings"][-1]["reason"]
    assert (
        "4 are there now: events up to that position were deleted, changed or reordered"
        in report["findings"][-1]["reason"]
    )
    code, out, _ = await titp("audit", "verify", "--service", "registry", "--json", TITP_DATABASE_URL=dsn)
    assert code == 1 and orjson.loads(out)["findings"] == report["findings"]
    # Check: the deleted last event is named by its stream and version, not only counted.
    [deleted] = [f for f in report["findings"] if f["stream_id"] == second]
    assert (deleted["streamversion"], deleted["event_id"]) == (2, None)
    assert deleted["reason"].startswith("sealed by checkpoint ") and deleted["reason"].endswith("now missing: deleted")
    code, out, _ = await titp("audit", "verify", "--service", "registry", TITP_DATABASE_URL=dsn)
    assert f"registry: stream {second}, version 2: sealed by checkpoint " in out, out


async def test_a_reordered_stream_is_detected(registry, token):
    client, _, dsn, (first, _, _) = registry
    [applied, grant, _] = await event_ids(client, token, first)
    await tamper(
        dsn,
        f"UPDATE events SET version = 100 WHERE id = '{applied}'",
        f"UPDATE events SET version = 1 WHERE id = '{grant}'",
        f"UPDATE events SET version = 2 WHERE id = '{applied}'",
    )

    report = await verified(client, token)
    assert report["ok"] is False
    # Check: in log order the stream now starts at version 2: the first event out of place is named (the
    # checkpoints also name the heads they sealed that changed, and no longer match the log).
    [finding] = [f for f in report["findings"] if f["reason"].startswith("expected version")]
    assert (finding["stream_id"], finding["event_id"], finding["streamversion"], finding["reason"]) == (
        first,
        applied,
        2,
        "expected version 1, found 2",
    )
    code, out, _ = await titp("audit", "verify", "--service", "registry", TITP_DATABASE_URL=dsn)
    assert code == 1 and f"registry: stream {first}, event {applied} (version 2): expected version 1, found 2" in out


def as_superuser(admin_dsn: str, dsn: str) -> str:
    """The service's database as its owner (a superuser) connects to it, not as the service's role."""
    return admin_dsn.rsplit("/", 1)[0] + "/" + dsn.rsplit("/", 1)[1]


async def test_the_sealer_refuses_to_sign_over_a_rewritten_log_and_verify_names_the_stream(
    registry, token, admin_dsn, caplog
):
    """The attack of issue 18: delete the last checkpoints, rewrite an event and re-hash its stream."""
    client, app, dsn, (_, second, _) = registry
    otit = token("otit")
    await post(client, f"{SO}/{second}/downgrade", {"effective_on": "2026-09-01"}, otit)
    await sealed_to_the_end(app)
    sealer: Sealer = app.state.sealer
    conn = await asyncpg.connect(as_superuser(admin_dsn, dsn))
    try:
        await eventually(lambda: conn.fetchval("SELECT count(*) = 0 FROM outbox"), timeout=20, message="unpublished")
        async with app.state.pool.acquire() as service_conn:
            [_, granted, downgraded] = await app.state.store.read_stream(service_conn, second)
        # The checkpoint that sealed the downgrade and every later one: deleted.
        [last_before] = await conn.fetchrow(
            "SELECT max(version) FROM events WHERE stream_id = $1 AND (data->>'through_position')::bigint < $2",
            CHECKPOINT_STREAM,
            downgraded.position,
        )
        forged = replace(granted, data={**granted.data, "permit_type": "excellent"})
        forged = replace(forged, hash=chain_hash(forged.prevhash, forged))
        rechained = replace(downgraded, prevhash=forged.hash)
        rechained = replace(rechained, hash=chain_hash(rechained.prevhash, rechained))
        async with conn.transaction():
            await conn.execute("SET LOCAL session_replication_role = replica")  # the append-only trigger is off
            await conn.execute(
                "DELETE FROM events WHERE stream_id = $1 AND version > $2", CHECKPOINT_STREAM, last_before
            )
            for event in (forged, rechained):
                await conn.execute(
                    "UPDATE events SET data = $2::jsonb, prevhash = $3, hash = $4 WHERE id = $1",
                    event.id,
                    orjson.dumps(event.data).decode(),
                    event.prevhash,
                    event.hash,
                )
        checkpoints = await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", CHECKPOINT_STREAM)

        # Check: the running sealer refuses (its last checkpoint is gone), logs an error, counts it, signs nothing.
        with caplog.at_level(logging.ERROR, logger="shared.audit.checkpoints"):
            assert await sealer(app.state.runner) is None
        assert sealer.refusals == 1
        [alert] = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert "REFUSED to sign a checkpoint of registry" in alert.getMessage()
        assert "signed before, is gone" in alert.getMessage()
        metrics = (await client.get("/metrics")).text
        assert 'titp_sealer_refusals_total{service="registry"} 1.0' in metrics
        # A sealer started afresh (the service restarted) re-folds the log and refuses too.
        restarted = Sealer("registry", sealer.key)
        assert await restarted(app.state.runner) is None and restarted.refusals == 1
        assert await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", CHECKPOINT_STREAM) == checkpoints
    finally:
        await conn.close()

    # Check: verify names the re-hashed stream at the head a remaining checkpoint sealed.
    report = await verified(client, token)
    named = [f for f in report["findings"] if f["stream_id"] == second]
    assert [(f["event_id"], f["streamversion"]) for f in named] == [(str(granted.id), 2)]
    assert named[0]["reason"].endswith("rewritten and re-hashed")
    code, out, _ = await titp("audit", "verify", "--service", "registry", TITP_DATABASE_URL=dsn)
    assert code == 1 and f"registry: stream {second}, event {granted.id} (version 2): sealed by checkpoint " in out
