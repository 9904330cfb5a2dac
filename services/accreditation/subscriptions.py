"""What the accreditation service does with other services' events (DOMAIN §4, §5).

Runs in the subscription's transaction, after the inbox recorded the event: each effect,
including the events appended here, happens once however often the event is delivered.
"""

import logging
from uuid import UUID

import asyncpg

from services.accreditation.domain import training_plan as tp
from services.accreditation.handlers import IMPLEMENTING_ORGANIZATION_LOCK, TRAINING_PLAN, lock
from services.accreditation.projections.registry import record_registry_event
from services.accreditation.projections.training_plans import plans_in_force_of
from contracts.inspection import (
    AdministrativeAction,
    AdministrativeActionReferred,
    TargetType,
    inspection_events,
)
from contracts.registry import PermitRevoked, registry_events
from shared.commands import CommandRunner
from shared.events import EventContext, RecordedEvent
from shared.telemetry import current_traceparent

log = logging.getLogger(__name__)


async def on_event(runner: CommandRunner, conn: asyncpg.Connection, event: RecordedEvent) -> None:
    context = EventContext.caused_by(event, current_traceparent())
    if registry_events.knows(event.type):
        payload = registry_events.parse(event.type, event.data)
        await record_registry_event(conn, event.subject, payload)
        if isinstance(payload, PermitRevoked):
            await _require_new_supervising_organization(runner, conn, UUID(event.subject), payload, context)
    elif inspection_events.knows(event.type):
        payload = inspection_events.parse(event.type, event.data)
        if (isinstance(payload, AdministrativeActionReferred) and payload.action is AdministrativeAction.PLAN_REVOCATION
                and payload.target_type is TargetType.IMPLEMENTING_ORGANIZATION):
            await _revoke_plans(runner, conn, payload, context)
    else:
        log.debug("ignored %s %s: not an event this service knows", event.type, event.id)


async def _require_new_supervising_organization(runner: CommandRunner, conn: asyncpg.Connection,
                                                supervising_organization_id: UUID, revoked: PermitRevoked,
                                                context: EventContext) -> None:
    """Flag the plans in force under a revoked permit; new ones are refused by certification itself."""
    reason = f"the supervising organization's permit was revoked on {revoked.revoked_on} ({revoked.ground})"
    for plan_id in await plans_in_force_of(conn, "supervising_organization_id", supervising_organization_id):
        await runner.decide_and_apply(
            conn, TRAINING_PLAN, plan_id,
            lambda state: tp.require_new_supervising_organization(state, revoked.revoked_on, reason), context)


async def _revoke_plans(runner: CommandRunner, conn: asyncpg.Connection, referral: AdministrativeActionReferred,
                        context: EventContext) -> None:
    """Art. 16: revoke the certification of the implementing organization's plans in force."""
    await lock(conn, IMPLEMENTING_ORGANIZATION_LOCK, referral.target_id)
    for plan_id in await plans_in_force_of(conn, "implementing_organization_id", referral.target_id):
        await runner.decide_and_apply(
            conn, TRAINING_PLAN, plan_id,
            lambda state: tp.revoke_on_referral(state, referral.decided_on, referral.reason, referral.referral_id),
            context)
