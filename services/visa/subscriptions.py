"""What the visa service does with other services' events, once each (the inbox sees to that).

From titp.accreditation.v1 it keeps its read model of training plans of both schemes (an ESD plan's
transfer included, and a plan's pauses: a pause or a resumption is recorded, it never touches the status of
residence), and a revoked plan, TITP or ESD, cancels its pending COE applications and revokes its unused
certificates; the exam results the exam body reported count for SSW (i). From titp.registry.v1 it keeps the
revocations, expiries and suspensions of permits, which stop new COEs.
"""

from uuid import UUID

import asyncpg

from contracts.accreditation import (
    ExamResultRecorded,
    PlanEvent,
    TrainingPlanPaused,
    TrainingPlanResumed,
    TrainingPlanRevoked,
    accreditation_events,
)
from contracts.registry import BusinessSuspended, PermitExpired, PermitRevoked, registry_events
from services.visa import commands
from services.visa.projections import known, pauses
from shared.commands import CommandRunner, UnitOfWork
from shared.events import EventContext, RecordedEvent
from shared.telemetry import current_traceparent

SUBSCRIBES_TO = ["titp.accreditation.v1", "titp.registry.v1"]

# Of the registry's events only these matter here; the rest are not even parsed.
PERMIT_RESTRICTIONS = {
    registry_events.type_name(PermitRevoked),
    registry_events.type_name(PermitExpired),
    registry_events.type_name(BusinessSuspended),
}


async def on_event(runner: CommandRunner, conn: asyncpg.Connection, event: RecordedEvent) -> None:
    if accreditation_events.knows(event.type):
        payload = accreditation_events.parse(event.type, event.data)
        if isinstance(payload, PlanEvent):
            await known.record_plan_event(conn, UUID(event.subject), payload, event.streamversion)
        if isinstance(payload, TrainingPlanPaused | TrainingPlanResumed):  # issue 25: never cancels the residence
            await pauses.record_pause(conn, UUID(event.subject), payload)
        if isinstance(payload, ExamResultRecorded):
            await known.record_exam_result(conn, event.id, payload)
        if isinstance(payload, TrainingPlanRevoked):
            uow = UnitOfWork(runner, conn, EventContext.caused_by(event, current_traceparent()))
            await commands.withdraw_coes_of_revoked_plan(
                uow, UUID(event.subject), revoked_on=payload.revoked_on, reason=payload.reason
            )
    elif registry_events.upcast(event.type, event.data)[0] in PERMIT_RESTRICTIONS:
        restriction = registry_events.parse(event.type, event.data)
        if isinstance(restriction, PermitRevoked | PermitExpired | BusinessSuspended):
            await known.record_permit_restriction(conn, event.id, UUID(event.subject), restriction)
