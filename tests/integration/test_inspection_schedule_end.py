"""The schedule ends as the law has it (DOMAIN §11, §5), from the registry's and accreditation's events as the
inspection's subscription receives them, against a real PostgreSQL:

- an implementing organization whose last plan in force ends (completed, discontinued, revoked, transferred)
  leaves the schedule: its scheduled regular inspection is cancelled (no_plans_in_force) and nothing is
  scheduled after it; a new certified plan starts it again;
- the same whatever order the events of different plans come in, and however often each comes: the handlers
  are idempotent per event;
- a supervising organization's permit revoked or expired closes its inspections, scheduled or awaiting a report.
"""

import itertools
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from contracts.accreditation import (
    TrainingPlanCertified,
    TrainingPlanCompleted,
    TrainingPlanDiscontinued,
    TrainingPlanRevoked,
    TrainingPlanTransferred,
    accreditation_events,
)
from contracts.inspection import Finding, InspectionReason, TargetType, inspection_events
from contracts.registry import PermitExpired, PermitGranted, PermitRevoked, registry_events
from services.inspection import commands, subscriptions
from services.inspection.app import DEFINITION
from services.inspection.domain.inspection import Status
from services.inspection.domain.rules import Cadence
from services.inspection.projections.inspections import list_inspections
from shared.commands import CommandRunner
from shared.db import create_pool, migrate
from shared.events import EventContext, EventPayload, RecordedEvent
from shared.store import EventStore

D = date.fromisoformat
CADENCE = Cadence()
OFFICER = EventContext(actor="inspector-kato")
SHORTFALL = Finding(code="records_not_kept", legal_breach=False, description="training diary incomplete")
BREACH = Finding(code="wages_below_plan", legal_breach=True, description="overtime unpaid")


@pytest.fixture
async def service(fresh_database):
    pool = await create_pool(fresh_database, max_size=2)
    await migrate(pool, DEFINITION.migrations)
    yield pool, CommandRunner(pool, EventStore(inspection_events))
    await pool.close()


def recorded(subject: UUID, payload: EventPayload) -> RecordedEvent:
    types = registry_events if registry_events.knows(registry_events.type_name(payload)) else accreditation_events
    return RecordedEvent(
        id=uuid4(),
        source=types.source,
        type=types.type_name(payload),
        subject=str(subject),
        time=datetime.now(UTC),
        data=payload.model_dump(mode="json"),
        streamversion=1,
        position=1,
        prevhash="0" * 64,
        hash="0" * 64,
    )


async def deliver(service, *events: RecordedEvent) -> None:
    """Each event as the subscription receives it, each in its own transaction."""
    pool, runner = service
    for event in events:
        async with pool.acquire() as conn, conn.transaction():
            await subscriptions.on_event(runner, conn, event, cadence=CADENCE)


def header(employer: UUID, start: str) -> dict:
    return {
        "trainee_id": uuid4(),
        "stage": "i",
        "training_type": "a",
        "job_category": "construction",
        "implementing_organization_id": employer,
        "start_date": D(start),
        "end_date": D(start).replace(year=D(start).year + 1),
    }


@dataclass
class Plan:
    id: UUID
    certified: RecordedEvent
    ended: RecordedEvent


def plan(employer: UUID, certified_on: str, end: str, how: str = "completed") -> Plan:
    id, head = uuid4(), header(employer, certified_on)
    ending = {
        "completed": lambda: TrainingPlanCompleted(**head, completed_on=D(end), exam_result="passed"),
        "discontinued": lambda: TrainingPlanDiscontinued(**head, discontinued_on=D(end), reason="bankruptcy"),
        "revoked": lambda: TrainingPlanRevoked(**head, revoked_on=D(end), reason="deposits taken"),
        "transferred": lambda: TrainingPlanTransferred(
            **{**head, "scheme": "esd", "stage": None}, transferred_on=D(end), to_plan_id=uuid4(), reason="own_wish"
        ),
    }[how]()
    certified = TrainingPlanCertified(**head, certified_on=D(certified_on), rule_set="titp")
    return Plan(id, recorded(id, certified), recorded(id, ending))


async def inspections_of(pool, target_id: UUID, **filters):
    async with pool.acquire() as conn:
        return await list_inspections(conn, day=D("2027-04-01"), target_id=target_id, limit=100, **filters)


async def schedule_row(pool, id: UUID):
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT schedule_started_on, schedule_ended_on, schedule_end_reason FROM organizations WHERE id = $1", id
        )
        return tuple(row)


async def complete(service, id: UUID, on: str, outcome="no_finding", findings=(), report_due=None) -> None:
    _, runner = service
    await runner.transact(
        commands.complete_inspection,
        id,
        inspected_on=D(on),
        inspector="Kato",
        findings=findings,
        outcome=outcome,
        improvement_report_due=D(report_due) if report_due else None,
        referral_id=uuid4(),
        cadence=CADENCE,
        context=OFFICER,
    )


@pytest.mark.parametrize("how", ["completed", "discontinued", "revoked", "transferred"])
async def test_an_employer_whose_last_plan_ends_leaves_the_schedule_until_a_new_plan(service, how):
    pool, runner = service
    employer = uuid4()
    first, second = plan(employer, "2026-05-15", "2027-05-31"), plan(employer, "2026-06-01", "2027-08-01", how)
    await deliver(service, first.certified, second.certified)
    (inspection,) = await inspections_of(pool, employer)
    assert (inspection.reason, inspection.due_by) == ("first_certified_plan", D("2029-05-15"))
    # Inspected: the next one, 3 years on; a complaint, and a guidance asking for a report.
    await complete(service, inspection.id, "2027-03-01", "guidance", (SHORTFALL,), "2027-04-30")
    (regular,) = await inspections_of(pool, employer, status=Status.SCHEDULED)
    complaint = uuid4()
    await runner.transact(
        commands.schedule_extraordinary_inspection,
        complaint,
        target_type=TargetType.IMPLEMENTING_ORGANIZATION,
        target_id=employer,
        reason=InspectionReason.COMPLAINT,
        scheduled_on=D("2027-06-01"),
        due_by=D("2027-12-31"),
        context=OFFICER,
    )

    # One plan ends: another is in force, nothing changes.
    await deliver(service, first.ended)
    assert {i.id for i in await inspections_of(pool, employer, status=Status.SCHEDULED)} == {regular.id, complaint}

    # The last one ends: the regular inspection is cancelled; the complaint and the awaited report stay.
    await deliver(service, second.ended)
    shown = {i.id: i for i in await inspections_of(pool, employer)}
    assert (shown[regular.id].status, shown[regular.id].cancellation_reason, shown[regular.id].cancelled_on) == (
        "cancelled",
        "no_plans_in_force",
        D("2027-08-01"),
    )
    assert shown[complaint].status == "scheduled"
    assert shown[inspection.id].awaiting_report
    assert await schedule_row(pool, employer) == (D("2026-05-15"), D("2027-08-01"), "no_plans_in_force")

    # Check: the complaint inspected, nothing is scheduled after it (nor would a regular one be).
    await complete(service, complaint, "2027-09-01")
    assert await inspections_of(pool, employer, status=Status.SCHEDULED) == []

    # A new plan certified after: the schedule starts again, as with a first plan.
    third = plan(employer, "2028-01-10", "2029-01-09")
    await deliver(service, third.certified)
    (again,) = await inspections_of(pool, employer, status=Status.SCHEDULED)
    assert (again.reason, again.scheduled_on, again.due_by) == (
        "first_certified_plan",
        D("2028-01-10"),
        D("2031-01-10"),
    )
    assert await schedule_row(pool, employer) == (D("2028-01-10"), None, None)
    await complete(service, again.id, "2029-01-05")
    (following,) = await inspections_of(pool, employer, status=Status.SCHEDULED)
    assert (following.reason, following.due_by) == ("previous_inspection", D("2032-01-05"))


def orders():
    """Every order of two plans' events that keeps each plan's own order (one stream, one partition)."""
    steps = ["a+", "a-", "b+", "b-"]
    for order in itertools.permutations(steps):
        if order.index("a+") < order.index("a-") and order.index("b+") < order.index("b-"):
            yield order


@pytest.mark.parametrize("order", list(orders()), ids="".join)
@pytest.mark.parametrize("twice", [False, True], ids=["once", "twice"])
async def test_the_schedule_ends_the_same_whatever_order_the_plans_events_come_in(service, order, twice):
    pool, _ = service
    employer = uuid4()
    a, b = plan(employer, "2026-05-15", "2027-05-31"), plan(employer, "2026-06-01", "2027-08-01", "discontinued")
    events = {"a+": a.certified, "a-": a.ended, "b+": b.certified, "b-": b.ended}
    for step in order:
        # Twice: a redelivery (the inbox absorbs it live; the handler alone must not double anything either).
        await deliver(service, *([events[step]] * (2 if twice else 1)))

    # Check: whatever the order, nothing is left on the schedule, and it ended with the last plan's end.
    assert await inspections_of(pool, employer, status=Status.SCHEDULED) == []
    assert (await schedule_row(pool, employer))[1:] == (D("2027-08-01"), "no_plans_in_force")
    cancelled = await inspections_of(pool, employer, status=Status.CANCELLED)
    assert {i.cancellation_reason for i in cancelled} == {"no_plans_in_force"}
    assert max(i.cancelled_on for i in cancelled) == D("2027-08-01")
    # Check: an inspection put back on the schedule (a plan certified before the other's end came after it)
    # keeps the first one's dates; a redelivery schedules nothing more.
    assert len({(i.scheduled_on, i.due_by) for i in cancelled}) == 1
    assert len(cancelled) == (
        2 if order.index("b+") > order.index("a-") or order.index("a+") > order.index("b-") else 1
    )


async def test_a_plan_certified_after_the_schedule_ended_starts_it_again_only_then(service):
    pool, _ = service
    employer = uuid4()
    a = plan(employer, "2026-05-15", "2027-05-31")
    await deliver(service, a.certified, a.ended)
    (cancelled,) = await inspections_of(pool, employer)
    assert (cancelled.status, cancelled.cancelled_on) == ("cancelled", D("2027-05-31"))
    # A plan certified before the end, heard of after it: the inspection goes back on the schedule, same dates.
    late = plan(employer, "2027-04-01", "2028-03-31")
    await deliver(service, late.certified)
    (resumed,) = await inspections_of(pool, employer, status=Status.SCHEDULED)
    assert (resumed.reason, resumed.scheduled_on, resumed.due_by) == (
        cancelled.reason,
        cancelled.scheduled_on,
        cancelled.due_by,
    )
    assert "2027-04-01" in resumed.detail


async def test_an_employer_on_the_schedule_before_its_plans_were_kept_is_not_ended_for_want_of_them(
    fresh_database, tmp_path
):
    """Its older plans were never seen here: one plan's end cannot tell that none is in force."""
    pool = await create_pool(fresh_database, max_size=2)
    try:
        migrations = DEFINITION.migrations
        employer = uuid4()
        old = tmp_path / "inspection" / "migrations"
        old.mkdir(parents=True)
        for path in sorted(migrations.glob("*.sql")):
            if path.name < "004":
                shutil.copy(path, old / path.name)
        await migrate(pool, old)
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO organizations (id, target_type, schedule_started_on) VALUES ($1, $2, $3)",
                employer,
                "implementing_organization",
                D("2025-04-01"),
            )
        applied = await migrate(pool, migrations)
        assert applied[0] == "inspection/004_schedule_end.sql" and all(name > applied[0] for name in applied[1:])
        service = (pool, CommandRunner(pool, EventStore(inspection_events)))
        b = plan(employer, "2026-06-01", "2027-08-01")
        await deliver(service, b.certified, b.ended)
        assert await schedule_row(pool, employer) == (D("2025-04-01"), None, None)
        # Check: an employer first heard of after the change is ended as the law has it.
        newer = uuid4()
        c = plan(newer, "2026-06-01", "2027-08-01")
        await deliver(service, c.certified, c.ended)
        assert (await schedule_row(pool, newer))[1:] == (D("2027-08-01"), "no_plans_in_force")
    finally:
        await pool.close()


@pytest.mark.parametrize(
    "ending",
    [
        PermitRevoked(revoked_on=D("2027-07-01"), ground="law_breached", reason="passports kept"),
        PermitExpired(expired_on=D("2027-07-01")),
    ],
    ids=["revoked", "expired"],
)
async def test_a_permit_s_end_closes_the_inspections_awaiting_a_report_or_not(service, ending):
    pool, _ = service
    cooperative = uuid4()
    granted = PermitGranted(
        permit_type="general", granted_on=D("2026-05-01"), expires_on=D("2031-04-30"), meets_excellence_standard=True
    )
    await deliver(service, recorded(cooperative, granted))
    (first,) = await inspections_of(pool, cooperative)
    await complete(service, first.id, "2027-04-10", "recommendation", (BREACH,), "2027-06-10")
    (second,) = await inspections_of(pool, cooperative, status=Status.SCHEDULED)
    event = recorded(cooperative, ending)
    await deliver(service, event, event)  # twice: closed once

    reason = "permit_revoked" if isinstance(ending, PermitRevoked) else "permit_expired"
    shown = {i.id: i for i in await inspections_of(pool, cooperative)}
    assert (shown[second.id].status, shown[second.id].cancellation_reason) == ("cancelled", reason)
    assert (
        shown[first.id].status,
        shown[first.id].report_wait_closed_on,
        shown[first.id].report_wait_closed_reason,
    ) == (
        "completed",
        D("2027-07-01"),
        reason,
    )
    # Check: on no worklist from that day; overdue before it, as the dates say.
    async with pool.acquire() as conn:

        async def listed(**filters):
            return {i.id for i in await list_inspections(conn, day=D("2027-07-01"), target_id=cooperative, **filters)}

        assert await listed(awaiting_report=True) == set()
        assert await listed(report_overdue_as_of=D("2027-07-01")) == set()
        assert await listed(report_overdue_as_of=D("2027-06-30")) == {first.id}
        assert await listed(status=Status.SCHEDULED) == set()
        assert await listed(due_before=D("2030-01-01")) == set()
        history = await service[1].store.read_stream(conn, str(first.id))
    assert [e.type.split(".")[2] for e in history] == [
        "InspectionScheduled",
        "InspectionCompleted",
        "ImprovementReportWaitClosed",
    ]
