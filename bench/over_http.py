"""Figure 1 over HTTP, driven by a load generator that is not the bottleneck (issue 22), beside its baselines.

At 1, 8 and 32 connections, `seconds` each, in one run: wrk (C, one thread, `bench/apply.lua`) drives
- `project`: the registry's `POST /v1/supervising-organizations` (a permit application, a new corporate number each);
- `peer`: the same request to what a Python team would build instead (bench/peer/app.py: FastAPI + the
  eventsourcing library on the same PostgreSQL, its own database), from its own virtualenv;
- `bare`: the same request to a bare FastAPI app that validates the body and stores nothing, and its `GET /healthz`;
- `project_healthz`: the registry's `GET /healthz` (every middleware, no command);
and pgbench runs a single-row INSERT and the registry command's own statements (bench/pgbench_apply.sql) on the same
server. Beside each point: the CPU per request of wrk itself (its rusage), of the server process, of PostgreSQL
(the postmaster and every backend) and of Kafka (the broker's JVM), from /proc/<pid>/stat before and after.

Then in-process, no HTTP: the registry's command through its CommandRunner (the app's lifespan: pool, relay) and
the peer's `Application.save`, at 1 and 8 concurrent tasks (threads for the peer, whose library is synchronous).

Needs `make bench-tools` (wrk, .data/bench-peer-venv).
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import resource
import subprocess
import time
import uuid
from contextlib import AsyncExitStack
from datetime import date
from pathlib import Path

from bench.harness import (
    ROOT,
    Keys,
    Service,
    answering,
    database,
    free_port,
    in_process_settings,
    permit_application,
    stop_process,
)
from bench.services import APPLY, create_insert_table, pgbench
from shared.db import migrate_database

WRK = "/usr/bin/wrk"
LUA = ROOT / "bench" / "apply.lua"
PGBENCH_APPLY = ROOT / "bench" / "pgbench_apply.sql"
PEER_PYTHON = ROOT / ".data" / "bench-peer-venv" / "bin" / "python"
STACK = ROOT / "deploy" / "local" / "stack.sh"
CLIENTS = (1, 8, 32)
TASKS = (1, 8)
TICK_S = 1 / os.sysconf("SC_CLK_TCK")


def require_tools() -> None:
    missing = [str(p) for p in (Path(WRK), PEER_PYTHON) if not p.exists()]
    if missing:
        raise RuntimeError(f"missing {', '.join(missing)}: run `make bench-tools`")


# CPU time from /proc


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name: [0] is the state (field 3), [11] utime (14)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()


def cpu_s(pid: int) -> float:
    """User and system CPU of a process, all its threads."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) * TICK_S


def tree_cpu_s(pid: int) -> float:
    """A server of processes (PostgreSQL, a service with TITP_WORKERS): the parent's CPU, what its exited children
    used (cutime, cstime), and the CPU of every child still running."""
    fields = _stat(pid)
    total = sum(int(f) for f in fields[11:15])
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                child = _stat(int(entry.name))
            except (FileNotFoundError, ProcessLookupError, ValueError):
                continue
            if child[1] == str(pid):
                total += int(child[11]) + int(child[12])
    return total * TICK_S


def stack_pids() -> dict[str, int]:
    """The pids of PostgreSQL's postmaster and Kafka's broker of the stack this environment names."""
    out = subprocess.run([str(STACK), "status"], capture_output=True, text=True, check=True).stdout
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(postgres|kafka) running pid (\d+)", out, re.M)}


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# wrk

_runs = iter(range(1000))


def wrk(url: str, *, mode: str, expected: int, clients: int, seconds: float, server: int, auth: str) -> dict:
    """One closed-loop point: `clients` connections of one wrk thread for `seconds`; wrk's own CPU is its rusage
    (reaped here: nothing else exits meanwhile), the server's and the stack's from /proc before and after."""
    stack = stack_pids()
    run = next(_runs)
    command = [WRK, "-t1", f"-c{clients}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(LUA), url]
    before = (children_cpu_s(), tree_cpu_s(server), tree_cpu_s(stack["postgres"]), cpu_s(stack["kafka"]))
    out = subprocess.run(
        [*command, "--", mode, str(expected), str(run)],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "BENCH_AUTHORIZATION": auth},
    ).stdout
    after = (children_cpu_s(), tree_cpu_s(server), tree_cpu_s(stack["postgres"]), cpu_s(stack["kafka"]))
    line = next((line for line in out.splitlines() if line.startswith("BENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result: {out}")
    result = json.loads(line[len("BENCH ") :])
    requests = max(1, result["requests"])

    def per_request(i: int) -> float:
        return round((after[i] - before[i]) * 1000 / requests, 3)

    return {
        "requests_per_s": round(result["requests"] / (result["duration_us"] / 1e6), 1),
        "requests": result["requests"],
        "failures": result["failures"],  # answers other than `expected`
        **({"first_unexpected_status": result["first_unexpected_status"]} if result["failures"] else {}),
        "socket_errors": sum(result[k] for k in ("connect_errors", "read_errors", "write_errors", "timeouts")),
        "p50_ms": round(result["p50_us"] / 1000, 2),
        "p99_ms": round(result["p99_us"] / 1000, 2),
        "server_cpu_ms_per_request": per_request(1),
        "client_cpu_ms_per_request": per_request(0),
        "postgres_cpu_ms_per_request": per_request(2),
        "kafka_cpu_ms_per_request": per_request(3),
    }


# The peer and the bare app, from the peer's environment


class PeerApp:
    """bench/peer/app.py (`peer` or `bare`) under uvicorn on a free port, from .data/bench-peer-venv."""

    def __init__(self, kind: str, folder: Path, dsn: str | None = None) -> None:
        self.kind, self.port = kind, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONPATH": str(ROOT), **({"PEER_DATABASE_URL": dsn} if dsn else {})}
        self.log = folder / f"{kind}.log"
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [str(PEER_PYTHON), "-m", "bench.peer.app", kind, "--port", str(self.port)],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def ready(self, timeout: float = 60) -> None:
        await answering(self.process, f"{self.url}/healthz", self.kind, self.log, timeout)

    def stop(self) -> None:
        stop_process(self.process)


# In-process: no HTTP


async def project_in_process(dsn: str, keys: Keys, tasks: int, seconds: float) -> dict:
    """The registry's permit application through its CommandRunner, inside the app's lifespan (pool, relay,
    subscriptions), `tasks` concurrent loops; this process's CPU per command."""
    from contracts.registry import PermitApplication
    from services.registry import commands
    from services.registry.app import create_app
    from shared.events import EventContext

    settings = in_process_settings("registry", dsn, keys, "inprocess")
    app = create_app(settings)

    async def apply() -> None:
        body = permit_application()
        applied_on = date.fromisoformat(body.pop("applied_on"))
        await app.state.runner.transact(
            commands.apply_for_permit,
            uuid.uuid4(),
            application=PermitApplication.model_validate(body),
            applied_on=applied_on,
            revocation_bar_years=app.state.revocation_bar_years,
            context=EventContext(actor="bench", correlationid=str(uuid.uuid4())),
        )

    async with app.router.lifespan_context(app):
        for _ in range(20):  # warm-up: connections, caches
            await apply()
        latencies: list[float] = []
        stop = time.perf_counter() + seconds

        async def task() -> None:
            while time.perf_counter() < stop:
                started = time.perf_counter()
                await apply()
                latencies.append(time.perf_counter() - started)

        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu, started = usage.ru_utime + usage.ru_stime, time.perf_counter()
        await asyncio.gather(*(task() for _ in range(tasks)))
        elapsed = time.perf_counter() - started
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu = usage.ru_utime + usage.ru_stime - cpu
    ordered = sorted(latencies)
    return {
        "tasks": tasks,
        "commands": len(ordered),
        "commands_per_s": round(len(ordered) / elapsed, 1),
        "cpu_ms_per_command": round(cpu * 1000 / max(1, len(ordered)), 3),
        "p50_ms": round(ordered[len(ordered) // 2] * 1000, 2),
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 2),
    }


def peer_in_process(dsn: str, tasks: int, seconds: float) -> dict:
    out = subprocess.run(
        [str(PEER_PYTHON), "-m", "bench.peer.inprocess", "--tasks", str(tasks), "--seconds", str(seconds)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "PEER_DATABASE_URL": dsn},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict = json.loads(out.strip().splitlines()[-1])
    return result


def idle_cpu(servers: dict[str, int], seconds: float = 3) -> dict[str, float]:
    """CPU ms per second of the servers and the stack with no load (relay polls, chores, the broker's own work): the
    share of each point's per-request figures that is not the requests'."""
    stack = stack_pids()
    pids = {**servers, "kafka": stack["kafka"]}
    before = {name: cpu_s(pid) for name, pid in pids.items()} | {"postgres": tree_cpu_s(stack["postgres"])}
    time.sleep(seconds)
    after = {name: cpu_s(pid) for name, pid in pids.items()} | {"postgres": tree_cpu_s(stack["postgres"])}
    return {name: round((after[name] - before[name]) * 1000 / seconds, 1) for name in before}


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 3) if b else None


async def run(seconds: float) -> dict:
    require_tools()
    keys = Keys()
    auth = keys.headers("otit", subject="bench-officer")["authorization"]
    folder = keys.folder.parent
    async with AsyncExitStack() as stack:
        registry_db = await stack.enter_async_context(database("http_registry"))
        peer_db = await stack.enter_async_context(database("http_peer"))
        insert_db = await stack.enter_async_context(database("http_pgbench_insert"))
        apply_db = await stack.enter_async_context(database("http_pgbench_apply"))
        await migrate_database(apply_db, ROOT / "services" / "registry" / "migrations")
        await create_insert_table(insert_db)

        registry = Service("registry", registry_db, keys, label="http-registry")
        stack.callback(registry.stop)
        # The same with two worker processes (TITP_WORKERS=2) on a database of its own.
        registry_2 = Service(
            "registry",
            await stack.enter_async_context(database("http_registry_2")),
            keys,
            label="http-registry-2-workers",
            env={"TITP_WORKERS": "2"},
        )
        stack.callback(registry_2.stop)
        peer = PeerApp("peer", folder, peer_db)
        stack.callback(peer.stop)
        bare = PeerApp("bare", folder)
        stack.callback(bare.stop)
        await asyncio.gather(registry.ready(), registry_2.ready(), peer.ready(), bare.ready())

        targets = {
            "project": (registry.url + APPLY, "post", 201, registry.started.pid),
            "project_2_workers": (registry_2.url + APPLY, "post", 201, registry_2.started.pid),
            "peer": (peer.url + APPLY, "post", 201, peer.process.pid),
            "bare": (bare.url + APPLY, "post", 201, bare.process.pid),
            "bare_healthz": (bare.url + "/healthz", "get", 200, bare.process.pid),
            "project_healthz": (registry.url + "/healthz", "get", 200, registry.started.pid),
        }

        def point(name: str, clients: int, length: float) -> dict:
            url, mode, expected, pid = targets[name]
            return wrk(url, mode=mode, expected=expected, clients=clients, seconds=length, server=pid, auth=auth)

        for name in targets:  # warm-up: imports, connections, caches, the peer's tables
            await asyncio.to_thread(point, name, 4, 1)

        idle = await asyncio.to_thread(idle_cpu, {"registry": registry.started.pid, "peer": peer.process.pid})
        rows = []
        for clients in CLIENTS:
            row: dict = {"clients": clients}
            row["pgbench_insert"] = await asyncio.to_thread(pgbench, insert_db, clients, seconds)
            row["pgbench_apply"] = await asyncio.to_thread(
                pgbench, apply_db, clients, seconds, PGBENCH_APPLY, prepared=True
            )
            for name in targets:
                row[name] = await asyncio.to_thread(point, name, clients, seconds)
            project, peer_, bare_ = row["project"], row["peer"], row["bare"]
            row["ratios"] = {
                "project_over_peer": ratio(project["requests_per_s"], peer_["requests_per_s"]),
                "project_2_workers_over_peer": ratio(
                    row["project_2_workers"]["requests_per_s"], peer_["requests_per_s"]
                ),
                "project_2_workers_over_project": ratio(
                    row["project_2_workers"]["requests_per_s"], project["requests_per_s"]
                ),
                "project_over_bare": ratio(project["requests_per_s"], bare_["requests_per_s"]),
                "peer_over_bare": ratio(peer_["requests_per_s"], bare_["requests_per_s"]),
                "project_over_pgbench_apply": ratio(project["requests_per_s"], row["pgbench_apply"]["tps"]),
                "peer_over_pgbench_apply": ratio(peer_["requests_per_s"], row["pgbench_apply"]["tps"]),
                "project_over_pgbench_insert": ratio(project["requests_per_s"], row["pgbench_insert"]["tps"]),
                "project_server_cpu_over_peer": ratio(
                    project["server_cpu_ms_per_request"], peer_["server_cpu_ms_per_request"]
                ),
                "project_healthz_over_bare_healthz": ratio(
                    row["project_healthz"]["requests_per_s"], row["bare_healthz"]["requests_per_s"]
                ),
                "project_healthz_server_cpu_over_bare": ratio(
                    row["project_healthz"]["server_cpu_ms_per_request"],
                    row["bare_healthz"]["server_cpu_ms_per_request"],
                ),
            }
            rows.append(row)
        for service in (registry, registry_2, peer, bare):
            service.stop()

        in_process: list[dict] = []
        project_db = await stack.enter_async_context(database("inprocess_registry"))
        peer_inprocess_db = await stack.enter_async_context(database("inprocess_peer"))
        for tasks in TASKS:
            measured = await project_in_process(project_db, keys, tasks, seconds)
            baseline = await asyncio.to_thread(peer_in_process, peer_inprocess_db, tasks, seconds)
            in_process.append(
                {
                    "tasks": tasks,
                    "project": measured,
                    "peer": baseline,
                    "project_over_peer": ratio(measured["commands_per_s"], baseline["commands_per_s"]),
                }
            )

    by_clients = {row["clients"]: row for row in rows}
    goals = {
        "project_over_peer_at_1_at_least_1.0": (by_clients[1]["ratios"]["project_over_peer"] or 0) >= 1.0,
        "project_over_peer_at_8_at_least_1.5": (by_clients[8]["ratios"]["project_over_peer"] or 0) >= 1.5,
        "project_over_peer_at_32_at_least_1.5": (by_clients[32]["ratios"]["project_over_peer"] or 0) >= 1.5,
        "in_process_over_peer_at_8_at_least_1.5": (in_process[-1]["project_over_peer"] or 0) >= 1.5,
        "server_cpu_per_command_at_most_1.5_ms": all(
            row["project"]["server_cpu_ms_per_request"] <= 1.5 for row in rows
        ),
        "healthz_server_cpu_within_2x_bare": all(
            (row["ratios"]["project_healthz_server_cpu_over_bare"] or 0) <= 2 for row in rows
        ),
    }
    wrk_version = subprocess.run([WRK, "-v"], capture_output=True, text=True).stdout.splitlines()[0]
    return {
        "http": {
            "command": "POST /v1/supervising-organizations (apply for a permit), a new corporate number each",
            "driver": f"{wrk_version}: -t1 -cN, bench/apply.lua; one process per server, uvicorn httptools + uvloop",
            "seconds_per_point": seconds,
            "idle_cpu_ms_per_s": idle,
            "rows": rows,
            "in_process": in_process,
            "goals_issue_22": goals,
        }
    }
