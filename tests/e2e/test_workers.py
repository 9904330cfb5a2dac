"""Worker processes (TITP_WORKERS): the registry run as deployed (`python -m shared.web.serve`) with two workers
on one port. Both serve, one relay leads so each command is published once, a SIGTERM stops them all cleanly,
and a worker that dies ends the service for its process manager to restart. The chores run only where the
relay leads."""

import asyncio
import os
import signal
from pathlib import Path

import asyncpg
import httpx
import pytest

from shared.settings import InvalidSettings, load_settings
from shared.topics import service_topic
from shared.web.app import RELAY_LOCK, _every
from tests.helpers import RegistryProcess, TopicReader, eventually, permit_application


class Registry(RegistryProcess):
    """The registry as deployed, with two workers."""

    def __init__(self, settings, folder: Path, prefix: str, workers: int = 2) -> None:
        super().__init__(settings, folder, prefix, TITP_RELAY_POLL_INTERVAL_S="0.2", TITP_WORKERS=str(workers))

    def workers(self) -> set[int]:
        """The supervisor's child processes."""
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        return {int(pid) for pid in children.read_text().split()} if children.exists() else set()


@pytest.fixture
async def registry_with_workers(another_database, service_settings, unique, tmp_path):
    started: list[Registry] = []

    async def start() -> Registry:
        settings = service_settings("registry", await another_database())
        registry = Registry(settings, tmp_path, prefix=f"test-workers-{unique}.")
        started.append(registry)
        await registry.ready()
        return registry

    yield start
    for registry in started:
        registry.stop()


def serving_pid(server_port: int, client_port: int, candidates: set[int]) -> int | None:
    """Which of `candidates` holds the server's end of the connection from `client_port` (Linux /proc)."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if int(local.rsplit(":", 1)[1], 16) == server_port and int(remote.rsplit(":", 1)[1], 16) == client_port:
                inode = fields[9]
    for pid in candidates:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                if os.readlink(fd) == f"socket:[{inode}]":
                    return pid
            except FileNotFoundError:
                continue
    return None


async def answered_by(registry: Registry, workers: set[int]) -> int | None:
    """One request on a new connection; the pid of the worker that answered it."""
    reader, writer = await asyncio.open_connection("127.0.0.1", registry.port)
    try:
        writer.write(b"GET /healthz HTTP/1.1\r\nhost: test\r\n\r\n")
        await writer.drain()
        assert (await reader.readline()).startswith(b"HTTP/1.1 200"), "/healthz did not answer 200"
        return serving_pid(registry.port, writer.get_extra_info("sockname")[1], workers)
    finally:
        writer.close()
        await writer.wait_closed()


async def relay_locks(dsn: str) -> int:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objid = $1", RELAY_LOCK
        )
    finally:
        await conn.close()


async def outbox_empty(dsn: str) -> bool:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetchval("SELECT count(*) FROM outbox") == 0
    finally:
        await conn.close()


async def test_two_workers_serve_one_port_publish_each_command_once_and_stop_together_on_sigterm(
    registry_with_workers, token, kafka_bootstrap
):
    registry = await registry_with_workers()
    officer = token("otit", subject="officer-ito")

    # Check: the supervisor has two worker processes, and both answer requests on the one port.
    workers = await eventually(lambda: len(registry.workers()) == 2 and registry.workers(), message="no two workers")
    seen: set[int | None] = set()
    for _ in range(200):
        seen.add(await answered_by(registry, workers))
        if seen == workers:
            break
    assert seen == workers, f"answered by {seen}, workers {workers}"
    # Check: each worker's log lines say which worker wrote them.
    ready = [line for line in registry.records() if line["message"] == "registry ready"]
    assert sorted(line["worker"] for line in ready) == [1, 2], ready

    # Check: one relay leads (holds the lock); the other stands by.
    await eventually(lambda: relay_locks(registry.owner_dsn), message="no relay leads")
    assert await relay_locks(registry.owner_dsn) == 1

    # Applications filed through both workers: each is published once.
    topic = registry.prefix + service_topic("registry")
    async with TopicReader(kafka_bootstrap, topic) as reader:
        applied = []
        for _ in range(10):
            async with httpx.AsyncClient(base_url=registry.url) as client:  # a new connection: any worker
                response = await client.post(
                    "/v1/supervising-organizations", json=permit_application(), headers=officer
                )
                assert response.status_code == 201, response.text
                applied.append(response.json()["id"])
        await eventually(lambda: outbox_empty(registry.owner_dsn), timeout=30, message="the outbox was never emptied")

        def published() -> dict[str, int]:
            keys = [message.key.decode() for message in reader.messages]
            return {id: keys.count(id) for id in applied}

        await eventually(lambda: all(published().values()), timeout=30, message=lambda: f"published: {published()}")
        await asyncio.sleep(1)  # a second relay, were there one, would publish them again meanwhile
        assert published() == {id: 1 for id in applied}

    # Check: SIGTERM to the supervisor stops every worker; it ends with 0 and leaves no process behind.
    registry.process.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(registry.process.wait, 30) == 0
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]
    stopped = {line["message"] for line in registry.records() if line["message"].endswith(" stopped")}
    assert len(stopped) == 2 and all(f"(pid {pid})" in " ".join(stopped) for pid in workers), stopped
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", registry.port)


async def test_a_worker_that_dies_ends_the_service_with_an_error(registry_with_workers):
    registry = await registry_with_workers()
    workers = await eventually(lambda: len(registry.workers()) == 2 and registry.workers(), message="no two workers")
    dead, other = sorted(workers)

    os.kill(dead, signal.SIGKILL)

    # Check: the supervisor stops the other worker and ends non-zero, for its process manager to restart it.
    assert await asyncio.to_thread(registry.process.wait, 30) == 1
    assert not Path(f"/proc/{other}").exists()
    assert any("ended by itself" in line["message"] for line in registry.records())


def test_zero_workers_are_refused_by_the_settings(monkeypatch):
    monkeypatch.setenv("TITP_WORKERS", "0")
    with pytest.raises(InvalidSettings) as refused:
        load_settings("registry")
    assert "workers (TITP_WORKERS): Input should be greater than or equal to 1 [got '0']" in str(refused.value)


class Relay:
    def __init__(self, is_leader: bool) -> None:
        self.leading, self.poll_interval = asyncio.Event(), 0.01
        if is_leader:
            self.leading.set()

    @property
    def is_leader(self) -> bool:
        return self.leading.is_set()


async def test_a_chore_runs_only_where_the_relay_leads():
    rounds: dict[str, int] = {"leader": 0, "standby": 0}

    def chore(name: str):
        async def run(runner) -> None:
            rounds[name] += 1

        return run

    leader, standby = Relay(True), Relay(False)
    tasks = [
        asyncio.create_task(_every(0.02, chore("leader"), None, leader)),
        asyncio.create_task(_every(0.02, chore("standby"), None, standby)),
    ]
    try:
        await eventually(lambda: rounds["leader"] >= 3, message=lambda: f"rounds: {rounds}")
        assert rounds["standby"] == 0
        # The standby takes over (its relay got the lock): its chore runs from then on.
        leader.leading.clear()
        standby.leading.set()
        await eventually(lambda: rounds["standby"] >= 3, message=lambda: f"rounds: {rounds}")
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
