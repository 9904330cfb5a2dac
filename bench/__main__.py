"""`make bench`: benchmarks against the local stack, printing one JSON object.

For now the event store's append path (the later benchmarks issue adds HTTP, relay,
end-to-end and replay figures beside their baselines).
"""

import asyncio
import json
import os
import platform
import statistics
import time
import uuid

import asyncpg

from shared.db import create_pool, migrate
from shared.events import EventPayload, EventTypes
from shared.store import EventStore

bench_events = EventTypes("bench")


@bench_events.register
class Measured(EventPayload):
    n: int


async def append_latency(dsn: str, clients: int, per_client: int) -> dict:
    pool = await create_pool(dsn, max_size=clients + 2)
    await migrate(pool)
    store = EventStore(bench_events)
    latencies: list[float] = []

    async def client(c: int) -> None:
        stream = f"bench-{c}-{uuid.uuid4().hex[:6]}"
        for version in range(per_client):
            started = time.perf_counter()
            async with pool.acquire() as conn, conn.transaction():
                await store.append(conn, stream, version, [Measured(n=version)])
            latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    await asyncio.gather(*(client(c) for c in range(clients)))
    elapsed = time.perf_counter() - started
    await pool.close()
    latencies.sort()
    return {"clients": clients, "appends": len(latencies), "appends_per_s": round(len(latencies) / elapsed, 1),
            "p50_ms": round(statistics.median(latencies) * 1000, 2),
            "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 2)}


async def main() -> None:
    admin_dsn = os.environ.get("DATABASE_URL", "postgresql://titp:titp@127.0.0.1:5432/postgres")
    name = f"titp_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(admin_dsn)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        dsn = admin_dsn.rsplit("/", 1)[0] + "/" + name
        results = [await append_latency(dsn, clients, 2000 // clients) for clients in (1, 8, 32)]
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
    print(json.dumps({"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                      "event_store_append": results}, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
