"""`as_of` over a stream whose stored times are out of order (a clock set back, a restored store): the answer is
the versions before the first one recorded later, never a version without the ones before it (issue 18, item 7)."""

import dataclasses
from datetime import UTC, datetime, timedelta

from shared.audit.log import stream_as_of
from shared.events import EventPayload, EventTypes
from tests.helpers import next_event

types = EventTypes("testasof")


@types.register
class Noted(EventPayload):
    note: str


def at(event, time):
    return dataclasses.replace(event, time=time)


def test_the_events_recorded_by_then_are_a_prefix_of_the_stream():
    noon = datetime(2026, 5, 1, 3, 0, tzinfo=UTC)
    first = at(next_event(types, "s", Noted(note="1")), noon)
    second = at(next_event(types, "s", Noted(note="2"), after=first), noon - timedelta(hours=1))  # a clock behind
    third = at(next_event(types, "s", Noted(note="3"), after=second), noon + timedelta(hours=1))
    events = [third, first, second]
    assert stream_as_of(events, noon - timedelta(minutes=30)) == []
    assert stream_as_of(events, noon) == [first, second]
    assert stream_as_of(events, noon + timedelta(hours=2)) == [first, second, third]
