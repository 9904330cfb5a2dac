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


async def connect(dsn: str) -> asyncpg.Connection:
    conn = await asyncpg.connect(dsn)
    await _init_connection(conn)
    return conn


async def migrate(pool: asyncpg.Pool, *service_dirs: Path) -> list[str]:
    """Apply the shared migrations, then each service folder's, once each, in name order."""
    applied: list[str] = []
    async with pool.acquire() as conn, conn.transaction():
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
    return applied


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
