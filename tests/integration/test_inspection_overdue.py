""" "Overdue" has one definition (services/inspection/domain/inspection.py): the worklist's SQL filters and the
statistics' overdue counts, against a real PostgreSQL, answer as it does on the boundary days: the due day
itself, the day after, the day an inspection was inspected or cancelled, the day a report was received or its
wait closed (the permit ended), and the days around them; for guidance's reports as for recommendations'."""

from datetime import date, timedelta
from uuid import uuid4

import pytest

from contracts.inspection import Finding, InspectionCompleted, InspectionReason, TargetType
from services.inspection.app import DEFINITION
from services.inspection.domain import inspection as ins
from services.inspection.domain.rules import Cadence
from services.inspection.projections.inspections import list_inspections, project_inspection
from services.inspection.projections.statistics import INSPECTIONS_OVERDUE_CHANGE
from shared.db import create_pool, migrate
from shared.statistics import totals

D = date.fromisoformat
SO = TargetType.SUPERVISING_ORGANIZATION
DUE = D("2027-05-01")  # due a year after the permit, granted on 2026-05-01
BREACH = Finding(code="passport_or_residence_card_kept", legal_breach=True, description="passports in the safe")
SHORTFALL = Finding(code="records_not_kept", legal_breach=False, description="training diary incomplete")


def then(state, events):
    for event in events:
        state = ins.evolve(state, event)
    return state


def scheduled() -> ins.Inspection:
    first = ins.first_inspection(SO, uuid4(), InspectionReason.PERMIT_GRANTED, D("2026-05-01"), Cadence())
    return then(ins.Inspection(), ins.schedule(ins.Inspection(), first))


def extraordinary(scheduled_on: date, due_by: date) -> ins.Inspection:
    return then(
        ins.Inspection(),
        ins.schedule_extraordinary(
            ins.Inspection(),
            ins.InspectionScheduled(
                target_type=SO, target_id=uuid4(), reason="complaint", scheduled_on=scheduled_on, due_by=due_by
            ),
            target_known=True,
        ),
    )


def inspected(state, on: date, outcome="no_finding", findings=(), report_due=None) -> ins.Inspection:
    return then(
        state,
        ins.complete(
            state,
            uuid4(),
            inspected_on=on,
            inspector="Kato",
            findings=findings,
            outcome=outcome,
            improvement_report_due=report_due,
            referral=None,
            referral_id=uuid4(),
        ),
    )


def recommended(report_due: date, received_on: date | None) -> ins.Inspection:
    state = inspected(scheduled(), D("2027-04-10"), outcome="recommendation", findings=(BREACH,), report_due=report_due)
    return then(state, ins.receive_improvement_report(state, received_on)) if received_on else state


def guided(report_due: date | None) -> ins.Inspection:
    """Improvement guidance: with a report due (DOMAIN §11), or as recorded before, without."""
    state = scheduled()
    if report_due is None:
        return then(
            state,
            [
                InspectionCompleted(
                    target_type=SO,
                    target_id=state.target_id,
                    inspected_on=D("2027-04-10"),
                    inspector="Kato",
                    findings=(SHORTFALL,),
                    outcome="guidance",
                )
            ],
        )
    return inspected(state, D("2027-04-10"), outcome="guidance", findings=(SHORTFALL,), report_due=report_due)


def wait_closed(on: date) -> ins.Inspection:
    """A report awaited when the organization's permit was revoked."""
    state = recommended(D("2027-05-01"), None)
    return then(state, ins.close(state, on, "permit_revoked"))


CASES = {
    "open": scheduled(),
    "inspected on the due day": inspected(scheduled(), DUE),
    "inspected the day after": inspected(scheduled(), DUE + timedelta(days=1)),
    "inspected two days after": inspected(scheduled(), DUE + timedelta(days=2)),
    "inspected early": inspected(scheduled(), D("2027-03-01")),
    "cancelled the day after": then(scheduled(), ins.cancel(scheduled(), DUE + timedelta(days=1), "permit_revoked")),
    "cancelled late": then(scheduled(), ins.cancel(scheduled(), D("2027-06-15"), "permit_expired")),
    "due the day it was scheduled": extraordinary(DUE, DUE),
    "report awaited": recommended(D("2027-05-01"), None),
    "report received on its due day": recommended(D("2027-05-01"), D("2027-05-01")),
    "report received the day after": recommended(D("2027-05-01"), D("2027-05-02")),
    "report received late": recommended(D("2027-05-01"), D("2027-05-03")),
    "guidance's report awaited": guided(D("2027-05-01")),
    "guidance without a report": guided(None),
    "wait closed the day after": wait_closed(D("2027-05-02")),
    "wait closed late": wait_closed(D("2027-05-03")),
    "cancelled for want of plans": then(scheduled(), ins.cancel(scheduled(), D("2027-05-02"), "no_plans_in_force")),
}
DAYS = sorted(
    {DUE + timedelta(days=n) for n in range(-2, 4)}
    | {D("2026-04-30"), D("2026-05-01"), D("2027-03-01"), D("2027-06-14"), D("2027-06-15"), D("2027-06-16")}
)


@pytest.fixture
async def pool(fresh_database):
    pool = await create_pool(fresh_database, max_size=2)
    await migrate(pool, DEFINITION.migrations)
    yield pool
    await pool.close()


async def test_the_worklist_and_the_statistics_say_overdue_when_the_domain_does(pool):
    names = {}
    async with pool.acquire() as conn, conn.transaction():
        for name, state in CASES.items():
            id = str(uuid4())
            names[id] = name
            await project_inspection(conn, id, state, 1)

    async with pool.acquire() as conn:

        async def listed(**filters) -> set[str]:
            return {names[str(i.id)] for i in await list_inspections(conn, day=DUE, limit=100, **filters)}

        for day in DAYS:
            overdue = {name for name, state in CASES.items() if state.overdue_on(day)}
            assert await listed(overdue_as_of=day) == overdue, day
            changes = await totals(conn, INSPECTIONS_OVERDUE_CHANGE, date.min, day, where=[None])
            assert sum(n for _, _, n in changes) == len(overdue), day
            assert await listed(report_overdue_as_of=day) == {
                name for name, state in CASES.items() if state.report_overdue_on(day)
            }, day
        awaiting = {name for name, state in CASES.items() if state.awaiting_report}
        assert await listed(awaiting_report=True) == awaiting == {"report awaited", "guidance's report awaited"}
        assert await listed(awaiting_report=False) == set(CASES) - awaiting

    # Check: the boundaries themselves, so that agreeing cannot mean agreeing on nothing.
    assert not CASES["open"].overdue_on(DUE) and CASES["open"].overdue_on(DUE + timedelta(days=1))
    assert not CASES["inspected on the due day"].overdue_on(DUE + timedelta(days=1))
    assert not CASES["inspected the day after"].overdue_on(DUE + timedelta(days=1))
    assert CASES["inspected two days after"].overdue_on(DUE + timedelta(days=1))
    assert not CASES["report received the day after"].report_overdue_on(DUE + timedelta(days=1))
    assert CASES["report received late"].report_overdue_on(DUE + timedelta(days=1))
    assert not CASES["wait closed the day after"].report_overdue_on(DUE + timedelta(days=1))
    assert CASES["wait closed late"].report_overdue_on(DUE + timedelta(days=1))
    assert CASES["guidance's report awaited"].report_overdue_on(DUE + timedelta(days=1))
