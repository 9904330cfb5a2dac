"""A private local stack for breaking things: deploy/local/stack.sh with a data folder and ports of its own.

The shared stack (default ports, `.data/`) is never touched: the broker and PostgreSQL killed or stopped
here are the ones this stack started, by the pids stack.sh recorded.

Its broker authenticates as the session's does (`auth`): a session whose clients are the stack's admin
(TITP_KAFKA_* from `stack.sh env`) gets a private broker with the same admin password, so the same clients
work on both; a session of PLAINTEXT clients gets a PLAINTEXT one. `identity(name)` is what a service
spawned on it connects as.

With `brokers=3` the Kafka side is a three-node KRaft cluster (`TITP_KAFKA_BROKERS=3`, docs/local-stack.md): node
N on kafka_port+100*(N-1) and controller_port+100*(N-1), replication 3, min ISR 2; `kill_broker(n)` and
`start_broker(n)` crash and restart one node while the others serve.

With `proxy_port` every node also has a client listener PROXIED (`TITP_KAFKA_PROXY_PORT`), advertised on a port
that a `faults.proxy.Proxy` on `proxy_routes` forwards to the one it is bound at: a client given
`proxied_bootstrap` reaches the brokers through that proxy only, which can cut it off while the others carry on."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

ROOT = Path(__file__).resolve().parents[1]
STACK = ROOT / "deploy" / "local" / "stack.sh"
SHARED_DATA = ROOT / ".data"
# The Kafka version stack.sh runs (its KAFKA_VERSION line): the jars a private stack shares are that version's.
KAFKA_VERSION = next(
    line.split("=", 1)[1] for line in STACK.read_text().splitlines() if line.startswith("KAFKA_VERSION=")
)
USER, PASSWORD = "titp", "titp"


def identity(name: str, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The TITP_KAFKA_* variables `name` (admin or a service) connects with to the stack that `env` names
    (TITP_DATA_DIR and ports; default this process's): what `stack.sh identity` prints."""
    printed = subprocess.run(
        [str(STACK), "identity", name], env=env or os.environ, check=True, capture_output=True, text=True
    ).stdout
    return dict(line.removeprefix("export ").split("=", 1) for line in printed.splitlines() if "=" in line)


def _session_auth() -> str:
    return "sasl" if os.environ.get("TITP_KAFKA_SECURITY_PROTOCOL", "").startswith("SASL") else "none"


@dataclass
class PrivateStack:
    data: Path
    kafka_port: int
    controller_port: int
    pg_port: int
    auth: str = field(default_factory=_session_auth)  # sasl | none: deploy/local/stack.sh TITP_KAFKA_AUTH
    brokers: int = 1  # Kafka nodes: deploy/local/stack.sh TITP_KAFKA_BROKERS
    proxy_port: int | None = None  # each node's PROXIED listener: deploy/local/stack.sh TITP_KAFKA_PROXY_PORT

    @property
    def bootstrap(self) -> str:
        """Every node's client address, comma separated (what stack.sh gives the services)."""
        return ",".join(f"127.0.0.1:{self.kafka_port + 100 * n}" for n in range(self.brokers))

    @property
    def proxied_bootstrap(self) -> str:
        """Every node's PROXIED address, comma separated: a client bootstrapped there is given these addresses
        only, so a proxy on them (faults/proxy.py, on `proxy_routes`) holds all its connections to the brokers."""
        return ",".join(f"127.0.0.1:{listen}" for listen, _ in self.proxy_routes)

    @property
    def proxy_routes(self) -> list[tuple[int, int]]:
        """(listen port, target port) a node: the address PROXIED advertises, the one it is bound at (one above)."""
        if self.proxy_port is None:
            raise ValueError("this stack has no PROXIED listener (PrivateStack(proxy_port=...))")
        return [(self.proxy_port + 100 * n, self.proxy_port + 100 * n + 1) for n in range(self.brokers)]

    @property
    def replication(self) -> int:
        """The topics' replication factor on this stack (TITP_TOPIC_REPLICATION of its services)."""
        return min(self.brokers, 3)

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://{USER}:{PASSWORD}@127.0.0.1:{self.pg_port}/{database}"

    def _env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "TITP_DATA_DIR": str(self.data),
            "TITP_KAFKA_PORT": str(self.kafka_port),
            "TITP_KAFKA_CONTROLLER_PORT": str(self.controller_port),
            "TITP_PG_PORT": str(self.pg_port),
            "TITP_KAFKA_AUTH": self.auth,
            "TITP_KAFKA_BROKERS": str(self.brokers),
        }
        if self.proxy_port is None:
            env.pop("TITP_KAFKA_PROXY_PORT", None)  # not this process's, if it has one
        else:
            env["TITP_KAFKA_PROXY_PORT"] = str(self.proxy_port)
        if os.environ.get("TITP_KAFKA_USERNAME") == "admin" and os.environ.get("TITP_KAFKA_PASSWORD"):
            env["TITP_KAFKA_ADMIN_PASSWORD"] = os.environ["TITP_KAFKA_PASSWORD"]  # the session's admin works here
        return env

    def _stack(self, *command: str) -> None:
        subprocess.run([str(STACK), *command], env=self._env(), check=True, stdout=sys.stderr, stderr=sys.stderr)

    def identity(self, name: str) -> dict[str, str]:
        """The TITP_KAFKA_* variables of `name` (admin or a service) on this stack."""
        return identity(name, self._env())

    def grant(self, prefix: str) -> None:
        """The services' topics and ACLs under a topic prefix of their own (`stack.sh grant`)."""
        self._stack("grant", prefix)

    def start(self) -> None:
        """A fresh stack: the folder wiped, the Kafka jars (stack.sh's version) shared with the default stack's
        (fetched there once)."""
        if self.data.exists():
            self.stop()
            shutil.rmtree(self.data)
        self.data.mkdir(parents=True)
        self.data.chmod(0o755)  # PostgreSQL runs as its own user on a root machine and must reach its folder
        libs = SHARED_DATA / f"kafka-libs-{KAFKA_VERSION}"
        if not (libs / ".complete").exists():  # fetched into the shared folder, whichever stack this process uses
            env = {**os.environ, "TITP_DATA_DIR": str(SHARED_DATA)}
            subprocess.run([str(STACK), "install"], env=env, check=True, stdout=sys.stderr, stderr=sys.stderr)
        (self.data / libs.name).symlink_to(libs)
        self.restart()

    def restart(self) -> None:
        """Starts whatever of the two is not running and waits until real clients get answers."""
        self._stack("start")

    def stop(self) -> None:
        self._stack("stop")

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)

    def _pid(self, pidfile: str) -> int:
        return int((self.data / pidfile).read_text().split()[0])

    def kill_broker(self, node: int = 1) -> int:
        """SIGKILL to Kafka node `node` (the only one of a one-node stack), by the pid stack.sh recorded; stack.sh
        takes the unreaped zombie for dead. The other nodes of a cluster carry on."""
        pid = self._pid("kafka/kafka.pid" if self.brokers == 1 else f"kafka/kafka-{node}.pid")
        os.kill(pid, signal.SIGKILL)
        return pid

    def start_broker(self, node: int = 1) -> None:
        """Starts Kafka node `node` again; returns once it serves clients (`stack.sh kafka-node-start`)."""
        self._stack("kafka-node-start", str(node))

    def stop_postgres(self, mode: str = "fast") -> int:
        """PostgreSQL stopped by its recorded pid, as `pg_ctl stop -m fast` (SIGINT: open sessions are cut off)
        or `-m immediate` (SIGQUIT: a crash, recovered from the WAL at the next start); returns once it is gone."""
        pid = self._pid("postgres/postgres.pid")
        os.kill(pid, {"fast": signal.SIGINT, "immediate": signal.SIGQUIT}[mode])
        deadline = time.monotonic() + 30
        while Path(f"/proc/{pid}").exists() and not _zombie(pid):
            if time.monotonic() > deadline:
                raise RuntimeError(f"PostgreSQL (pid {pid}) still running 30 s after SIGINT")
            time.sleep(0.05)
        return pid

    async def create_database(self, name: str) -> str:
        admin = await asyncpg.connect(self.dsn())
        try:
            await admin.execute(f'CREATE DATABASE "{name}"')
        finally:
            await admin.close()
        return self.dsn(name)


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except (FileNotFoundError, IndexError):
        return False
