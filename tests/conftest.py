"""Fixtures for the real broker and database.

`make test` starts the local stack and exports DATABASE_URL and KAFKA_BOOTSTRAP_SERVERS.
A missing broker or database is an error, never a skip.
"""

import os
import uuid

import asyncpg
import pytest


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise RuntimeError(f"{name} is not set: run the suite with `make test`, which starts the stack")
    return value


@pytest.fixture(scope="session")
def admin_dsn() -> str:
    return _required("DATABASE_URL")


@pytest.fixture(scope="session")
def kafka_bootstrap() -> str:
    return _required("KAFKA_BOOTSTRAP_SERVERS")


def _dsn_for(admin_dsn: str, database: str) -> str:
    return admin_dsn.rsplit("/", 1)[0] + "/" + database


@pytest.fixture
async def fresh_database(admin_dsn):
    """A database of its own for one test, dropped afterwards: returns its DSN."""
    name = f"titp_test_{uuid.uuid4().hex[:12]}"
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    yield _dsn_for(admin_dsn, name)
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic names, group ids and test data."""
    return uuid.uuid4().hex[:10]
