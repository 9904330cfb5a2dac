"""What a service is, to the core and the tools: its events, migrations, aggregates, subscriptions and chores.

The web edge (`shared.web.app.create_service_app`) serves one; replays and rebuilds
(`shared.audit.replay`) fold its streams; the operator CLI loads them by name.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg

from shared.commands import Aggregate, CommandRunner
from shared.events import EventPayload, EventTypes, RecordedEvent
from shared.settings import ServiceSettings
from shared.topics import dlq_topic, service_topic

if TYPE_CHECKING:
    from fastapi import APIRouter

# (runner, conn, event) -> None: what a service does with another service's event, inside
# the transaction that also records the event in the inbox.
EventHandler = Callable[[CommandRunner, asyncpg.Connection, RecordedEvent], Awaitable[None]]
Chore = Callable[[CommandRunner], Awaitable[None]]


@dataclass(frozen=True)
class ServiceDefinition:
    name: str
    event_types: EventTypes
    migrations: Path
    routers: Sequence[APIRouter] = ()
    subscribes_to: Sequence[str] = ()
    on_event: EventHandler | None = None
    # Chores run every `interval` seconds while the service runs, e.g. recording expiries by the date.
    chores: Sequence[tuple[float, Chore]] = ()
    description: str = ""
    tags: Sequence[dict[str, Any]] = field(default_factory=tuple)
    # The aggregate each stream is, by the event that opens it: replays and rebuilds fold streams through it.
    aggregates: Mapping[type[EventPayload], Aggregate] = field(default_factory=dict)
    # Tables holding what the log does not (e.g. the keys of crypto-shredded personal data): a replay of the
    # log cannot rebuild them, and the diff of read models leaves them out.
    outside_the_log: frozenset[str] = frozenset()

    def aggregate_of(self, first: RecordedEvent) -> Aggregate | None:
        """The aggregate a stream is, from its first event; None for a stream of no aggregate (checkpoints)."""
        if not self.event_types.knows(first.type):
            return None
        return self.aggregates.get(self.event_types.model_of(first.type))


@dataclass(frozen=True)
class Wiring:
    """A service's topics and consumer group as its app wires them (topic prefix and settings applied)."""

    service: str
    topic: str
    dlq: str
    subscribed: tuple[str, ...]
    group_id: str | None  # None: the service subscribes to nothing

    @classmethod
    def of(cls, definition: ServiceDefinition, settings: ServiceSettings) -> Wiring:
        subscribed = tuple(settings.topic(topic) for topic in definition.subscribes_to)
        return cls(
            definition.name,
            settings.topic(service_topic(definition.name)),
            settings.topic(dlq_topic(definition.name)),
            subscribed,
            # Prefixed like the topics: the ACLs give a service's identity the groups <prefix>titp.<service>*.
            (settings.consumer_group or settings.topic(f"titp.{definition.name}")) if subscribed else None,
        )
