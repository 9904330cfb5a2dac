"""A TCP proxy the fault suite owns, to cut one client off the brokers while the others keep their connections
(scenario network-partition-service-broker).

`Proxy(routes)` listens on 127.0.0.1 at each route's first port and forwards every connection to its second:
`faults.stack.PrivateStack.proxy_routes`, each broker's PROXIED listener, whose advertised address is the proxy's,
so a client bootstrapped on `proxied_bootstrap` is given proxy addresses only.

`cut()` is a partition, not a reset: until `heal()` no byte moves either way and nothing is closed. The proxy
stops reading both sockets of every connection, so what either side sends waits in the kernels' buffers (its
writes block once they are full, as on a dead link); bytes read just before the cut wait in the proxy. A
connection accepted during the cut is held, its upstream not even connected, until the heal. A side that closed
meanwhile is seen at the heal, and the other side is closed then. Counters: `accepted`, `held` (accepted during a
cut), `bytes_up` (client to upstream) and `bytes_down`, forwarded."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from functools import partial

CHUNK = 65536


class Proxy:
    def __init__(self, routes: Iterable[tuple[int, int]], host: str = "127.0.0.1") -> None:
        self.routes, self.host = list(routes), host
        self.accepted = self.held = self.bytes_up = self.bytes_down = 0
        self._open = asyncio.Event()
        self._open.set()
        self._servers: list[asyncio.Server] = []
        self._transports: set[asyncio.ReadTransport] = set()  # every open socket, both sides
        self._tasks: set[asyncio.Task[None]] = set()

    def counters(self) -> dict[str, int]:
        return {"accepted": self.accepted, "held": self.held, "bytes_up": self.bytes_up, "bytes_down": self.bytes_down}

    @property
    def is_cut(self) -> bool:
        return not self._open.is_set()

    async def start(self) -> None:
        for listen, target in self.routes:
            self._servers.append(await asyncio.start_server(partial(self._accept, target), self.host, listen))

    def cut(self) -> None:
        self._open.clear()
        for transport in self._transports:
            transport.pause_reading()

    def heal(self) -> None:
        self._open.set()
        for transport in self._transports:
            transport.resume_reading()

    async def close(self) -> None:
        """Stops listening and closes every connection, both sides."""
        for server in self._servers:
            server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in self._servers:
            await server.wait_closed()
        self._servers.clear()

    def _track(self, writer: asyncio.StreamWriter) -> None:
        transport = writer.transport
        assert isinstance(transport, asyncio.ReadTransport)
        self._transports.add(transport)
        if self.is_cut:
            transport.pause_reading()

    def _accept(self, target: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A task of ours, not the one asyncio.start_server makes of a coroutine: Python 3.11 logs an error for
        # that one when it is cancelled, as `close` does.
        task = asyncio.create_task(self._connection(target, reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _connection(self, target: int, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._track(writer)
        writers = [writer]
        try:
            if self.is_cut:
                self.held += 1
                await self._open.wait()
            try:
                upstream_reader, upstream_writer = await asyncio.open_connection(self.host, target)
            except OSError:
                return  # the broker is down: the client sees its connection closed, as from the broker itself
            writers.append(upstream_writer)
            self._track(upstream_writer)
            await asyncio.gather(
                self._pump(reader, upstream_writer, upward=True), self._pump(upstream_reader, writer, upward=False)
            )
        finally:
            for each in writers:
                each.close()
                self._transports.discard(each.transport)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, upward: bool) -> None:
        """One direction until its reader ends; then its writer is closed, which ends the other direction too."""
        try:
            while data := await reader.read(CHUNK):
                await self._open.wait()  # read just before a cut: held until the heal
                writer.write(data)
                await writer.drain()
                if upward:
                    self.bytes_up += len(data)
                else:
                    self.bytes_down += len(data)
        except OSError:
            pass  # reset by either side: both are closed
        finally:
            writer.close()
