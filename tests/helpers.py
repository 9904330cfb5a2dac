"""Small helpers for tests against the real servers: wait for a condition, read a topic."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from shared.events import CLOUDEVENTS_CONTENT_TYPE, GENESIS_HASH, EventPayload, EventTypes, RecordedEvent, chain_hash
from shared.kafka import client_options
from shared.topics import ensure_topics


async def eventually(
    check: Callable[[], Any],
    timeout: float = 10.0,
    interval: float = 0.05,
    message: str | Callable[[], str] = "condition not met",
) -> Any:
    """Call `check` (plain or async) until it returns something truthy; return that value.

    Fails the test with `message` when `timeout` seconds pass first.
    """
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout}s: {message() if callable(message) else message}")
        await asyncio.sleep(interval)


class TopicReader:
    """Reads a topic from its beginning in the background (no consumer group).

    `async with TopicReader(bootstrap, topic) as reader: ... reader.messages ...`
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.messages: list[ConsumerRecord] = []
        self._consumer = AIOKafkaConsumer(
            topic, **client_options(bootstrap), group_id=None, auto_offset_reset="earliest", enable_auto_commit=False
        )
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> TopicReader:
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None, "entered before it started reading"
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        await self._consumer.stop()

    async def _read(self) -> None:
        while True:
            for messages in (await self._consumer.getmany(timeout_ms=200)).values():
                self.messages.extend(messages)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[ConsumerRecord]:
        """Wait until at least `count` messages arrived; returns all read so far."""
        await eventually(
            lambda: len(self.messages) >= count,
            timeout,
            message=lambda: f"{len(self.messages)} of {count} messages arrived",
        )
        return list(self.messages)


async def post(client, path: str, body: dict, headers: dict, status: int = 200) -> dict:
    """POST and check the status; the JSON answer."""
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code == status, response.text
    return response.json()


def corporate_number(base: int | None = None) -> str:
    """A 13-digit corporate number with its check digit (the first digit, as the National Tax Agency computes it:
    9 - (the 12 digits weighted 1, 2, 1, 2, ... from the last) mod 9); random unless `base` (12 digits) is given."""
    digits = f"{(uuid.uuid4().int if base is None else base) % 10**12:012d}"
    weighted = sum(int(d) * (1 if i % 2 == 0 else 2) for i, d in enumerate(reversed(digits)))
    return f"{9 - weighted % 9}{digits}"


def officers() -> list[dict]:
    """An application's officers: one, at an address of its own (the registry knows a person by name and address, so
    a revocation elsewhere in the same database disqualifies no other test's officer: Art. 26)."""
    return [
        {
            "name": "Yamada Taro",
            "address": f"{uuid.uuid4().int % 10**6}-1 Kanda, Chiyoda-ku, Tokyo",
            "position": "representative director",
        }
    ]


# What a grant of a general permit states (Art. 25: only to an organization meeting the excellence standard).
GENERAL_GRANT = {"permit_type": "general", "meets_excellence_standard": True}


def permit_application(**overrides):
    """A supervising organization's permit application, valid unless overridden."""
    return {
        "name": "Sakura Cooperative",
        "corporate_number": overrides.pop("corporate_number", None) or corporate_number(),
        "address": "1-2-3 Chiyoda, Tokyo",
        "prefecture": "13",
        "representative": "Yamada Taro",
        "supervising_offices": [
            {"name": "Head office", "address": "1-2-3 Chiyoda, Tokyo", "supervision_manager": "Suzuki Hanako"}
        ],
        "job_categories": ["construction", "food manufacturing"],
        "requested_permit_type": "general",
        "external_auditor": "Tanaka Law Office",
        "officers": overrides.pop("officers", None) or officers(),
        "applied_on": "2026-04-01",
        **overrides,
    }


def grant(permit_type: str = "general", granted_on: str = "2026-05-01", **more) -> dict:
    """The body of a grant: a general permit states that the excellence standard is met."""
    return {
        "permit_type": permit_type,
        "granted_on": granted_on,
        "meets_excellence_standard": permit_type == "general",
        **more,
    }


def implementing_registration(**overrides) -> dict:
    """An implementing organization's registration (type b unless overridden), valid unless overridden."""
    return {
        "name": "Fuji Construction",
        "corporate_number": overrides.pop("corporate_number", None) or corporate_number(),
        "address": "4-5-6 Naka, Nagoya",
        "prefecture": "23",
        "industry": "construction",
        "training_type": "b",
        "full_time_staff": 35,
        "staff_as_of": "2026-04-01",
        "excellent": False,
        "registered_on": "2026-05-10",
        **overrides,
    }


def sending_approval(**overrides) -> dict:
    """A sending organization from Viet Nam (an MoC country: recommended and on its government's list)."""
    return {
        "name": "Hanoi Manpower JSC",
        "country": "VN",
        "approval_reference": "DOLAB-2026-0113",
        "recommendation_reference": "MOLISA-REC-2026-0042",
        "approved_on": "2026-01-13",
        **overrides,
    }


async def topic_partitions(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    await ensure_topics(bootstrap, topics)
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
    await admin.start()
    try:
        return [
            TopicPartition(d["topic"], p["partition"])
            for d in await admin.describe_topics(topics)
            for p in d["partitions"]
        ]
    finally:
        await admin.close()


async def topic_end_offsets(bootstrap: str, topic: str = "titp.registry.v1") -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(**client_options(bootstrap), enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.end_offsets(await topic_partitions(bootstrap, [topic]))
    finally:
        await consumer.stop()


async def group_at_end(bootstrap: str, group_id: str, topics: list[str]) -> None:
    """Commit the topics' current ends for a new consumer group: it reads only what comes next."""
    partitions = await topic_partitions(bootstrap, topics)
    consumer = AIOKafkaConsumer(**client_options(bootstrap), group_id=group_id, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def read_topic_from(bootstrap, offsets, subjects, count, timeout=20):
    """The messages about `subjects` written after `offsets`, waiting until `count` arrived."""
    consumer = AIOKafkaConsumer(**client_options(bootstrap), enable_auto_commit=False)
    await consumer.start()
    found = []
    try:
        consumer.assign(list(offsets))
        for tp, offset in offsets.items():
            consumer.seek(tp, offset)
        deadline = asyncio.get_running_loop().time() + timeout
        while len(found) < count and asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            found += [m for ms in batches.values() for m in ms if m.key.decode() in subjects]
    finally:
        await consumer.stop()
    return found


@dataclasses.dataclass(frozen=True)
class Partners:
    supervising: str
    implementing: str
    sending: str
    agreement: str


async def registered_partners(registry, officer: dict, *, permit_type: str = "general") -> Partners:
    """Through the registry's REST API: a permit granted, a member implementing organization (type b), an
    approved sending organization from Viet Nam, and their sending agreement — what a plan of type (b) needs."""
    so = "/v1/supervising-organizations"
    supervising = (await post(registry, so, permit_application(requested_permit_type=permit_type), officer, 201))["id"]
    await post(registry, f"{so}/{supervising}/grant", grant(permit_type), officer)
    implementing = (
        await post(
            registry,
            "/v1/implementing-organizations",
            implementing_registration(supervising_organization_id=supervising),
            officer,
            201,
        )
    )["id"]
    sending = (await post(registry, "/v1/sending-organizations", sending_approval(), officer, 201))["id"]
    agreement = (
        await post(
            registry,
            f"{so}/{supervising}/sending-agreements",
            {"sending_organization_id": sending, "signed_on": "2026-05-15"},
            officer,
            201,
        )
    )["id"]
    return Partners(supervising, implementing, sending, agreement)


async def event_count(dsn: str, stream_id: str | None = None) -> int:
    """How many events a service's store holds (in one stream, if named): refusals must leave it unchanged."""
    conn = await asyncpg.connect(dsn)
    try:
        if stream_id:
            return await conn.fetchval("SELECT count(*) FROM events WHERE stream_id = $1", stream_id)
        return await conn.fetchval("SELECT count(*) FROM events")
    finally:
        await conn.close()


async def titp(*args: str, **env: str) -> tuple[int, str, str]:
    """The `titp` command as an operator runs it: exit code, stdout, stderr."""
    process = await asyncio.create_subprocess_exec(
        Path(sys.executable).parent / "titp",
        *args,
        env={**os.environ, **env},
        stdin=asyncio.subprocess.DEVNULL,  # no terminal to ask on, as in a script: destructive commands need --yes
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await process.communicate()
    assert process.returncode is not None  # communicate() waited for it to exit
    return process.returncode, out.decode(), err.decode()


def next_event(
    types: EventTypes, subject: object, payload: EventPayload, after: RecordedEvent | None = None, **attributes: Any
) -> RecordedEvent:
    """The event `types`' service would publish next in stream `subject`: version and hash chain continuing `after`
    (or the stream's first); `attributes` override the envelope's (the hash is computed over them)."""
    draft = RecordedEvent(
        id=uuid.uuid4(),
        source=types.source,
        type=types.type_name(payload),
        subject=str(subject),
        time=datetime.now(UTC),
        data=payload.model_dump(mode="json"),
        streamversion=after.streamversion + 1 if after else 1,
        position=after.position + 1 if after else 1,
        prevhash=after.hash if after else GENESIS_HASH,
        hash="",
        **attributes,
    )
    return dataclasses.replace(draft, hash=chain_hash(draft.prevhash, draft))


async def publish(bootstrap: str, topic: str, *events: RecordedEvent) -> None:
    """Produce `events` to `topic` as a service's relay does: key = stream id, CloudEvents content type."""
    producer = AIOKafkaProducer(**client_options(bootstrap), enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for event in events:
            await producer.send_and_wait(
                topic,
                event.to_json(),
                key=event.subject.encode(),
                headers=[("content-type", CLOUDEVENTS_CONTENT_TYPE.encode())],
            )
    finally:
        await producer.stop()


def identity_options(bootstrap: str, name: str, prefix: str) -> dict[str, Any]:
    """Client options for `name`'s own Kafka identity (a service, or admin) on the stack under test, its ACLs
    granted for the topics under `prefix` first (`stack.sh grant`, once per prefix): as the service connects."""
    from bench.harness import stack_identity

    given = stack_identity(name, prefix)
    return client_options(bootstrap, **{k.removeprefix("TITP_KAFKA_").lower(): v for k, v in given.items()})


async def revoke_and_await_flag(registry, accreditation, officer: dict, supervising_organization_id, plan_id) -> dict:
    """Revoke the supervising organization's permit (registry, over REST) and wait until accreditation has flagged
    the plan as needing a new supervising organization; return the flagged plan."""
    await post(
        registry,
        f"/v1/supervising-organizations/{supervising_organization_id}/revoke",
        {"revoked_on": "2026-11-01", "ground": "law_breached", "reason": "trainees' passports kept"},
        officer,
    )

    async def flagged():
        body = (await accreditation.get(f"/v1/training-plans/{plan_id}", headers=officer)).json()
        return body if body["new_supervising_organization_required"] else None

    return await eventually(flagged, timeout=30, message="the revocation never flagged the plan")


ROOT = Path(__file__).resolve().parents[1]
SERVE = [sys.executable, "-m", "shared.web.serve", "services.registry.app:create_app"]


class RegistryProcess:
    """The registry run as deployed, a subprocess (`python -m shared.web.serve`, or `command` with `{port}` filled
    in) on a port of its own under a topic prefix of its own; its stdout and stderr in a file under `folder`.
    `env` adds or overrides variables; of the OpenTelemetry ones, only those in `env` reach it."""

    def __init__(self, settings, folder: Path, prefix: str, command: list[str] | None = None, **env: str) -> None:
        from bench.harness import free_port

        self.port, self.prefix, self.owner_dsn = free_port(), prefix, settings.migration_url()
        self.url, self.log = f"http://127.0.0.1:{self.port}", folder / f"registry-{self.port}.log"
        environment = {
            **os.environ,  # the stack's Kafka identity (TITP_KAFKA_*)
            "TITP_DATABASE_URL": settings.database_url,
            "TITP_MIGRATION_DATABASE_URL": settings.migration_url(),
            "TITP_KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "TITP_AUTH_JWKS_URL": settings.auth_jwks_url,
            "TITP_HTTP_HOST": "127.0.0.1",
            "TITP_HTTP_PORT": str(self.port),
            "TITP_TOPIC_PREFIX": prefix,
            "TITP_CONSUMER_GROUP": f"{prefix}titp.registry",
            "TITP_DATA_DIR": str(folder),
            "TITP_LOG_JSON": "true",
            "TITP_LOG_LEVEL": "INFO",
            **env,
        }
        for name in [n for n in environment if n.startswith("OTEL_") and n not in env]:
            del environment[name]
        arguments = [part.format(port=self.port) for part in command or SERVE]
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(arguments, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)

    async def ready(self) -> RegistryProcess:
        from bench.harness import answering

        await answering(self.process, f"{self.url}/readyz", "registry", self.log)
        return self

    def lines(self) -> list[bytes]:
        return self.log.read_bytes().splitlines()

    def records(self) -> list[dict]:
        """Its JSON log lines."""
        return [orjson.loads(line) for line in self.lines() if line.startswith(b"{")]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def dsn_for(admin_dsn: str, database: str) -> str:
    """The DSN of `database` on the server and as the user of `admin_dsn`."""
    return admin_dsn.rsplit("/", 1)[0] + "/" + database


@contextlib.asynccontextmanager
async def databases(admin_dsn: str, owner_dsn: str, app_dsn: str | None):
    """make() -> the owner's DSN of one more database of its own (owned by the owner role, the app role granted what
    the services do on every table the owner creates there); all of them dropped on leaving."""
    from urllib.parse import urlsplit

    from shared.db import grant_app_role

    names: list[str] = []

    async def make() -> str:
        names.append(f"titp_test_{uuid.uuid4().hex[:12]}")
        conn = await asyncpg.connect(admin_dsn)
        try:
            owner = urlsplit(owner_dsn).username
            await conn.execute(f'CREATE DATABASE "{names[-1]}" OWNER "{owner}"')
        finally:
            await conn.close()
        if app_dsn:
            conn = await asyncpg.connect(dsn_for(owner_dsn, names[-1]))
            try:
                await grant_app_role(conn, str(urlsplit(app_dsn).username))
            finally:
                await conn.close()
        return dsn_for(owner_dsn, names[-1])

    try:
        yield make
    finally:
        conn = await asyncpg.connect(admin_dsn)
        try:
            for name in names:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
