"""The inspection service's commands: the only way anything (routes, subscriptions, tests) changes state.

Each runs in the caller's transaction (`UnitOfWork`). The schedule spans streams (one per
inspection), so the command that completes one inspection also schedules the next, and the end
of a permit closes every open one (scheduled, or awaiting an improvement report), in one
transaction; an implementing organization left with no plan in force has its schedule end the
same way, and its next certified plan starts it again.
"""

from collections.abc import Callable, Sequence
from datetime import date
from uuid import UUID, uuid5

from contracts.inspection import (
    CancellationReason,
    Finding,
    InspectionOutcome,
    InspectionReason,
    InspectionScheduled,
    TargetType,
)
from contracts.registry import Scheme
from services.inspection.domain import inspection as ins
from services.inspection.domain.rules import Cadence
from services.inspection.projections import organizations
from services.inspection.projections.inspections import (
    last_closed_for_want_of_plans,
    open_inspections_of,
    project_inspection,
)
from shared.commands import Aggregate, Outcome, UnitOfWork, existing
from shared.events import EventPayload

INSPECTION = Aggregate("inspection", ins.Inspection(), ins.evolve, project_inspection)


def _existing(
    id: UUID, decide: Callable[[ins.Inspection], Sequence[EventPayload]]
) -> Callable[[ins.Inspection], Sequence[EventPayload]]:
    """`decide`, on an inspection that exists (else NotFound)."""
    return existing("inspection", id, decide)


async def schedule_first_inspection(
    uow: UnitOfWork,
    id: UUID,
    *,
    target_type: TargetType,
    target_id: UUID,
    reason: InspectionReason,
    since: date,
    cadence: Cadence,
    scheme: Scheme = Scheme.TITP,
) -> Outcome | None:
    """Start the organization's regular schedule with inspection `id`, due within its scheme's cadence from
    `since`; nothing (None) if its schedule is running or ended for good already: an organization has one
    schedule, whichever scheme's event comes first (an employer's next inspections are ESD ones once it has an
    ESD plan). An implementing organization's schedule ended for want of plans in force starts again; if the
    plan starting it was certified before that end (its certification arrived after the other plan's end), the
    schedule never really ended, and the inspection it closed is put back on the schedule with its dates."""
    scheme = ins.scheme_of(target_type, scheme)
    start = await organizations.start_schedule(uow.conn, target_id, target_type, since, scheme)
    if start is None:
        await organizations.note_scheme(uow.conn, target_id, scheme)
        return None
    first = ins.first_inspection(target_type, target_id, reason, since, cadence, scheme)
    if start.after_end_on is not None and since <= start.after_end_on:
        if closed := await last_closed_for_want_of_plans(uow.conn, target_id):
            first = ins.resumed_inspection(closed, since, scheme)
    return await uow.decide(INSPECTION, str(id), lambda s: ins.schedule(s, first))


async def schedule_extraordinary_inspection(
    uow: UnitOfWork,
    id: UUID,
    *,
    target_type: TargetType,
    target_id: UUID,
    reason: InspectionReason,
    scheduled_on: date,
    due_by: date,
    detail: str | None = None,
) -> Outcome:
    """Put an extraordinary inspection (complaint, tip, follow-up) of a known organization on the schedule, under
    the organization's scheme."""
    scheme = await organizations.known_scheme(uow.conn, target_id, target_type)
    scheduled = InspectionScheduled(
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        scheduled_on=scheduled_on,
        due_by=due_by,
        detail=detail,
        scheme=ins.scheme_of(target_type, scheme or Scheme.TITP),
    )
    return await uow.decide(
        INSPECTION, str(id), lambda s: ins.schedule_extraordinary(s, scheduled, target_known=scheme is not None)
    )


async def complete_inspection(
    uow: UnitOfWork,
    id: UUID,
    *,
    inspected_on: date,
    inspector: str,
    findings: tuple[Finding, ...],
    outcome: InspectionOutcome,
    improvement_report_due: date | None = None,
    referral: ins.Referral | None = None,
    referral_id: UUID,
    cadence: Cadence,
) -> Outcome:
    """Record the outcome (and a referral's decision, as `referral_id`); a regular inspection puts the next
    one on the schedule, unless the organization's schedule ended."""
    running, scheme = await organizations.schedule_running(uow.conn, id)
    completed = await uow.decide(
        INSPECTION,
        str(id),
        _existing(
            id,
            lambda s: ins.complete(
                s,
                id,
                inspected_on=inspected_on,
                inspector=inspector,
                findings=findings,
                outcome=outcome,
                improvement_report_due=improvement_report_due,
                referral=referral,
                referral_id=referral_id,
            ),
        ),
    )
    state, _ = await uow.load(INSPECTION, str(id))
    if running and (following := ins.next_inspection(state, id, cadence, scheme)):
        await uow.unpinned().decide(INSPECTION, str(uuid5(id, "next")), lambda s: ins.schedule(s, following))
    return completed


async def receive_improvement_report(uow: UnitOfWork, id: UUID, *, received_on: date) -> Outcome:
    """Record the improvement report guidance or a recommendation asked for."""
    return await uow.decide(
        INSPECTION, str(id), _existing(id, lambda s: ins.receive_improvement_report(s, received_on))
    )


async def cancel_inspection(uow: UnitOfWork, id: UUID, *, cancelled_on: date, reason: CancellationReason) -> Outcome:
    """Cancel the inspection if it is still scheduled (else nothing is recorded)."""
    return await uow.decide(INSPECTION, str(id), lambda s: ins.cancel(s, cancelled_on, reason))


async def close_inspection(uow: UnitOfWork, id: UUID, *, closed_on: date, reason: CancellationReason) -> Outcome:
    """Take the inspection off the worklists (`ins.close`): cancel it if scheduled, close its wait for an
    improvement report if it awaits one; else nothing is recorded."""
    return await uow.decide(INSPECTION, str(id), lambda s: ins.close(s, closed_on, reason))


async def cancel_open_inspections(
    uow: UnitOfWork, *, target_type: TargetType, target_id: UUID, cancelled_on: date, reason: CancellationReason
) -> list[str]:
    """End the organization's schedule and close its open inspections, scheduled or awaiting an improvement
    report (DOMAIN §11, §5); returns the ids of those it closed.

    The schedule's end is recorded first: it holds the organization's row until commit, so a completion
    racing it (`complete_inspection`, which reads the row first) takes turns with it."""
    await organizations.end_schedule(uow.conn, target_id, target_type, cancelled_on, reason)
    return await _close_open(uow, target_id, cancelled_on, reason)


async def end_schedule_without_plans(uow: UnitOfWork, *, implementing_organization_id: UUID) -> list[str]:
    """If the implementing organization has no plan in force any more, its schedule ends on the day its last
    plan ended and its scheduled regular inspection is cancelled (`no_plans_in_force`); returns the ids of those
    cancelled. Nothing while a plan is in force. Called again (another plan's end arriving late) it moves the end
    to the latest plan's end and closes nothing twice."""
    ended_on = await organizations.last_plan_ended_on(uow.conn, implementing_organization_id)
    if ended_on is None:
        return []
    reason: CancellationReason = organizations.NO_PLANS_IN_FORCE
    await organizations.end_schedule(
        uow.conn, implementing_organization_id, TargetType.IMPLEMENTING_ORGANIZATION, ended_on, reason
    )
    return await _close_open(uow, implementing_organization_id, ended_on, reason)


async def _close_open(uow: UnitOfWork, target_id: UUID, closed_on: date, reason: CancellationReason) -> list[str]:
    closed = []
    for id in await open_inspections_of(uow.conn, target_id):
        if (await close_inspection(uow, UUID(id), closed_on=closed_on, reason=reason)).events:
            closed.append(id)
    return closed
