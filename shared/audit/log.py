"""What auditors do with a service's log: read it (from the database, a Kafka topic from offset 0,
the REST feed or an exported bundle), verify it, export it, and see an aggregate as of a past time.

Verifying is pure: `verify_log` takes the events and the published public keys, whatever
they were read from, so an exported bundle is verified offline exactly as the live store is.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import UnknownTopicOrPartitionError, for_code

from shared.audit.checkpoints import CheckpointSigned, PublicKey, is_sealed, load_signing_key, verify_checkpoints
from shared.db import connect
from shared.events import EventTypes, RecordedEvent, verify_chain
from shared.settings import ServiceSettings
from shared.store import EventStore
from shared.topics import service_topic

PUBLIC_KEYS_FILE = "public-keys.json"

# progress(description, total) -> advance(n): how long work reports how far it got (a rich bar in the CLI).
Progress = Callable[[str, int | None], Callable[[int], None]]


def no_progress(description: str, total: int | None) -> Callable[[int], None]:
    return lambda n: None


@dataclass(frozen=True)
class Finding:
    """Something wrong in a service's log, naming the stream and the event where it can."""

    service: str
    reason: str
    stream_id: str | None = None
    event_id: str | None = None
    streamversion: int | None = None
    position: int | None = None

    def __str__(self) -> str:
        where = [f"stream {self.stream_id}"] if self.stream_id else []
        if self.event_id:
            where.append(f"event {self.event_id}" + (f" (version {self.streamversion})" if self.streamversion else ""))
        return f"{self.service}: {', '.join(where) + ': ' if where else ''}{self.reason}"


@dataclass(frozen=True)
class Verification:
    service: str
    events: int
    streams: int
    checkpoints: int  # checkpoints that hold
    sealed_through: int | None  # the position the last checkpoint that holds covers
    unsealed: int  # events after it, which no checkpoint covers yet
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not self.findings

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok, "findings": [asdict(f) for f in self.findings]}


def _same(a: RecordedEvent, b: RecordedEvent) -> bool:
    return a.to_cloudevent() == b.to_cloudevent()


def in_log_order(events: Iterable[RecordedEvent]) -> list[RecordedEvent]:
    """Events in position order, each once: a topic holds some twice (delivery is at least once).

    Two *different* events with one id are both kept, for verification to report.
    """
    kept: dict[Any, list[RecordedEvent]] = defaultdict(list)
    for event in events:
        if not any(_same(event, other) for other in kept[event.id]):
            kept[event.id].append(event)
    return sorted((e for same_id in kept.values() for e in same_id), key=lambda e: (e.position, str(e.id)))


def verify_log(service: str, events: Iterable[RecordedEvent], keys: Iterable[PublicKey]) -> Verification:
    """Every stream's hash chain, then every checkpoint's signature and what it sealed."""
    log = in_log_order(events)
    findings: list[Finding] = []
    seen: set[Any] = set()
    for previous, event in zip([None, *log], log):
        if event.id in seen:
            findings.append(_finding(service, event, "two different events carry this id"))
        elif previous is not None and previous.position == event.position:
            findings.append(_finding(service, event, f"shares its position with event {previous.id}"))
        seen.add(event.id)
    streams: dict[str, list[RecordedEvent]] = defaultdict(list)
    for event in log:
        streams[event.subject].append(event)
    for stream_id, stream in streams.items():
        if broken := verify_chain(stream):
            at = next((e for e in stream if e.id == broken.event_id), None)
            findings.append(_finding(service, at, broken.reason) if at else Finding(service, broken.reason, stream_id))
    held, problems = verify_checkpoints(service, log, {k.key_id: k for k in keys})
    findings += [_finding(service, p.checkpoint, p.reason) for p in problems]
    sealed_through = CheckpointSigned.model_validate(held[-1].data).through_position if held else None
    unsealed = sum(1 for e in log if is_sealed(e) and (sealed_through is None or e.position > sealed_through))
    return Verification(service, len(log), len(streams), len(held), sealed_through, unsealed, tuple(findings))


def _finding(service: str, event: RecordedEvent, reason: str) -> Finding:
    return Finding(service, reason, event.subject, str(event.id), event.streamversion, event.position)


def stream_as_of(events: Sequence[RecordedEvent], until: datetime) -> list[RecordedEvent]:
    """One stream's events recorded by `until`, in version order."""
    return sorted((e for e in events if e.time <= until), key=lambda e: e.streamversion)


# Sources


async def whole_log(
    store: EventStore, conn: asyncpg.Connection, advance: Callable[[int], None] = lambda n: None
) -> list[RecordedEvent]:
    """Every event committed to the store, in position order."""
    events: list[RecordedEvent] = []
    while batch := await store.read_committed(conn, events[-1].position if events else 0, 5000):
        events += batch
        advance(len(batch))
    return events


async def log_from_database(dsn: str, service: str, progress: Progress = no_progress) -> list[RecordedEvent]:
    """The service's whole log from its own database."""
    conn = await connect(dsn)
    try:
        total = await conn.fetchval("SELECT count(*) FROM events")
        return await whole_log(EventStore(EventTypes(service)), conn, progress(f"{service}: reading the store", total))
    finally:
        await conn.close()


@dataclass
class TopicContents:
    """A topic read from offset 0 to its end: each partition's events in offset order."""

    topic: str
    partitions: list[list[RecordedEvent]]
    unreadable: list[str]  # messages that are not CloudEvents, by partition and offset

    @property
    def events(self) -> list[RecordedEvent]:
        return [e for partition in self.partitions for e in partition]


async def read_topic(bootstrap: str, topic: str, progress: Progress = no_progress) -> TopicContents:
    """Everything on `topic` from offset 0 up to its end as of the call (no consumer group)."""
    partitions = await _partitions(bootstrap, topic)
    contents = TopicContents(topic, [[] for _ in partitions], [])
    if not partitions:
        return contents
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        start, end = await consumer.beginning_offsets(partitions), await consumer.end_offsets(partitions)
        advance = progress(f"reading {topic}", sum(end[tp] - start[tp] for tp in partitions))
        remaining = {tp for tp in partitions if end[tp] > start[tp]}
        while remaining:
            for tp, messages in (await consumer.getmany(*remaining, timeout_ms=1000)).items():
                for message in messages:
                    if message.offset >= end[tp]:
                        break
                    try:
                        contents.partitions[tp.partition].append(RecordedEvent.from_json(message.value))
                    except (ValueError, KeyError, TypeError) as exc:
                        contents.unreadable.append(f"{topic}[{tp.partition}]@{message.offset}: {exc}")
                    advance(1)
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
        return contents
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    if described["error_code"] == UnknownTopicOrPartitionError.errno:
        return []
    if described["error_code"]:
        raise for_code(described["error_code"])(f"describing topic {topic}")
    return sorted(TopicPartition(topic, p["partition"]) for p in described["partitions"])


async def log_from_rest(
    client: httpx.AsyncClient, service: str, progress: Progress = no_progress
) -> list[RecordedEvent]:
    """The service's log over its REST feed (`client` carries the base URL and an auditor's token)."""
    advance = progress(f"{service}: reading {client.base_url}/v1/audit/events", None)
    events: list[RecordedEvent] = []
    after = 0
    while True:
        response = await client.get("/v1/audit/events", params={"after": after, "limit": 1000})
        response.raise_for_status()
        page = response.json()
        if not page["events"]:
            return events
        events += [RecordedEvent.from_cloudevent(e) for e in page["events"]]
        advance(len(page["events"]))
        after = page["next_after"]


async def keys_from_rest(client: httpx.AsyncClient) -> list[PublicKey]:
    response = await client.get("/v1/audit/public-key")
    response.raise_for_status()
    return [PublicKey.from_json(k) for k in response.json()["keys"]]


class Source(StrEnum):
    DB = "db"  # the service's own database (operators)
    KAFKA = "kafka"  # its topic, from offset 0
    REST = "rest"  # its REST feed, with an auditor's token


@dataclass
class ServiceLog:
    service: str
    events: list[RecordedEvent]
    keys: list[PublicKey]  # the published keys its checkpoints verify against
    unreadable: list[str] = field(default_factory=list)


def local_public_keys(settings: ServiceSettings) -> list[PublicKey]:
    """The public half of the checkpoint key configured for the service, if it exists here."""
    key = load_signing_key(settings.checkpoint_key_path(), create=False)
    return [PublicKey.of(key.public_key())] if key else []


def rest_client(settings: ServiceSettings, url: str | None, token: str | None) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=url or f"http://{settings.http_host}:{settings.http_port}",
        timeout=60,
        headers={"authorization": f"Bearer {token}"} if token else {},
    )


async def read_log(
    settings: ServiceSettings,
    source: Source,
    *,
    url: str | None = None,
    token: str | None = None,
    progress: Progress = no_progress,
) -> ServiceLog:
    """One service's log and its published keys, from `source`."""
    service = settings.service
    if source is Source.REST:
        async with rest_client(settings, url, token) as client:
            return ServiceLog(service, await log_from_rest(client, service, progress), await keys_from_rest(client))
    if source is Source.KAFKA:
        contents = await read_topic(settings.kafka_bootstrap_servers, settings.topic(service_topic(service)), progress)
        return ServiceLog(service, in_log_order(contents.events), local_public_keys(settings), contents.unreadable)
    return ServiceLog(
        service, await log_from_database(settings.database_url, service, progress), local_public_keys(settings)
    )


async def stream_events(
    settings: ServiceSettings,
    source: Source,
    stream_id: str,
    until: datetime,
    *,
    url: str | None = None,
    token: str | None = None,
) -> list[RecordedEvent]:
    """One stream's events recorded by `until`, in version order, from `source`."""
    if source is Source.DB:
        conn = await connect(settings.database_url)
        try:
            return await EventStore(EventTypes(settings.service)).read_stream(conn, stream_id, until=until)
        finally:
            await conn.close()
    if source is Source.REST:
        async with rest_client(settings, url, token) as client:
            response = await client.get(f"/v1/audit/streams/{stream_id}")
            if response.status_code == 404:
                return []
            response.raise_for_status()
            events = [RecordedEvent.from_cloudevent(e) for e in response.json()["events"]]
    else:
        events = [e for e in (await read_log(settings, source)).events if e.subject == stream_id]
    return stream_as_of(events, until)


# Bundles: <service>.jsonl (one CloudEvent per line, in position order) and public-keys.json


def write_bundle(
    folder: Path, logs: Mapping[str, Iterable[RecordedEvent]], keys: Mapping[str, Iterable[PublicKey]]
) -> dict[str, int]:
    """Write an export bundle; returns how many events each service's file holds."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for service, events in logs.items():
        log = in_log_order(events)
        (folder / f"{service}.jsonl").write_bytes(b"".join(e.to_json() + b"\n" for e in log))
        written[service] = len(log)
    published = {service: [k.to_json() for k in service_keys] for service, service_keys in keys.items()}
    (folder / PUBLIC_KEYS_FILE).write_bytes(orjson.dumps(published, option=orjson.OPT_INDENT_2) + b"\n")
    return written


def read_public_keys(path: Path) -> dict[str, list[PublicKey]]:
    """A public-keys.json file: {service: [{key_id, algorithm, public_key}, ...]}."""
    published = orjson.loads(path.read_bytes())
    return {service: [PublicKey.from_json(k) for k in keys] for service, keys in published.items()}


def read_bundle(folder: Path) -> tuple[dict[str, list[RecordedEvent]], dict[str, list[PublicKey]]]:
    logs = {
        path.stem: [RecordedEvent.from_json(line) for line in path.read_bytes().splitlines() if line.strip()]
        for path in sorted(folder.glob("*.jsonl"))
    }
    keys = read_public_keys(folder / PUBLIC_KEYS_FILE) if (folder / PUBLIC_KEYS_FILE).exists() else {}
    return logs, keys
