"""The four services as uvicorn subprocesses on a private stack, each killable and restartable on its port.

bench.harness.Service with the scenario's broker, topic prefix, consumer group and the service's own Kafka
identity on that stack (granted the prefix's topics first: PrivateStack.grant); a killed process comes back
(`start()`) on the same port and database. `bootstrap` other than the stack's: the brokers through a proxy
(faults.proxy)."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.harness import Keys, Service
from faults.stack import PrivateStack


class ServiceProcess(Service):
    def __init__(
        self,
        name: str,
        dsn: str,
        *,
        stack: PrivateStack,
        prefix: str,
        keys: Keys,
        folder: Path,
        label: str | None = None,
        bootstrap: str | None = None,
    ) -> None:
        super().__init__(
            name,
            dsn,
            keys,
            bootstrap=bootstrap or stack.bootstrap,
            identity=stack.identity(name),
            prefix=prefix,
            folder=folder,
            label=label,
            env={
                "TITP_RELAY_POLL_INTERVAL_S": "0.2",
                "TITP_TOPIC_REPLICATION": str(stack.replication),
                # Checkpoints signed during the load too: events no command made, on the topics as well.
                "TITP_CHECKPOINT_INTERVAL_S": "5",
            },
        )

    async def subscription(self) -> dict:
        """What its subscription reports on /metrics: partitions assigned, events applied and duplicates
        skipped by this process since it started."""
        async with httpx.AsyncClient() as client:
            text = (await client.get(f"{self.url}/metrics", timeout=10)).raise_for_status().text
        found = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == "titp_consumer_assigned_partitions":
                    found["assigned_partitions"] = int(sample.value)
                elif sample.name == "titp_consumer_events_total" and sample.labels["outcome"] != "dead_lettered":
                    found[sample.labels["outcome"]] = int(sample.value)
        return found

    def kill(self) -> int:
        """SIGKILL by its own pid, reaped before this returns."""
        pid = self.started.pid
        self.started.send_signal(signal.SIGKILL)
        self.started.wait()
        return pid
