"""`titp audit` as auditors and operators use it, against the real Kafka and PostgreSQL: export the history
from the topics (and the REST feed) and verify the bundle offline; see an aggregate as of a past time; replay
a service's topics into a fresh database and diff it against the live one."""

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from services.inspection.app import create_app as create_inspection
from services.registry.app import create_app as create_registry
from shared.audit.checkpoints import PublicKey
from shared.audit.log import keys_from_rest, log_from_rest, read_bundle, verify_log
from tests.e2e.test_audit_replay import settled
from tests.helpers import eventually, grant, permit_application, post
from tests.integration.test_audit_tamper import sealed_to_the_end, titp

SO = "/v1/supervising-organizations"


@pytest.fixture
async def story(another_database, service_settings, run_service, kafka_bootstrap, token, unique):
    """The registry and inspection under a topic prefix of their own: a permit granted, the inspection it
    scheduled completed with a referral the registry applied; both logs sealed and published."""
    prefix = f"test-audit-cli-{unique}."
    services = {}
    for name, create in (("registry", create_registry), ("inspection", create_inspection)):
        settings = service_settings(
            name,
            await another_database(),
            topic_prefix=prefix,
            consumer_group=f"{prefix}{name}",
            relay_poll_interval_s=0.2,
        )
        app = create(settings)
        services[name] = (await run_service(app), app)
    (registry, _), (inspection, _) = services["registry"], services["inspection"]
    otit = token("otit")
    cooperative = (await post(registry, SO, permit_application(), otit, 201))["id"]
    applied_at = (await registry.get(f"/v1/audit/streams/{cooperative}", headers=token("auditor"))).json()
    await post(registry, f"{SO}/{cooperative}/grant", grant(), otit)

    async def scheduled():
        items = (await inspection.get("/v1/inspections", headers=otit, params={"target_id": cooperative})).json()
        return items["items"][0] if items["items"] else None

    first = await eventually(scheduled, timeout=30, message="the permit never scheduled an inspection")
    await post(
        inspection,
        f"/v1/inspections/{first['id']}/complete",
        {
            "inspected_on": "2027-04-20",
            "inspector": "Kato Ken",
            "outcome": "referral",
            "findings": [{"code": "records_not_kept", "legal_breach": True, "description": "no logs"}],
            "referral": {
                "action": "improvement_order",
                "reason": "keep the logs",
                "decided_on": "2027-05-01",
                "deadline": "2027-08-01",
            },
        },
        otit,
    )

    async def ordered():
        body = (await registry.get(f"{SO}/{cooperative}", headers=otit)).json()
        return body["improvement_orders"]

    await eventually(ordered, timeout=30, message="the referral never reached the registry")
    apps = [app for _, app in services.values()]
    for app in apps:
        await sealed_to_the_end(app)
    await eventually(lambda: settled(apps, kafka_bootstrap), timeout=30, message="the services never settled")
    env = {"TITP_TOPIC_PREFIX": prefix, "TITP_KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap}
    return {"services": services, "env": env, "cooperative": cooperative, "applied_at": applied_at["events"][0]}


async def test_the_history_exported_from_the_topics_verifies_offline_and_tampering_is_named(story, tmp_path, token):
    bundle = tmp_path / "bundle"
    code, out, err = await titp(
        "audit", "export", str(bundle), "--from", "kafka", "-s", "registry", "-s", "inspection", **story["env"]
    )
    assert code == 0, err
    logs, keys = read_bundle(bundle)
    assert set(logs) == set(keys) == {"registry", "inspection"}
    assert f"registry: {len(logs['registry'])} events -> {bundle / 'registry.jsonl'}" in out

    # Check: the topics hold exactly what each service's REST feed serves, with the same published key.
    for name, (client, app) in story["services"].items():
        client.headers.update(token("auditor"))
        rest = await log_from_rest(client, name)
        assert [e.to_cloudevent() for e in rest] == [e.to_cloudevent() for e in logs[name]]
        assert [k.to_json() for k in await keys_from_rest(client)] == [k.to_json() for k in keys[name]]
        assert verify_log(name, rest, keys[name]).ok

    code, out, _ = await titp("audit", "verify", "--bundle", str(bundle))
    assert code == 0 and out.startswith("inspection: ok: ") and "\nregistry: ok: " in out, out

    # The auditor's own copy of the published keys decides: against another key the checkpoints do not hold.
    other = PublicKey.of(ed25519.Ed25519PrivateKey.generate().public_key())
    (tmp_path / "keys.json").write_bytes(orjson.dumps({"registry": [other.to_json()]}))
    code, out, _ = await titp(
        "audit", "verify", "--bundle", str(bundle), "--public-keys", str(tmp_path / "keys.json"), "-s", "registry"
    )
    assert code == 1 and "not a published key of registry" in out

    # Tampering with the bundle: one event's payload changed.
    lines = (bundle / "registry.jsonl").read_bytes().splitlines()
    index = next(i for i, line in enumerate(lines) if b"PermitGranted" in line)
    granted = orjson.loads(lines[index])
    lines[index] = orjson.dumps({**granted, "data": {**granted["data"], "permit_type": "excellent"}})
    (bundle / "registry.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    code, out, _ = await titp("audit", "verify", "--bundle", str(bundle))
    assert code == 1
    assert (
        f"registry: stream {granted['subject']}, event {granted['id']} (version 2): hash does not match the"
        " event's content"
    ) in out
    assert out.startswith("inspection: ok: ")


async def test_an_aggregate_as_of_a_past_time(story, token):
    registry, _ = story["services"]["registry"]
    cooperative, applied = story["cooperative"], story["applied_at"]

    env = {**story["env"], "TITP_DATABASE_URL": story["services"]["registry"][1].state.settings.database_url}
    code, out, err = await titp("audit", "as-of", "registry", cooperative, applied["time"], **env)
    assert code == 0, err
    before = orjson.loads(out)
    assert (before["aggregate"], before["version"], before["recorded_at"]) == (
        "supervising-organization",
        1,
        applied["time"],
    )
    assert (before["state"]["lifecycle"], before["state"]["permit_type"]) == ("applied", None)

    # Check: the same over REST, and bad times are refused.
    history = (
        await registry.get(
            f"/v1/audit/streams/{cooperative}", headers=token("auditor"), params={"as_of": applied["time"]}
        )
    ).json()
    assert [e["type"] for e in history["events"]] == ["titp.registry.PermitApplied.v1"]
    refused = await registry.get(
        f"/v1/audit/streams/{cooperative}", headers=token("auditor"), params={"as_of": "yesterday"}
    )
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "query.as_of")
    code, _, err = await titp("audit", "as-of", "registry", cooperative, "yesterday")
    assert code == 2 and "expected an ISO 8601 date or date-time" in err
    code, _, err = await titp("audit", "as-of", "registry", cooperative, "2000-01-01", **env)
    assert code == 1 and f"stream {cooperative} has no events recorded by" in err


async def test_a_replay_of_the_topics_matches_the_live_read_models_and_a_drifted_row_shows(story, another_database):
    _, app = story["services"]["registry"]
    live, into = app.state.settings.database_url, await another_database()
    env = {**story["env"], "TITP_DATABASE_URL": live}
    code, out, err = await titp("audit", "replay", "-s", "registry", "--into", into, **env)
    assert code == 0, out + err
    assert "the read models match the live ones" in out

    # A live read model that drifted from the log shows in the diff: the live row and the replayed one.
    async with app.state.pool.acquire() as conn:
        await conn.execute("UPDATE supervising_organizations SET name = 'Drifted' WHERE id = $1", story["cooperative"])
    code, out, _ = await titp("audit", "replay", "-s", "registry", "--into", into, "--recreate", "--yes", **env)
    assert code == 1
    assert "supervising_organizations: 1 rows only live, 1 only replayed" in out
    assert '    - {"id": "' + story["cooperative"] in out and '"name": "Drifted"' in out
    code, _, err = await titp("audit", "replay", "-s", "registry", "--into", into, **env)
    assert code == 2 and "registry: the database to replay into is not fresh: it has events" in err
