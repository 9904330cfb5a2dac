"""The training plan aggregate: state, evolve, and one decide function per command (DOMAIN §4, §9).

applied -> certified | rejected            (an application the switch refuses is never recorded)
certified -> (in progress from the start date) -> completed | discontinued
certified -> transferred                   (TITP or ESD: the new plan with another employer was certified)
certified -> revoked; improvement orders while certified
certified, flagged (new supervising organization required) -> reassigned to a new one: the flag is cleared
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from uuid import UUID

from contracts.accreditation import (
    DiscontinuationReason,
    ExamGrade,
    ExamResult,
    ImprovementOrderClosed,
    ImprovementOrderIssued,
    NewSupervisingOrganizationRequired,
    PlanDetails,
    PlanHeader,
    PlanStatus,
    ReportedBy,
    SealedPlanTerms,
    SendingOrganizationFeesFlagged,
    TrainingPlanApplied,
    TrainingPlanCertified,
    TrainingPlanChangeApplied,
    TrainingPlanChangeCertified,
    TrainingPlanChangeRejected,
    TrainingPlanCompleted,
    TrainingPlanDiscontinued,
    TrainingPlanEarlyReturnDecided,
    TrainingPlanEarlyReturnFiled,
    TrainingPlanFeesDeclared,
    TrainingPlanMinorChangeNotified,
    TrainingPlanPaused,
    TrainingPlanReassigned,
    TrainingPlanRejected,
    TrainingPlanResumed,
    TrainingPlanRevoked,
    TrainingPlanTransferred,
    TransferReason,
)
from contracts.registry import Scheme
from services.accreditation.domain import fees as plan_fees
from services.accreditation.domain import pauses, plan_changes
from services.accreditation.domain.fees import PlanFees
from services.accreditation.domain.pauses import Pause
from services.accreditation.domain.rules import (
    CertificationFacts,
    ImplementingOrganization,
    OtherPlan,
    ReassignmentFacts,
    RuleBook,
    check_reassignment,
    check_terms,
)
from shared import improvement_orders
from shared.dates import add_months
from shared.errors import DomainRuleViolation, NotFound
from shared.events import EventPayload
from shared.improvement_orders import ImprovementOrder, with_closed, with_issued

# "In progress" (one definition, two forms: `shown_status` in Python, `shown_status_sql` for the read model's
# queries; tests/integration/test_accreditation_status.py checks that they agree).
IN_PROGRESS = "in_progress"


def shown_status(status: PlanStatus, start_date: date, day: date) -> str:
    """A plan's status as shown on `day`: a certified plan is in progress from its start date. "In progress"
    is never recorded: only the calendar makes it true."""
    return IN_PROGRESS if status is PlanStatus.CERTIFIED and start_date <= day else status.value


def shown_status_sql(status: str, start_date: str, day: str) -> str:
    """`shown_status` as a SQL expression over the columns (or parameters) named."""
    return (
        f"CASE WHEN {status} = '{PlanStatus.CERTIFIED.value}' AND {start_date} <= {day}"
        f" THEN '{IN_PROGRESS}' ELSE {status} END"
    )


# "First-year exams missing" (ESD, DOMAIN §9): the basic grade and Japanese A1 are passed within the first year
# of the plan; a certified plan whose first year has passed without them is flagged. One definition, two forms,
# like "in progress" (tests/integration/test_accreditation_esd_first_year.py checks that they agree).
FIRST_YEAR_MONTHS = 12
FIRST_YEAR_EXAMS: tuple[tuple[ExamGrade, ...], ...] = (
    (ExamGrade.BASIC,),
    (ExamGrade.JAPANESE_A1, ExamGrade.JAPANESE_A2),  # A2 is above A1
)


def first_year_exams_missing(
    scheme: Scheme, status: PlanStatus, start_date: date, passes: Iterable[tuple[ExamGrade, date]], day: date
) -> bool:
    """On `day`, is this plan a certified ESD plan whose first year has passed without the basic grade and A1
    passed (by the application's statement or the exam body's record) before its end?"""
    if scheme is not Scheme.ESD or status is not PlanStatus.CERTIFIED:
        return False
    after_first_year = add_months(start_date, FIRST_YEAR_MONTHS)
    if day < after_first_year:
        return False
    passed = {grade for grade, on in passes if on < after_first_year}
    return not all(passed & set(grades) for grades in FIRST_YEAR_EXAMS)


def first_year_exams_missing_sql(
    *, scheme: str, status: str, start_date: str, stated: str, trainee_id: str, day: str
) -> str:
    """`first_year_exams_missing` as a SQL expression over qualified columns: `stated` is the application's
    exams_passed (jsonb), the recorded results are the table `exam_results`."""
    after = f"({start_date} + interval '{FIRST_YEAR_MONTHS} months')::date"
    passes = (
        f"(SELECT x.grade, x.passed_on FROM jsonb_to_recordset(coalesce({stated}, '[]'))"
        " AS x(grade text, passed_on date)"
        f" UNION ALL SELECT r.grade, r.taken_on FROM exam_results r"
        f" WHERE r.trainee_id = {trainee_id} AND r.result = '{ExamResult.PASSED.value}')"
    )
    each = " AND ".join(
        f"EXISTS (SELECT 1 FROM {passes} AS e WHERE e.passed_on < {after}"
        f" AND e.grade IN ({', '.join(repr(g.value) for g in grades)}))"
        for grades in FIRST_YEAR_EXAMS
    )
    return (
        f"({scheme} = '{Scheme.ESD.value}' AND {status} = '{PlanStatus.CERTIFIED.value}'"
        f" AND {day} >= {after} AND NOT ({each}))"
    )


Ending = TrainingPlanCompleted | TrainingPlanDiscontinued | TrainingPlanRevoked | TrainingPlanTransferred


@dataclass(frozen=True)
class TrainingPlan:
    """A training plan's state. This base is a plan not applied for yet (nothing on its stream); from
    its application on, the state is an `AppliedPlan`."""

    @property
    def exists(self) -> bool:
        return False


@dataclass(frozen=True)
class AppliedPlan(TrainingPlan):
    application: TrainingPlanApplied
    status: PlanStatus
    certified_on: date | None = None
    rule_set: str | None = None
    rejection_reason: str | None = None
    ending: Ending | None = None
    improvement_orders: tuple[ImprovementOrder, ...] = ()
    new_supervising_organization_required: NewSupervisingOrganizationRequired | None = None
    reassignments: tuple[TrainingPlanReassigned, ...] = ()
    # issue 25: early returns filed and decided, oldest first (domain/early_returns.py reads them)
    early_returns: tuple[TrainingPlanEarlyReturnFiled | TrainingPlanEarlyReturnDecided, ...] = ()
    terms_version: int = 1  # the version of its terms: the original 1, each certified change or notice +1
    change_history: tuple[plan_changes.PlanChange, ...] = ()  # changes and minor-change notices, oldest first
    fees: PlanFees = PlanFees()  # what the trainee paid before coming (issue 25)
    pauses: tuple[Pause, ...] = ()  # issue 25: pauses of the plan in progress, oldest first (domain/pauses.py)

    @property
    def exists(self) -> bool:
        return True

    @property
    def ended_on(self) -> date | None:
        """The day it was completed, discontinued or revoked; None while it has not ended."""
        match self.ending:
            case TrainingPlanCompleted():
                return self.ending.completed_on
            case TrainingPlanDiscontinued():
                return self.ending.discontinued_on
            case TrainingPlanRevoked():
                return self.ending.revoked_on
            case TrainingPlanTransferred():
                return self.ending.transferred_on
        return None

    def header(self) -> dict[str, Any]:
        return {name: getattr(self.application, name) for name in PlanHeader.model_fields}

    def status_on(self, day: date) -> str:
        """The status as shown on `day` (`shown_status`)."""
        return shown_status(self.status, self.application.start_date, day)


def evolve(state: TrainingPlan, event: EventPayload) -> TrainingPlan:
    if isinstance(event, TrainingPlanApplied):
        return AppliedPlan(application=event, status=PlanStatus.APPLIED)
    if not isinstance(state, AppliedPlan):
        return state
    match event:
        case TrainingPlanCertified():
            return replace(state, status=PlanStatus.CERTIFIED, certified_on=event.certified_on, rule_set=event.rule_set)
        case TrainingPlanRejected():
            return replace(state, status=PlanStatus.REJECTED, rejection_reason=event.reason)
        case TrainingPlanCompleted():
            return replace(state, status=PlanStatus.COMPLETED, ending=event)
        case TrainingPlanDiscontinued():
            return replace(state, status=PlanStatus.DISCONTINUED, ending=event)
        case TrainingPlanRevoked():
            return replace(state, status=PlanStatus.REVOKED, ending=event)
        case TrainingPlanTransferred():
            return replace(state, status=PlanStatus.TRANSFERRED, ending=event)
        case ImprovementOrderIssued():
            return replace(
                state,
                improvement_orders=with_issued(
                    state.improvement_orders, event.order_id, event.issued_on, event.deadline, event.reason
                ),
            )
        case ImprovementOrderClosed():
            return replace(
                state, improvement_orders=with_closed(state.improvement_orders, event.order_id, event.closed_on)
            )
        case NewSupervisingOrganizationRequired():
            return replace(state, new_supervising_organization_required=event)
        case TrainingPlanEarlyReturnFiled() | TrainingPlanEarlyReturnDecided():
            return replace(state, early_returns=(*state.early_returns, event))
        case TrainingPlanReassigned():
            # The header is the application's: from now on it names the new supervising organization.
            new = {"supervising_organization_id": event.supervising_organization_id}
            return replace(
                state,
                application=state.application.model_copy(update=new),
                new_supervising_organization_required=None,
                reassignments=(*state.reassignments, event),
            )
        case (
            TrainingPlanChangeApplied()
            | TrainingPlanChangeCertified()
            | TrainingPlanChangeRejected()
            | TrainingPlanMinorChangeNotified()
        ):
            return plan_changes.evolve(state, event)
        case TrainingPlanFeesDeclared() | SendingOrganizationFeesFlagged():
            return plan_fees.evolve(state, event)
        case TrainingPlanPaused() | TrainingPlanResumed():
            return pauses.evolve(state, event)
    return state


def replay(events: Iterable[EventPayload]) -> TrainingPlan:
    """The state after `events`, from a plan not applied for."""
    state = TrainingPlan()
    for event in events:
        state = evolve(state, event)
    return state


DEFAULT_RULES = RuleBook()


def apply_for_certification(
    state: TrainingPlan,
    terms: SealedPlanTerms,
    applied_on: date,
    rule_book: RuleBook = DEFAULT_RULES,
    trainee_plans: Iterable[OtherPlan] = (),
) -> list[EventPayload]:
    """Record the application, unless its terms contradict themselves or the switch refuses it: which scheme
    the application date and the trainee's status allow (`RuleBook.check_application`)."""
    if state.exists:
        raise DomainRuleViolation("plan.already_applied", "this training plan has already been applied for")
    check_terms(terms)
    rule_book.check_application(terms, applied_on, trainee_plans)
    return [TrainingPlanApplied(**terms.details(), trainee=terms.trainee, applied_on=applied_on)]


class NotTheFilers(NotFound):
    """A filing that names an organization its filer may not file for: answered as that organization not found,
    whether it exists or not (the filer learns nothing of other organizations, ARCHITECTURE §6), with the rule."""

    def __init__(self, resource: str, id: object, rule: str) -> None:
        super().__init__(resource, id)
        self.members["rule"] = rule


def check_filer(filer: str, terms: PlanDetails, employer: ImplementingOrganization | None) -> None:
    """An organization files its own plans only (issue 18): an implementing organization for itself, under the
    organization it belongs to; a supervising organization (TITP) or supervision support organization (ESD) for
    its member employers. Belonging is what the registry published (`employer`, accreditation's view of the
    implementing organization; None while its registration has not arrived): any supervising organization of the
    employer under the plan's scheme, now or on the plan's start (an employer may have more than one). A type (a)
    plan (direct hire) names no supervising organization: only the employer files it."""
    implementing, supervising = str(terms.implementing_organization_id), terms.supervising_organization_id
    if filer not in (implementing, str(supervising)):
        raise NotTheFilers("implementing organization", implementing, "filing.own_organization")
    if supervising is None:
        return
    # Issue 20: any organization the employer belongs to under the scheme, now or on the plan's start.
    if employer is not None and (
        supervising in employer.current_supervisors(terms.scheme)
        or employer.supervised_by(terms.scheme, supervising, terms.start_date)
    ):
        return
    if filer == implementing:
        supervisor = "supervision support organization" if terms.scheme is Scheme.ESD else "supervising organization"
        raise NotTheFilers(supervisor, supervising, "filing.own_supervising_organization")
    raise NotTheFilers("implementing organization", implementing, "filing.member_employer")


def certify(state: TrainingPlan, facts: CertificationFacts, rule_book: RuleBook) -> list[EventPayload]:
    plan = _require_status(state, PlanStatus.APPLIED, "plan.not_applied", "only an application can be certified")
    application = plan.application
    if facts.certified_on < application.applied_on:
        raise DomainRuleViolation(
            "plan.certified_before_application",
            f"certified_on {facts.certified_on} is before the application on {application.applied_on}",
        )
    if facts.personal_data is None:
        raise DomainRuleViolation(
            "trainee.personal_data_erased", "the trainee's personal data was erased: the plan cannot be decided on it"
        )
    terms = application.opened(facts.personal_data)
    rules = rule_book.check(terms, application.applied_on, facts)
    return [TrainingPlanCertified(**plan.header(), certified_on=facts.certified_on, rule_set=rules.name)]


def transfer(state: TrainingPlan, on: date, to_plan_id: UUID, reason: TransferReason) -> list[EventPayload]:
    """A transfer (TITP or ESD, one mechanism): the trainee's new plan with another employer was certified; this plan,
    if still in force, ends as transferred on the day the new one starts (one discontinued for an unavoidable
    reason stays as it is)."""
    if not isinstance(state, AppliedPlan) or state.status is not PlanStatus.CERTIFIED:
        return []
    return [TrainingPlanTransferred(**state.header(), transferred_on=on, to_plan_id=to_plan_id, reason=reason)]


def reject(state: TrainingPlan, reason: str) -> list[EventPayload]:
    plan = _require_status(state, PlanStatus.APPLIED, "plan.not_applied", "only an application can be rejected")
    return [TrainingPlanRejected(**plan.header(), reason=reason)]


def complete(state: TrainingPlan, completed_on: date, exam_result: ExamResult) -> list[EventPayload]:
    plan = _require_in_progress(state, completed_on)
    pauses.check_not_paused(plan, completed_on)
    check_no_pending_early_return(plan)
    return [TrainingPlanCompleted(**plan.header(), completed_on=completed_on, exam_result=exam_result)]


def discontinue(
    state: TrainingPlan,
    on: date,
    reason: DiscontinuationReason,
    detail: str | None,
    reported_on: date | None = None,
    reported_by: ReportedBy | None = None,
) -> list[EventPayload]:
    plan = _require_in_progress(state, on)
    check_not_ended_by_early_return(plan, reason)
    check_reported(reason, on, reported_on, reported_by)
    return [
        TrainingPlanDiscontinued(
            **plan.header(),
            discontinued_on=on,
            reason=reason,
            detail=detail,
            reported_on=reported_on,
            reported_by=reported_by,
        )
    ]


def issue_improvement_order(
    state: TrainingPlan, order_id: UUID, issued_on: date, deadline: date, reason: str
) -> list[EventPayload]:
    plan = _require_in_force(state, issued_on)
    improvement_orders.check_issue(issued_on, deadline)
    return [
        ImprovementOrderIssued(
            **plan.header(), order_id=order_id, issued_on=issued_on, deadline=deadline, reason=reason
        )
    ]


def close_improvement_order(state: TrainingPlan, order_id: UUID, closed_on: date) -> list[EventPayload]:
    if not isinstance(state, AppliedPlan):
        raise NotFound("improvement order", order_id)
    improvement_orders.check_close(state.improvement_orders, order_id, closed_on)
    return [ImprovementOrderClosed(**state.header(), order_id=order_id, closed_on=closed_on)]


def revoke(
    state: TrainingPlan,
    revoked_on: date,
    reason: str,
    referral_id: UUID | None = None,
    improvement_order_id: UUID | None = None,
) -> list[EventPayload]:
    plan = _require_in_force(state, revoked_on)
    return [
        TrainingPlanRevoked(
            **plan.header(),
            revoked_on=revoked_on,
            reason=reason,
            referral_id=referral_id,
            improvement_order_id=improvement_order_id,
        )
    ]


def revoke_on_referral(
    state: TrainingPlan,
    revoked_on: date,
    reason: str,
    referral_id: UUID | None,
    improvement_order_id: UUID | None = None,
) -> list[EventPayload]:
    """An inspection referral (or the breach of an Art. 15 order) revokes the plans in force on its decision date;
    others are left as they are."""
    if (
        not isinstance(state, AppliedPlan)
        or state.status is not PlanStatus.CERTIFIED
        or state.certified_on is None
        or state.certified_on > revoked_on
    ):
        return []
    return revoke(state, revoked_on, reason, referral_id, improvement_order_id)


def require_new_supervising_organization(state: TrainingPlan, since: date, reason: str) -> list[EventPayload]:
    """The supervising organization lost its permit: flag a plan in force, once."""
    if (
        not isinstance(state, AppliedPlan)
        or state.status is not PlanStatus.CERTIFIED
        or state.new_supervising_organization_required
    ):
        return []
    return [NewSupervisingOrganizationRequired(**state.header(), since=since, reason=reason)]


def reassign(state: TrainingPlan, supervising_organization_id: UUID, facts: ReassignmentFacts) -> list[EventPayload]:
    """Move a plan flagged for a new supervising organization to one that supervises its employer (§11)."""
    if not isinstance(state, AppliedPlan):
        raise DomainRuleViolation("reassign.not_flagged", "this plan was never applied for")
    flag = state.new_supervising_organization_required
    if state.status is not PlanStatus.CERTIFIED or flag is None:
        raise DomainRuleViolation(
            "reassign.not_flagged",
            "only a plan in force flagged as needing a new supervising organization can be reassigned;"
            f" this plan is {state.status}" + ("" if flag else " and not flagged"),
        )
    if facts.reassigned_on < flag.since:
        raise DomainRuleViolation(
            "reassign.before_flag", f"reassigned_on {facts.reassigned_on} is before the flag of {flag.since}"
        )
    check_reassignment(state.application, supervising_organization_id, facts)
    header = {**state.header(), "supervising_organization_id": supervising_organization_id}
    return [
        TrainingPlanReassigned(
            **header,
            previous_supervising_organization_id=state.application.supervising_organization_id,
            reassigned_on=facts.reassigned_on,
        )
    ]


def _require_status(state: TrainingPlan, status: PlanStatus, rule: str, detail: str) -> AppliedPlan:
    if not isinstance(state, AppliedPlan):
        raise DomainRuleViolation(rule, f"{detail}; this plan was never applied for")
    if state.status is not status:
        raise DomainRuleViolation(rule, f"{detail}; this plan is {state.status}")
    return state


def _require_in_force(state: TrainingPlan, day: date) -> AppliedPlan:
    plan = _require_status(
        state, PlanStatus.CERTIFIED, "plan.in_force", "only a certified plan in force can be acted on"
    )
    if plan.certified_on is None or day < plan.certified_on:
        raise DomainRuleViolation("plan.in_force", f"{day} is before the certification on {plan.certified_on}")
    return plan


def _require_in_progress(state: TrainingPlan, day: date) -> AppliedPlan:
    plan = _require_status(state, PlanStatus.CERTIFIED, "plan.in_progress", "only a plan in progress can end")
    if plan.status_on(day) != IN_PROGRESS:
        raise DomainRuleViolation(
            "plan.in_progress", f"the plan is not in progress on {day}: it starts on {plan.application.start_date}"
        )
    return plan


# Early returns (issue 25 item 1; the decisions are domain/early_returns.py)


def pending_early_return(plan: AppliedPlan) -> TrainingPlanEarlyReturnFiled | None:
    """The flagged early return that awaits an officer's decision, if any."""
    decided = {e.early_return_id for e in plan.early_returns if isinstance(e, TrainingPlanEarlyReturnDecided)}
    return next(
        (
            e
            for e in plan.early_returns
            if isinstance(e, TrainingPlanEarlyReturnFiled) and e.flags and e.early_return_id not in decided
        ),
        None,
    )


def check_no_pending_early_return(plan: AppliedPlan) -> None:
    """A plan whose trainee reportedly went home early is not completed while the return awaits an officer's decision
    (`early_return.unconfirmed`): the completion would hide it."""
    if (pending := pending_early_return(plan)) is not None:
        raise DomainRuleViolation(
            "early_return.unconfirmed",
            f"the early return {pending.early_return_id} filed on {pending.filed_on} awaits an officer's decision:"
            " the plan is not completed before it",
        )


# While a flagged return awaits its decision, these reasons would end the plan by the return under another name.
ENDED_BY_THE_RETURN = frozenset({DiscontinuationReason.EARLY_RETURN, DiscontinuationReason.OTHER})


def check_not_ended_by_early_return(plan: AppliedPlan, reason: DiscontinuationReason) -> None:
    """An early return ends a plan only with the trainee's confirmation (POST .../early-return) or an officer's
    acceptance (.../early-return/decision): never as a discontinuation's reason; and while a flagged return awaits its
    decision, not as `other` either (`early_return.unconfirmed`)."""
    pending = pending_early_return(plan)
    if reason is DiscontinuationReason.EARLY_RETURN or (pending is not None and reason in ENDED_BY_THE_RETURN):
        flags = ", ".join(f.value for f in pending.flags) if pending else ""
        raise DomainRuleViolation(
            "early_return.unconfirmed",
            "an early return ends a plan only with the trainee's confirmation of their wish (POST"
            " .../early-return) or an officer's acceptance of a flagged one (POST .../early-return/decision)"
            + (
                f"; the early return {pending.early_return_id} ({flags}) awaits an officer's decision"
                if pending
                else ""
            ),
        )


# Disappearances and deaths (issue 25 item 4): recorded with the day reported and by whom

REPORTED_REASONS = frozenset({DiscontinuationReason.DISAPPEARANCE, DiscontinuationReason.DEATH})


def check_reported(
    reason: DiscontinuationReason, on: date, reported_on: date | None, reported_by: ReportedBy | None
) -> None:
    """A disappearance or a death names the day it was reported and who reported it, on or after the day it happened
    (`discontinuation.reported`, `discontinuation.reported_before`); another reason names neither."""
    if reason in REPORTED_REASONS:
        if reported_on is None or reported_by is None:
            raise DomainRuleViolation(
                "discontinuation.reported",
                f"a {reason.value} is recorded with the day it was reported (reported_on) and who reported it"
                " (reported_by)",
            )
        if reported_on < on:
            raise DomainRuleViolation(
                "discontinuation.reported_before",
                f"reported_on {reported_on} is before the {reason.value} on {on}",
            )
    elif reported_on is not None or reported_by is not None:
        raise DomainRuleViolation(
            "discontinuation.reported",
            f"only a disappearance or a death is recorded with reported_on and reported_by, not a {reason.value}",
        )
