"""Wait until PostgreSQL and Kafka answer real clients, and create the service databases.

Ready means a real query and a real admin call work, not that a port is open. The admin call is made as the
identity in TITP_KAFKA_* (deploy/local/stack.sh passes the stack's admin).
"""

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

import asyncpg
from aiokafka.admin import AIOKafkaAdminClient

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from shared.kafka import client_options  # noqa: E402


async def postgres_ready(dsn: str, databases: list[str], deadline: float) -> None:
    while True:
        try:
            conn = await asyncpg.connect(dsn, timeout=5)
            break
        except (OSError, asyncpg.PostgresError) as exc:
            if time.monotonic() > deadline:
                raise SystemExit(f"PostgreSQL not ready: {exc}") from None
            await asyncio.sleep(0.5)
    try:
        existing = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        for name in databases:
            if name not in existing:
                await conn.execute(f'CREATE DATABASE "{name}"')
                print(f"[stack] created database {name}", file=sys.stderr)
    finally:
        await conn.close()


async def kafka_ready(bootstrap: str, brokers: int, deadline: float) -> None:
    while True:
        admin = AIOKafkaAdminClient(**client_options(bootstrap), request_timeout_ms=5000)
        try:
            await admin.start()
            await admin.list_topics()
            # A cluster is ready once every node is a registered broker: topics of replication 3 need three.
            registered = len((await admin.describe_cluster())["brokers"])
            if registered < brokers:
                raise RuntimeError(f"{registered} of {brokers} brokers registered")
            return
        except Exception as exc:  # any failure here means "not yet"
            if time.monotonic() > deadline:
                raise SystemExit(f"Kafka not ready: {exc!r}") from None
            await asyncio.sleep(1)
        finally:
            await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kafka", required=True)
    parser.add_argument("--brokers", type=int, default=1, help="how many brokers the cluster must show")
    parser.add_argument("--postgres", required=True)
    parser.add_argument("--databases", nargs="*", default=[])
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args()
    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # "not yet" is expected while waiting
    deadline = time.monotonic() + args.timeout
    started = time.monotonic()
    await postgres_ready(args.postgres, args.databases, deadline)
    await kafka_ready(args.kafka, args.brokers, deadline)
    print(f"[stack] ready in {time.monotonic() - started:.1f}s", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main())
