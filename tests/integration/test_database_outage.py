"""PostgreSQL stopped and started again under load (issue 10, item 3), on a private cluster.

A registry and an inspection (subscribed to the registry's topic) run against the PostgreSQL of
the session's private stack (`private_stack`: deploy/local/stack.sh with its own folder and free
ports; the shared one on 5432 is never touched) and the shared Kafka. Officers keep filing permit
applications while that PostgreSQL is stopped by its recorded pid (as `pg_ctl stop -m fast`, and
`-m immediate`, a crash) and started again.
During the outage every request is a 503 problem+json with Retry-After; afterwards the same
service processes answer again, and nothing acknowledged is lost or half-written.
"""

import asyncio
import time
import uuid
from dataclasses import dataclass

import asyncpg
import orjson
import pytest

from services.inspection.app import create_app as create_inspection
from services.registry.app import create_app as create_registry
from shared.audit.checkpoints import CHECKPOINT_STREAM
from shared.topics import service_topic
from tests.helpers import TopicReader, eventually, permit_application

SO = "/v1/supervising-organizations"
RELAY_POLL_S = 2.0  # the relays' poll interval: a notification must wake them well before it


@pytest.fixture
async def postgres(private_stack, unique):
    """The private stack (its PostgreSQL running) with a registry's and an inspection's database of this test's own."""
    await asyncio.to_thread(private_stack.restart)  # starts whatever of it is not running
    for name in ("registry", "inspection"):
        await private_stack.create_database(f"{name}_{unique}")
    return private_stack


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
    mode, postgres, service_settings, run_service, kafka_bootstrap, token, unique
):
    prefix = f"test-pgdown-{unique}."
    registry_db, inspection_db = postgres.dsn(f"registry_{unique}"), postgres.dsn(f"inspection_{unique}")
    registry_app = create_registry(
        service_settings(
            "registry",
            registry_db,
            topic_prefix=prefix,
            consumer_group=f"{prefix}registry",
            relay_poll_interval_s=RELAY_POLL_S,
            checkpoint_interval_s=0.5,
        )
    )
    inspection_app = create_inspection(
        service_settings(
            "inspection",
            inspection_db,
            topic_prefix=prefix,
            consumer_group=f"{prefix}inspection",
            relay_poll_interval_s=RELAY_POLL_S,
        )
    )
    registry = await run_service(registry_app)
    await run_service(inspection_app)
    officer = token("otit")
    officers = Officers(registry, officer)
    async with TopicReader(kafka_bootstrap, prefix + service_topic("registry")) as topic:
        officers.start()
        await eventually(lambda: officers.count(201) >= 20, message="no command acknowledged before the outage")

        await asyncio.to_thread(postgres.stop_postgres, mode)
        acknowledged_before = officers.count(201)
        await eventually(lambda: officers.count(503) >= 20, message="no 503 while the database was down")
        # Check: reads and the readiness probe say the same while it is down.
        some_id = next(s.answer["id"] for s in officers.sent if s.status == 201)
        read = await registry.get(f"{SO}/{some_id}", headers=officer)
        ready = await registry.get("/readyz")
        assert (read.status_code, ready.status_code) == (503, 503), (read.text, ready.text)
        assert read.json()["type"] == "https://titp.example/problems/database-unavailable"

        await asyncio.to_thread(postgres.restart)
        # Check: the same processes answer again, without a restart: the pool replaced its connections.
        await eventually(
            lambda: officers.count(201) >= acknowledged_before + 20,
            timeout=15,
            message="commands did not succeed again after PostgreSQL came back",
        )
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
        streams = await _rows(
            registry_db,
            f"SELECT stream_id, count(*) FROM events WHERE stream_id <> '{CHECKPOINT_STREAM}' GROUP BY stream_id",
        )
        assert dict(streams) == {id: 1 for id in filed}

        # Check: the relay came back by itself and put every stored event on the topic...
        stored = set(await _ids(registry_db, "SELECT id FROM events"))
        await eventually(
            lambda: stored <= {uuid.UUID(orjson.loads(m.value)["id"]) for m in topic.messages},
            timeout=15,
            message=lambda: f"{len(stored)} stored, {len(topic.messages)} on the topic",
        )
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

    await eventually(
        inspection_applied_everything, timeout=20, message="the inspection did not apply every registry event"
    )
    assert inspection_app.state.subscription.dead_lettered == 0
    # Check: the checkpoint sealer kept running: a checkpoint covers every event filed.
    last = max(await _ids(registry_db, f"SELECT position FROM events WHERE stream_id <> '{CHECKPOINT_STREAM}'"))

    async def sealed():
        rows = await _ids(
            registry_db,
            f"SELECT (data->>'through_position')::bigint FROM events WHERE stream_id = '{CHECKPOINT_STREAM}'",
        )
        return rows and max(rows) >= last

    await eventually(sealed, timeout=10, message="no checkpoint signed after the outage")
