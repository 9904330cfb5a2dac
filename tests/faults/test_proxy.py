"""faults.proxy.Proxy between a plain asyncio client and server (no broker): bytes pass both ways while open; a cut
moves no byte in either direction and holds a new connection unconnected; the heal delivers what was held, in
order, with what follows; a side that closes closes the other."""

import asyncio
from collections.abc import AsyncIterator

import pytest

from bench.harness import free_port
from faults.proxy import Proxy

Ends = tuple[asyncio.StreamReader, asyncio.StreamWriter]
QUIET = 1.0  # seconds in which nothing may arrive during a cut


class Upstream:
    """A server that hands each connection it accepts to the test."""

    def __init__(self) -> None:
        self.port = free_port()
        self.accepted: asyncio.Queue[Ends] = asyncio.Queue()

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await self.accepted.put((reader, writer))

    async def next(self, timeout: float = 5) -> Ends:
        return await asyncio.wait_for(self.accepted.get(), timeout)


@pytest.fixture
async def upstream() -> AsyncIterator[Upstream]:
    up = Upstream()
    server = await asyncio.start_server(up._accept, "127.0.0.1", up.port)
    yield up
    server.close()
    while not up.accepted.empty():
        up.accepted.get_nowait()[1].close()


@pytest.fixture
async def proxy(upstream: Upstream) -> AsyncIterator[Proxy]:
    proxy = Proxy([(free_port(), upstream.port)])
    await proxy.start()
    yield proxy
    await proxy.close()


async def connect(proxy: Proxy) -> Ends:
    return await asyncio.open_connection("127.0.0.1", proxy.routes[0][0])


async def exactly(reader: asyncio.StreamReader, size: int) -> bytes:
    return await asyncio.wait_for(reader.readexactly(size), 5)


async def nothing_arrives(*readers: asyncio.StreamReader) -> None:
    async def quiet(reader: asyncio.StreamReader) -> None:
        with pytest.raises(TimeoutError):
            data = await asyncio.wait_for(reader.read(1), QUIET)
            pytest.fail(f"{data!r} arrived during the cut")

    await asyncio.gather(*(quiet(reader) for reader in readers))


async def closed(reader: asyncio.StreamReader) -> bool:
    """Whether the reader ends (EOF or reset) within 5 s, whatever it had left unread."""
    try:
        async with asyncio.timeout(5):
            while await reader.read(65536):
                pass
    except ConnectionError:
        pass
    return True


async def test_bytes_pass_both_ways(proxy: Proxy, upstream: Upstream) -> None:
    client_in, client_out = await connect(proxy)
    server_in, server_out = await upstream.next()
    client_out.write(b"ping")
    assert await exactly(server_in, 4) == b"ping"
    server_out.write(b"pong!")
    assert await exactly(client_in, 5) == b"pong!"
    assert (proxy.accepted, proxy.held, proxy.bytes_up, proxy.bytes_down) == (1, 0, 4, 5)
    client_out.close()


async def test_cut_moves_nothing_and_holds_new_connections_until_heal(proxy: Proxy, upstream: Upstream) -> None:
    client_in, client_out = await connect(proxy)
    server_in, server_out = await upstream.next()
    client_out.write(b"hello")
    assert await exactly(server_in, 5) == b"hello"

    proxy.cut()
    big = bytes(range(256)) * 4096  # 1 MiB: more than the socket buffers hold, so the proxy must stop reading
    client_out.write(b"up-1:" + big)
    server_out.write(b"down-1")
    late_in, late_out = await connect(proxy)  # accepted (the proxy listens) but not connected upstream
    late_out.write(b"late-1")
    await nothing_arrives(server_in, client_in, late_in)
    assert upstream.accepted.empty(), "a connection made during the cut reached the upstream"
    assert proxy.held == 1
    # Not read into the proxy either: the data waits in the kernels' buffers, and the senders block once those
    # are full (the first connection's two sockets and the held one).
    assert len(proxy._transports) == 3
    assert not any(transport.is_reading() for transport in proxy._transports)

    proxy.heal()
    client_out.write(b"up-2")
    server_out.write(b"down-2")
    late_out.write(b"late-2")
    assert await exactly(server_in, 5 + len(big) + 4) == b"up-1:" + big + b"up-2"
    assert await exactly(client_in, 12) == b"down-1down-2"
    late_server_in, late_server_out = await upstream.next()
    assert await exactly(late_server_in, 12) == b"late-1late-2"
    late_server_out.write(b"hi")
    assert await exactly(late_in, 2) == b"hi"
    assert proxy.accepted == 2
    assert proxy.bytes_up == 5 + 5 + len(big) + 4 + 12
    for writer in (client_out, late_out):
        writer.close()


async def test_closing_the_client_closes_the_upstream(proxy: Proxy, upstream: Upstream) -> None:
    client_in, client_out = await connect(proxy)
    server_in, server_out = await upstream.next()
    client_out.write(b"bye")
    client_out.close()
    assert await exactly(server_in, 3) == b"bye"
    assert await closed(server_in)


async def test_closing_the_upstream_closes_the_client(proxy: Proxy, upstream: Upstream) -> None:
    client_in, client_out = await connect(proxy)
    server_in, server_out = await upstream.next()
    server_out.write(b"bye")
    server_out.close()
    assert await exactly(client_in, 3) == b"bye"
    assert await closed(client_in)
    client_out.close()


async def test_a_client_closed_during_the_cut_is_closed_upstream_at_the_heal(proxy: Proxy, upstream: Upstream) -> None:
    client_in, client_out = await connect(proxy)
    server_in, server_out = await upstream.next()
    proxy.cut()
    client_out.write(b"last words")
    client_out.close()
    await nothing_arrives(server_in)
    proxy.heal()
    assert await exactly(server_in, 10) == b"last words"
    assert await closed(server_in)


async def test_close_closes_every_connection_held_ones_too(proxy: Proxy, upstream: Upstream) -> None:
    client_in, client_out = await connect(proxy)
    server_in, server_out = await upstream.next()
    proxy.cut()
    held_in, held_out = await connect(proxy)
    await asyncio.sleep(0.1)  # accepted by the proxy
    assert proxy.held == 1
    await proxy.close()
    assert await closed(client_in)
    assert await closed(server_in)
    assert await closed(held_in)
    assert upstream.accepted.empty()
    for writer in (client_out, held_out):
        writer.close()
