"""One inspection: state, evolve, and one decide function per command (DOMAIN §5, §7, §11).

    scheduled -> completed (outcome; guidance or a recommendation awaits an improvement report until received,
                            or until the organization's permit ends: the wait is closed)
    scheduled -> cancelled (the organization's permit revoked or expired; a regular inspection of an
                            implementing organization with no plan in force any more)

Each inspection is under a scheme (DOMAIN §9): TITP, or ESD for a supervision support organization and for an
employer once one of its plans is an ESD plan. The scheme sets the cadence (rules.py); an organization has one
schedule whatever its schemes (an employer with TITP and ESD plans is not inspected twice).

"Overdue" is not a state: it is what the dates say on a given day. The rules `overdue_from`,
`is_overdue` and `is_report_overdue` below are its one definition: the inspection's `overdue_on`,
the worklist's SQL filters (projections/inspections.py) and the statistics' overdue counts
(projections/statistics.py) are built from them, and a test checks they answer alike on the
boundary days (tests/integration/test_inspection_overdue.py).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from enum import StrEnum
from typing import Literal, NoReturn
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.inspection import (
    TRAINEE_PROTECTION_CODES,
    AdministrativeAction,
    AdministrativeActionReferred,
    CancellationReason,
    Finding,
    ImprovementReportReceived,
    ImprovementReportWaitClosed,
    InspectionCancelled,
    InspectionCompleted,
    InspectionOutcome,
    InspectionReason,
    InspectionScheduled,
    TargetType,
)
from contracts.registry import RevocationGround, Scheme
from services.inspection.domain.rules import Cadence
from shared.errors import DomainRuleViolation
from shared.events import EventPayload

# Which service acts on which referral: the registry on a supervising (or supervision support) organization's
# permit, accreditation on an implementing organization's plans.
PERMIT_ACTIONS = frozenset(
    {AdministrativeAction.IMPROVEMENT_ORDER, AdministrativeAction.SUSPENSION, AdministrativeAction.PERMIT_REVOCATION}
)
# Accreditation acts on an implementing organization: Art. 16 revokes its plans, Art. 15 orders it (the
# organization, not a plan) to improve (DOMAIN §11).
EMPLOYER_ACTIONS = frozenset({AdministrativeAction.PLAN_REVOCATION, AdministrativeAction.EMPLOYER_IMPROVEMENT_ORDER})
ACTIONS_BY_TARGET = {
    TargetType.SUPERVISING_ORGANIZATION: PERMIT_ACTIONS,
    TargetType.SUPERVISION_SUPPORT_ORGANIZATION: PERMIT_ACTIONS,
    TargetType.IMPLEMENTING_ORGANIZATION: EMPLOYER_ACTIONS,
}
# The outcomes that ask for an improvement report by a date (DOMAIN §11: guidance too, like a recommendation).
REPORT_OUTCOMES = frozenset({InspectionOutcome.GUIDANCE, InspectionOutcome.RECOMMENDATION})


def scheme_of(target_type: TargetType, scheme: Scheme = Scheme.TITP) -> Scheme:
    """The scheme an inspection of the target is under: a supervision support organization exists only under
    ESD, a supervising organization only under TITP; an implementing organization's is `scheme` (its plans')."""
    match target_type:
        case TargetType.SUPERVISION_SUPPORT_ORGANIZATION:
            return Scheme.ESD
        case TargetType.SUPERVISING_ORGANIZATION:
            return Scheme.TITP
    return scheme


class Status(StrEnum):
    SCHEDULED = "scheduled"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class Referral(BaseModel):
    """What an inspection refers for administrative action, as the officer decides it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    action: AdministrativeAction
    reason: str = Field(min_length=1, max_length=2000)
    decided_on: date | None = Field(None, description="defaults to the inspection date")
    deadline: date | None = Field(
        None, description="improvement_order, employer_improvement_order: the deadline to improve by"
    )
    from_date: date | None = Field(None, description="suspension: the first day")
    until_date: date | None = Field(None, description="suspension: the last day")
    scope: Literal["all", "part"] | None = Field(None, description="suspension: all or part of the business")
    ground: RevocationGround | None = Field(None, description="permit_revocation: the ground of Art. 37(1)")


# Overdue, by the dates (DOMAIN §5).


def overdue_from(scheduled_on: date, due_by: date) -> date:
    """The first day an inspection can be overdue: the day after its due date (on `due_by` itself it is
    not overdue yet), and not before it was put on the schedule."""
    return max(due_by + timedelta(days=1), scheduled_on)


def is_overdue(day: date, *, scheduled_on: date, due_by: date, closed_on: date | None) -> bool:
    """Overdue on `day`: from `overdue_from` on, until the day it was inspected or cancelled (not overdue
    on that day itself)."""
    return overdue_from(scheduled_on, due_by) <= day and (closed_on is None or day < closed_on)


def is_report_overdue(day: date, *, due: date, received_on: date | None, wait_closed_on: date | None = None) -> bool:
    """An improvement report is overdue on `day` after its due day (not on the due day itself) until
    the day it was received or the wait for it was closed (not on that day)."""
    return due < day and (received_on is None or day < received_on) and (wait_closed_on is None or day < wait_closed_on)


NOT_SCHEDULED = date.min  # the dates of an inspection not on the schedule yet
NO_TARGET = UUID(int=0)


@dataclass(frozen=True)
class Inspection:
    """One inspection. `Inspection()` is one not on the schedule yet (`exists` is false): until its
    InspectionScheduled, its target and dates are placeholders that no decision reads."""

    target_type: TargetType = TargetType.SUPERVISING_ORGANIZATION
    target_id: UUID = NO_TARGET
    reason: InspectionReason | None = None
    scheduled_on: date = NOT_SCHEDULED
    due_by: date = NOT_SCHEDULED
    detail: str | None = None
    follows: UUID | None = None
    scheme: Scheme = Scheme.TITP
    status: Status | None = None
    inspected_on: date | None = None
    inspector: str | None = None
    findings: tuple[Finding, ...] = ()
    outcome: InspectionOutcome | None = None
    referral: AdministrativeActionReferred | None = None
    improvement_report_due: date | None = None
    improvement_report_received_on: date | None = None
    cancelled_on: date | None = None
    cancellation_reason: CancellationReason | None = None
    report_wait_closed_on: date | None = None
    report_wait_closed_reason: CancellationReason | None = None

    @property
    def exists(self) -> bool:
        return self.status is not None

    @property
    def extraordinary(self) -> bool:
        return self.reason is not None and self.reason.extraordinary

    @property
    def closed_on(self) -> date | None:
        """The day it stopped being due: inspected or cancelled."""
        return self.inspected_on or self.cancelled_on

    @property
    def asks_for_report(self) -> bool:
        """Guidance or a recommendation with its report's due date (guidance recorded before DOMAIN §11 has none)."""
        return self.outcome in REPORT_OUTCOMES and self.improvement_report_due is not None

    @property
    def awaiting_report(self) -> bool:
        return (
            self.asks_for_report and self.improvement_report_received_on is None and self.report_wait_closed_on is None
        )

    def overdue_on(self, day: date) -> bool:
        """Past its due date on `day` and not yet inspected or cancelled by then (`is_overdue`)."""
        return self.exists and is_overdue(
            day, scheduled_on=self.scheduled_on, due_by=self.due_by, closed_on=self.closed_on
        )

    def report_overdue_on(self, day: date) -> bool:
        """An improvement report due before `day` and not received by then (`is_report_overdue`)."""
        return (
            self.asks_for_report
            and self.improvement_report_due is not None
            and is_report_overdue(
                day,
                due=self.improvement_report_due,
                received_on=self.improvement_report_received_on,
                wait_closed_on=self.report_wait_closed_on,
            )
        )


def evolve(state: Inspection, event: EventPayload) -> Inspection:
    match event:
        case InspectionScheduled():
            return replace(
                state,
                target_type=event.target_type,
                target_id=event.target_id,
                reason=event.reason,
                scheduled_on=event.scheduled_on,
                due_by=event.due_by,
                detail=event.detail,
                follows=event.follows,
                scheme=event.scheme,
                status=Status.SCHEDULED,
            )
        case InspectionCompleted():
            return replace(
                state,
                status=Status.COMPLETED,
                inspected_on=event.inspected_on,
                inspector=event.inspector,
                findings=event.findings,
                outcome=event.outcome,
                improvement_report_due=event.improvement_report_due,
            )
        case AdministrativeActionReferred():
            return replace(state, referral=event)
        case ImprovementReportReceived():
            return replace(state, improvement_report_received_on=event.received_on)
        case InspectionCancelled():
            return replace(
                state, status=Status.CANCELLED, cancelled_on=event.cancelled_on, cancellation_reason=event.reason
            )
        case ImprovementReportWaitClosed():
            return replace(state, report_wait_closed_on=event.closed_on, report_wait_closed_reason=event.reason)
    return state


def _refuse(rule: str, detail: str) -> NoReturn:
    raise DomainRuleViolation(rule, detail)


# The schedule.


def first_inspection(
    target_type: TargetType,
    target_id: UUID,
    reason: InspectionReason,
    since: date,
    cadence: Cadence,
    scheme: Scheme = Scheme.TITP,
) -> InspectionScheduled:
    """An organization's first regular inspection: due within its scheme's cadence from the event that starts
    its schedule."""
    scheme = scheme_of(target_type, scheme)
    return InspectionScheduled(
        target_type=target_type,
        target_id=target_id,
        reason=reason,
        scheduled_on=since,
        due_by=cadence.next_due(target_type, since, scheme),
        scheme=scheme,
    )


def next_inspection(
    previous: Inspection, previous_id: UUID, cadence: Cadence, scheme: Scheme | None = None
) -> InspectionScheduled | None:
    """A completed regular inspection puts the next one on the schedule, the cadence after its date; under
    `scheme` (the organization's now: an employer's turns ESD with its first ESD plan), else the previous one's."""
    if previous.status is not Status.COMPLETED or previous.extraordinary or previous.inspected_on is None:
        return None
    scheme = scheme_of(previous.target_type, scheme or previous.scheme)
    return InspectionScheduled(
        target_type=previous.target_type,
        target_id=previous.target_id,
        reason=InspectionReason.PREVIOUS_INSPECTION,
        scheduled_on=previous.inspected_on,
        due_by=cadence.next_due(previous.target_type, previous.inspected_on, scheme),
        follows=previous_id,
        scheme=scheme,
    )


def resumed_inspection(closed: Inspection, certified_on: date, scheme: Scheme | None = None) -> InspectionScheduled:
    """A regular inspection cancelled for want of plans in force, back on the schedule with its dates: a plan
    certified on `certified_on`, on or before the day the last plan ended, was in force all along (its
    certification arrived after the other plan's end), so the schedule never ended."""
    return InspectionScheduled(
        target_type=closed.target_type,
        target_id=closed.target_id,
        reason=closed.reason or InspectionReason.FIRST_CERTIFIED_PLAN,
        scheduled_on=closed.scheduled_on,
        due_by=closed.due_by,
        detail=f"back on the schedule: a plan certified on {certified_on} was in force when it was cancelled",
        follows=closed.follows,
        scheme=scheme_of(closed.target_type, scheme or closed.scheme),
    )


# Decisions. Each returns the events to record or raises DomainRuleViolation naming the rule.


def schedule(state: Inspection, scheduled: InspectionScheduled) -> list[EventPayload]:
    if state.exists:
        _refuse("inspection.already_scheduled", "this inspection is already on the schedule")
    if scheduled.due_by < scheduled.scheduled_on:
        _refuse(
            "inspection.due_before_scheduled",
            f"due_by {scheduled.due_by} is before the inspection was scheduled on {scheduled.scheduled_on}",
        )
    return [scheduled]


def schedule_extraordinary(
    state: Inspection, scheduled: InspectionScheduled, *, target_known: bool
) -> list[EventPayload]:
    """After a complaint, a tip or as a follow-up; only of an organization the service has heard of."""
    if not scheduled.reason.extraordinary:
        _refuse("inspection.not_extraordinary", f"{scheduled.reason} inspections are put on the schedule by events")
    if not target_known:
        _refuse(
            "inspection.target_unknown",
            f"no {scheduled.target_type} {scheduled.target_id} is known from the registry or accreditation",
        )
    return schedule(state, scheduled)


def _require_open(state: Inspection) -> None:
    if state.status is not Status.SCHEDULED:
        _refuse("inspection.not_open", f"only a scheduled inspection can be completed; this one is {state.status}")


def _check_findings(findings: tuple[Finding, ...], outcome: InspectionOutcome) -> None:
    for finding in findings:
        if finding.code in TRAINEE_PROTECTION_CODES and not finding.legal_breach:
            _refuse(
                "finding.trainee_protection_is_a_breach",
                f"{finding.code} is forbidden by the Act: record it as a legal breach",
            )
    breach = any(f.legal_breach for f in findings)
    if outcome is InspectionOutcome.NO_FINDING and findings:
        _refuse("outcome.no_finding_with_findings", "an inspection with findings cannot end with no finding")
    if outcome is InspectionOutcome.GUIDANCE and (not findings or breach):
        _refuse(
            "outcome.guidance_without_breach",
            "improvement guidance is for findings that fall short of policy without a legal breach;"
            " a legal breach needs a recommendation or a referral",
        )
    if outcome in (InspectionOutcome.RECOMMENDATION, InspectionOutcome.REFERRAL) and not breach:
        _refuse("outcome.needs_legal_breach", f"a {outcome} needs at least one finding that is a legal breach")


def _check_referral(target_type: TargetType, referral: Referral, inspected_on: date, decided_on: date) -> None:
    if referral.action is AdministrativeAction.EMPLOYER_IMPROVEMENT_ORDER and target_type is not (
        TargetType.IMPLEMENTING_ORGANIZATION
    ):
        _refuse(
            "referral.employer_improvement_order_target",
            f"an Art. 15 improvement order is addressed to an implementing organization, not to a {target_type};"
            " a permit holder's improvement order is an improvement_order (Art. 36)",
        )
    if referral.action not in ACTIONS_BY_TARGET[target_type]:
        hint = (
            "; an implementing organization's improvement order is an employer_improvement_order (Art. 15)"
            if referral.action is AdministrativeAction.IMPROVEMENT_ORDER
            else ""
        )
        _refuse("referral.action_for_target", f"a {referral.action} cannot be referred against an {target_type}{hint}")
    if decided_on < inspected_on:
        _refuse(
            "referral.decided_before_inspection", f"decided_on {decided_on} is before the inspection on {inspected_on}"
        )
    match referral.action:
        case AdministrativeAction.IMPROVEMENT_ORDER | AdministrativeAction.EMPLOYER_IMPROVEMENT_ORDER if (
            referral.deadline is None or referral.deadline <= decided_on
        ):
            _refuse("referral.deadline", "an improvement order needs a deadline after the decision")
        case AdministrativeAction.SUSPENSION if (
            referral.from_date is None
            or referral.until_date is None
            or referral.scope is None
            or referral.until_date < referral.from_date
            or referral.from_date < decided_on
        ):
            _refuse(
                "referral.suspension_period",
                "a suspension needs a scope and a period (from_date..until_date) starting on or after the decision",
            )
        case AdministrativeAction.PERMIT_REVOCATION if referral.ground is None:
            _refuse("referral.ground", "a permit revocation needs its ground under Art. 37(1)")


def complete(
    state: Inspection,
    inspection_id: UUID,
    *,
    inspected_on: date,
    inspector: str,
    findings: tuple[Finding, ...],
    outcome: InspectionOutcome,
    improvement_report_due: date | None,
    referral: Referral | None,
    referral_id: UUID,
) -> list[EventPayload]:
    """Record the inspection's findings and outcome; a referral's decision is recorded beside it."""
    outcome = InspectionOutcome(outcome)
    _require_open(state)
    if inspected_on < state.scheduled_on:
        _refuse(
            "inspection.inspected_before_scheduled",
            f"inspected_on {inspected_on} is before the inspection was scheduled on {state.scheduled_on}",
        )
    _check_findings(findings, outcome)
    if (outcome in REPORT_OUTCOMES) != (improvement_report_due is not None):
        _refuse(
            "improvement_report.due_for_guidance_or_recommendation",
            "improvement guidance and an improvement recommendation, and only they, set the improvement report's"
            " due date",
        )
    if improvement_report_due is not None and improvement_report_due <= inspected_on:
        _refuse(
            "improvement_report.due_after_inspection",
            f"improvement_report_due {improvement_report_due} must come after the inspection on {inspected_on}",
        )
    if (outcome is InspectionOutcome.REFERRAL) != (referral is not None):
        _refuse("referral.for_referral_outcome", "a referral outcome, and only one, states the referral")
    events: list[EventPayload] = [
        InspectionCompleted(
            target_type=state.target_type,
            target_id=state.target_id,
            inspected_on=inspected_on,
            inspector=inspector,
            findings=findings,
            outcome=outcome,
            improvement_report_due=improvement_report_due,
        )
    ]
    if referral is not None:
        decided_on = referral.decided_on or inspected_on
        _check_referral(state.target_type, referral, inspected_on, decided_on)
        events.append(
            AdministrativeActionReferred(
                referral_id=referral_id,
                inspection_id=inspection_id,
                action=referral.action,
                target_type=state.target_type,
                target_id=state.target_id,
                decided_on=decided_on,
                reason=referral.reason,
                deadline=referral.deadline,
                from_date=referral.from_date,
                until_date=referral.until_date,
                scope=referral.scope,
                ground=referral.ground.value if referral.ground else None,
            )
        )
    return events


def receive_improvement_report(state: Inspection, received_on: date) -> list[EventPayload]:
    if not state.awaiting_report:
        _refuse("improvement_report.not_awaited", "this inspection awaits no improvement report")
    if state.inspected_on is not None and received_on < state.inspected_on:
        _refuse(
            "improvement_report.received_before_inspection",
            f"received_on {received_on} is before the inspection on {state.inspected_on}",
        )
    return [
        ImprovementReportReceived(target_type=state.target_type, target_id=state.target_id, received_on=received_on)
    ]


def cancel(state: Inspection, cancelled_on: date, reason: CancellationReason) -> list[EventPayload]:
    """Nothing, unless the inspection is still scheduled."""
    if state.status is not Status.SCHEDULED:
        return []
    return [
        InspectionCancelled(
            target_type=state.target_type, target_id=state.target_id, cancelled_on=cancelled_on, reason=reason
        )
    ]


def close(state: Inspection, closed_on: date, reason: CancellationReason) -> list[EventPayload]:
    """Take the inspection off the worklists, if it is on one (else nothing: closing twice records once).

    The organization's permit revoked or expired (DOMAIN §11, §5): a scheduled inspection is cancelled, and one
    awaiting an improvement report awaits it no more. An implementing organization with no plan in force
    (`no_plans_in_force`): its schedule ends, so its scheduled regular inspection is cancelled; an extraordinary
    one (after a complaint) and a report awaited stay, as the organization still answers for its past training."""
    if reason == "no_plans_in_force" and (state.extraordinary or state.status is not Status.SCHEDULED):
        return []
    if state.status is Status.SCHEDULED:
        return cancel(state, closed_on, reason)
    if state.awaiting_report:
        return [
            ImprovementReportWaitClosed(
                target_type=state.target_type, target_id=state.target_id, closed_on=closed_on, reason=reason
            )
        ]
    return []
