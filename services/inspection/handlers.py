"""The inspection service's commands: load, decide, append, in the caller's transaction.

The schedule spans streams (one per inspection), so a command that completes one inspection
also schedules the next, and a revoked permit cancels every open one, in one transaction.
"""

from collections.abc import Callable
from datetime import date
from typing import Literal
from uuid import UUID, uuid5

import asyncpg

from services.inspection.domain import inspection as ins
from contracts.inspection import Finding, InspectionOutcome, InspectionReason, TargetType
from services.inspection.domain.rules import Cadence
from services.inspection.projections import (
    end_schedule,
    open_inspections_of,
    project_inspection,
    schedule_running,
    start_schedule,
)
from shared.commands import Aggregate, CommandRunner, Outcome
from shared.commands import existing as on_existing
from shared.events import EventContext

INSPECTION = Aggregate("inspection", ins.Inspection(), ins.evolve, project_inspection)


def existing(id: UUID, decide: Callable[[ins.Inspection], list]) -> Callable[[ins.Inspection], list]:
    """`decide`, on an inspection that exists (else 404)."""
    return on_existing("inspection", id, decide)


async def schedule_first_inspection(runner: CommandRunner, conn: asyncpg.Connection, *, inspection_id: UUID,
                                    target_type: TargetType, target_id: UUID, reason: InspectionReason, since: date,
                                    cadence: Cadence, context: EventContext) -> None:
    """Start the organization's regular schedule, unless it has started (or ended) already."""
    if await start_schedule(conn, target_id, target_type, since):
        first = ins.first_inspection(target_type, target_id, reason, since, cadence)
        await runner.decide_and_apply(conn, INSPECTION, str(inspection_id), lambda s: ins.schedule(s, first), context)


async def complete_inspection(runner: CommandRunner, conn: asyncpg.Connection, id: UUID, *, inspected_on: date,
                              inspector: str, findings: tuple[Finding, ...], outcome: InspectionOutcome,
                              improvement_report_due: date | None, referral: ins.Referral | None,
                              referral_id: UUID, cadence: Cadence, context: EventContext,
                              if_match: int | None = None) -> Outcome:
    """Record the outcome; a regular inspection puts the next one on the schedule, unless the schedule ended."""
    running = await schedule_running(conn, id)
    completed = await runner.decide_and_apply(
        conn, INSPECTION, str(id),
        existing(id, lambda s: ins.complete(s, id, inspected_on=inspected_on, inspector=inspector, findings=findings,
                                            outcome=outcome, improvement_report_due=improvement_report_due,
                                            referral=referral, referral_id=referral_id)),
        context, if_match=if_match)
    state, _ = await runner.load(conn, INSPECTION, str(id))
    if running and (following := ins.next_inspection(state, id, cadence)):
        await runner.decide_and_apply(conn, INSPECTION, str(uuid5(id, "next")),
                                      lambda s: ins.schedule(s, following), context)
    return completed


async def cancel_open_inspections(runner: CommandRunner, conn: asyncpg.Connection, *, target_type: TargetType,
                                  target_id: UUID, cancelled_on: date,
                                  reason: Literal["permit_revoked", "permit_expired"],
                                  context: EventContext) -> list[str]:
    """End the organization's schedule and cancel its open inspections; returns their ids."""
    await end_schedule(conn, target_id, target_type, cancelled_on)
    ids = await open_inspections_of(conn, target_id)
    for id in ids:
        await runner.decide_and_apply(conn, INSPECTION, id, lambda s: ins.cancel(s, cancelled_on, reason), context)
    return ids
