"""What the visa service does with other services' events, once each (the inbox sees to that).

From titp.accreditation.v1 it keeps its read model of training plans, and a revoked plan
cancels its pending COE applications and revokes its unused certificates. From
titp.registry.v1 it keeps the revocations and suspensions of permits, which stop new COEs.
"""

from uuid import UUID

import asyncpg

from contracts.accreditation import PlanEvent, TrainingPlanRevoked, accreditation_events
from contracts.registry import BusinessSuspended, PermitRevoked, registry_events
from services.visa.domain import certificate_of_eligibility as coe
from services.visa.projections import known
from services.visa.projections.resources import COE_APPLICATION, coe_applications_of_plan
from shared.commands import CommandRunner
from shared.events import EventContext, RecordedEvent
from shared.telemetry import current_traceparent

SUBSCRIBES_TO = ["titp.accreditation.v1", "titp.registry.v1"]

# Of the registry's events only these matter here; the rest are not even parsed.
PERMIT_RESTRICTIONS = {registry_events.type_name(PermitRevoked), registry_events.type_name(BusinessSuspended)}


async def on_event(runner: CommandRunner, conn: asyncpg.Connection, event: RecordedEvent) -> None:
    if accreditation_events.knows(event.type):
        payload = accreditation_events.parse(event.type, event.data)
        if isinstance(payload, PlanEvent):
            await known.record_plan_event(conn, UUID(event.subject), payload, event.streamversion)
        if isinstance(payload, TrainingPlanRevoked):
            await withdraw_coes(runner, conn, UUID(event.subject), payload,
                                EventContext.caused_by(event, current_traceparent()))
    elif registry_events.upcast(event.type, event.data)[0] in PERMIT_RESTRICTIONS:
        payload = registry_events.parse(event.type, event.data)
        await known.record_permit_restriction(conn, event.id, UUID(event.subject), payload)


async def withdraw_coes(runner: CommandRunner, conn: asyncpg.Connection, plan_id: UUID,
                        revoked: TrainingPlanRevoked, context: EventContext) -> None:
    for id in await coe_applications_of_plan(conn, plan_id):
        await runner.decide_and_apply(
            conn, COE_APPLICATION, id, lambda s: coe.withdraw_for_revoked_plan(s, revoked.revoked_on, revoked.reason),
            context)
