"""PostgreSQL pools and versioned SQL migrations."""

from __future__ import annotations

import logging
from pathlib import Path

import asyncpg
import orjson

log = logging.getLogger(__name__)

SHARED_MIGRATIONS = Path(__file__).parent / "migrations"
MIGRATION_LOCK = 7_340_001  # advisory lock key: one migrator at a time per database


async def _init_connection(conn: asyncpg.Connection) -> None:
    for name in ("json", "jsonb"):
        await conn.set_type_codec(
            name, schema="pg_catalog", encoder=lambda v: orjson.dumps(v).decode(), decoder=orjson.loads, format="text"
        )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """On release, asyncpg rolls back an open transaction; by default it also runs `pg_advisory_unlock_all();
    CLOSE ALL; UNLISTEN *; RESET ALL`, a round trip per release. Pool connections keep no session state
    (locks are transaction-level; the relay listens on a connection of its own), so that is skipped."""


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    return await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_keep_session,
        server_settings={"idle_in_transaction_session_timeout": "60000"},
    )


async def connect(dsn: str, *, application_name: str | None = None) -> asyncpg.Connection:
    """A connection of its own; `application_name` names it in pg_stat_activity (at most 63 bytes are kept)."""
    settings = {"application_name": application_name} if application_name else None
    conn = await asyncpg.connect(dsn, server_settings=settings)
    await _init_connection(conn)
    return conn


# Tables the service may only read and add to: the event log is append-only by privilege, not only by its
# trigger (which the table's owner could disable). Every other table gets what the code does with it.
APPEND_ONLY_TABLES = ("events",)
READ_ONLY_TABLES = ("schema_migrations",)


async def migrate(pool: asyncpg.Pool, *service_dirs: Path, app_role: str | None = None) -> list[str]:
    """Apply the shared migrations, then each service folder's, once each, in name order; then give `app_role`
    (if any) the service's privileges on every table (see grant_app_role)."""
    async with pool.acquire() as conn:
        return await _migrate(conn, service_dirs, app_role)


async def migrate_database(dsn: str, *service_dirs: Path, app_role: str | None = None) -> list[str]:
    """migrate() over a connection of its own to `dsn`: the services' lifespan runs the migrations as the tables'
    owner (settings.migration_url()), apart from the pool they serve with (the app role)."""
    conn = await connect(dsn)
    try:
        return await _migrate(conn, service_dirs, app_role)
    finally:
        await conn.close()


async def _migrate(conn: asyncpg.Connection, service_dirs: tuple[Path, ...], app_role: str | None) -> list[str]:
    applied: list[str] = []
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations "
            "(name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for folder in (SHARED_MIGRATIONS, *service_dirs):
            for path in sorted(folder.glob("*.sql")):
                name = f"{folder.parent.name}/{path.name}"
                if name in done:
                    continue
                await conn.execute(path.read_text())
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied.append(name)
                log.info("applied migration %s", name)
        if app_role and app_role != await conn.fetchval("SELECT current_user"):
            await grant_app_role(conn, app_role)
    return applied


async def grant_app_role(conn: asyncpg.Connection, app_role: str) -> None:
    """Give `app_role` what the services do, on every table the connected role (the owner) has in `public`:
    SELECT, INSERT, UPDATE and DELETE (projections are updated, the outbox and crypto-shredded keys deleted),
    but only SELECT and INSERT on the event log and only SELECT on schema_migrations; never TRUNCATE,
    REFERENCES or TRIGGER. Default privileges give the same to any table the owner creates later. Run after
    every migration, so a new table is covered; idempotent."""
    role = _identifier(app_role)
    statements = [
        f"GRANT USAGE ON SCHEMA public TO {role}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}",
        "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
    ]
    existing = {r["tablename"] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    for table in APPEND_ONLY_TABLES:
        if table in existing:
            statements.append(f"REVOKE UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {table} FROM {role}")
    for table in READ_ONLY_TABLES:
        if table in existing:
            statements.append(f"REVOKE INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER ON {table} FROM {role}")
    for statement in statements:
        await conn.execute(statement)


def _identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def database_unavailable(exc: BaseException) -> bool:
    """Is `exc` PostgreSQL being out of reach rather than a fault of the work at hand?

    What asyncpg raises then (seen with `pg_ctl stop -m fast|immediate` and a start): OSError
    (connection refused or reset, a connect timeout), ConnectionDoesNotExistError ("connection
    was closed in the middle of operation"), CannotConnectNowError ("the database system is
    shutting down" / "starting up"), AdminShutdownError and CrashShutdownError (a session
    terminated), InterfaceError "connection is closed" (a connection used after it broke),
    InternalClientError "cannot switch to state 15; another operation (2) is in progress" (a
    COMMIT on a connection the server terminated while it sat idle in the transaction), and
    TooManyConnectionsError.
    """
    if isinstance(exc, asyncpg.InterfaceError):
        return "connection is closed" in str(exc)
    return isinstance(
        exc,
        (
            OSError,
            asyncpg.PostgresConnectionError,
            asyncpg.CannotConnectNowError,
            asyncpg.AdminShutdownError,
            asyncpg.CrashShutdownError,
            asyncpg.TooManyConnectionsError,
            asyncpg.exceptions.InternalClientError,
        ),
    )
