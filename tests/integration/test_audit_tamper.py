"""Tampering with a service's store, as a DBA could (the append-only trigger disabled), against the real
PostgreSQL: an edited payload, a deleted event and a reordered stream are all caught by GET /v1/audit/verify
and by `titp audit verify`, which name the service, the stream and the event."""

import asyncpg
import orjson
import pytest

from services.registry.app import create_app
from shared.audit.log import verify_log, whole_log
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
            await post(client, f"{SO}/{id}/grant", {"permit_type": "general", "granted_on": "2026-05-01"}, otit)
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
    # chain, but not by the signed checkpoint, which no longer matches the log.
    assert findings.pop((first, downgrade)) == "expected version 2, found 3"
    assert {stream for stream, _ in findings} == {"checkpoints"}
    assert "6 events were signed through position" in report["findings"][-1]["reason"]
    assert (
        "4 are there now: events up to that position were deleted, changed or reordered"
        in report["findings"][-1]["reason"]
    )
    code, out, _ = await titp("audit", "verify", "--service", "registry", "--json", TITP_DATABASE_URL=dsn)
    assert code == 1 and orjson.loads(out)["findings"] == report["findings"]


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
    # Check: in log order the stream now starts at version 2: the first event out of place is named.
    [finding] = report["findings"]
    assert (finding["stream_id"], finding["event_id"], finding["streamversion"], finding["reason"]) == (
        first,
        applied,
        2,
        "expected version 1, found 2",
    )
    code, out, _ = await titp("audit", "verify", "--service", "registry", TITP_DATABASE_URL=dsn)
    assert code == 1 and f"registry: stream {first}, event {applied} (version 2): expected version 1, found 2" in out
