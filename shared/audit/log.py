"""What auditors do with a service's log: read it (from the database, a Kafka topic from offset 0,
the REST feed or an exported bundle), verify it, export it, and see an aggregate as of a past time.

Verifying is pure: `verify_log` takes the events and the published public keys, whatever
they were read from, so an exported bundle is verified offline exactly as the live store is.

A topic or a bundle may hold records that are no event (not JSON, a JSON array or string, no
CloudEvent, fields missing) or an event twice: each such record is named by where it is
(topic[partition]@offset, file:line) and left out, and reading goes on. A record delivered twice
unchanged (delivery is at least once) is skipped and counted; a second, *different* record with
an event's id is a problem. The CLI exits 1 on any problem or finding, 2 when it could not run.
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

from shared.audit.checkpoints import PublicKey, checkpoint_of, is_sealed, load_signing_key, verify_checkpoints
from shared.db import connect
from shared.events import EventTypes, RecordedEvent, verify_chain
from shared.kafka import client_options
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
        elif self.streamversion:
            where.append(f"version {self.streamversion}")
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
    for problem in problems:
        if problem.event is not None:  # a sealed event, still there but changed
            findings.append(_finding(service, problem.event, problem.reason))
        elif problem.stream_id is not None:  # a sealed event that is gone: named by stream and version
            findings.append(Finding(service, problem.reason, problem.stream_id, None, problem.streamversion))
        else:
            findings.append(_finding(service, problem.checkpoint, problem.reason))
    sealed_through = checkpoint_of(held[-1]).through_position if held else None
    unsealed = sum(1 for e in log if is_sealed(e) and (sealed_through is None or e.position > sealed_through))
    return Verification(service, len(log), len(streams), len(held), sealed_through, unsealed, tuple(findings))


def _finding(service: str, event: RecordedEvent, reason: str) -> Finding:
    return Finding(service, reason, event.subject, str(event.id), event.streamversion, event.position)


def stream_as_of(events: Sequence[RecordedEvent], until: datetime) -> list[RecordedEvent]:
    """One stream's events recorded by `until`, in version order: the versions before the first recorded later
    (as `EventStore.read_stream` answers, also when stored times are out of order)."""
    ordered = sorted(events, key=lambda e: e.streamversion)
    later = next((i for i, e in enumerate(ordered) if e.time > until), len(ordered))
    return ordered[:later]


# Records


class BadRecord(ValueError):
    """A record that is no CloudEvent of ours: why, in words."""


def parse_record(raw: bytes | str | None) -> RecordedEvent:
    """The event a record (a Kafka message's value, a line of a bundle) holds; BadRecord says why not."""
    if raw is None:
        raise BadRecord("an empty record (no value)")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRecord(f"not JSON: {exc}") from None
    if not isinstance(body, dict):
        raise BadRecord(f"a JSON {type(body).__name__ if body is not None else 'null'}, not a CloudEvent object")
    missing = [name for name in _REQUIRED if name not in body]
    if missing:
        raise BadRecord(f"not a CloudEvent of this system: missing {', '.join(missing)}")
    try:
        return RecordedEvent.from_cloudevent(body)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadRecord(f"not a CloudEvent of this system: {type(exc).__name__}: {exc}") from None


_REQUIRED = (
    "specversion",
    "id",
    "source",
    "type",
    "subject",
    "time",
    "data",
    "streamversion",
    "position",
    "prevhash",
    "hash",
)


@dataclass
class Records:
    """Events read from records, each once: bad records and different duplicates are named, not fatal."""

    events: list[RecordedEvent] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # "<where>: <why>", each left out
    duplicates: int = 0  # records that repeated an event unchanged, skipped
    _seen: dict[Any, tuple[str, RecordedEvent]] = field(default_factory=dict, repr=False)

    def add(self, where: str, raw: bytes | str | None) -> RecordedEvent | None:
        """Read one record found at `where`; the event if it is a new one."""
        try:
            event = parse_record(raw)
        except BadRecord as exc:
            self.problems.append(f"{where}: {exc}")
            return None
        if event.id in self._seen:
            first_where, first = self._seen[event.id]
            if _same(first, event):
                self.duplicates += 1
            else:
                self.problems.append(
                    f"{where}: event {event.id} again, but different from the one at {first_where}; left out"
                )
            return None
        self._seen[event.id] = (where, event)
        self.events.append(event)
        return event


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
    """A topic read from offset 0 to its end: each partition's events in offset order, each event once."""

    topic: str
    partitions: list[list[RecordedEvent]]
    records: Records = field(default_factory=Records)

    @property
    def events(self) -> list[RecordedEvent]:
        return [e for partition in self.partitions for e in partition]

    @property
    def unreadable(self) -> list[str]:
        """Records left out, by topic[partition]@offset and why."""
        return self.records.problems


async def read_topic(bootstrap: str, topic: str, progress: Progress = no_progress) -> TopicContents:
    """Everything on `topic` from offset 0 up to its end as of the call (no consumer group)."""
    partitions = await _partitions(bootstrap, topic)
    contents = TopicContents(topic, [[] for _ in partitions])
    if not partitions:
        return contents
    consumer = AIOKafkaConsumer(**client_options(bootstrap), group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        start, end = await consumer.beginning_offsets(partitions), await consumer.end_offsets(partitions)
        advance = progress(f"reading {topic}", sum(end[tp] - start[tp] for tp in partitions))
        remaining = {tp for tp in partitions if end[tp] > start[tp]}
        values: list[list[tuple[int, bytes | None]]] = [[] for _ in partitions]
        while remaining:
            for tp, messages in (await consumer.getmany(*remaining, timeout_ms=1000)).items():
                for message in messages:
                    if message.offset >= end[tp]:
                        break
                    values[tp.partition].append((message.offset, message.value))
                    advance(1)
                if await consumer.position(tp) >= end[tp]:
                    remaining.discard(tp)
    finally:
        await consumer.stop()
    # Read in partition and offset order, whatever order they arrived in: which of two records is "again" is stable.
    for partition, records in enumerate(values):
        for offset, value in records:
            event = contents.records.add(f"{topic}[{partition}]@{offset}", value)
            if event is not None:
                contents.partitions[partition].append(event)
    return contents


async def _partitions(bootstrap: str, topic: str) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(**client_options(bootstrap))
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
    client: httpx.AsyncClient, service: str, progress: Progress = no_progress, records: Records | None = None
) -> list[RecordedEvent]:
    """The service's log over its REST feed (`client` carries the base URL and an auditor's token); entries
    that are no event go to `records`' problems, named by the page and index."""
    advance = progress(f"{service}: reading {client.base_url}/v1/audit/events", None)
    records = Records() if records is None else records
    after = 0
    while True:
        response = await client.get("/v1/audit/events", params={"after": after, "limit": 1000})
        response.raise_for_status()
        page = response.json()
        if not page["events"]:
            return records.events
        for index, entry in enumerate(page["events"]):
            records.add(f"/v1/audit/events?after={after} #{index}", orjson.dumps(entry))
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
    unreadable: list[str] = field(default_factory=list)  # records left out, where and why
    duplicates: int = 0  # records that repeated an event unchanged, skipped


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
            records = Records()
            events = await log_from_rest(client, service, progress, records)
            return ServiceLog(service, events, await keys_from_rest(client), records.problems, records.duplicates)
    if source is Source.KAFKA:
        contents = await read_topic(settings.kafka_bootstrap_servers, settings.topic(service_topic(service)), progress)
        return ServiceLog(
            service,
            in_log_order(contents.events),
            local_public_keys(settings),
            contents.unreadable,
            contents.records.duplicates,
        )
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
            events = [parse_record(orjson.dumps(e)) for e in response.json()["events"]]
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
    logs, keys, _ = read_bundle_records(folder)
    return {service: records.events for service, records in logs.items()}, keys


def read_bundle_records(folder: Path) -> tuple[dict[str, Records], dict[str, list[PublicKey]], list[str]]:
    """A bundle's events per service (bad lines named by file:line and left out), its keys, and the problems
    of its keys file."""
    logs = {}
    for path in sorted(folder.glob("*.jsonl")):
        records = logs[path.stem] = Records()
        for number, line in enumerate(path.read_bytes().splitlines(), start=1):
            if line.strip():
                records.add(f"{path.name}:{number}", line)
    try:
        keys = read_public_keys(folder / PUBLIC_KEYS_FILE) if (folder / PUBLIC_KEYS_FILE).exists() else {}
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        return logs, {}, [f"{PUBLIC_KEYS_FILE}: not a public keys file: {exc}"]
    return logs, keys, []
