"""What the accreditation service does with other services' events (DOMAIN §4, §5).

Runs in the subscription's transaction, after the inbox recorded the event: each effect,
including the events appended here, happens once however often the event is delivered.
The registry's events build the local view (projections/registry.py); the policies call
`commands.py` in the same transaction.
"""

import logging
from uuid import UUID

import asyncpg

from contracts.inspection import AdministrativeAction, AdministrativeActionReferred, TargetType, inspection_events
from contracts.registry import PermitExpired, PermitRevoked, registry_events
from services.accreditation import commands
from services.accreditation.projections.registry import record_registry_event
from shared.commands import CommandRunner, UnitOfWork
from shared.events import EventContext, RecordedEvent
from shared.telemetry import current_traceparent

log = logging.getLogger(__name__)


async def on_event(runner: CommandRunner, conn: asyncpg.Connection, event: RecordedEvent) -> None:
    uow = UnitOfWork(runner, conn, EventContext.caused_by(event, current_traceparent()))
    if registry_events.knows(event.type):
        payload = registry_events.parse(event.type, event.data)
        await record_registry_event(conn, event.subject, payload)
        if isinstance(payload, PermitRevoked):
            # The plans in force under the revoked permit need a new supervising organization.
            await commands.require_new_supervising_organization(
                uow,
                UUID(event.subject),
                since=payload.revoked_on,
                reason=f"the supervising organization's permit was revoked on {payload.revoked_on} ({payload.ground})",
            )
        elif isinstance(payload, PermitExpired):
            # An expired permit is no permit either (§11): the same flag.
            await commands.require_new_supervising_organization(
                uow,
                UUID(event.subject),
                since=payload.expired_on,
                reason=f"the supervising organization's permit expired on {payload.expired_on}",
            )
    elif inspection_events.knows(event.type):
        payload = inspection_events.parse(event.type, event.data)
        if (
            isinstance(payload, AdministrativeActionReferred)
            and payload.action is AdministrativeAction.EMPLOYER_IMPROVEMENT_ORDER
            and payload.target_type is TargetType.IMPLEMENTING_ORGANIZATION
        ):
            # Art. 15: the referral asks for an improvement order on the implementing organization.
            if payload.deadline is None or payload.deadline <= payload.decided_on:
                log.warning("referral %s asks for an order with no deadline after it", payload.referral_id)
                return
            await commands.issue_employer_improvement_order(
                uow,
                payload.target_id,
                issued_on=payload.decided_on,
                deadline=payload.deadline,
                reason=payload.reason,
                referral_id=payload.referral_id,
                require_registered=False,
            )
        elif (
            isinstance(payload, AdministrativeActionReferred)
            and payload.action is AdministrativeAction.PLAN_REVOCATION
            and payload.target_type is TargetType.IMPLEMENTING_ORGANIZATION
        ):
            # Art. 16: the implementing organization's plans in force lose their certification.
            await commands.revoke_on_referral(
                uow,
                payload.target_id,
                revoked_on=payload.decided_on,
                reason=payload.reason,
                referral_id=payload.referral_id,
            )
    else:
        log.debug("ignored %s %s: not an event this service knows", event.type, event.id)
