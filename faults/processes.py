"""The four services as uvicorn subprocesses on a private stack, each killable and restartable on its port.

Like bench.harness.Service, but the broker, topic prefix, consumer group and port are the scenario's, and
a killed process comes back on the same port and database."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.harness import Keys, free_port
from shared.auth import JWKS_FILE

ROOT = Path(__file__).resolve().parents[1]


class ServiceProcess:
    def __init__(self, name: str, dsn: str, *, bootstrap: str, prefix: str, keys: Keys, folder: Path,
                 label: str | None = None) -> None:
        self.name, self.label, self.port = name, label or name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "TITP_DATABASE_URL": dsn, "TITP_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
                    "TITP_TOPIC_PREFIX": prefix, "TITP_CONSUMER_GROUP": f"{prefix}{name}",
                    "TITP_AUTH_JWKS_URL": (keys.folder / JWKS_FILE).as_uri(), "TITP_DATA_DIR": str(folder),
                    "TITP_WRITE_RATE_PER_S": "1000000", "TITP_WRITE_BURST": "1000000", "TITP_LOG_LEVEL": "WARNING",
                    "TITP_RELAY_POLL_INTERVAL_S": "0.2",
                    # Checkpoints signed during the load too: events no command made, on the topics as well.
                    "TITP_CHECKPOINT_INTERVAL_S": "5"}
        self.log = folder / f"{self.label}.log"
        self.pids: list[int] = []  # every process this has started, in order
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", f"services.{self.name}.app:create_app", "--factory",
                 "--host", "127.0.0.1", "--port", str(self.port), "--no-access-log"],
                cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        self.pids.append(self.process.pid)

    async def ready(self, timeout: float = 60) -> float:
        """Waits until /readyz answers 200; returns the seconds it took."""
        started = time.monotonic()
        async with httpx.AsyncClient() as client:
            while time.monotonic() < started + timeout:
                if self.process.poll() is not None:
                    raise RuntimeError(f"{self.label} exited; see {self.log}")
                try:
                    if (await client.get(f"{self.url}/readyz", timeout=2)).status_code == 200:
                        return round(time.monotonic() - started, 1)
                except httpx.HTTPError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError(f"{self.label} not ready after {timeout}s; see {self.log}")

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
        pid = self.process.pid
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        return pid

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
