"""Figures 1, 2 and 6: the four services as real uvicorn servers on this run's databases and topics.

1. registry commands over HTTP at 1, 8 and 32 clients beside pgbench's single-row inserts;
2. a permit granted in the registry until the inspection worklist shows its inspection, at a fixed rate;
6. the time for the four services to come up, and their resident memory after the load.
"""

from __future__ import annotations

import asyncio
import re
import subprocess
import time
from contextlib import AsyncExitStack
from pathlib import Path

import asyncpg
import httpx

from bench.harness import GENERAL_GRANT, Keys, Service, database, permit_application, summary
from shared.settings import SERVICES

PGBENCH = "/usr/lib/postgresql/15/bin/pgbench"
APPLY = "/v1/supervising-organizations"


def application() -> dict:
    return permit_application()


async def commands(url: str, headers: dict, clients: int, seconds: float, *, floor: bool = False) -> dict:
    """Closed loop: each client files applications one after another for `seconds`. With `floor`, each asks
    `GET /healthz` instead: the same server, middlewares and client with no command behind them."""
    latencies: list[float] = []
    failures = 0
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=30) as http:
        stop = time.perf_counter() + seconds

        async def client() -> None:
            nonlocal failures
            while time.perf_counter() < stop:
                started = time.perf_counter()
                response = await (http.get("/healthz") if floor else http.post(APPLY, json=application()))
                if response.status_code != (200 if floor else 201):
                    failures += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "commands_per_s": round(len(latencies) / elapsed, 1),
        "failures": failures,
        **summary(latencies),
    }


def _found(pattern: str, text: str) -> str:
    """The first group of `pattern` in `text` (pgbench's report), or an error naming what is missing."""
    match = re.search(pattern, text)
    if match is None:
        raise RuntimeError(f"pgbench printed no {pattern!r}: {text}")
    return match.group(1)


PGBENCH_INSERT = Path(__file__).with_name("pgbench_insert.sql")  # one single-row INSERT


async def create_insert_table(dsn: str) -> None:
    """The table PGBENCH_INSERT writes to."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "CREATE TABLE bench_insert (id bigserial PRIMARY KEY, client int, payload text,"
            " at timestamptz DEFAULT now())"
        )
    finally:
        await conn.close()


def pgbench(dsn: str, clients: int, seconds: float, script: Path = PGBENCH_INSERT, *, prepared: bool = False) -> dict:
    """pgbench's own transactions per second, each one run of `script`, on the same server."""
    out = subprocess.run(
        [PGBENCH, "-n", *(["-M", "prepared"] if prepared else []), "-f", str(script)]
        + ["-c", str(clients), "-j", str(min(clients, 4)), "-T", str(max(1, round(seconds))), dsn],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        "clients": clients,
        "tps": round(float(_found(r"tps = ([\d.]+)", out)), 1),
        "latency_avg_ms": float(_found(r"latency average = ([\d.]+) ms", out)),
        "failed": int(_found(r"number of failed transactions: (\d+)", out)),
    }


async def end_to_end(registry: Service, inspection: Service, headers: dict, rate: float, count: int) -> dict:
    """Grants at a fixed rate; each one's time until the inspection worklist lists the permit's inspection.

    One watcher reads the whole worklist every 10 ms (so the measuring adds a constant, small load and up to
    10 ms to each figure) instead of a poller per grant, which would load the services with the backlog."""
    async with httpx.AsyncClient(headers=headers, timeout=30, limits=httpx.Limits(max_connections=64)) as http:
        ids = [
            (await http.post(registry.url + APPLY, json=application())).raise_for_status().json()["id"]
            for _ in range(count)
        ]
        granted: dict[str, float] = {}
        latencies: list[float] = []

        async def grant(id: str, at: float) -> None:
            await asyncio.sleep(max(0.0, at - time.perf_counter()))
            granted[id] = time.perf_counter()
            (await http.post(f"{registry.url}{APPLY}/{id}/grant", json=GENERAL_GRANT)).raise_for_status()

        async def watch() -> None:
            seen: set[str] = set()
            deadline = time.perf_counter() + count / rate + 60
            while len(seen) < count:
                if time.perf_counter() > deadline:
                    raise RuntimeError(f"only {len(seen)} of {count} inspections listed after 60 s")
                listed = await http.get(inspection.url + "/v1/inspections", params={"limit": 500})
                now = time.perf_counter()
                for item in listed.raise_for_status().json()["items"]:
                    if item["target_id"] in granted and item["target_id"] not in seen:
                        seen.add(item["target_id"])
                        latencies.append(now - granted[item["target_id"]])
                await asyncio.sleep(0.01)

        start = time.perf_counter() + 0.1
        await asyncio.gather(watch(), *(grant(id, start + i / rate) for i, id in enumerate(ids)))
    return {"rate_per_s": rate, **summary(latencies)}


async def run(seconds: float) -> dict:
    keys = Keys()
    officer = keys.headers("otit", subject="bench-officer")
    async with AsyncExitStack() as stack:
        dsns = {name: await stack.enter_async_context(database(name)) for name in SERVICES}
        started = time.perf_counter()
        services = {name: Service(name, dsns[name], keys) for name in SERVICES}
        for service in services.values():
            stack.callback(service.stop)
        await asyncio.gather(*(s.ready() for s in services.values()))
        startup_s = time.perf_counter() - started
        idle_mb = {name: s.rss_mb() for name, s in services.items()}

        registry = services["registry"]
        await commands(registry.url, officer, 4, 1)  # warm-up: imports, connections, caches
        pg = await stack.enter_async_context(database("pgbench"))
        await create_insert_table(pg)
        rows = []
        for clients in (1, 8, 32):
            baseline = await asyncio.to_thread(pgbench, pg, clients, seconds)
            measured = await commands(registry.url, officer, clients, seconds)
            floor = await commands(registry.url, officer, clients, seconds, floor=True)
            rows.append(
                {
                    **measured,
                    "pgbench_tps": baseline["tps"],
                    "pgbench_latency_avg_ms": baseline["latency_avg_ms"],
                    "ratio": round(measured["commands_per_s"] / baseline["tps"], 3),
                    "http_floor_per_s": floor["commands_per_s"],
                    "http_floor_p50_ms": floor["p50_ms"],
                    "ratio_to_http_floor": round(measured["commands_per_s"] / floor["commands_per_s"], 3),
                }
            )

        e2e = await end_to_end(registry, services["inspection"], officer, rate=10, count=max(20, int(20 * seconds)))
        loaded_mb = {name: s.rss_mb() for name, s in services.items()}
    return {
        "http_commands": {
            "command": "POST /v1/supervising-organizations (apply for a permit)",
            "seconds_per_point": seconds,
            "rows": rows,
        },
        "end_to_end": {"path": "registry POST .../grant -> Kafka -> inspection GET /v1/inspections lists it", **e2e},
        "resources": {"stack_startup_s": round(startup_s, 2), "rss_mb_idle": idle_mb, "rss_mb_after_load": loaded_mb},
    }
