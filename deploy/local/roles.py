"""Create the two database roles of the local stack and hand the service databases to the owner (idempotent).

- the owner (default titp_owner): owns the service databases and every table in them; the migrations run as it.
  Not a superuser; CREATEDB, for `titp audit replay`, which creates the databases it replays into.
- the app role (default titp_app): what the services connect as. Owns nothing, no superuser, no CREATEDB or
  CREATEROLE; its privileges on the tables are given by the migrations (shared/db.py grant_app_role). It is a
  member of pg_read_all_stats, to see other sessions' transactions in pg_stat_activity (what holds back the
  audit feed), and of nothing else.

Their passwords are generated once and kept in `<folder>/<role>.password` (0600). A cluster initialised before
the roles existed is brought over at the next start: the roles are created, the databases and every table,
sequence, view, function and type in their `public` schema are given to the owner.
"""

import argparse
import asyncio
import os
import secrets
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg


def password(folder: Path, role: str) -> str:
    """The role's password from its file, generated and written (0600) the first time."""
    path = folder / f"{role}.password"
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_hex(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(value + "\n")
    return value


def ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


async def ensure_role(conn: asyncpg.Connection, role: str, secret: str, attributes: str) -> None:
    if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)", role):
        await conn.execute(f"CREATE ROLE {ident(role)}")
        print(f"[stack] created database role {role}", file=sys.stderr)
    quoted = await conn.fetchval("SELECT quote_literal($1)", secret)
    await conn.execute(f"ALTER ROLE {ident(role)} WITH LOGIN {attributes} PASSWORD {quoted}")


# Everything in `public` the owner must own: relations (sequences owned by a column follow their table),
# functions and procedures, enums, domains and ranges (a table's row type and arrays follow their owner).
NOT_OWNED = """
SELECT format('ALTER %s %s OWNER TO %I',
              CASE c.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW'
                             WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END, c.oid::regclass, $1::text)
FROM pg_class c
WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')
  AND c.relowner <> $1::regrole
  AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype IN ('a', 'i')))
UNION ALL
SELECT format('ALTER ROUTINE %s OWNER TO %I', p.oid::regprocedure, $1::text)
FROM pg_proc p
WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> $1::regrole
UNION ALL
SELECT format('ALTER TYPE %s OWNER TO %I', t.oid::regtype, $1::text)
FROM pg_type t
WHERE t.typnamespace = 'public'::regnamespace AND t.typowner <> $1::regrole AND t.typtype IN ('e', 'd', 'r')
"""


async def hand_over(dsn: str, owner: str) -> None:
    """Make `owner` own the database `dsn` names and everything in its public schema."""
    url = urlsplit(dsn)
    name = url.path.lstrip("/")
    admin = await asyncpg.connect(urlunsplit(url._replace(path="/postgres")))
    try:
        if await admin.fetchval("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name):
            await admin.execute(f"ALTER DATABASE {ident(name)} OWNER TO {ident(owner)}")
        else:
            await admin.execute(f"CREATE DATABASE {ident(name)} OWNER {ident(owner)}")
            print(f"[stack] created database {name}", file=sys.stderr)
    finally:
        await admin.close()
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            for statement in [r[0] for r in await conn.fetch(NOT_OWNED, owner)]:
                await conn.execute(statement)
    finally:
        await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--postgres", required=True, help="a superuser's URL (of any database)")
    parser.add_argument("--secrets", required=True, type=Path, help="the folder of the <role>.password files")
    parser.add_argument("--owner", default="titp_owner")
    parser.add_argument("--app", default="titp_app")
    parser.add_argument("--databases", nargs="*", default=[])
    args = parser.parse_args()
    args.secrets.mkdir(parents=True, exist_ok=True)
    conn = await asyncpg.connect(args.postgres)
    try:
        await ensure_role(
            conn, args.owner, password(args.secrets, args.owner), "NOSUPERUSER CREATEDB NOCREATEROLE NOREPLICATION"
        )
        await ensure_role(
            conn, args.app, password(args.secrets, args.app), "NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION"
        )
        await conn.execute(f"GRANT pg_read_all_stats TO {ident(args.app)}")
    finally:
        await conn.close()
    base = urlsplit(args.postgres)
    for name in args.databases:
        await hand_over(urlunsplit(base._replace(path=f"/{name}")), args.owner)


if __name__ == "__main__":
    asyncio.run(main())
