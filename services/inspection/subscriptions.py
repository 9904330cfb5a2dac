"""What the inspection service does with other services' events: the schedule builds itself (DOMAIN §5, §9).

The organizations it hears of go to the local view (projections/organizations.py), with each employer's
certified plans and their ends, and the ESD supports and quarterly audit reports to
projections/filings.py; the schedule's policies (a TITP or ESD permit granted or a first certified plan
of either scheme: the first inspection; a permit revoked or expired: its open inspections closed,
scheduled or awaiting a report; an employer's last plan in force ended: its schedule ends, and its next
certified plan starts it again) are commands (commands.py).

Runs in the subscription's transaction, after the inbox recorded the event: each effect,
including the inspection events appended here, happens once however often the event is
delivered. The ids of inspections scheduled here derive from the causing event's id, so a
replay of the topics into a fresh database schedules the same inspections.

Order: one plan's events come in order (one stream, one partition), different plans' not
necessarily. Whether an employer has a plan in force is asked of all the plans seen so far,
and the end of its schedule is the latest end among them, whichever plan's end came last; a
certification that comes after another plan's end but was certified before it puts the
inspection that end cancelled back on the schedule (commands.schedule_first_inspection).
"""

import logging
from datetime import date
from uuid import UUID, uuid5

import asyncpg

from contracts.accreditation import (
    TrainingPlanCertified,
    TrainingPlanCompleted,
    TrainingPlanDiscontinued,
    TrainingPlanRevoked,
    TrainingPlanTransferred,
    accreditation_events,
)
from contracts.inspection import CancellationReason, InspectionReason, TargetType
from contracts.registry import (
    ImplementingOrganizationRegistered,
    PermitApplied,
    PermitExpired,
    PermitGranted,
    PermitRevoked,
    QuarterlyAuditReportFiled,
    Scheme,
    SupervisionChanged,
    SupervisionSupportPermitApplied,
    SupervisionSupportPermitGranted,
    registry_events,
)
from services.inspection import commands
from services.inspection.domain.rules import Cadence
from services.inspection.domain.trainee_protection import inspection_asked_by
from services.inspection.projections import filings
from services.inspection.projections.organizations import (
    know_organization,
    plan_certified,
    plan_ended,
    target_type_of,
)
from shared.commands import CommandRunner, UnitOfWork
from shared.events import EventContext, RecordedEvent
from shared.telemetry import current_traceparent

log = logging.getLogger(__name__)

SUPERVISING, IMPLEMENTING = TargetType.SUPERVISING_ORGANIZATION, TargetType.IMPLEMENTING_ORGANIZATION
SUPPORT = TargetType.SUPERVISION_SUPPORT_ORGANIZATION


async def on_event(runner: CommandRunner, conn: asyncpg.Connection, event: RecordedEvent, *, cadence: Cadence) -> None:
    if registry_events.knows(event.type):
        payload = registry_events.parse(event.type, event.data)
    elif accreditation_events.knows(event.type):
        payload = accreditation_events.parse(event.type, event.data)
    else:
        return
    uow = UnitOfWork(runner, conn, EventContext.caused_by(event, current_traceparent()))
    inspection_id = uuid5(event.id, "inspection")
    organization = UUID(event.subject)
    # The filings worklist (projections/filings.py): plans, permits and the filings received (issue 20).
    await filings.record_filing_facts(conn, event.id, organization, payload)
    match payload:
        case PermitApplied():
            await know_organization(conn, organization, SUPERVISING)
        case SupervisionSupportPermitApplied():
            await know_organization(conn, organization, SUPPORT, Scheme.ESD)
        case ImplementingOrganizationRegistered():
            await know_organization(conn, organization, IMPLEMENTING)
        case PermitGranted():
            await commands.schedule_first_inspection(
                uow,
                inspection_id,
                target_type=SUPERVISING,
                target_id=organization,
                reason=InspectionReason.PERMIT_GRANTED,
                since=payload.granted_on,
                cadence=cadence,
            )
        case SupervisionSupportPermitGranted():
            await commands.schedule_first_inspection(
                uow,
                inspection_id,
                target_type=SUPPORT,
                target_id=organization,
                reason=InspectionReason.PERMIT_GRANTED,
                since=payload.granted_on,
                cadence=cadence,
                scheme=Scheme.ESD,
            )
        case TrainingPlanCertified():
            # The first certified plan of either scheme starts the employer's one schedule (again, if it had ended
            # for want of plans in force).
            await plan_certified(conn, organization, payload.implementing_organization_id, payload.certified_on)
            await commands.schedule_first_inspection(
                uow,
                inspection_id,
                target_type=IMPLEMENTING,
                target_id=payload.implementing_organization_id,
                reason=InspectionReason.FIRST_CERTIFIED_PLAN,
                since=payload.certified_on,
                cadence=cadence,
                scheme=payload.scheme,
            )
        case TrainingPlanCompleted() | TrainingPlanDiscontinued() | TrainingPlanRevoked() | TrainingPlanTransferred():
            # The plan is in force no more; the employer's schedule ends with its last plan in force.
            employer = payload.implementing_organization_id
            await plan_ended(conn, organization, employer, _plan_ended_on(payload))
            cancelled = await commands.end_schedule_without_plans(uow, implementing_organization_id=employer)
            if cancelled:
                log.info(
                    "no_plans_in_force: cancelled %d regular inspections of %s",
                    len(cancelled),
                    employer,
                    extra={"event_id": str(event.id), "cancelled": cancelled},
                )
        case SupervisionChanged(scheme=Scheme.ESD):
            await filings.support_from(
                conn,
                payload.supervising_organization_id,
                organization,
                payload.effective_from,
                alongside=payload.alongside,
            )
        case QuarterlyAuditReportFiled():
            await filings.record_audit_report(
                conn,
                payload.report_id,
                support_organization_id=organization,
                employer_id=payload.implementing_organization_id,
                quarter_ending=payload.quarter_ending,
                filed_on=payload.filed_on,
            )
        case PermitRevoked() | PermitExpired():
            # The stream tells whose permit: a supervising organization's (TITP) or a supervision support
            # organization's (ESD), which also ends the quarterly audit reports it owes (projections/filings.py).
            reason: CancellationReason = "permit_revoked" if isinstance(payload, PermitRevoked) else "permit_expired"
            on = payload.revoked_on if isinstance(payload, PermitRevoked) else payload.expired_on
            target_type = await target_type_of(conn, organization) or SUPERVISING
            cancelled = await commands.cancel_open_inspections(
                uow, target_type=target_type, target_id=organization, cancelled_on=on, reason=reason
            )
            log.info(
                "%s: closed %d open inspections of %s",
                reason,
                len(cancelled),
                organization,
                extra={"event_id": str(event.id), "cancelled": cancelled},
            )

    # Trainee protection (issue 25): an early return flagged, an employer above the rate of such returns, a trainee's
    # disappearance or death opens an extraordinary inspection of the employer, once (its id derives from the event's).
    if (asked := inspection_asked_by(payload, event.subject)) is not None:
        await commands.open_trainee_protection_inspection(uow, inspection_id, asked=asked, cadence=cadence)


def _plan_ended_on(
    payload: TrainingPlanCompleted | TrainingPlanDiscontinued | TrainingPlanRevoked | TrainingPlanTransferred,
) -> date:
    match payload:
        case TrainingPlanCompleted():
            return payload.completed_on
        case TrainingPlanDiscontinued():
            return payload.discontinued_on
        case TrainingPlanRevoked():
            return payload.revoked_on
    return payload.transferred_on
