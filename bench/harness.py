"""What every figure shares: databases and topics of the run's own, services as subprocesses, summaries."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
import httpx

from bench import application
from shared.kafka import client_options
from shared.reference import corporate_number_check_digit
from shared.web.auth import JWKS_FILE, ensure_dev_keys, mint_token

ROOT = Path(__file__).resolve().parents[1]
ADMIN_DSN = os.environ.get("DATABASE_URL", "postgresql://titp:titp@127.0.0.1:5432/postgres")
BOOTSTRAP = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
RUN = uuid.uuid4().hex[:8]  # names this run's databases (titp_bench_<run>_*), topics and groups
TOPIC_PREFIX = f"bench.{RUN}."


# What the registry's commands must state (DOMAIN §11): the bench and the fault scenarios send valid bodies too.
GENERAL_GRANT = {"permit_type": "general", "granted_on": "2026-05-01", "meets_excellence_standard": True}


def corporate_number() -> str:
    """A random 13-digit corporate number with its check digit (shared.reference.valid_corporate_number)."""
    base = f"{uuid.uuid4().int % 10**12:012d}"
    return corporate_number_check_digit(base) + base


def permit_application() -> dict:
    """A supervising organization's permit application (bench.application) with a random corporate number and a
    random officer's address."""
    return application.permit_application(corporate_number(), f"{uuid.uuid4().int % 10**6}-1 Kanda, Chiyoda-ku, Tokyo")


def summary(latencies: list[float]) -> dict:
    """p50/p99 in milliseconds of latencies in seconds."""
    ordered = sorted(latencies)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p99_ms": round(ordered[max(0, int(len(ordered) * 0.99) - 1)] * 1000, 2),
    }


def dsn_of(database: str) -> str:
    return ADMIN_DSN.rsplit("/", 1)[0] + "/" + database


@asynccontextmanager
async def database(label: str):
    """A database of this run's own, dropped afterwards: yields its DSN."""
    name = f"titp_bench_{RUN}_{label}"
    admin = await asyncpg.connect(ADMIN_DSN)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield dsn_of(name)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_granted: set[str] = set()


def stack_identity(name: str, prefix: str) -> dict[str, str]:
    """`name`'s own Kafka identity (TITP_KAFKA_*) on the stack this process's environment names (`stack.sh
    env`), once its ACLs cover the topics under `prefix` (granted once per prefix and process)."""
    from faults.stack import STACK, identity

    if prefix not in _granted:
        subprocess.run([str(STACK), "grant", prefix], check=True, stdout=sys.stderr, stderr=sys.stderr)
        _granted.add(prefix)
    return identity(name)


class Keys:
    """A dev issuer of this run's own."""

    def __init__(self) -> None:
        self.folder = ensure_dev_keys(Path(tempfile.mkdtemp(prefix=f"titp-bench-{RUN}-")) / "dev-keys")

    def headers(self, *roles: str, subject: str = "bench") -> dict[str, str]:
        return {"authorization": f"Bearer {mint_token(roles, subject=subject, ttl=3600, keys_dir=self.folder)}"}


class Service:
    """One service as a uvicorn subprocess on a free loopback port, which it keeps when restarted, with its own
    database, the run's topics and consumer group (`prefix`), and no write rate limit (the figures measure
    throughput, not the limiter). `env` overrides settings. Stopped (and killed) by its own pid."""

    def __init__(
        self,
        name: str,
        dsn: str,
        keys: Keys,
        *,
        bootstrap: str = BOOTSTRAP,
        prefix: str = TOPIC_PREFIX,
        folder: Path | None = None,
        label: str | None = None,
        env: dict[str, str] | None = None,
        identity: dict[str, str] | None = None,
    ) -> None:
        self.name, self.label, self.port = name, label or name, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        folder = folder or keys.folder.parent
        self.env = {
            **os.environ,
            "TITP_DATABASE_URL": dsn,
            "TITP_HTTP_HOST": "127.0.0.1",
            "TITP_HTTP_PORT": str(self.port),
            "TITP_KAFKA_BOOTSTRAP_SERVERS": bootstrap,
            "TITP_TOPIC_PREFIX": prefix,
            "TITP_CONSUMER_GROUP": f"{prefix}titp.{name}",  # its identity may use <prefix>titp.<name>*
            "TITP_AUTH_JWKS_URL": (keys.folder / JWKS_FILE).as_uri(),
            "TITP_DATA_DIR": str(folder),
            "TITP_WRITE_RATE_PER_S": "1000000",
            "TITP_WRITE_BURST": "1000000",
            "TITP_LOG_LEVEL": "WARNING",
            "TITP_RELAY_POLL_INTERVAL_S": "1",
            **(identity if identity is not None else stack_identity(name, prefix)),
            **(env or {}),
        }
        self.log = folder / f"{self.label}.log"
        self.pids: list[int] = []  # every process this has started, in order
        self.process: subprocess.Popen | None = None
        self.start()

    def start(self) -> None:
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "shared.web.serve", f"services.{self.name}.app:create_app"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        self.pids.append(self.process.pid)

    @property
    def started(self) -> subprocess.Popen:
        """The process `start()` began last (the constructor starts one)."""
        assert self.process is not None, f"{self.label} was never started"
        return self.process

    async def ready(self, timeout: float = 60) -> float:
        """Waits until /readyz answers 200; returns the seconds it took."""
        return await answering(self.started, f"{self.url}/readyz", self.label, self.log, timeout)

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.started.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        raise RuntimeError(f"no VmRSS for {self.label}")

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process)


async def answering(process: subprocess.Popen, url: str, label: str, log: Path, timeout: float = 60) -> float:
    """Waits until `process` answers 200 at `url`; returns the seconds it took (fails if it exits first)."""
    started = time.monotonic()
    async with httpx.AsyncClient() as client:
        while time.monotonic() < started + timeout:
            if process.poll() is not None:
                raise RuntimeError(f"{label} exited; see {log}")
            try:
                if (await client.get(url, timeout=2)).status_code == 200:
                    return round(time.monotonic() - started, 1)
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.05)
    raise RuntimeError(f"{label} not ready after {timeout}s; see {log}")


def stop_process(process: subprocess.Popen) -> None:
    """SIGTERM, and SIGKILL if it has not ended 15 s later."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def delete_topics() -> None:
    """Remove this run's topics from the shared broker."""
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(**client_options(BOOTSTRAP))
    await admin.start()
    try:
        mine = [t for t in await admin.list_topics() if t.startswith(TOPIC_PREFIX)]
        if mine:
            await admin.delete_topics(mine)
    finally:
        await admin.close()


def in_process_settings(service: str, dsn: str, keys: Keys, group: str):
    """The settings of `service` run inside the bench's own process on this run's topics, with consumer group
    `bench.<run>.<group>` (figures that call a service's code without HTTP)."""
    from shared.settings import load_settings

    return load_settings(
        service,
        database_url=dsn,
        kafka_bootstrap_servers=BOOTSTRAP,
        topic_prefix=TOPIC_PREFIX,
        consumer_group=f"bench.{RUN}.{group}",
        auth_jwks_url=(keys.folder / "jwks.json").as_uri(),
        data_dir=keys.folder.parent,
        log_level="WARNING",
    )
