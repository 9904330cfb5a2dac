"""PostgreSQL stopped and started again under load (issue 10, item 3), on a private cluster.

A registry and an inspection (subscribed to the registry's topic) run against a PostgreSQL
cluster of this test's own (initdb into a temporary folder, a free port; the shared one on
5432 is never touched) and the shared Kafka. Officers keep filing permit applications while
the cluster is stopped (`pg_ctl stop -m fast`, and `-m immediate`, a crash) and started again.
During the outage every request is a 503 problem+json with Retry-After; afterwards the same
service processes answer again, and nothing acknowledged is lost or half-written.
"""

import asyncio
import glob
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
from dataclasses import dataclass

import asyncpg
import orjson
import pytest

from services.inspection.app import create_app as create_inspection
from services.registry.app import create_app as create_registry
from shared.checkpoints import CHECKPOINT_STREAM
from shared.topics import service_topic
from tests.helpers import TopicReader, eventually, permit_application

SO = "/v1/supervising-organizations"
PASSWORD = "titp-outage"
RELAY_POLL_S = 2.0  # the relays' poll interval: a notification must wake them well before it


def _pg_bin() -> str:
    """The newest installed PostgreSQL, as deploy/local/stack.sh picks it (`sort -V | tail -n 1`)."""
    found = glob.glob("/usr/lib/postgresql/*/bin")
    assert found, "PostgreSQL binaries are missing: deploy/local/stack.sh install"
    return max(found, key=lambda path: [int(n) for n in re.findall(r"\d+", path)])


class PrivatePostgres:
    """A PostgreSQL cluster of one test: run as the `postgres` OS user when the tests run as root
    (PostgreSQL refuses root), stopped by its own recorded postmaster pid."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.folder = tempfile.mkdtemp(prefix="titp-pg-outage-")
        self.data = os.path.join(self.folder, "data")
        self.pid: int | None = None
        if os.getuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.folder, owner.pw_uid, owner.pw_gid)
        with socket.socket() as s:  # free now; nothing else binds 127.0.0.1 ports in the next second
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        password_file = os.path.join(self.folder, "pw")
        with open(password_file, "w") as f:
            f.write(PASSWORD)
        if os.getuid() == 0:
            os.chown(password_file, owner.pw_uid, owner.pw_gid)
        self._pg("initdb", "-D", self.data, "-U", "titp", f"--pwfile={password_file}", "--auth=scram-sha-256",
                 "-E", "UTF8", "--locale=C.UTF-8", "--no-sync")
        os.unlink(password_file)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as conf:
            conf.write(f"listen_addresses = '127.0.0.1'\nport = {self.port}\n"
                       f"unix_socket_directories = '{self.folder}'\nfsync = off\nmax_connections = 200\n")

    def dsn(self, database: str = "postgres") -> str:
        return f"postgresql://titp:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def _pg(self, program: str, *args: str) -> None:
        command = [os.path.join(self.bin, program), *args]
        if os.getuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def start(self) -> None:
        self._pg("pg_ctl", "-D", self.data, "-l", os.path.join(self.folder, "postgres.log"), "-w", "-t", "30", "start")
        with open(os.path.join(self.data, "postmaster.pid")) as f:
            self.pid = int(f.readline())

    def stop(self, mode: str) -> None:
        """`pg_ctl stop -m fast` (sessions terminated, a clean shutdown) or `-m immediate` (a crash:
        recovery from the WAL at the next start). pg_ctl signals the pid the cluster recorded."""
        self._pg("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "30", "stop")
        assert not self.running()

    def running(self) -> bool:
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return os.path.exists(os.path.join(self.data, "postmaster.pid"))

    def close(self) -> None:
        if self.pid is not None and self.running():
            os.kill(self.pid, signal.SIGQUIT)  # what -m immediate sends, to the pid recorded at start
            deadline = time.monotonic() + 10
            while self.running() and time.monotonic() < deadline:
                time.sleep(0.05)
        shutil.rmtree(self.folder, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster():
    cluster = PrivatePostgres()
    try:
        yield cluster
    finally:
        cluster.close()


@pytest.fixture
async def postgres(cluster, unique):
    """The private cluster, running, with a registry's and an inspection's database of this test's own."""
    if not cluster.running():
        cluster.start()
    conn = await asyncpg.connect(cluster.dsn())
    try:
        for name in ("registry", "inspection"):
            await conn.execute(f"CREATE DATABASE {name}_{unique}")
    finally:
        await conn.close()
    return cluster


@dataclass
class Sent:
    key: str
    body: dict
    status: int
    headers: dict
    answer: dict


class Officers:
    """Closed-loop clients filing permit applications, each with an Idempotency-Key, until stopped."""

    def __init__(self, registry, officer: dict, clients: int = 4) -> None:
        self.registry, self.officer, self.clients = registry, officer, clients
        self.sent: list[Sent] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._file()) for _ in range(self.clients)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    async def send(self, key: str, body: dict) -> Sent:
        response = await self.registry.post(SO, json=body, headers={**self.officer, "Idempotency-Key": key})
        return Sent(key, body, response.status_code, dict(response.headers), response.json())

    async def _file(self) -> None:
        while not self._stop.is_set():
            self.sent.append(sent := await self.send(uuid.uuid4().hex, permit_application()))
            if sent.status == 503:
                await asyncio.sleep(0.05)  # a client that waits a little, not the whole Retry-After

    def count(self, status: int) -> int:
        return sum(s.status == status for s in self.sent)


async def _rows(dsn: str, sql: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(sql)
    finally:
        await conn.close()


async def _ids(dsn: str, sql: str) -> list:
    return [row[0] for row in await _rows(dsn, sql)]


@pytest.mark.parametrize("mode", ["fast", "immediate"])
async def test_the_services_answer_503_while_postgresql_is_down_and_recover_without_a_restart(
        mode, postgres, service_settings, run_service, kafka_bootstrap, token, unique):
    prefix = f"test-pgdown-{unique}."
    registry_db, inspection_db = postgres.dsn(f"registry_{unique}"), postgres.dsn(f"inspection_{unique}")
    registry_app = create_registry(service_settings(
        "registry", registry_db, topic_prefix=prefix, consumer_group=f"{prefix}registry",
        relay_poll_interval_s=RELAY_POLL_S, checkpoint_interval_s=0.5))
    inspection_app = create_inspection(service_settings(
        "inspection", inspection_db, topic_prefix=prefix, consumer_group=f"{prefix}inspection",
        relay_poll_interval_s=RELAY_POLL_S))
    registry = await run_service(registry_app)
    await run_service(inspection_app)
    officer = token("otit")
    officers = Officers(registry, officer)
    async with TopicReader(kafka_bootstrap, prefix + service_topic("registry")) as topic:
        officers.start()
        await eventually(lambda: officers.count(201) >= 20, message="no command acknowledged before the outage")

        await asyncio.to_thread(postgres.stop, mode)
        acknowledged_before = officers.count(201)
        await eventually(lambda: officers.count(503) >= 20, message="no 503 while the database was down")
        # Check: reads and the readiness probe say the same while it is down.
        some_id = next(s.answer["id"] for s in officers.sent if s.status == 201)
        read = await registry.get(f"{SO}/{some_id}", headers=officer)
        ready = await registry.get("/readyz")
        assert (read.status_code, ready.status_code) == (503, 503), (read.text, ready.text)
        assert read.json()["type"] == "https://titp.example/problems/database-unavailable"

        await asyncio.to_thread(postgres.start)
        # Check: the same processes answer again, without a restart: the pool replaced its connections.
        await eventually(lambda: officers.count(201) >= acknowledged_before + 20, timeout=15,
                         message="commands did not succeed again after PostgreSQL came back")
        await officers.stop()

        # Check: nothing but 201s and the database's 503s, each a problem+json with Retry-After.
        statuses = {s.status for s in officers.sent}
        assert statuses == {201, 503}, [(s.status, s.answer) for s in officers.sent if s.status not in (201, 503)][:3]
        for s in officers.sent:
            if s.status == 503:
                assert s.headers["content-type"] == "application/problem+json"
                assert int(s.headers["retry-after"]) > 0
                assert s.answer["type"] == "https://titp.example/problems/database-unavailable"
                assert s.answer["title"] == "The database is unavailable" and s.answer["status"] == 503

        # Check: every acknowledged command is stored and readable through the API.
        acknowledged = {s.answer["id"] for s in officers.sent if s.status == 201}
        for id in acknowledged:
            assert (await registry.get(f"{SO}/{id}", headers=officer)).status_code == 200
        # Check: a refused command retried with its Idempotency-Key is applied once: one that did commit
        # (the connection broke during COMMIT) answers as it did, the others now take effect.
        retried = [await officers.send(s.key, s.body) for s in officers.sent if s.status == 503]
        assert {r.status for r in retried} == {201}
        filed = acknowledged | {r.answer["id"] for r in retried}
        assert len(filed) == len(officers.sent)  # one application per request, however often sent
        # Check: nothing half-written, nothing extra: each filed application is one stream of exactly one event.
        streams = await _rows(registry_db, "SELECT stream_id, count(*) FROM events"
                                           f" WHERE stream_id <> '{CHECKPOINT_STREAM}' GROUP BY stream_id")
        assert dict(streams) == {id: 1 for id in filed}

        # Check: the relay came back by itself and put every stored event on the topic...
        stored = set(await _ids(registry_db, "SELECT id FROM events"))
        await eventually(lambda: stored <= {uuid.UUID(orjson.loads(m.value)["id"]) for m in topic.messages},
                         timeout=15, message=lambda: f"{len(stored)} stored, {len(topic.messages)} on the topic")
        # ...listening again: each event appended now reaches the topic long before the relay's next poll.
        await eventually(lambda: registry_app.state.relay.is_leader)
        for _ in range(3):
            started = time.monotonic()
            late = (await officers.send(uuid.uuid4().hex, permit_application())).answer["id"]
            await eventually(lambda: any(m.key == late.encode() for m in topic.messages), timeout=RELAY_POLL_S)
            assert time.monotonic() - started < RELAY_POLL_S / 4

    # Check: the inspection's subscription came back too and applied each of the registry's events once
    # (its inbox holds exactly their ids), dead-lettering none of them for the outage.
    async def inspection_applied_everything():
        stored = await _ids(registry_db, "SELECT id FROM events")
        return set(await _ids(inspection_db, "SELECT event_id FROM inbox")) == set(stored)

    await eventually(inspection_applied_everything, timeout=20,
                     message="the inspection did not apply every registry event")
    assert inspection_app.state.subscription.dead_lettered == 0
    # Check: the checkpoint sealer kept running: a checkpoint covers every event filed.
    last = max(await _ids(registry_db, f"SELECT position FROM events WHERE stream_id <> '{CHECKPOINT_STREAM}'"))

    async def sealed():
        rows = await _ids(registry_db, "SELECT (data->>'through_position')::bigint FROM events"
                                       f" WHERE stream_id = '{CHECKPOINT_STREAM}'")
        return rows and max(rows) >= last

    await eventually(sealed, timeout=10, message="no checkpoint signed after the outage")
