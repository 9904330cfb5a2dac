"""What the registry does with other services' events, and on its own by the calendar.

Policies, each a call into commands.py: an inspection's referral on a supervising organization (TITP) or
a supervision support organization (ESD) is applied once to that organization's permit (an improvement
order, a suspension or a revocation); every day the permits of both schemes whose last day has passed are
recorded as expired. From accreditation, the Art. 15 improvement orders on implementing organizations and the
Art. 16 revocations of plan certification are published in the registry's disclosure (DOMAIN §11).
"""

import logging
from datetime import date
from uuid import UUID

import asyncpg

from contracts.inspection import (
    AdministrativeAction,
    AdministrativeActionReferred,
    TargetType,
    inspection_events,
)
from contracts.registry import RevocationGround, Scheme
from services.registry import commands
from services.registry.domain import rules
from services.registry.domain.identity import violation
from services.registry.projections.disclosure import employer_action_id, publish_employer_action
from services.registry.projections.fee_flags import FEES_FLAGGED, record_fee_flag
from shared.commands import CommandRunner, UnitOfWork
from shared.errors import DomainRuleViolation, NotFound
from shared.events import EventContext, RecordedEvent
from shared.telemetry import current_traceparent
from shared.web.http import today

log = logging.getLogger(__name__)

REFERRAL = inspection_events.type_name(AdministrativeActionReferred)
# Accreditation's events, matched by name (their models are accreditation's contract; the registry reads only the
# fields it publishes, so an added field or version changes nothing here).
ACCREDITATION = "titp.accreditation."
EMPLOYER_IMPROVEMENT_ORDER = "EmployerImprovementOrderIssued"  # Art. 15, on the implementing organization
PLAN_REVOKED = "TrainingPlanRevoked"  # Art. 16
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


def referred_ground(referral: AdministrativeActionReferred) -> RevocationGround:
    """The Art. 37(1) ground a referral names; one naming none is taken as ground 4 (a breach of the Act, or of an
    order), as it always was for revocations. A value that is no ground is refused by rule, not parked."""
    try:
        return RevocationGround(referral.ground or RevocationGround.LAW_BREACHED)
    except ValueError:
        raise violation(
            "referral.ground_unknown", f"{referral.ground!r} is not a ground of Art. 37(1)", "ground"
        ) from None


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
                ground=referred_ground(referral),
            )
        case AdministrativeAction.PERMIT_REVOCATION:
            await revoke_permit(
                uow,
                id,
                revoked_on=referral.decided_on,
                ground=referred_ground(referral),
                reason=referral.reason,
            )


async def publish_accreditation_decision(conn: asyncpg.Connection, event: RecordedEvent) -> None:
    """Publish an Art. 15 order or an Art. 16 revocation on an implementing organization (DOMAIN §11): its name,
    number and prefecture as the registry records them; nothing of the plan or trainee."""
    kind = event.type.removeprefix(ACCREDITATION).split(".")[0]
    data = event.data
    employer = UUID(str(data["implementing_organization_id"]))
    if kind == EMPLOYER_IMPROVEMENT_ORDER:
        order_id = str(data["order_id"])
        published = await publish_employer_action(
            conn,
            implementing_organization_id=employer,
            action="employer_improvement_order",
            action_date=date.fromisoformat(data["issued_on"]),
            deadline=date.fromisoformat(data["deadline"]) if data.get("deadline") else None,
            action_id=employer_action_id(employer, "employer_improvement_order", order_id),
        )
    else:
        revoked_on = date.fromisoformat(data["revoked_on"])
        # One row per employer and day: the plans revoked together are one decision on the employer.
        published = await publish_employer_action(
            conn,
            implementing_organization_id=employer,
            action="plan_revocation",
            action_date=revoked_on,
            action_id=employer_action_id(employer, "plan_revocation", revoked_on.isoformat()),
            scheme=Scheme(data.get("scheme") or Scheme.TITP),
        )
    if not published:
        log.warning(
            "%s on implementing organization %s not published: the registry does not know it",
            kind,
            employer,
            extra={"event_id": str(event.id)},
        )


async def on_event(runner: CommandRunner, conn: asyncpg.Connection, event: RecordedEvent) -> None:
    if event.type.startswith(ACCREDITATION):
        kind = event.type.removeprefix(ACCREDITATION).split(".")[0]
        if kind in (EMPLOYER_IMPROVEMENT_ORDER, PLAN_REVOKED):
            await publish_accreditation_decision(conn, event)
        elif kind == FEES_FLAGGED:  # issue 25: a plan's fees above accreditation's ceiling
            await record_fee_flag(conn, UUID(event.subject), event.data)
        return
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
