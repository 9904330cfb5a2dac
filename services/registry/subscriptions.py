"""What the registry does with other services' events: apply inspection referrals, once each."""

import logging
from datetime import timedelta

import asyncpg

from contracts.inspection import (
    AdministrativeAction,
    AdministrativeActionReferred,
    TargetType,
    inspection_events,
)
from services.registry.api.supervising_organizations import SUPERVISING_ORGANIZATION, expire_permits
from services.registry.domain import supervising_organization as so
from contracts.registry import RevocationGround
from shared.commands import CommandRunner
from shared.errors import DomainRuleViolation
from shared.events import EventContext, RecordedEvent
from shared.web.http import today
from shared.telemetry import current_traceparent

log = logging.getLogger(__name__)

REFERRAL = inspection_events.type_name(AdministrativeActionReferred)


def _decision(referral: AdministrativeActionReferred):
    match referral.action:
        case AdministrativeAction.IMPROVEMENT_ORDER:
            deadline = referral.deadline or referral.decided_on + timedelta(days=90)
            return lambda s: so.issue_improvement_order(s, referral.referral_id, referral.decided_on, deadline,
                                                        referral.reason)
        case AdministrativeAction.SUSPENSION:
            return lambda s: so.suspend_business(s, referral.referral_id, referral.from_date or referral.decided_on,
                                                 referral.until_date or referral.decided_on, referral.scope or "all",
                                                 None if referral.scope != "part" else referral.reason,
                                                 referral.reason)
        case AdministrativeAction.PERMIT_REVOCATION:
            ground = RevocationGround(referral.ground or RevocationGround.LAW_BREACHED)
            return lambda s: so.revoke_permit(s, referral.decided_on, ground, referral.reason)
    return None


async def on_event(runner: CommandRunner, conn: asyncpg.Connection, event: RecordedEvent) -> None:
    if event.type != REFERRAL:
        return
    referral = inspection_events.parse(event.type, event.data)
    decide = _decision(referral)
    if referral.target_type is not TargetType.SUPERVISING_ORGANIZATION or decide is None:
        return
    context = EventContext.caused_by(event, current_traceparent())
    try:
        await runner.decide_and_apply(conn, SUPERVISING_ORGANIZATION, str(referral.target_id), decide, context)
    except DomainRuleViolation as refused:
        # A referral the permit's state no longer allows (e.g. already revoked) is an outcome, not a poison
        # message: it is logged for the officers and the partition moves on.
        log.warning("referral %s on %s not applied: %s (%s)", referral.referral_id, referral.target_id,
                    refused.detail, refused.rule, extra={"rule": refused.rule, "event_id": str(event.id)})


async def record_expiries(runner: CommandRunner) -> None:
    """The daily clock: permits whose last day has passed are recorded as expired."""
    async with runner.pool.acquire() as conn, conn.transaction():
        expired = await expire_permits(runner, conn, today(), EventContext(actor="registry:calendar"))
    if expired:
        log.info("recorded the expiry of %d permits", len(expired))
