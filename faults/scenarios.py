"""One scenario: the four services on a private stack, the load, one fault a quarter of the way in, then
the comparison (faults.check) once everything settled. The scenarios and their faults: docs/faults.md."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from uuid import uuid4

from bench.harness import Keys
from faults.check import audit, observe, settings_of
from faults.load import Load, prepare
from faults.processes import ServiceProcess
from faults.stack import PrivateStack
from shared.settings import SERVICES

SCENARIOS = [
    "broker-sigkill",
    *(f"{s}-sigkill" for s in SERVICES),
    "subscriber-sigkill",
    "postgres-restart",
    "postgres-immediate-under-load",
]
# Only on a three-broker stack (`make faults-cluster`, python -m faults --brokers 3), before the ones above.
CLUSTER_SCENARIOS = ["broker-sigkill-one-of-three", "broker-sigkill-two-of-three"]
POSTGRES_SCENARIOS = {"postgres-restart": "fast", "postgres-immediate-under-load": "immediate"}
TWO_DOWN_S = 5.0  # how long two of the three brokers stay down
SECOND_INSPECTION = "inspection-2"
OUTAGE_S = 5.0  # how long PostgreSQL stays down
IN_FLIGHT = 16  # commands the load keeps in flight at once across the services (issue 21), given enough clients


async def run(
    name: str,
    stack: PrivateStack,
    keys: Keys,
    folder: Path,
    *,
    seconds: float,
    settle: float,
    clients: int = 5,
    pause: float = 0.05,
) -> dict:
    started = time.monotonic()
    tag = uuid4().hex[:6]
    prefix = f"faults.{name}.{tag}."
    folder = folder / f"{name}-{tag}"
    folder.mkdir(parents=True)
    dsns = {s: await stack.create_database(f"faults_{name.replace('-', '_')}_{tag}_{s}") for s in SERVICES}
    await asyncio.to_thread(stack.grant, prefix)
    processes = {s: ServiceProcess(s, dsns[s], stack=stack, prefix=prefix, keys=keys, folder=folder) for s in SERVICES}
    if name == "subscriber-sigkill":
        processes[SECOND_INSPECTION] = ServiceProcess(
            "inspection",
            dsns["inspection"],
            stack=stack,
            prefix=prefix,
            keys=keys,
            folder=folder,
            label=SECOND_INSPECTION,
        )
    try:
        await asyncio.gather(*(p.ready() for p in processes.values()))
        urls = {s: processes[s].url for s in SERVICES}
        load = Load(urls, keys, await prepare(urls, keys, plans=clients), clients=clients, pause=pause)
        load.start()
        load_started = time.monotonic()
        await asyncio.sleep(seconds / 4)
        fault_at = time.monotonic()
        in_flight_at_fault = load.in_flight
        fault = await _fault(name, stack, processes)
        recovered_at = time.monotonic()
        # At least a quarter of the load after the recovery, however long it took.
        await asyncio.sleep(max(seconds / 4, load_started + seconds - recovered_at))
        load_ended = time.monotonic()
        await load.stop(patience=30)
        settle_started = time.monotonic()
        while True:
            report = await observe(stack.bootstrap, dsns, prefix, load.tallies)
            if not report["problems"] or time.monotonic() > settle_started + settle:
                break
            await asyncio.sleep(1)
        settled_s = round(time.monotonic() - settle_started, 1)
        problems = report.pop("problems")
        for service, tally in load.tallies.items():
            if not tally.acknowledged_between(load_started, fault_at):
                problems.append(f"{service}: nothing acknowledged before the fault")
            if not tally.acknowledged_between(recovered_at, load_ended):
                problems.append(f"{service}: nothing acknowledged after the recovery")
        if name in POSTGRES_SCENARIOS:
            problems += _outage_problems(load, processes)
        if name == "broker-sigkill-one-of-three":  # the two others carry on: no request fails
            if failed := {s: dict(t.failures) for s, t in load.tallies.items() if t.failures}:
                problems.append(f"requests failed with one broker of three down: {failed}")
        if name == "broker-sigkill-two-of-three":  # publishing waits (min.insync.replicas=2), commands do not
            for service, tally in load.tallies.items():
                if not tally.acknowledged_between(fault_at, recovered_at):
                    problems.append(f"{service}: nothing acknowledged while two brokers of three were down")
        if name == "subscriber-sigkill":
            before = fault["subscription_before"]
            if not _consuming(before):
                problems.append(f"{SECOND_INSPECTION} was not consuming when it was killed: {before}")
        # At least IN_FLIGHT commands in flight at once (every client's, with fewer clients than that).
        wanted = min(IN_FLIGHT, clients * len(SERVICES))
        if load.in_flight_max < wanted:
            problems.append(f"load: at most {load.in_flight_max} commands in flight at once, not {wanted}")
        # Redeliveries the inboxes absorbed (counted since each process started).
        report["duplicates_skipped"] = {
            p.label: (await p.subscription()).get("duplicate", 0) for p in processes.values()
        }
        for process in processes.values():  # the audit compares still databases and topics
            process.stop()
        settings = {
            s: settings_of(s, dsns[s], bootstrap=stack.bootstrap, prefix=prefix, data_dir=folder) for s in SERVICES
        }
        replays = {s: stack.dsn(f"faults_{name.replace('-', '_')}_{tag}_{s}_replay") for s in SERVICES}
        audited = await audit(settings, replays, lambda dsn: stack.create_database(dsn.rsplit("/", 1)[1]))
        for service, chains in audited["chains"].items():
            problems += [f"{service}: chains on its {where}: {c}" for where, c in chains.items() if not c["ok"]]
        problems += [f"{s}: replay: {r}" for s, r in audited["replay"].items() if not r["ok"]]
    finally:
        for process in processes.values():
            process.stop()
    figures = report.pop("figures")
    return {
        "scenario": name,
        "fault": fault,
        "ok": not problems,
        "in_flight_max": load.in_flight_max,
        "in_flight_at_fault": in_flight_at_fault,
        **figures,
        "chains_ok": audited["chains_ok"],
        "replay_ok": audited["replay_ok"],
        "problems": problems,
        "services": report,
        "audit": {"chains": audited["chains"], "replay": audited["replay"]},
        "settled_s": settled_s,
        "seconds": round(time.monotonic() - started, 1),
        "logs": str(folder),
    }


async def _fault(name: str, stack: PrivateStack, processes: dict[str, ServiceProcess]) -> dict:
    if name == "broker-sigkill":
        fault = {"killed": "kafka", "pid": stack.kill_broker()}
        await asyncio.sleep(1)
        fault["restart_s"] = await _timed(asyncio.to_thread(stack.restart))
    elif name == "broker-sigkill-one-of-three":
        fault = {"killed": "kafka node 2", "pid": stack.kill_broker(2)}
        await asyncio.sleep(1)
        fault["restart_s"] = await _timed(asyncio.to_thread(stack.start_broker, 2))
    elif name == "broker-sigkill-two-of-three":
        fault = {"killed": "kafka nodes 2 and 3", "pids": [stack.kill_broker(2), stack.kill_broker(3)]}
        await asyncio.sleep(TWO_DOWN_S)
        fault["down_s"] = TWO_DOWN_S
        fault["restart_s"] = await _timed(asyncio.to_thread(stack.restart))
    elif name in POSTGRES_SCENARIOS:
        mode = POSTGRES_SCENARIOS[name]
        fault = {"stopped": f"postgres (-m {mode})", "pid": stack.stop_postgres(mode), "outage_s": OUTAGE_S}
        await asyncio.sleep(OUTAGE_S)
        fault["restart_s"] = await _timed(asyncio.to_thread(stack.restart))
    else:
        process = processes[SECOND_INSPECTION if name == "subscriber-sigkill" else name.removesuffix("-sigkill")]
        fault = {"killed": process.label}
        if name == "subscriber-sigkill":  # killed once it is consuming (a rebalance may take a while), as proof
            deadline = time.monotonic() + 30
            while not _consuming(before := await process.subscription()) and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            fault["subscription_before"] = before
        fault["pid"] = process.kill()
        await asyncio.sleep(1)
        process.start()
        fault["restart_s"] = await process.ready()
    return fault


def _outage_problems(load: Load, processes: dict[str, ServiceProcess]) -> list[str]:
    """During the outage, the services answer 503 with Retry-After (and nothing else), and they recover
    in the processes that were running before it."""
    problems = []
    answers = {s: t.failures for s, t in load.tallies.items()}
    if not any(f["503"] for f in answers.values()):
        problems.append("postgres-restart: no service answered 503 during the outage")
    for service, tally in load.tallies.items():
        if other := {k: v for k, v in tally.failures.items() if k != "503"}:
            problems.append(f"{service}: answered {other} during the outage, not 503")
        if tally.failures["503"] != tally.retry_after:
            problems.append(
                f"{service}: {tally.failures['503'] - tally.retry_after} of"
                f" {tally.failures['503']} 503 answers without Retry-After"
            )
    for process in processes.values():
        if process.started.poll() is not None or len(process.pids) != 1:
            problems.append(f"{process.label}: not the process that ran before the outage")
    return problems


def _consuming(subscription: dict) -> bool:
    return bool(subscription.get("assigned_partitions") and subscription.get("applied"))


async def _timed(awaitable) -> float:
    started = time.monotonic()
    await awaitable
    return round(time.monotonic() - started, 1)
