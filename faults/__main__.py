"""`make faults`: break the local stack under load on purpose and check that nothing is lost (issue 10).

Each scenario runs a registry and an inspection (subscribed to the registry's topic) as uvicorn
subprocesses with their own databases and topics (bench.harness), files permit applications over HTTP
at a steady rate, breaks something mid-load, then checks: every acknowledged command is in the store,
every stored event is on the topic (read from offset 0), and the subscriber applied each event exactly
once (its inbox holds exactly the registry's event ids). Prints ONE JSON report; exit code 1 unless every
scenario matches. See docs/faults.md."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.harness import BOOTSTRAP, ROOT, TOPIC_PREFIX, Keys, Service, database, delete_topics
from bench.services import APPLY, application
from shared.topics import service_topic

KAFKA_PID = ROOT / ".data" / "kafka" / "kafka.pid"
STACK = ROOT / "deploy" / "local" / "stack.sh"


class Load:
    """`clients` closed-loop clients filing applications until stopped; `url` may change mid-load."""

    def __init__(self, url: str, headers: dict, clients: int) -> None:
        self.url, self.headers, self.clients = url, headers, clients
        self.sent = 0
        self.acknowledged: list[str] = []
        self.running = True

    async def run(self) -> None:
        async with httpx.AsyncClient(headers=self.headers, timeout=10) as http:
            async def client() -> None:
                while self.running:
                    self.sent += 1
                    try:
                        response = await http.post(self.url + APPLY, json=application())
                    except httpx.HTTPError:
                        await asyncio.sleep(0.1)  # the service is down: the command was not acknowledged
                        continue
                    if response.status_code == 201:
                        self.acknowledged.append(response.json()["id"])
                    else:
                        await asyncio.sleep(0.1)
                    await asyncio.sleep(0.02)

            await asyncio.gather(*(client() for _ in range(self.clients)))


async def topic_ids(topic: str) -> list[str]:
    """Every event id on `topic`, read from offset 0 of each partition to its current end."""
    admin = AIOKafkaAdminClient(bootstrap_servers=BOOTSTRAP)
    await admin.start()
    try:
        partitions = [TopicPartition(d["topic"], p["partition"]) for d in await admin.describe_topics([topic])
                      for p in d["partitions"]]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=BOOTSTRAP, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        ids = []
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            for records in (await consumer.getmany(timeout_ms=1000)).values():
                ids += [json.loads(r.value)["id"] for r in records]
        return ids
    finally:
        await consumer.stop()


def kill_broker() -> dict:
    pid = int(KAFKA_PID.read_text())
    os.kill(pid, signal.SIGKILL)
    # Gone only once reaped; until then `stack.sh start` would take it for a running broker.
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    return {"killed": "kafka", "pid": pid}


def restart_broker() -> None:
    subprocess.run([str(STACK), "start"], check=True, stdout=sys.stderr, stderr=sys.stderr)


async def scenario(name: str, keys: Keys, load_s: float, settle_s: float) -> dict:
    officer = keys.headers("otit", subject="faults-officer")
    started = time.perf_counter()
    async with database(f"{name}_registry") as registry_dsn, database(f"{name}_inspection") as inspection_dsn:
        registry, inspection = Service("registry", registry_dsn, keys), Service("inspection", inspection_dsn, keys)
        services = [registry, inspection]
        try:
            await asyncio.gather(registry.ready(), inspection.ready())
            load = Load(registry.url, officer, clients=4)
            loading = asyncio.create_task(load.run())
            await asyncio.sleep(load_s / 4)
            if name == "broker-sigkill":
                fault = kill_broker()
                await asyncio.sleep(1)
                fault["restart_s"] = await timed(asyncio.to_thread(restart_broker))
            else:  # registry-sigkill: the process by its own pid, then a new one on the same database
                fault = {"killed": "registry", "pid": registry.process.pid}
                registry.process.send_signal(signal.SIGKILL)
                registry.process.wait()
                await asyncio.sleep(1)
                registry = Service("registry", registry_dsn, keys)
                services.append(registry)
                fault["restart_s"] = await timed(registry.ready())
                load.url = registry.url
            await asyncio.sleep(max(0.0, started + load_s - time.perf_counter()))
            load.running = False
            await loading
            report = await settle(load, registry_dsn, inspection_dsn, settle_s)
        finally:
            for service in services:
                service.stop()
    return {"scenario": name, "fault": fault, **report, "seconds": round(time.perf_counter() - started, 1)}


async def timed(awaitable) -> float:
    started = time.perf_counter()
    await awaitable
    return round(time.perf_counter() - started, 1)


async def settle(load: Load, registry_dsn: str, inspection_dsn: str, settle_s: float) -> dict:
    """Waits up to `settle_s` for the topic and the subscriber to catch up, then compares."""
    deadline = time.monotonic() + settle_s
    topic = TOPIC_PREFIX + service_topic("registry")
    while True:
        registry = await asyncpg.connect(registry_dsn)
        inspection = await asyncpg.connect(inspection_dsn)
        try:
            stored = {str(r["id"]): r["stream_id"] for r in await registry.fetch("SELECT id, stream_id FROM events")}
            inbox = [str(r["event_id"]) for r in await inspection.fetch("SELECT event_id FROM inbox")]
        finally:
            await registry.close()
            await inspection.close()
        on_topic = await topic_ids(topic)
        streams = set(stored.values())
        missing_acknowledged = [a for a in load.acknowledged if not any(a in s for s in streams)]
        registry_report = {"sent": load.sent, "acknowledged": len(load.acknowledged),
                           "acknowledged_missing_from_store": len(missing_acknowledged),
                           "stored_events": len(stored),
                           "delivered_to_topic": len(set(on_topic) & stored.keys()),
                           "topic_records": len(on_topic)}
        inspection_report = {"applied": len(inbox), "applied_of_stored": len(set(inbox) & stored.keys())}
        ok = (not missing_acknowledged and len(load.acknowledged) > 0
              and set(on_topic) == stored.keys() and set(inbox) == stored.keys() and len(inbox) == len(stored))
        if ok or time.monotonic() > deadline:
            return {"ok": ok, "registry": registry_report, "inspection": inspection_report}
        await asyncio.sleep(1)


async def main(args: argparse.Namespace) -> dict:
    keys = Keys()
    result: dict = {"scenarios": []}
    try:
        for name in args.only or SCENARIOS:
            result["scenarios"].append(await scenario(name, keys, args.seconds, args.settle))
    finally:
        await delete_topics()
    result["ok"] = all(s["ok"] for s in result["scenarios"])
    return result


SCENARIOS = ["broker-sigkill", "registry-sigkill"]

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m faults", description=__doc__)
    parser.add_argument("--seconds", type=float, default=20, help="length of the load in each scenario")
    parser.add_argument("--settle", type=float, default=120, help="how long the topic and subscriber may catch up")
    parser.add_argument("--only", nargs="*", choices=SCENARIOS)
    report = asyncio.run(main(parser.parse_args()))
    print(json.dumps(report, indent=2))
    sys.exit(0 if report["ok"] else 1)
