"""What the registry does with other services' events, and on its own by the calendar.

Policies, each a call into commands.py: an inspection's referral on a supervising organization (TITP) or
a supervision support organization (ESD) is applied once to that organization's permit (an improvement
order, a suspension or a revocation); every day the permits of both schemes whose last day has passed are
recorded as expired.
"""

import logging

import asyncpg

from contracts.inspection import (
    AdministrativeAction,
    AdministrativeActionReferred,
    TargetType,
    inspection_events,
)
from contracts.registry import RevocationGround
from services.registry import commands
from services.registry.domain import rules
from shared.commands import CommandRunner, UnitOfWork
from shared.errors import DomainRuleViolation, NotFound
from shared.events import EventContext, RecordedEvent
from shared.telemetry import current_traceparent
from shared.web.http import today

log = logging.getLogger(__name__)

REFERRAL = inspection_events.type_name(AdministrativeActionReferred)
APPLIED_HERE = frozenset(
    {AdministrativeAction.IMPROVEMENT_ORDER, AdministrativeAction.SUSPENSION, AdministrativeAction.PERMIT_REVOCATION}
)
PERMIT_HOLDERS = frozenset({TargetType.SUPERVISING_ORGANIZATION, TargetType.SUPERVISION_SUPPORT_ORGANIZATION})
# The commands on each kind of permit, by what the referral asks: the law is the same for both.
ON_PERMIT = {
    TargetType.SUPERVISING_ORGANIZATION: (
        commands.issue_improvement_order,
        commands.suspend_business,
        commands.revoke_permit,
    ),
    TargetType.SUPERVISION_SUPPORT_ORGANIZATION: (
        commands.issue_support_improvement_order,
        commands.suspend_support_business,
        commands.revoke_supervision_support_permit,
    ),
}


async def apply_referral(uow: UnitOfWork, referral: AdministrativeActionReferred) -> None:
    """The command a referral on a supervising or supervision support organization asks for."""
    id = referral.target_id
    issue_improvement_order, suspend_business, revoke_permit = ON_PERMIT[referral.target_type]
    match referral.action:
        case AdministrativeAction.IMPROVEMENT_ORDER:
            await issue_improvement_order(
                uow,
                id,
                order_id=referral.referral_id,
                issued_on=referral.decided_on,
                deadline=rules.referred_improvement_order_deadline(referral.decided_on, referral.deadline),
                reason=referral.reason,
            )
        case AdministrativeAction.SUSPENSION:
            await suspend_business(
                uow,
                id,
                suspension_id=referral.referral_id,
                from_date=referral.from_date or referral.decided_on,
                until_date=referral.until_date or referral.decided_on,
                scope=referral.scope or "all",
                part=None if referral.scope != "part" else referral.reason,
                reason=referral.reason,
            )
        case AdministrativeAction.PERMIT_REVOCATION:
            await revoke_permit(
                uow,
                id,
                revoked_on=referral.decided_on,
                ground=RevocationGround(referral.ground or RevocationGround.LAW_BREACHED),
                reason=referral.reason,
            )


async def on_event(runner: CommandRunner, conn: asyncpg.Connection, event: RecordedEvent) -> None:
    if event.type != REFERRAL:
        return
    referral = inspection_events.parse(event.type, event.data)
    assert isinstance(referral, AdministrativeActionReferred)
    if referral.target_type not in PERMIT_HOLDERS or referral.action not in APPLIED_HERE:
        return
    uow = UnitOfWork(runner, conn, EventContext.caused_by(event, current_traceparent()))
    try:
        await apply_referral(uow, referral)
    except (DomainRuleViolation, NotFound) as refused:
        # A referral the permit's state no longer allows (e.g. already revoked), or on an organization this
        # registry does not hold, is an outcome, not a poison message: it is logged for the officers and the
        # partition moves on.
        rule = refused.rule if isinstance(refused, DomainRuleViolation) else refused.problem
        log.warning(
            "referral %s on %s not applied: %s (%s)",
            referral.referral_id,
            referral.target_id,
            refused.detail,
            rule,
            extra={"rule": rule, "event_id": str(event.id)},
        )


async def record_expiries(runner: CommandRunner) -> None:
    """The daily clock: permits of both schemes whose last day has passed are recorded as expired."""
    for sweep, kind in (
        (commands.record_expiries, "TITP"),
        (commands.record_supervision_support_expiries, "ESD"),
    ):
        outcome = await runner.transact(sweep, as_of=today(), context=EventContext(actor="registry:calendar"))
        if outcome.events:
            log.info("recorded the expiry of %d %s permits", len(outcome.events), kind)
