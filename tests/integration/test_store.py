"""The event store against a real PostgreSQL: concurrency, gap-free reading, hash chains."""

import asyncio
import dataclasses

import pytest
from cloudevents.core.bindings.kafka import KafkaMessage, from_structured_event

from shared.commands import Aggregate, CommandRunner, Outcome, UnitOfWork
from shared.db import connect
from shared.events import EventContext, EventPayload, EventTypes, verify_chain
from shared.store import ConcurrencyError, EventStore
from shared.store import _positions as store_positions

types = EventTypes("teststore")


@types.register
class ThingHappened(EventPayload):
    what: str


@types.register
class ThingRenamed(EventPayload):
    version = 2
    new_name: str
    reason: str


@types.upcaster("titp.teststore.ThingRenamed.v1", "titp.teststore.ThingRenamed.v2")
def _rename_v1_to_v2(data):
    return {"new_name": data["name"], "reason": "unknown (recorded before reasons were kept)"}


store = EventStore(types)


async def append(pool, stream, expected, *whats, context=EventContext()):
    async with pool.acquire() as conn, conn.transaction():
        return await store.append(conn, stream, expected, [ThingHappened(what=w) for w in whats], context)


async def test_append_and_read_a_stream_with_its_context(pool):
    ctx = EventContext(actor="officer-1", correlationid="c-1", causationid="cause-1")
    first = await append(pool, "thing-1", 0, "a", "b", context=ctx)
    second = await append(pool, "thing-1", 2, "c")
    assert [e.streamversion for e in first + second] == [1, 2, 3]
    async with pool.acquire() as conn:
        events = await store.read_stream(conn, "thing-1")
    # Check the stored events are exactly the ones returned by append.
    assert events == first + second
    assert [types.parse(e.type, e.data).what for e in events] == ["a", "b", "c"]
    assert events[0].actor == "officer-1" and events[0].correlationid == "c-1"
    assert events[0].type == "titp.teststore.ThingHappened.v1" and events[0].source == "/titp/teststore"


async def test_a_stale_expected_version_is_a_clear_concurrency_error_and_appends_nothing(pool):
    await append(pool, "thing-2", 0, "a")
    with pytest.raises(ConcurrencyError) as caught:
        await append(pool, "thing-2", 0, "b")
    assert (caught.value.stream_id, caught.value.expected, caught.value.actual) == ("thing-2", 0, 1)
    assert "thing-2 is at version 1, expected 0" in str(caught.value)
    async with pool.acquire() as conn:
        assert len(await store.read_stream(conn, "thing-2")) == 1


async def test_two_concurrent_appends_to_one_stream_end_with_exactly_one(pool):
    results = await asyncio.gather(*(append(pool, "thing-3", 0, f"try-{i}") for i in range(5)), return_exceptions=True)
    assert sum(isinstance(r, list) for r in results) == 1
    assert sum(isinstance(r, ConcurrencyError) for r in results) == 4
    async with pool.acquire() as conn:
        assert len(await store.read_stream(conn, "thing-3")) == 1


async def test_a_reader_by_position_waits_for_an_append_that_commits_late(pool, fresh_database):
    early = await connect(fresh_database)
    try:
        # Check: an append transaction begins and stays open...
        tx = early.transaction()
        await tx.start()
        [held] = await store.append(early, "slow-stream", 0, [ThingHappened(what="slow")])
        # ...while a later one commits.
        [later] = await append(pool, "fast-stream", 0, "fast")
        assert held.position < later.position
        async with pool.acquire() as conn:
            seen = await store.read_all(conn, 0)
        # Check the reader does not pass the open transaction's position.
        assert [e.id for e in seen] == []
        await tx.commit()
        async with pool.acquire() as conn:
            seen = await store.read_all(conn, 0)
        assert [e.id for e in seen] == [held.id, later.id]
        async with pool.acquire() as conn:
            assert await store.read_all(conn, held.position) == seen[1:]
    finally:
        await early.close()


async def test_appends_to_different_streams_do_not_wait_for_each_other(pool, fresh_database):
    holder = await connect(fresh_database)
    try:
        tx = holder.transaction()
        await tx.start()
        await store.append(holder, "stream-a", 0, [ThingHappened(what="held open")])
        # Check: another stream's append commits while the first transaction is still open.
        other = await asyncio.wait_for(append(pool, "stream-b", 0, "not blocked"), timeout=5)
        assert other[0].streamversion == 1
        # Check: the same stream's append does wait, then loses to the first.
        same = asyncio.create_task(append(pool, "stream-a", 0, "blocked"))
        await asyncio.sleep(0.5)
        assert not same.done()
        await tx.commit()
        with pytest.raises(ConcurrencyError):
            await asyncio.wait_for(same, timeout=5)
    finally:
        await holder.close()


async def test_an_append_from_an_older_transaction_never_sorts_before_the_stream_head(pool, fresh_database):
    older = await connect(fresh_database)
    try:
        tx = older.transaction()
        await tx.start()
        await older.execute("SELECT pg_current_xact_id()")  # this transaction's id is taken first
        await append(pool, "stream-c", 0, "newer transaction wrote first")
        with pytest.raises(ConcurrencyError):
            await store.append(older, "stream-c", 1, [ThingHappened(what="would sort before v1")])
        await tx.rollback()
    finally:
        await older.close()


async def test_streams_opened_first_and_appended_later_in_one_transaction_follow_each_other(pool):
    # A command may open two streams, then append to both: the second append's head was read before the
    # first append, and its events still come after the first's, in one transaction's positions.
    async with pool.acquire() as conn, conn.transaction():
        _, head_a = await store.open_stream(conn, "pair-a")
        _, head_b = await store.open_stream(conn, "pair-b")
        first = await store.append(conn, "pair-a", 0, [ThingHappened(what="a1"), ThingHappened(what="a2")], head=head_a)
        second = await store.append(conn, "pair-b", 0, [ThingHappened(what="b1")], head=head_b)
    positions = [e.position for e in first + second]
    assert positions == sorted(positions) and len(set(p >> 20 for p in positions)) == 1
    async with pool.acquire() as conn:
        assert [e.id for e in await store.read_all(conn, 0)] == [e.id for e in first + second]


async def test_an_append_whose_position_was_taken_unseen_is_a_concurrency_error_not_a_corruption(pool):
    # Positions of a transaction's later appends are continued from memory; if that memory does not know
    # an earlier append (another store's, or forgotten), the insert collides and the command is retried.
    async with pool.acquire() as conn:
        with pytest.raises(ConcurrencyError):
            async with conn.transaction():
                _, head = await store.open_stream(conn, "unseen-b")
                await EventStore(types).append(conn, "unseen-a", 0, [ThingHappened(what="a")])
                store_positions.last.clear()  # as if this process had never seen that append
                await store.append(conn, "unseen-b", 0, [ThingHappened(what="b")], head=head)
    assert await append(pool, "unseen-b", 0, "b, retried")


async def test_read_all_pages_in_position_order(pool):
    for i in range(7):
        await append(pool, f"page-{i}", 0, str(i))
    async with pool.acquire() as conn:
        pages, after = [], 0
        while batch := await store.read_all(conn, after, limit=3):
            pages.append(batch)
            after = batch[-1].position
    assert [len(p) for p in pages] == [3, 3, 1]
    positions = [e.position for p in pages for e in p]
    assert positions == sorted(positions)


async def test_the_hash_chain_verifies_and_names_a_tampered_event(pool):
    await append(pool, "chained", 0, "a", "b")
    await append(pool, "chained", 2, "c")
    async with pool.acquire() as conn:
        events = await store.read_stream(conn, "chained")
    assert verify_chain(events) is None
    assert events[0].prevhash == "0" * 64 and events[1].prevhash == events[0].hash

    tampered = [events[0], dataclasses.replace(events[1], data={"what": "B"}), events[2]]
    broken = verify_chain(tampered)
    assert (broken.stream_id, broken.event_id, broken.streamversion) == ("chained", events[1].id, 2)
    assert "content" in broken.reason

    missing = verify_chain([events[0], events[2]])
    assert missing.event_id == events[2].id and "version" in missing.reason

    reordered = verify_chain([events[1], events[0], events[2]])
    assert reordered.event_id == events[1].id


async def test_the_store_refuses_updates_and_deletes(pool):
    import asyncpg

    await append(pool, "immutable", 0, "a")
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("UPDATE events SET data = '{}'")
        with pytest.raises(asyncpg.RaiseError, match="append-only"):
            await conn.execute("DELETE FROM events")


async def test_old_payload_versions_are_upcast_on_read():
    payload = types.parse("titp.teststore.ThingRenamed.v1", {"name": "new"})
    assert payload == ThingRenamed(new_name="new", reason="unknown (recorded before reasons were kept)")
    assert types.knows("titp.teststore.ThingRenamed.v1")
    assert not types.knows("titp.teststore.Nothing.v1")


async def test_stored_events_are_cloudevents_the_official_sdk_reads(pool):
    [event] = await append(
        pool, "sdk", 0, "x", context=EventContext(actor="a", traceparent="00-" + "1" * 32 + "-" + "2" * 16 + "-01")
    )
    message = KafkaMessage(
        headers={"content-type": b"application/cloudevents+json"}, key=event.subject.encode(), value=event.to_json()
    )
    parsed = from_structured_event(message)
    assert parsed.get_id() == str(event.id)
    assert parsed.get_type() == "titp.teststore.ThingHappened.v1"
    assert parsed.get_source() == "/titp/teststore"
    assert parsed.get_subject() == "sdk"
    assert parsed.get_data() == {"what": "x"}
    for name in ("streamversion", "position", "actor", "traceparent", "prevhash", "hash"):
        assert parsed.get_extension(name) == getattr(event, name)
    assert type(event).from_json(event.to_json()) == event


THINGS = Aggregate("thing", (), lambda seen, payload: (*seen, payload.what))


async def test_a_stream_loaded_and_then_decided_on_in_one_transaction_gets_its_next_version(pool):
    runner = CommandRunner(pool, store)
    await append(pool, "thing-checked", 0, "a")

    async def check_then_decide(uow: UnitOfWork) -> Outcome:
        seen, version = await uow.load(THINGS, "thing-checked")
        assert (seen, version) == (("a",), 1)
        return await uow.decide(THINGS, "thing-checked", lambda s: [ThingHappened(what=f"after {','.join(s)}")])

    outcome = await runner.transact(check_then_decide, context=EventContext())
    assert outcome.version == 2 and [e.data["what"] for e in outcome.events] == ["after a"]


async def test_a_stream_loaded_then_appended_to_in_the_same_transaction_is_decided_on_afresh(pool):
    runner = CommandRunner(pool, store)
    await append(pool, "thing-moved", 0, "a")

    async def load_append_decide(uow: UnitOfWork) -> Outcome:
        await uow.load(THINGS, "thing-moved")
        # Appended in the same transaction, past the unit of work (a projection or another command function).
        await store.append(uow.conn, "thing-moved", 1, [ThingHappened(what="b")])
        return await uow.decide(THINGS, "thing-moved", lambda s: [ThingHappened(what=f"after {','.join(s)}")])

    outcome = await runner.transact(load_append_decide, context=EventContext())
    assert outcome.version == 3 and [e.data["what"] for e in outcome.events] == ["after a,b"]
    async with pool.acquire() as conn:
        assert [e.data["what"] for e in await store.read_stream(conn, "thing-moved")] == ["a", "b", "after a,b"]
