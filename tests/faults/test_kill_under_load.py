"""Issue 10, items 1, 2 and 6, short: the four services under a steady load of their own commands on a
private stack, one process killed with SIGKILL a quarter of the way in and started again. `make faults`
runs the same scenarios longer, and the PostgreSQL restart (docs/faults.md)."""

import asyncio

import pytest

from faults.scenarios import run
from shared.settings import SERVICES

SHORT = {"seconds": 4, "settle": 60, "clients": 1}
# A scenario takes about 70 s; a subscriber that stalled at the fault is replaced after shared.consumer.STALL_AFTER
# and catches up within the settle time, which the test's time must leave room for.
pytestmark = pytest.mark.timeout(240)


def assert_nothing_lost(report: dict) -> None:
    """Acknowledged = stored by the load; every stored event on the topic, applied once by each subscriber."""
    assert report["problems"] == [], report
    for name in SERVICES:
        service = report["services"][name]
        commands, stored, topic = service["commands"], service["stored"], service["topic"]
        assert commands["acknowledged"] == commands["sent"] == stored["by_the_load"] > 0, (name, service)
        assert stored["acknowledged_missing"] == stored["half_written"] == stored["outbox_left"] == 0
        assert topic["events"] == stored["events"] and topic["stored_missing"] == topic["not_stored"] == 0
        assert all(a == {"applied": stored["events"], "missing": 0} for a in service["applied_by"].values())
        assert service["dead_lettered"] == 0
    effects = report["services"]["effects"]
    assert effects["permits_granted"] == effects["first_inspections_scheduled"] > 0


async def test_the_broker_killed_under_load_loses_nothing_and_applies_nothing_twice(private_stack, keys, tmp_path):
    report = await run("broker-sigkill", private_stack, keys, tmp_path, **SHORT)
    assert report["fault"]["killed"] == "kafka"
    assert_nothing_lost(report)


@pytest.fixture(scope="module")
async def processes_killed(private_stack, keys, tmp_path_factory):
    """The two scenarios that kill a process of their own (not the broker, which the others would feel) started
    together, each with its databases and topic prefix: their reports (or errors) by name, awaited by each test."""
    folder = tmp_path_factory.mktemp("processes-killed")
    tasks = {
        name: asyncio.create_task(run(name, private_stack, keys, folder, **SHORT))
        for name in ("registry-sigkill", "subscriber-sigkill")
    }
    yield tasks
    for task in tasks.values():  # one no test awaited (-k): its processes stopped, not left running
        task.cancel()
    await asyncio.gather(*tasks.values(), return_exceptions=True)


async def test_a_service_killed_under_load_keeps_every_acknowledged_command_and_its_relay_resumes(processes_killed):
    report = await processes_killed["registry-sigkill"]
    # Its clients noticed: requests failed while it was down, and were answered by the new process.
    assert report["services"]["registry"]["commands"]["failures"]["unreachable"] > 0
    assert_nothing_lost(report)


async def test_a_subscriber_killed_under_load_leaves_every_event_applied_once(processes_killed):
    report = await processes_killed["subscriber-sigkill"]
    before = report["fault"]["subscription_before"]
    assert before["assigned_partitions"] > 0 and before["applied"] > 0
    assert_nothing_lost(report)
