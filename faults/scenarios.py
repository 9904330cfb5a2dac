"""One scenario: the four services on a private stack, the load, one fault a quarter of the way in, then
the comparison (faults.check) once everything settled. The scenarios and their faults: docs/faults.md."""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from uuid import uuid4

from aiokafka.errors import KafkaError

from bench.harness import Keys
from faults.check import audit, observe, settings_of
from faults.load import Load, prepare
from faults.processes import ServiceProcess
from faults.proxy import Proxy
from faults.stack import PrivateStack
from faults.watch import Watch
from shared.settings import SERVICES

SCENARIOS = [
    "broker-sigkill",
    *(f"{s}-sigkill" for s in SERVICES),
    "subscriber-sigkill",
    "postgres-restart",
    "postgres-immediate-under-load",
    "subscriber-rebalance-storm",
    "slow-consumer",
    "network-partition-service-broker",
]
# Only on a three-broker stack (`make faults-cluster`, python -m faults --brokers 3), before the ones above.
CLUSTER_SCENARIOS = ["broker-sigkill-one-of-three", "broker-sigkill-two-of-three"]
# Needs the stack's proxied listener (PrivateStack.proxy_port): the cut service reaches the brokers through a
# proxy of this process's own (faults.proxy).
PARTITION = "network-partition-service-broker"
PARTITIONED = "registry"  # the service cut from the brokers: every other service subscribes to its topic
PARTITION_S = 15.0  # longer than a consumer's session timeout: the cut service's consumer leaves its group
PUBLISHING_PAUSE_LIMIT_S = 10.0  # publishing with one broker of three down (issue 21)
STORM = ["add", "add", "kill", "add", "stop", "stop"]  # subscriber-rebalance-storm: inspection instances
SLOW_S = 8.0  # slow-consumer: how long the inspection is slowed down
SLOW_DUTY = (0.2, 0.8)  # ...running 0.2 s, then stopped (SIGSTOP) 0.8 s, over and over
# What must hold during the fault besides the checks of every scenario (docs/faults.md): no request fails; every
# service acknowledges commands (they wait for PostgreSQL, not for Kafka or the subscribers).
NO_REQUEST_FAILS = {"broker-sigkill-one-of-three", PARTITION, "subscriber-rebalance-storm", "slow-consumer"}
ACKNOWLEDGED_DURING = {"broker-sigkill-two-of-three", PARTITION, "slow-consumer"}
POSTGRES_SCENARIOS = {"postgres-restart": "fast", "postgres-immediate-under-load": "immediate"}
TWO_DOWN_S = 5.0  # how long two of the three brokers stay down
SECOND_INSPECTION = "inspection-2"
OUTAGE_S = 5.0  # how long PostgreSQL stays down
IN_FLIGHT = 16  # commands the load keeps in flight at once across the services (issue 21), given enough clients


@dataclass
class Scene:
    """What a fault acts on: the stack, the running processes (by label), a way to start another process of a
    service (`spawn(service, label)`), what is watched, and the cut service's proxy (PARTITION only)."""

    stack: PrivateStack
    processes: dict[str, ServiceProcess]
    spawn: Callable[[str, str], ServiceProcess]
    watch: Watch
    proxy: Proxy | None = None


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
    proxy = None
    if name == PARTITION:
        proxy = Proxy(stack.proxy_routes)  # a ValueError on a stack without the proxied listener
        await proxy.start()

    def spawn(service: str, label: str) -> ServiceProcess:
        cut = proxy is not None and service == PARTITIONED
        return ServiceProcess(
            service,
            dsns[service],
            stack=stack,
            prefix=prefix,
            keys=keys,
            folder=folder,
            label=label,
            bootstrap=stack.proxied_bootstrap if cut else None,
        )

    processes = {s: spawn(s, s) for s in SERVICES}
    if name == "subscriber-sigkill":
        processes[SECOND_INSPECTION] = spawn("inspection", SECOND_INSPECTION)
    watch = Watch(dsns)
    scene = Scene(stack, processes, spawn, watch, proxy)
    try:
        await asyncio.gather(*(p.ready() for p in processes.values()))
        urls = {s: processes[s].url for s in SERVICES}
        load = Load(urls, keys, await prepare(urls, keys, plans=clients), clients=clients, pause=pause)
        load.start()
        watch.start()
        load_started = time.monotonic()
        await asyncio.sleep(seconds / 4)
        fault_at = time.monotonic()
        in_flight_at_fault = load.in_flight
        fault = await _fault(name, scene)
        recovered_at = time.monotonic()
        # At least a quarter of the load after the recovery, however long it took.
        await asyncio.sleep(max(seconds / 4, load_started + seconds - recovered_at))
        load_ended = time.monotonic()
        await load.stop(patience=30)
        settle_started = time.monotonic()
        while True:
            try:
                report = await observe(stack.bootstrap, dsns, prefix, load.tallies)
            except KafkaError:  # a broker that just came back may not answer its first requests
                if time.monotonic() > settle_started + settle:
                    raise
                await asyncio.sleep(1)
                continue
            if not report["problems"] or time.monotonic() > settle_started + settle:
                break
            await asyncio.sleep(1)
        settled_s = round(time.monotonic() - settle_started, 1)
        await watch.stop()
        problems = report.pop("problems")
        for service, tally in load.tallies.items():
            if not tally.acknowledged_between(load_started, fault_at):
                problems.append(f"{service}: nothing acknowledged before the fault")
            if not tally.acknowledged_between(recovered_at, load_ended):
                problems.append(f"{service}: nothing acknowledged after the recovery")
        if name in POSTGRES_SCENARIOS:
            problems += _outage_problems(load, processes)
        if name in NO_REQUEST_FAILS:  # the fault is not the clients' business: no request fails
            if failed := {s: dict(t.failures) for s, t in load.tallies.items() if t.failures}:
                problems.append(f"requests failed: {failed}")
        if name in ACKNOWLEDGED_DURING:  # commands do not wait for Kafka (or for the subscribers)
            for service, tally in load.tallies.items():
                if not tally.acknowledged_between(fault_at, recovered_at):
                    problems.append(f"{service}: nothing acknowledged during the fault")
        problems += _watched_problems(name, fault, watch, load_started, fault_at, recovered_at)
        if name == "subscriber-sigkill":
            before = fault["subscription_before"]
            if not _consuming(before):
                problems.append(f"{SECOND_INSPECTION} was not consuming when it was killed: {before}")
        problems += fault.pop("problems", [])
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
        await watch.stop()
        for process in processes.values():
            process.stop()
        if proxy is not None:
            await proxy.close()
    figures = report.pop("figures")
    return {
        "scenario": name,
        "fault": fault,
        "ok": not problems,
        "in_flight_max": load.in_flight_max,
        "in_flight_at_fault": in_flight_at_fault,
        **figures,
        "publishing_paused_s": max(fault["publishing_paused_s"].values(), default=0.0),
        "behind_max": watch.behind_max(),
        "chains_ok": audited["chains_ok"],
        "replay_ok": audited["replay_ok"],
        "problems": problems,
        "services": report,
        "audit": {"chains": audited["chains"], "replay": audited["replay"]},
        "settled_s": settled_s,
        "seconds": round(time.monotonic() - started, 1),
        "logs": str(folder),
    }


async def _fault(name: str, scene: Scene) -> dict:
    stack, processes = scene.stack, scene.processes
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
    elif name == PARTITION:
        assert scene.proxy is not None
        scene.proxy.cut()
        await asyncio.sleep(PARTITION_S)
        fault = {"cut": PARTITIONED, "cut_s": PARTITION_S, "proxy": scene.proxy.counters()}
        scene.proxy.heal()
    elif name == "subscriber-rebalance-storm":
        fault = await _storm(scene)
    elif name == "slow-consumer":
        fault = await _slow(processes["inspection"])
    else:
        process = processes[SECOND_INSPECTION if name == "subscriber-sigkill" else name.removesuffix("-sigkill")]
        fault = {"killed": process.label}
        if name == "subscriber-sigkill":  # killed once it is consuming (a rebalance may take a while), as proof
            fault["subscription_before"] = await _once_consuming(process)
        fault["pid"] = process.kill()
        await asyncio.sleep(1)
        process.start()
        fault["restart_s"] = await process.ready()
    return fault


async def _storm(scene: Scene) -> dict:
    """Inspection instances (same database and consumer group, no HTTP load) join and leave one after another:
    each joins, and leaves only once the group gave it partitions and it applied events; they leave by SIGTERM
    or SIGKILL. Every move is a rebalance of the group."""
    extra: list[ServiceProcess] = []
    moves: list[dict] = []
    problems = []
    for step, move in enumerate(STORM):
        started = time.monotonic()
        if move == "add":
            process = scene.spawn("inspection", f"inspection-storm-{step}")
            extra.append(process)
            scene.processes[process.label] = process
            await process.ready()
            seen = await _once_consuming(process)
            if not _consuming(seen):
                problems.append(f"{process.label} never consumed: {seen}")
        else:
            process = extra.pop(0)
            del scene.processes[process.label]
            if move == "kill":
                process.kill()
            else:
                await asyncio.to_thread(process.stop)
        moves.append({"move": move, "process": process.label, "s": round(time.monotonic() - started, 1)})
    return {"moves": moves, "problems": problems}


async def _slow(process: ServiceProcess) -> dict:
    """The inspection (a subscriber of the registry and accreditation) starved: stopped (SIGSTOP) most of the time
    for SLOW_S seconds, as on a host that cannot keep up; its HTTP answers are slow too, none fails."""
    running, stopped = SLOW_DUTY
    until = time.monotonic() + SLOW_S
    cycles = 0
    try:
        while time.monotonic() < until:
            await asyncio.sleep(running)
            process.started.send_signal(signal.SIGSTOP)
            await asyncio.sleep(stopped)
            process.started.send_signal(signal.SIGCONT)
            cycles += 1
    finally:
        process.started.send_signal(signal.SIGCONT)
    return {
        "slowed": process.label,
        "slow_s": SLOW_S,
        "duty": {"running_s": running, "stopped_s": stopped},
        "cycles": cycles,
    }


def _watched_problems(
    name: str, fault: dict, watch: Watch, load_started: float, fault_at: float, recovered_at: float
) -> list[str]:
    """What the watch must have seen: the fault had the effect it is meant to have, and the system got over it."""
    problems = []
    fault["publishing_paused_s"] = paused = watch.publishing_paused_s()
    if name == "broker-sigkill-one-of-three" and max(paused.values()) >= PUBLISHING_PAUSE_LIMIT_S:
        problems.append(f"publishing paused {paused} s with one broker of three down, not under 10 s")
    if name == PARTITION:  # the cut service's publishing waited for the heal, then its outbox drained
        held = watch.publishing_paused_s(fault_at, recovered_at).get(PARTITIONED, 0.0)
        fault["publishing_held_s"] = held
        if held < PARTITION_S / 2:
            problems.append(f"{PARTITIONED}: publishing went on while cut from the brokers (held {held} s)")
        drained = next((t for t, v in watch.publishing_lag_s[PARTITIONED] if t > recovered_at and v < 1), None)
        fault["publishing_resumed_s"] = None if drained is None else round(drained - recovered_at, 1)
        if drained is None:
            problems.append(f"{PARTITIONED}: its outbox did not drain after the heal")
    if name == "slow-consumer":  # the inspection fell behind the registry, and caught up once it was let go
        before = watch.behind_max(load_started, fault_at).get("inspection", {}).get("registry", 0)
        during = watch.behind_max(fault_at, recovered_at).get("inspection", {}).get("registry", 0)
        caught_up = watch.caught_up_at("inspection", "registry", recovered_at, before)
        fault.update(behind_before=before, behind_during=during)
        fault["caught_up_s"] = None if caught_up is None else round(caught_up - recovered_at, 1)
        if during <= before:
            problems.append(f"inspection: not behind the registry while slowed ({during} events, {before} before)")
        if caught_up is None:
            problems.append("inspection: did not catch up with the registry after the slowdown")
    return problems


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


async def _once_consuming(process: ServiceProcess, patience: float = 30) -> dict:
    """Its subscription once it has partitions and applied events (a rebalance may take a while), or as it is
    after `patience` seconds."""
    deadline = time.monotonic() + patience
    while not _consuming(seen := await process.subscription()) and time.monotonic() < deadline:
        await asyncio.sleep(0.2)
    return seen


def _consuming(subscription: dict) -> bool:
    return bool(subscription.get("assigned_partitions") and subscription.get("applied"))


async def _timed(awaitable) -> float:
    started = time.monotonic()
    await awaitable
    return round(time.monotonic() - started, 1)
