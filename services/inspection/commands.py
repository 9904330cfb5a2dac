"""The inspection service's commands: the only way anything (routes, subscriptions, tests) changes state.

Each runs in the caller's transaction (`UnitOfWork`). The schedule spans streams (one per
inspection), so the command that completes one inspection also schedules the next, and the end
of a permit cancels every open one, in one transaction.
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
from services.inspection.projections.inspections import open_inspections_of, project_inspection
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
    `since`; nothing (None) if its schedule has started or ended already: an organization has one schedule,
    whichever scheme's event comes first (an employer's next inspections are ESD ones once it has an ESD plan)."""
    scheme = ins.scheme_of(target_type, scheme)
    if not await organizations.start_schedule(uow.conn, target_id, target_type, since, scheme):
        await organizations.note_scheme(uow.conn, target_id, scheme)
        return None
    first = ins.first_inspection(target_type, target_id, reason, since, cadence, scheme)
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
    """Record the improvement report a recommendation asked for."""
    return await uow.decide(
        INSPECTION, str(id), _existing(id, lambda s: ins.receive_improvement_report(s, received_on))
    )


async def cancel_inspection(uow: UnitOfWork, id: UUID, *, cancelled_on: date, reason: CancellationReason) -> Outcome:
    """Cancel the inspection if it is still scheduled (else nothing is recorded)."""
    return await uow.decide(INSPECTION, str(id), lambda s: ins.cancel(s, cancelled_on, reason))


async def cancel_open_inspections(
    uow: UnitOfWork, *, target_type: TargetType, target_id: UUID, cancelled_on: date, reason: CancellationReason
) -> list[str]:
    """End the organization's schedule and cancel its open inspections; returns their ids.

    The schedule's end is recorded first: it holds the organization's row until commit, so a completion
    racing it (`complete_inspection`, which reads the row first) takes turns with it."""
    await organizations.end_schedule(uow.conn, target_id, target_type, cancelled_on)
    ids = await open_inspections_of(uow.conn, target_id)
    for id in ids:
        await cancel_inspection(uow, UUID(id), cancelled_on=cancelled_on, reason=reason)
    return ids
