"""`titp rebuild <service>`: the projections rebuilt from the service's own store while it keeps serving,
against the real PostgreSQL. Afterwards the read models are exactly the projection of the log, whatever
commands ran meanwhile."""

import asyncio

from services.registry.app import create_app
from shared.audit.log import log_from_database
from shared.audit.replay import diff_read_models, replay_service
from tests.helpers import grant, implementing_registration, permit_application, post
from tests.integration.test_audit_tamper import titp

SO = "/v1/supervising-organizations"


async def test_a_rebuild_repairs_drifted_read_models_while_officers_keep_working(
    fresh_database, another_database, service_settings, run_service, token, unique
):
    app = create_app(service_settings("registry", fresh_database, topic_prefix=f"test-rebuild-{unique}."))
    client = await run_service(app)
    otit = token("otit", subject="officer-rebuild")
    ids = []
    for _ in range(20):
        ids.append((await post(client, SO, permit_application(), otit, 201))["id"])
        await post(client, f"{SO}/{ids[-1]}/grant", grant(), otit)
    # The read models drift from the log, as after a projection bug: a wrong value, a lost row, a lost reservation.
    async with app.state.pool.acquire() as conn:
        await conn.execute("UPDATE supervising_organizations SET name = 'Drifted', version = 1 WHERE id = $1", ids[0])
        await conn.execute("DELETE FROM supervising_organizations WHERE id = $1", ids[1])
        await conn.execute("DELETE FROM corporate_numbers WHERE organization_id = $1", ids[2])

    rebuilding = asyncio.create_task(titp("rebuild", "registry", TITP_DATABASE_URL=fresh_database))
    statuses = []
    while not rebuilding.done():  # officers keep ordering improvements and reading, from start to end
        for id in ids[3:]:
            response = await client.post(
                f"{SO}/{id}/improvement-orders",
                headers=otit,
                json={"issued_on": "2026-06-01", "deadline": "2026-09-01", "reason": "supervision logs incomplete"},
            )
            statuses += [response.status_code, (await client.get(f"{SO}/{id}", headers=otit)).status_code]
    code, out, err = await rebuilding
    assert code == 0, err
    assert out.startswith("registry: 20 streams projected again"), out
    # Check: the service answered throughout.
    assert set(statuses) == {200}

    # Check: the read models are now exactly what projecting the log gives, commands during the rebuild included.
    projected = await another_database()
    await replay_service(app.state.definition, projected, await log_from_database(fresh_database, "registry"), [])
    assert await diff_read_models(fresh_database, projected) == []
    shown = (await client.get(f"{SO}/{ids[0]}", headers=otit)).json()
    assert (shown["name"], shown["version"]) == ("Sakura Cooperative", 2)
    assert (await client.get(f"{SO}/{ids[1]}", headers=otit)).status_code == 200


async def test_a_rebuild_of_one_projection_leaves_the_others_as_they_are(
    fresh_database, service_settings, run_service, token, unique
):
    app = create_app(service_settings("registry", fresh_database, topic_prefix=f"test-rebuild-one-{unique}."))
    client = await run_service(app)
    otit = token("otit")
    cooperative = (await post(client, SO, permit_application(), otit, 201))["id"]
    registration = implementing_registration(training_type="a")
    employer = (await post(client, "/v1/implementing-organizations", registration, otit, 201))["id"]
    async with app.state.pool.acquire() as conn:
        await conn.execute("UPDATE supervising_organizations SET name = 'Drifted' WHERE id = $1", cooperative)
        await conn.execute("UPDATE implementing_organizations SET name = 'Drifted' WHERE id = $1", employer)
        newest = await conn.fetchval("SELECT max(position) FROM events")
    assert await names(app, cooperative, employer) == ("Drifted", "Drifted")

    code, out, err = await titp(
        "rebuild", "registry", "--projection", "supervising-organization", TITP_DATABASE_URL=fresh_database
    )
    assert code == 0, err
    # Check: it says what it rebuilt, and the position of the log the read models are now at least as recent as.
    assert out.splitlines() == [
        f"registry: 1 streams projected again, as of position {newest} (1 streams of no projection rebuilt)",
        "registry: supervising-organization: 1 streams projected again",
    ]
    assert "rebuilding supervising-organization" in err  # the progress, on stderr
    # Check: that projection's rows are repaired; the other's are untouched.
    assert await names(app, cooperative, employer) == ("Sakura Cooperative", "Drifted")

    # A name that is no projection of the service: refused, naming those it has; nothing rebuilt.
    code, out, err = await titp("rebuild", "registry", "--projection", "trainee", TITP_DATABASE_URL=fresh_database)
    assert code == 2 and out == ""
    assert "trainee: not a projection of registry" in err and "implementing-organization" in err
    assert await names(app, cooperative, employer) == ("Sakura Cooperative", "Drifted")


async def names(app, cooperative: str, employer: str) -> tuple[str, str]:
    """The names the two read models hold (the column lists filter on)."""
    async with app.state.pool.acquire() as conn:
        return await conn.fetchrow(
            "SELECT (SELECT name FROM supervising_organizations WHERE id = $1),"
            " (SELECT name FROM implementing_organizations WHERE id = $2)",
            cooperative,
            employer,
        )
