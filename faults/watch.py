"""What a scenario watches while the load runs, twice a second from each service's database (docs/faults.md,
"Watched during the load"):

- `publishing_lag_s[service]`: the age of the oldest event in its outbox (committed, not yet acknowledged by
  Kafka): how long publishing has been held up at that moment, 0 when the outbox is empty;
- `behind[subscriber][publisher]`: the publisher's stored events less the subscriber's inbox rows from it: how
  far the subscriber is behind (every event of a topic gets an inbox row, applied or not).

A database that does not answer (PostgreSQL stopped) is skipped for that round."""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from dataclasses import dataclass, field

import asyncpg

from faults.check import subscribers_of

INTERVAL_S = 0.5
OUTBOX_AGE = """
SELECT coalesce(extract(epoch FROM clock_timestamp() - min(e.time)), 0)::float8
FROM outbox o JOIN events e USING (position)"""


@dataclass
class Watch:
    dsns: dict[str, str]
    # (time.monotonic(), value) per service, and per subscriber and publisher
    publishing_lag_s: dict[str, list[tuple[float, float]]] = field(default_factory=lambda: defaultdict(list))
    behind: dict[str, dict[str, list[tuple[float, int]]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list))
    )
    _task: asyncio.Task | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        try:
            await self._task
        except asyncio.CancelledError:
            pass

    async def _run(self) -> None:
        connections: dict[str, asyncpg.Connection] = {}
        try:
            while True:
                counts: dict[str, int] = {}
                inboxes: dict[str, dict[str, int]] = {}
                now = time.monotonic()
                for service, dsn in self.dsns.items():
                    try:
                        if service not in connections or connections[service].is_closed():
                            connections[service] = await asyncpg.connect(dsn, timeout=2)
                        conn = connections[service]
                        age = await conn.fetchval(OUTBOX_AGE, timeout=2)
                        counts[service] = await conn.fetchval("SELECT count(*) FROM events", timeout=2)
                        rows = await conn.fetch("SELECT source, count(*) AS n FROM inbox GROUP BY source", timeout=2)
                    except Exception:  # PostgreSQL away or restarting, in all the ways asyncpg says so
                        if (lost := connections.pop(service, None)) is not None:
                            lost.terminate()
                        continue
                    self.publishing_lag_s[service].append((now, round(age, 2)))
                    inboxes[service] = {r["source"].removeprefix("/titp/"): r["n"] for r in rows}
                for publisher, stored in counts.items():
                    for subscriber in subscribers_of(publisher):
                        if subscriber in inboxes:
                            applied = inboxes[subscriber].get(publisher, 0)
                            self.behind[subscriber][publisher].append((now, stored - applied))
                await asyncio.sleep(INTERVAL_S)
        finally:
            for conn in connections.values():
                conn.terminate()

    def publishing_paused_s(self, start: float = 0, end: float = float("inf")) -> dict[str, float]:
        """Per service, the longest any event waited in its outbox, seen between `start` and `end`."""
        return {
            s: max((v for t, v in points if start <= t <= end), default=0.0)
            for s, points in self.publishing_lag_s.items()
        }

    def behind_max(self, start: float = 0, end: float = float("inf")) -> dict[str, dict[str, int]]:
        """Per subscriber and publisher, the most events the subscriber was behind between `start` and `end`."""
        return {
            subscriber: {p: max((v for t, v in points if start <= t <= end), default=0) for p, points in pubs.items()}
            for subscriber, pubs in self.behind.items()
        }

    def caught_up_at(self, subscriber: str, publisher: str, since: float, at_most: int) -> float | None:
        """The first time after `since` the subscriber was at most `at_most` events behind the publisher (the load
        goes on, so 0 is not to be expected: `at_most` is what it was behind before the fault)."""
        return next((t for t, v in self.behind[subscriber][publisher] if t >= since and v <= at_most), None)
