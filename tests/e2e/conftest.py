"""Every event the services' relays publish during the end-to-end tests is noted where the broker put it (topic,
partition, offset), so that the last test (tests/e2e/test_event_contract.py) reads those records back from the
topics and checks each against the event catalogue, docs/asyncapi.yaml."""

import contextvars
import importlib
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from shared import outbox
from shared.events import RecordedEvent
from shared.settings import SERVICES

CHECK_LAST = "test_event_contract.py::test_every_event_the_services_published_in_these_tests_is_in_the_catalogue"


@dataclass(frozen=True)
class Published:
    topic: str
    partition: int
    offset: int
    event: RecordedEvent


_relay: contextvars.ContextVar[outbox.OutboxRelay | None] = contextvars.ContextVar("relay", default=None)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The check of what was published runs after every other test."""
    last = [item for item in items if item.nodeid.endswith(CHECK_LAST)]
    items[:] = [item for item in items if item not in last] + last


@pytest.fixture(scope="session", autouse=True)
def published_by_the_services() -> Iterator[list[Published]]:
    """What the relay of a service (its store reading one of the services' own event registries, as an app from
    create_app has: not a test's made-up registry) published, as the broker acknowledged it."""
    registries = {id(getattr(importlib.import_module(f"contracts.{s}"), f"{s}_events")) for s in SERVICES}
    published: list[Published] = []
    run, send = outbox.OutboxRelay._run, outbox.send

    async def noted_run(self: outbox.OutboxRelay) -> None:
        _relay.set(self)  # in the relay's own task, and the tasks it starts
        await run(self)

    async def noted_send(producer, topic, event):
        future = await send(producer, topic, event)
        relay = _relay.get()
        if relay is not None and id(relay.store.types) in registries:

            def acknowledged(done) -> None:
                if not done.cancelled() and done.exception() is None:
                    published.append(Published(topic, done.result().partition, done.result().offset, event))

            future.add_done_callback(acknowledged)
        return future

    outbox.OutboxRelay._run, outbox.send = noted_run, noted_send  # type: ignore[method-assign]
    try:
        yield published
    finally:
        outbox.OutboxRelay._run, outbox.send = run, send  # type: ignore[method-assign]
