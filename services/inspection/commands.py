"""The inspection service's commands: the only way anything (routes, subscriptions, tests) changes state.

Each runs in the caller's transaction (`UnitOfWork`). The schedule spans streams (one per
inspection), so the command that completes one inspection also schedules the next, and the end
of a permit closes every open one (scheduled, or awaiting an improvement report), in one
transaction; an implementing organization left with no plan in force has its schedule end the
same way, and its next certified plan starts it again.
"""

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date, timedelta
from uuid import UUID, uuid5

from contracts.inspection import (
    CancellationReason,
    ConsultationRecorded,
    Finding,
    InspectionOutcome,
    InspectionReason,
    InspectionScheduled,
    TargetType,
)
from contracts.registry import Scheme
from services.inspection.domain import consultation as con
from services.inspection.domain import filings as filing_rules
from services.inspection.domain import inspection as ins
from services.inspection.domain.rules import Cadence
from services.inspection.domain.trainee_protection import ProtectionInspection
from services.inspection.projections import filings as filing_worklist
from services.inspection.projections import organizations
from services.inspection.projections.consultations import employer_of_plan, project_consultation
from services.inspection.projections.inspections import (
    last_closed_for_want_of_plans,
    open_inspections_of,
    project_inspection,
)
from shared.commands import Aggregate, Outcome, UnitOfWork, existing
from shared.errors import NotFound
from shared.events import EventPayload
from shared.filings import FilingDues

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
    `since`; nothing (None) if its schedule is running or ended for good already: an organization has one
    schedule, whichever scheme's event comes first (an employer's next inspections are ESD ones once it has an
    ESD plan). An implementing organization's schedule ended for want of plans in force starts again; if the
    plan starting it was certified before that end (its certification arrived after the other plan's end), the
    schedule never really ended, and the inspection it closed is put back on the schedule with its dates."""
    scheme = ins.scheme_of(target_type, scheme)
    start = await organizations.start_schedule(uow.conn, target_id, target_type, since, scheme)
    if start is None:
        await organizations.note_scheme(uow.conn, target_id, scheme)
        return None
    first = ins.first_inspection(target_type, target_id, reason, since, cadence, scheme)
    if start.after_end_on is not None and since <= start.after_end_on:
        if closed := await last_closed_for_want_of_plans(uow.conn, target_id):
            first = ins.resumed_inspection(closed, since, scheme)
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
    """Record the improvement report guidance or a recommendation asked for."""
    return await uow.decide(
        INSPECTION, str(id), _existing(id, lambda s: ins.receive_improvement_report(s, received_on))
    )


async def cancel_inspection(uow: UnitOfWork, id: UUID, *, cancelled_on: date, reason: CancellationReason) -> Outcome:
    """Cancel the inspection if it is still scheduled (else nothing is recorded)."""
    return await uow.decide(INSPECTION, str(id), lambda s: ins.cancel(s, cancelled_on, reason))


async def close_inspection(uow: UnitOfWork, id: UUID, *, closed_on: date, reason: CancellationReason) -> Outcome:
    """Take the inspection off the worklists (`ins.close`): cancel it if scheduled, close its wait for an
    improvement report if it awaits one; else nothing is recorded."""
    return await uow.decide(INSPECTION, str(id), lambda s: ins.close(s, closed_on, reason))


async def cancel_open_inspections(
    uow: UnitOfWork, *, target_type: TargetType, target_id: UUID, cancelled_on: date, reason: CancellationReason
) -> list[str]:
    """End the organization's schedule and close its open inspections, scheduled or awaiting an improvement
    report (DOMAIN §11, §5); returns the ids of those it closed.

    The schedule's end is recorded first: it holds the organization's row until commit, so a completion
    racing it (`complete_inspection`, which reads the row first) takes turns with it."""
    await organizations.end_schedule(uow.conn, target_id, target_type, cancelled_on, reason)
    return await _close_open(uow, target_id, cancelled_on, reason)


async def end_schedule_without_plans(uow: UnitOfWork, *, implementing_organization_id: UUID) -> list[str]:
    """If the implementing organization has no plan in force any more, its schedule ends on the day its last
    plan ended and its scheduled regular inspection is cancelled (`no_plans_in_force`); returns the ids of those
    cancelled. Nothing while a plan is in force. Called again (another plan's end arriving late) it moves the end
    to the latest plan's end and closes nothing twice."""
    ended_on = await organizations.last_plan_ended_on(uow.conn, implementing_organization_id)
    if ended_on is None:
        return []
    reason: CancellationReason = organizations.NO_PLANS_IN_FORCE
    await organizations.end_schedule(
        uow.conn, implementing_organization_id, TargetType.IMPLEMENTING_ORGANIZATION, ended_on, reason
    )
    return await _close_open(uow, implementing_organization_id, ended_on, reason)


async def _close_open(uow: UnitOfWork, target_id: UUID, closed_on: date, reason: CancellationReason) -> list[str]:
    closed = []
    for id in await open_inspections_of(uow.conn, target_id):
        if (await close_inspection(uow, UUID(id), closed_on=closed_on, reason=reason)).events:
            closed.append(id)
    return closed


# Trainee consultations (DOMAIN §7, issue 20): one stream per consultation.

CONSULTATION = Aggregate("consultation", con.Consultation(), con.evolve, project_consultation)


async def record_consultation(uow: UnitOfWork, id: UUID, *, recorded: ConsultationRecorded) -> Outcome:
    """Record a trainee's consultation or complaint as OTIT received it; a training plan it names is checked
    against (or names) its implementing organization, when this service knows the plan."""
    plan_employer = await employer_of_plan(uow.conn, recorded.training_plan_id) if recorded.training_plan_id else None
    return await uow.decide(CONSULTATION, str(id), lambda s: con.record(s, recorded, plan_employer=plan_employer))


async def handle_consultation(uow: UnitOfWork, id: UUID, *, handled_on: date, handling: str, closed: bool) -> Outcome:
    """Record what OTIT did about the consultation; `closed` ends it."""
    return await uow.decide(
        CONSULTATION,
        str(id),
        existing("consultation", id, lambda s: con.handle(s, handled_on=handled_on, handling=handling, closed=closed)),
    )


def consultation_inspection_id(id: UUID) -> UUID:
    """The extraordinary inspection a consultation opens (once): derived from the consultation's id."""
    return uuid5(id, "inspection")


async def escalate_consultation(
    uow: UnitOfWork, id: UUID, *, target_type: TargetType, escalated_on: date, due_by: date
) -> Outcome:
    """Open an extraordinary inspection (reason: complaint) of the organization of `target_type` the consultation
    names, in the same transaction as the consultation's ConsultationEscalated; the inspection's rules apply too
    (the organization known to this service, due on or after `escalated_on`)."""
    inspection_id = consultation_inspection_id(id)
    escalated = await uow.decide(
        CONSULTATION,
        str(id),
        existing(
            "consultation",
            id,
            lambda s: con.escalate(s, escalated_on=escalated_on, inspection_id=inspection_id, target_type=target_type),
        ),
    )
    state, _ = await uow.load(CONSULTATION, str(id))
    assert state.escalation is not None, "escalated just now"
    await schedule_extraordinary_inspection(
        uow.unpinned(),
        inspection_id,
        target_type=target_type,
        target_id=state.escalation.target_id,
        reason=InspectionReason.COMPLAINT,
        scheduled_on=escalated_on,
        due_by=due_by,
        detail=f"trainee consultation {id} ({state.subject})",
    )
    return escalated


async def open_inspection_for_overdue_filing(
    uow: UnitOfWork,
    id: UUID,
    *,
    filing_id: UUID,
    scheduled_on: date,
    due_by: date,
    reason: str | None,
    cadence: Cadence,
    dues: FilingDues,
) -> Outcome:
    """Put inspection `id` of the organization owing the filing on the schedule (issue 20): only while the filing
    is overdue on `scheduled_on`, once per filing (per report due, for quarterly audit reports); the inspection
    names the filing, and the filing on the worklist names the inspection."""
    owed = await filing_worklist.find_owed_filing(
        uow.conn, filing_id, day=scheduled_on, months=cadence.quarterly_audit_report_months, dues=dues
    )
    if owed is None:
        raise NotFound("filing", filing_id)
    target_type = filing_rules.TARGET_OF_KIND[owed.kind]
    owed_by = {
        TargetType.IMPLEMENTING_ORGANIZATION: owed.implementing_organization_id,
        TargetType.SUPERVISING_ORGANIZATION: owed.supervising_organization_id,
        TargetType.SUPERVISION_SUPPORT_ORGANIZATION: owed.supervision_support_organization_id,
    }[target_type]
    assert owed_by is not None, f"a {owed.kind} names who owes it"
    filing = filing_rules.OwedFiling(owed.id, owed.kind, owed_by, owed.due_on, owed.status, owed.inspection_id)
    scheme = await organizations.known_scheme(uow.conn, owed_by, target_type)
    scheduled = filing_rules.inspection_for_overdue_filing(
        filing,
        scheduled_on=scheduled_on,
        due_by=due_by,
        reason=reason,
        scheme=ins.scheme_of(target_type, scheme or Scheme.TITP),
    )
    if not await filing_worklist.record_inspection_opened(
        uow.conn, filing_id, id, due_on=owed.due_on, opened_on=scheduled_on
    ):  # another request opened one since the filing was read
        filing_rules.inspection_for_overdue_filing(
            replace(filing, inspection_id=id), scheduled_on=scheduled_on, due_by=due_by, reason=reason
        )
    return await uow.decide(
        INSPECTION, str(id), lambda s: ins.schedule_extraordinary(s, scheduled, target_known=scheme is not None)
    )


# Trainee protection (issue 25): accreditation's events open an extraordinary inspection of the employer


async def open_trainee_protection_inspection(
    uow: UnitOfWork, id: UUID, *, asked: ProtectionInspection, cadence: Cadence
) -> Outcome:
    """Put inspection `id` of the implementing organization on the schedule, due `cadence.trainee_protection_due_days`
    after it is opened. The event names the employer, so it is known here from now on (its registration may come
    later on the registry's topic)."""
    employer = asked.implementing_organization_id
    await organizations.know_organization(
        uow.conn, employer, TargetType.IMPLEMENTING_ORGANIZATION, asked.scheme or Scheme.TITP
    )
    return await schedule_extraordinary_inspection(
        uow,
        id,
        target_type=TargetType.IMPLEMENTING_ORGANIZATION,
        target_id=employer,
        reason=asked.reason,
        scheduled_on=asked.opened_on,
        due_by=asked.opened_on + timedelta(days=cadence.trainee_protection_due_days),
        detail=asked.detail,
    )
