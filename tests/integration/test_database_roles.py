"""The services connect as a role that owns no table and is no superuser (issue 18 item 4), against the real
PostgreSQL: the event log is append-only by privilege, so what a DBA could do to bypass its trigger is refused
to the service's own connection, and the services still append, project, publish and apply."""

import asyncpg
import pytest

from tests.helpers import eventually, permit_application, post

SO = "/v1/supervising-organizations"


@pytest.fixture
async def services(start_service, app_dsn):
    assert app_dsn, "DATABASE_APP_URL is not set: start the stack with deploy/local/stack.sh (make test does)"
    return await start_service("registry"), await start_service("accreditation")


def settings_of(client):
    return client._transport.app.state.settings


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE events SET data = '{}'",
        "DELETE FROM events",
        "TRUNCATE events",
        "ALTER TABLE events DISABLE TRIGGER events_append_only",
        "ALTER TABLE events DISABLE TRIGGER ALL",
        "SET session_replication_role = replica",
        "CREATE TABLE shadow (x int)",
        "DROP TABLE outbox",
        "DELETE FROM schema_migrations",
    ],
)
async def test_the_service_role_cannot_rewrite_the_log(start_service, app_dsn, token, statement):
    assert app_dsn, "DATABASE_APP_URL is not set: start the stack with deploy/local/stack.sh (make test does)"
    registry = await start_service("registry")
    await post(registry, SO, permit_application(), token("otit"), 201)
    conn = await asyncpg.connect(settings_of(registry).database_url)
    try:
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await conn.execute(statement)
        # Check: the event is still there, unchanged in number.
        assert await conn.fetchval("SELECT count(*) FROM events") >= 1
    finally:
        await conn.close()


async def test_the_service_role_owns_nothing_and_is_no_superuser(services):
    registry, _ = services
    settings = settings_of(registry)
    assert settings.migration_url() != settings.database_url
    conn = await asyncpg.connect(settings.database_url)
    try:
        role = await conn.fetchrow(
            "SELECT rolsuper, rolcreatedb, rolcreaterole, rolreplication, rolbypassrls FROM pg_roles"
            " WHERE rolname = current_user"
        )
        assert not any(role.values()), dict(role)
        owned = await conn.fetchval(
            "SELECT count(*) FROM pg_class WHERE relowner = (SELECT oid FROM pg_roles WHERE rolname = current_user)"
        )
        assert owned == 0
        tables = await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert tables > 5  # the migrations ran, as the owner
    finally:
        await conn.close()


async def test_the_services_still_append_project_publish_and_apply(services, token):
    registry, accreditation = services
    otit = token("otit")
    # Append and projection (INSERT, UPDATE on the read model), by the registry as the app role.
    id = (await post(registry, SO, permit_application(), otit, 201))["id"]
    await post(
        registry,
        f"{SO}/{id}/grant",
        {"permit_type": "general", "meets_excellence_standard": True, "granted_on": "2026-05-01"},
        otit,
    )
    assert (await registry.get(f"{SO}/{id}", headers=otit)).json()["status"] == "active"

    registry_db = await asyncpg.connect(settings_of(registry).database_url)
    accreditation_db = await asyncpg.connect(settings_of(accreditation).database_url)
    try:
        # The relay published and deleted its outbox rows; accreditation applied the events (inbox, projection).
        await eventually(lambda: registry_db.fetchval("SELECT count(*) = 0 FROM outbox"), timeout=30)
        await eventually(
            lambda: accreditation_db.fetchval(
                "SELECT status = 'active' FROM registry_permits WHERE supervising_organization_id = $1", id
            ),
            timeout=30,
            message="accreditation never applied the grant",
        )
        assert await accreditation_db.fetchval("SELECT count(*) FROM inbox WHERE source LIKE '%registry%'") >= 2
    finally:
        await registry_db.close()
        await accreditation_db.close()


async def test_a_table_created_later_is_granted_too(another_database, owner_dsn, app_dsn):
    """Default privileges: a table the owner creates after the grants is usable by the app role at once."""
    dsn = await another_database()
    owner = await asyncpg.connect(dsn)
    try:
        await owner.execute("CREATE TABLE later (x int PRIMARY KEY)")
    finally:
        await owner.close()
    app = await asyncpg.connect(app_dsn.rsplit("/", 1)[0] + "/" + dsn.rsplit("/", 1)[1])
    try:
        await app.execute("INSERT INTO later VALUES (1)")
        await app.execute("UPDATE later SET x = 2")
        await app.execute("DELETE FROM later")
        with pytest.raises(asyncpg.InsufficientPrivilegeError):
            await app.execute("TRUNCATE later")
    finally:
        await app.close()
