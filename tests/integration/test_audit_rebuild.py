"""`titp rebuild <service>`: the projections rebuilt from the service's own store while it keeps serving,
against the real PostgreSQL. Afterwards the read models are exactly the projection of the log, whatever
commands ran meanwhile."""

import asyncio

from services.registry.app import create_app
from shared.audit.log import log_from_database
from shared.audit.replay import diff_read_models, replay_service
from tests.helpers import grant, permit_application, post
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
