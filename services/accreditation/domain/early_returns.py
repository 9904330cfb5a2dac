"""Early returns home (issue 25 item 1): recorded only with the trainee's own confirmation of their wish.

The supervising organization (type (a): the employer) files the return as its notice of difficulty for this cause,
on the plan's own stream (`TrainingPlanEarlyReturnFiled`): a return decides the plan's ending, so it is decided on
the plan's state, in the plan's transaction. With the trainee's confirmation of their own stated wish, not contested,
the plan ends at once (discontinued, reason early_return, on the day of the return). Without it, or contested, the
return is flagged: the plan stays in force, its ending by the return is refused (`early_return.unconfirmed`,
`training_plan.check_not_ended_by_early_return`) until an officer accepts or refuses it.

The employer's rate of flagged returns (`EarlyReturnRules`) is decided here too, on its own stream
(`early_return_rate_stream_id`): above it, the employer goes on the inspection worklist.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from contracts.accreditation import (
    DiscontinuationReason,
    EarlyReturnConfirmation,
    EarlyReturnDecision,
    EarlyReturnFlag,
    EarlyReturnReason,
    EmployerEarlyReturnRateExceeded,
    TrainingPlanDiscontinued,
    TrainingPlanEarlyReturnDecided,
    TrainingPlanEarlyReturnFiled,
)
from services.accreditation.domain.rules import EarlyReturnRules
from services.accreditation.domain.training_plan import (
    IN_PROGRESS,
    AppliedPlan,
    TrainingPlan,
    pending_early_return,
)
from shared.errors import DomainRuleViolation
from shared.events import EventPayload


def flags_of(confirmation: EarlyReturnConfirmation | None) -> tuple[EarlyReturnFlag, ...]:
    """Why a return is flagged: no confirmation; a confirmation without the trainee's own statement of their wish; a
    contested return. None: the trainee confirmed their own stated wish, uncontested."""
    if confirmation is None:
        return (EarlyReturnFlag.UNCONFIRMED,)
    flags = []
    if not confirmation.wish_stated:
        flags.append(EarlyReturnFlag.WISH_NOT_STATED)
    if confirmation.contested:
        flags.append(EarlyReturnFlag.CONTESTED)
    return tuple(flags)


def _plan_in_progress(state: TrainingPlan, returned_on: date) -> AppliedPlan:
    """The plan is certified, has started by `returned_on` and ends on or after it."""
    if not isinstance(state, AppliedPlan) or state.status_on(returned_on) != IN_PROGRESS:
        status = state.status_on(returned_on) if isinstance(state, AppliedPlan) else "not applied for"
        raise DomainRuleViolation(
            "early_return.plan_not_in_progress",
            f"a trainee returns early only from a plan in progress; on {returned_on} this plan is {status}",
        )
    if returned_on > state.application.end_date:
        raise DomainRuleViolation(
            "early_return.plan_not_in_progress",
            f"returned_on {returned_on} is after the plan's end on {state.application.end_date}: no early return",
        )
    return state


def _ends(plan: AppliedPlan, filed: TrainingPlanEarlyReturnFiled) -> TrainingPlanDiscontinued:
    return TrainingPlanDiscontinued(
        **plan.header(),
        discontinued_on=filed.returned_on,
        reason=DiscontinuationReason.EARLY_RETURN,
        detail=f"early return {filed.early_return_id} ({filed.reason.value})",
    )


def file_early_return(
    state: TrainingPlan,
    plan_id: UUID,
    early_return_id: UUID,
    *,
    returned_on: date,
    filed_on: date,
    reason: EarlyReturnReason,
    confirmation: EarlyReturnConfirmation | None,
    words: str | None = None,
    difficulty_notice_id: UUID | None = None,
    notice_plan_id: UUID | None = None,
) -> list[EventPayload]:
    """Record the return of the trainee home on `returned_on` from a plan in progress
    (`early_return.plan_not_in_progress`), one flagged return at a time (`early_return.pending`). The confirmation is
    taken before the trainee leaves (`early_return.confirmation_after_return`); a notice of difficulty named is one
    about this plan (`notice_plan_id`, `early_return.difficulty_notice`). Confirmed (no flags): the plan ends on
    `returned_on`; flagged: it stays in force."""
    plan = _plan_in_progress(state, returned_on)
    if (pending := pending_early_return(plan)) is not None:
        raise DomainRuleViolation(
            "early_return.pending",
            f"the early return {pending.early_return_id} filed on {pending.filed_on} awaits an officer's decision",
        )
    if confirmation is not None and confirmation.confirmed_on > returned_on:
        raise DomainRuleViolation(
            "early_return.confirmation_after_return",
            f"the trainee's wish is confirmed before the return: confirmed_on {confirmation.confirmed_on} is after"
            f" returned_on {returned_on}",
        )
    if difficulty_notice_id is not None and notice_plan_id != plan_id:
        raise DomainRuleViolation(
            "early_return.difficulty_notice",
            f"{difficulty_notice_id} is not a notice of difficulty about this plan",
        )
    filed = TrainingPlanEarlyReturnFiled(
        **plan.header(),
        early_return_id=early_return_id,
        returned_on=returned_on,
        filed_on=filed_on,
        reason=reason,
        confirmation=confirmation,
        flags=flags_of(confirmation),
        words=words,
        difficulty_notice_id=difficulty_notice_id,
    )
    return [filed] if filed.flags else [filed, _ends(plan, filed)]


def decide_early_return(
    state: TrainingPlan, *, decided_on: date, decision: EarlyReturnDecision, reason: str
) -> list[EventPayload]:
    """An officer decides the flagged early return that awaits it (`early_return.not_pending`), on or after its
    filing (`early_return.decided_before_filing`). Accepted: the plan ends on the day of the return (still in
    progress then: `early_return.plan_not_in_progress`); refused: the plan stays as it is."""
    pending = pending_early_return(state) if isinstance(state, AppliedPlan) else None
    if pending is None or not isinstance(state, AppliedPlan):
        raise DomainRuleViolation("early_return.not_pending", "no flagged early return of this plan awaits a decision")
    if decided_on < pending.filed_on:
        raise DomainRuleViolation(
            "early_return.decided_before_filing",
            f"decided_on {decided_on} is before the early return was filed on {pending.filed_on}",
        )
    decided = TrainingPlanEarlyReturnDecided(
        **state.header(),
        early_return_id=pending.early_return_id,
        decided_on=decided_on,
        decision=decision,
        reason=reason,
    )
    if decision is EarlyReturnDecision.REFUSED:
        return [decided]
    plan = _plan_in_progress(state, pending.returned_on)
    return [decided, _ends(plan, pending)]


# The employer's rate of flagged early returns (stream: early_return_rate_stream_id)


@dataclass(frozen=True)
class EarlyReturnRate:
    """The employer's flags for a rate of early returns above the rules', oldest first."""

    flagged: tuple[EmployerEarlyReturnRateExceeded, ...] = ()

    @property
    def exists(self) -> bool:
        return bool(self.flagged)


def evolve_rate(state: EarlyReturnRate, event: EventPayload) -> EarlyReturnRate:
    if isinstance(event, EmployerEarlyReturnRateExceeded):
        return replace(state, flagged=(*state.flagged, event))
    return state


def flag_rate(
    state: EarlyReturnRate,
    implementing_organization_id: UUID,
    *,
    on: date,
    returns: int,
    plans: int,
    rules: EarlyReturnRules,
) -> list[EventPayload]:
    """Flag the employer when its flagged returns in the window ending `on` are above the rate (`rules.exceeded`);
    once per window: not again while the last flag's day is in this window."""
    window_from = rules.window_from(on)
    if not rules.exceeded(returns, plans):
        return []
    if any(window_from <= flag.on <= on for flag in state.flagged):
        return []
    return [
        EmployerEarlyReturnRateExceeded(
            implementing_organization_id=implementing_organization_id,
            on=on,
            window_from=window_from,
            returns=returns,
            plans=plans,
            rate=f"{rules.rate.numerator}/{rules.rate.denominator}",
            minimum_returns=rules.minimum_returns,
        )
    ]
