"""The one event envelope: CloudEvents 1.0 in structured JSON mode.

The same envelope is stored, published on Kafka and exported to auditors. Payloads are
pydantic models registered per service; old payload versions are upcast on read.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, ClassVar
from uuid import UUID

import orjson
from pydantic import BaseModel, ConfigDict

CLOUDEVENTS_CONTENT_TYPE = "application/cloudevents+json"
GENESIS_HASH = "0" * 64


class EventPayload(BaseModel):
    """Base of every event's `data`. Subclasses are named in the past tense (PermitGranted)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    version: ClassVar[int] = 1


class UnknownEventType(LookupError):
    pass


Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class EventTypes:
    """A service's registry of event types: `titp.<service>.<EventName>.v<N>` <-> model."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.source = f"/titp/{service}"
        self._models: dict[str, type[EventPayload]] = {}
        self._upcasters: dict[str, tuple[str, Upcaster]] = {}
        self._stored_shapes: dict[str, type[BaseModel]] = {}

    def type_name(self, model: type[EventPayload] | EventPayload) -> str:
        cls = model if isinstance(model, type) else type(model)
        return f"titp.{self.service}.{cls.__name__}.v{cls.version}"

    def register(self, model: type[EventPayload]) -> type[EventPayload]:
        """Class decorator: `@event_types.register class PermitGranted(EventPayload): ...`"""
        name = self.type_name(model)
        if name in self._models:
            raise ValueError(f"event type {name} registered twice")
        self._models[name] = model
        return model

    def upcaster(
        self, old_type: str, new_type: str, *, shape: type[BaseModel] | None = None
    ) -> Callable[[Upcaster], Upcaster]:
        """Register a function that turns an old payload into the next version's shape. `shape`: the model of the
        old payload as it is stored (only its schema is used: the event catalogue documents every stored type)."""

        def decorate(fn: Upcaster) -> Upcaster:
            self._upcasters[old_type] = (new_type, fn)
            if shape is not None:
                self._stored_shapes[old_type] = shape
            return fn

        return decorate

    @property
    def old_types(self) -> dict[str, type[BaseModel] | None]:
        """Each type still stored but no longer written (one an upcaster reads), with its stored shape if given."""
        return {old: self._stored_shapes.get(old) for old in self._upcasters}

    def upcast(self, event_type: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        while event_type in self._upcasters:
            event_type, fn = self._upcasters[event_type]
            data = fn(data)
        return event_type, data

    def knows(self, event_type: str) -> bool:
        return self._current(event_type) in self._models

    def model_of(self, event_type: str) -> type[EventPayload]:
        """The model an event of `event_type` is read as, once upcast; without reading its data."""
        try:
            return self._models[self._current(event_type)]
        except KeyError:
            raise UnknownEventType(event_type) from None

    def _current(self, event_type: str) -> str:
        while event_type in self._upcasters:
            event_type = self._upcasters[event_type][0]
        return event_type

    def parse(self, event_type: str, data: dict[str, Any]) -> EventPayload:
        event_type, data = self.upcast(event_type, data)
        try:
            model = self._models[event_type]
        except KeyError:
            raise UnknownEventType(event_type) from None
        return model.model_validate(data)

    @property
    def models(self) -> dict[str, type[EventPayload]]:
        return dict(self._models)


@dataclass(frozen=True)
class EventContext:
    """Who caused an append and in which trace: recorded in every event's extensions."""

    actor: str | None = None
    correlationid: str | None = None
    causationid: str | None = None
    traceparent: str | None = None

    @classmethod
    def caused_by(cls, event: RecordedEvent, traceparent: str | None) -> EventContext:
        """The context of events a service appends in reaction to another service's event."""
        return cls(
            actor=f"{event.source}",
            correlationid=event.correlationid or str(event.id),
            causationid=str(event.id),
            traceparent=traceparent,
        )


@dataclass(frozen=True)
class RecordedEvent:
    """A stored event, exactly as published: the CloudEvents attributes and our extensions."""

    id: UUID
    source: str
    type: str
    subject: str
    time: datetime
    data: dict[str, Any]
    streamversion: int
    position: int
    prevhash: str
    hash: str
    actor: str | None = None
    correlationid: str | None = None
    causationid: str | None = None
    traceparent: str | None = None
    specversion: str = field(default="1.0")
    datacontenttype: str = field(default="application/json")

    def to_cloudevent(self) -> dict[str, Any]:
        # Not dataclasses.asdict: that deep-copies `data`, and this runs for every event hashed or published.
        out = {name: getattr(self, name) for name in _FIELDS}
        out["id"] = str(self.id)
        out["time"] = format_time(self.time)
        return {k: v for k, v in out.items() if v is not None}

    def to_json(self) -> bytes:
        """The event as published and exported: its attributes and `partitionkey` (the CloudEvents partitioning
        extension: the stream id, the Kafka key). `partitionkey` is derived from `subject`, so it is not hashed
        (`canonical_bytes` covers `to_cloudevent()`) and events recorded before it was published verify as ever."""
        return orjson.dumps({**self.to_cloudevent(), "partitionkey": self.subject})

    @classmethod
    def from_cloudevent(cls, ce: dict[str, Any]) -> RecordedEvent:
        if ce.get("specversion") != "1.0":
            raise ValueError(f"not a CloudEvents 1.0 event: specversion={ce.get('specversion')!r}")
        if "partitionkey" in ce and ce["partitionkey"] != ce.get("subject"):
            raise ValueError(f"partitionkey {ce['partitionkey']!r} is not the event's subject {ce.get('subject')!r}")
        names = cls.__dataclass_fields__.keys()
        values = {k: v for k, v in ce.items() if k in names}
        values["id"] = UUID(str(values["id"]))
        values["time"] = parse_time(values["time"])
        return cls(**values)

    @classmethod
    def from_json(cls, raw: bytes | str) -> RecordedEvent:
        return cls.from_cloudevent(orjson.loads(raw))

    @property
    def stream_id(self) -> str:
        return self.subject


_FIELDS = tuple(RecordedEvent.__dataclass_fields__)


def format_time(t: datetime) -> str:
    """RFC 3339 in UTC with microseconds: one spelling, so hashes are reproducible."""
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(s: str | datetime) -> datetime:
    if isinstance(s, datetime):
        return s.astimezone(UTC)
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


def canonical_bytes(event: RecordedEvent) -> bytes:
    """What the hash covers: every attribute except the hashes themselves, keys sorted."""
    body = event.to_cloudevent()
    body.pop("hash", None)
    body.pop("prevhash", None)
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def chain_hash(prevhash: str, event: RecordedEvent) -> str:
    return hashlib.sha256(bytes.fromhex(prevhash) + canonical_bytes(event)).hexdigest()


@dataclass(frozen=True)
class ChainBreak:
    stream_id: str
    event_id: UUID | None
    streamversion: int
    reason: str


def verify_chain(events: list[RecordedEvent]) -> ChainBreak | None:
    """Check one stream's events (in version order): versions 1..n, each hash linking the last.

    Returns the first break, naming the event, or None when the chain holds.
    """
    prev = GENESIS_HASH
    for expected_version, event in enumerate(events, start=1):
        if event.streamversion != expected_version:
            return ChainBreak(
                event.subject,
                event.id,
                expected_version,
                f"expected version {expected_version}, found {event.streamversion}",
            )
        if event.prevhash != prev:
            return ChainBreak(
                event.subject, event.id, event.streamversion, "prevhash does not match the previous event's hash"
            )
        if chain_hash(prev, event) != event.hash:
            return ChainBreak(event.subject, event.id, event.streamversion, "hash does not match the event's content")
        prev = event.hash
    return None
