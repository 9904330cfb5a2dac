"""Changes of a certified plan's terms (issue 20; DOMAIN §11 "after certification"; Art. 11): pure.

A change of a material term needs change certification (変更認定): it is applied for (`TrainingPlanChangeApplied`),
then decided by the plan's own rule book on the changed terms, as a certification would be, on what the service
knows on the day it is decided (`TrainingPlanChangeCertified`: a new version of the terms; the original terms are
version 1), or rejected. A minor change (軽微な変更, `RuleBook.minor_change_terms`) is notified and in force as
notified (`TrainingPlanMinorChangeNotified`). One pending change at a time, and only for a plan in force. The
trainee, the scheme, the stage, the training type and the organizations are not changeable: a move to another
employer is a transfer, to another supervising organization a reassignment.

Refusals name their rule: `change.*` for what only a change has, the plan's own rules (`plan.*`, `quota.*`,
`trainee.*`, ...) for the changed terms.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal
from uuid import UUID

from contracts.accreditation import (
    PlanChanges,
    PlanDetails,
    PlanHeader,
    PlanStatus,
    PlanTerms,
    TrainingPlanChangeApplied,
    TrainingPlanChangeCertified,
    TrainingPlanChangeRejected,
    TrainingPlanMinorChangeNotified,
)
from contracts.registry import Scheme
from services.accreditation.domain.rules import (
    CertificationFacts,
    OtherPlan,
    RuleBook,
    check_terms,
    replace_last_day,
)
from shared.errors import DomainRuleViolation, NotFound
from shared.events import EventPayload

if TYPE_CHECKING:
    from services.accreditation.domain.training_plan import AppliedPlan

ChangeEvent = (
    TrainingPlanChangeApplied
    | TrainingPlanChangeCertified
    | TrainingPlanChangeRejected
    | TrainingPlanMinorChangeNotified
)

CHANGEABLE = frozenset(PlanChanges.model_fields)
# Every other term an application states: a change naming one with another value is refused.
NOT_CHANGEABLE = frozenset({*PlanTerms.model_fields, "trainee_id"}) - CHANGEABLE

PENDING, CERTIFIED, REJECTED, NOTIFIED = "pending", "certified", "rejected", "notified"


@dataclass(frozen=True)
class PlanChange:
    """One change in a plan's history: an application for change certification (kind `change`) or a notice of
    minor changes (kind `minor_change`)."""

    id: UUID
    kind: Literal["change", "minor_change"]
    on: date  # applied_on, or notified_on
    reason: str  # the change's reason, or the notice's description
    changes: PlanChanges
    status: str  # pending | certified | rejected (a change); notified (a notice)
    certified_on: date | None = None
    rejection_reason: str | None = None
    terms_version: int | None = None  # the terms' version it made (a certified change, a notice changing terms)


# State


def evolve(plan: AppliedPlan, event: ChangeEvent) -> AppliedPlan:
    """The plan after one of its change events."""
    match event:
        case TrainingPlanChangeApplied():
            change = PlanChange(event.change_id, "change", event.applied_on, event.reason, event.changes, PENDING)
            return replace(plan, change_history=(*plan.change_history, change))
        case TrainingPlanChangeCertified():
            change = change_of(plan, event.change_id)
            certified = replace(
                change, status=CERTIFIED, certified_on=event.certified_on, terms_version=event.terms_version
            )
            return replace(
                plan,
                application=plan.application.model_copy(update=change.changes.stated()),
                terms_version=event.terms_version,
                change_history=_with(plan.change_history, certified),
            )
        case TrainingPlanChangeRejected():
            rejected = replace(change_of(plan, event.change_id), status=REJECTED, rejection_reason=event.reason)
            return replace(plan, change_history=_with(plan.change_history, rejected))
        case TrainingPlanMinorChangeNotified():
            notice = PlanChange(
                event.notice_id,
                "minor_change",
                event.notified_on,
                event.description,
                event.changes,
                NOTIFIED,
                terms_version=event.terms_version,
            )
            return replace(
                plan,
                application=plan.application.model_copy(update=event.changes.stated()),
                terms_version=event.terms_version or plan.terms_version,
                change_history=(*plan.change_history, notice),
            )


def pending_change(plan: AppliedPlan) -> PlanChange | None:
    return next((c for c in plan.change_history if c.status == PENDING), None)


def changed_terms(current: PlanDetails, changes: PlanChanges) -> dict[str, Any]:
    """The terms `changes` states with a value other than the current one."""
    return {name: value for name, value in changes.stated().items() if getattr(current, name) != value}


def material_terms(current: PlanDetails, changes: PlanChanges, minor_terms: Iterable[str]) -> list[str]:
    """The changed terms that need change certification: all but the minor ones (a cut of the wage is material)."""
    minor = frozenset(minor_terms)
    return [
        name
        for name, value in changed_terms(current, changes).items()
        if name not in minor or (name == "monthly_wage" and value < current.monthly_wage)
    ]


# Decisions


def apply_for_change(
    plan: AppliedPlan,
    change_id: UUID,
    applied_on: date,
    reason: str,
    changes: PlanChanges,
    unchangeable: Mapping[str, Any] | None = None,
) -> list[EventPayload]:
    """Apply for change certification (Art. 11) of a plan in force: the changed terms must be consistent and their
    dates still to come; the rules decide at certification."""
    check_changeable(plan, unchangeable or {})
    _require_in_force(plan, applied_on)
    if pending := pending_change(plan):
        raise DomainRuleViolation(
            "change.pending",
            f"the change {pending.id} applied for on {pending.on} is still pending: one change at a time",
            "changes",
        )
    if not changed_terms(plan.application, changes):
        raise DomainRuleViolation(
            "change.nothing_changed", "the changes state no term with another value than the plan's", "changes"
        )
    _check_dates(plan, changes, applied_on)
    check_terms(plan.application.model_copy(update=changes.stated()))
    return [
        TrainingPlanChangeApplied(
            **plan.header(), change_id=change_id, applied_on=applied_on, reason=reason, changes=changes
        )
    ]


def certify_change(
    plan: AppliedPlan, change_id: UUID, facts: CertificationFacts, rule_book: RuleBook
) -> list[EventPayload]:
    """Certify the pending change if the changed terms pass the plan's rule set on what is known on
    `facts.certified_on` (the counts without this plan's present terms)."""
    change = _pending(plan, change_id)
    _require_in_force(plan, facts.certified_on)
    if facts.certified_on < change.on:
        raise DomainRuleViolation(
            "change.certified_before_application",
            f"certified_on {facts.certified_on} is before the change was applied for on {change.on}",
            "certified_on",
        )
    if facts.personal_data is None:
        raise DomainRuleViolation(
            "trainee.personal_data_erased", "the trainee's personal data was erased: the change cannot be decided on it"
        )
    _check_dates(plan, change.changes, facts.certified_on)
    changed = plan.application.model_copy(update=change.changes.stated())
    check_changed_terms(changed.opened(facts.personal_data), plan.application.applied_on, facts, rule_book)
    header = {name: getattr(changed, name) for name in PlanHeader.model_fields}
    return [
        TrainingPlanChangeCertified(
            **header, change_id=change_id, certified_on=facts.certified_on, terms_version=plan.terms_version + 1
        )
    ]


def reject_change(plan: AppliedPlan, change_id: UUID, reason: str) -> list[EventPayload]:
    _pending(plan, change_id)
    return [TrainingPlanChangeRejected(**plan.header(), change_id=change_id, reason=reason)]


def notify_minor_change(
    plan: AppliedPlan,
    notice_id: UUID,
    notified_on: date,
    description: str,
    changes: PlanChanges,
    minor_terms: Iterable[str],
    unchangeable: Mapping[str, Any] | None = None,
) -> list[EventPayload]:
    """A notice of minor changes of a plan in force: in force as notified; a material term in it is refused."""
    check_changeable(plan, unchangeable or {})
    _require_in_force(plan, notified_on)
    if material := material_terms(plan.application, changes, minor_terms):
        raise DomainRuleViolation(
            "change.material_needs_certification",
            f"{', '.join(material)}: a change of {'this term' if len(material) == 1 else 'these terms'} needs change"
            f" certification (POST .../changes); a notice of minor changes may change only"
            f" {', '.join(sorted(minor_terms)) or 'no term'} (the monthly wage only upwards)",
            f"changes.{material[0]}",
        )
    changed = changed_terms(plan.application, changes)
    terms = plan.application.model_copy(update=changed)
    check_terms(terms)
    if terms.monthly_wage < terms.comparable_japanese_wage:
        raise DomainRuleViolation(
            "wage.at_least_japanese_equivalent",
            f"the monthly wage {terms.monthly_wage} is below the {terms.comparable_japanese_wage}"
            " a Japanese worker is paid for the same work",
            "changes.monthly_wage",
        )
    return [
        TrainingPlanMinorChangeNotified(
            **plan.header(),
            notice_id=notice_id,
            notified_on=notified_on,
            description=description,
            changes=PlanChanges(**changed),
            terms_version=plan.terms_version + 1 if changed else None,
        )
    ]


# The rules


def check_changeable(plan: AppliedPlan, unchangeable: Mapping[str, Any]) -> None:
    """A term that is not changeable may be restated with its present value, never with another."""
    present = plan.application.model_dump(mode="json")
    for name, value in unchangeable.items():
        if name not in NOT_CHANGEABLE:
            continue
        if name == "trainee" or present.get(name) != value:
            raise DomainRuleViolation(
                "change.not_changeable",
                f"{name} is not changeable: the trainee, scheme, stage, training type and organizations stay as"
                " certified (another employer: a transfer; another supervising organization: a reassignment)",
                f"changes.{name}",
            )


def check_changed_terms(terms: PlanTerms, applied_on: date, facts: CertificationFacts, rule_book: RuleBook) -> None:
    """The changed terms through the plan's rule book as a certification would (`RuleBook.check`), but for the
    filing window (the plan was filed when it was): the switch by the plan's application date, then the scheme's
    rules; and the trainee's other plans do not overlap the changed period."""
    facts = as_certified(facts, terms)
    check_terms(terms)
    if terms.scheme is Scheme.ESD:
        rule_book.esd.check(terms, facts)
    else:
        rule_book.switch.check_titp(terms, applied_on, rule_book.esd.starts_on, facts.trainee_plans)
        rule_book.titp.check(terms, facts)
    if clash := next(
        (p for p in facts.trainee_plans if p.start_date <= terms.end_date and terms.start_date <= p.last_day), None
    ):
        raise DomainRuleViolation(
            "change.overlaps_other_plan",
            f"the trainee's plan from {clash.start_date} to {clash.last_day} overlaps the changed period"
            f" {terms.start_date} to {terms.end_date}",
            "changes.end_date" if clash.start_date > terms.start_date else "changes.start_date",
        )


def as_certified(facts: CertificationFacts, terms: PlanDetails) -> CertificationFacts:
    """An ESD transfer's source plan as it stood when the transfer was certified (in force, until the day before the
    move): the transfer's own rules decide on it again; it counts only until then. (TITP's transfer rules judge a
    source transferred on the new start as in force themselves.)"""
    if terms.transfer_from is None or terms.scheme is not Scheme.ESD:
        return facts
    return replace(
        facts,
        trainee_plans=tuple(
            _source_as_certified(p, terms.start_date) if p.id == terms.transfer_from else p for p in facts.trainee_plans
        ),
    )


def _source_as_certified(plan: OtherPlan, moved_on: date) -> OtherPlan:
    if plan.status is not PlanStatus.TRANSFERRED:
        return plan
    return replace(replace_last_day(plan, moved_on - timedelta(days=1)), status=PlanStatus.CERTIFIED)


def _check_dates(plan: AppliedPlan, changes: PlanChanges, day: date) -> None:
    """A change looks forward from `day`: the start moves only before the plan has started, to a day after `day`,
    and never for a transfer; the end stays after `day` (a plan ending earlier is completed or discontinued)."""
    current = plan.application
    if changes.start_date is not None and changes.start_date != current.start_date:
        if current.transfer_from is not None:
            raise DomainRuleViolation(
                "change.transfer_start_date",
                "a transfer's plan starts on the day the trainee moved (its source ended then): its start date does"
                " not change",
                "changes.start_date",
            )
        if current.start_date <= day:
            raise DomainRuleViolation(
                "change.start_date_started",
                f"the plan started on {current.start_date}: its start date no longer changes (on {day})",
                "changes.start_date",
            )
        if changes.start_date <= day:
            raise DomainRuleViolation(
                "change.start_date_past",
                f"the new start date {changes.start_date} is not after {day}",
                "changes.start_date",
            )
    if changes.end_date is not None and changes.end_date != current.end_date and changes.end_date < day:
        raise DomainRuleViolation(
            "change.end_date_past",
            f"the new end date {changes.end_date} is before {day}: a plan ending early is completed or discontinued",
            "changes.end_date",
        )


def _require_in_force(plan: AppliedPlan, day: date) -> None:
    if plan.status is not PlanStatus.CERTIFIED:
        raise DomainRuleViolation("change.plan_in_force", f"only a plan in force changes; this plan is {plan.status}")
    if plan.certified_on is None or not plan.certified_on <= day <= plan.application.end_date:
        raise DomainRuleViolation(
            "change.plan_in_force",
            f"the plan is in force from its certification on {plan.certified_on} to its end on"
            f" {plan.application.end_date}, not on {day}",
        )


def change_of(plan: AppliedPlan, change_id: UUID) -> PlanChange:
    found = next((c for c in plan.change_history if c.id == change_id and c.kind == "change"), None)
    if found is None:
        raise NotFound("plan change", change_id)
    return found


def _pending(plan: AppliedPlan, change_id: UUID) -> PlanChange:
    change = change_of(plan, change_id)
    if change.status != PENDING:
        raise DomainRuleViolation(
            "change.not_pending", f"the change {change_id} was {change.status} already", "change_id"
        )
    return change


def _with(history: tuple[PlanChange, ...], changed: PlanChange) -> tuple[PlanChange, ...]:
    return tuple(changed if c.id == changed.id else c for c in history)
