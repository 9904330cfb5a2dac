"""Small helpers for tests against the real servers: wait for a condition, read a topic."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord


async def eventually(check: Callable[[], Any], timeout: float = 10.0, interval: float = 0.05,
                     message: str | Callable[[], str] = "condition not met") -> Any:
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
        self._consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None,
                                          auto_offset_reset="earliest", enable_auto_commit=False)
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> TopicReader:
        await self._consumer.start()
        self._task = asyncio.create_task(self._read())
        return self

    async def __aexit__(self, *exc: object) -> None:
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
        await eventually(lambda: len(self.messages) >= count, timeout,
                         message=lambda: f"{len(self.messages)} of {count} messages arrived")
        return list(self.messages)
