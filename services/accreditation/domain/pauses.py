"""Pauses of a plan in progress (issue 25 item 3; DOMAIN §7): pure.

A certified plan in progress is paused (`TrainingPlanPaused`) while the trainee cannot train: pregnancy, childbirth,
illness or injury. It is not ended: it stays certified, may still be discontinued (the trainee goes home) or
transferred, but not completed while paused. It resumes (`TrainingPlanResumed`) with the stage's remaining period:
its end moves by the days paused, counted in days (the remaining days at the pause are the remaining days after it),
so the stage's length, and the trainee's 5-year (TITP) and 3-year (ESD) totals, count only days in training.

Days: a pause from `paused_on` to the day before `resumed_on`, `resumed_on - paused_on` days. Shown by date, like "in
progress": a plan is `paused` on the days a pause covers, `paused_since` while a pause is not resumed.

Refusals name their rule (409): `pause.*`, and `plan.paused` for a completion while paused.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import TYPE_CHECKING

from contracts.accreditation import PausePeriod, PauseReason, PlanStatus, TrainingPlanPaused, TrainingPlanResumed
from services.accreditation.domain.rules import PAUSE_REASONS
from shared.errors import DomainRuleViolation
from shared.events import EventPayload

if TYPE_CHECKING:
    from services.accreditation.domain.training_plan import AppliedPlan

PAUSED = "paused"


@dataclass(frozen=True, kw_only=True)
class Pause(PausePeriod):
    reason: PauseReason
    detail: str | None = None  # sealed with the trainee's key (PauseDetail)


PauseEvent = TrainingPlanPaused | TrainingPlanResumed


def evolve(plan: AppliedPlan, event: PauseEvent) -> AppliedPlan:
    """The plan after a pause or a resumption: resumed, its end is the one the event's header states."""
    match event:
        case TrainingPlanPaused():
            pause = Pause(paused_on=event.paused_on, reason=event.reason, detail=event.detail)
            return replace(plan, pauses=(*plan.pauses, pause))
        case TrainingPlanResumed():
            *before, last = plan.pauses
            return replace(
                plan,
                application=plan.application.model_copy(update={"end_date": event.end_date}),
                pauses=(*before, replace(last, resumed_on=event.resumed_on)),
            )


def open_pause(plan: AppliedPlan) -> Pause | None:
    """The pause not resumed yet, if any."""
    return plan.pauses[-1] if plan.pauses and plan.pauses[-1].resumed_on is None else None


def paused_on_day(pauses: Iterable[Pause], day: date) -> bool:
    return any(p.covers(day) for p in pauses)


def shown_status(plan: AppliedPlan, day: date) -> str:
    """The status shown on `day`: `paused` when the plan is certified and a pause covers the day; otherwise as
    `training_plan.shown_status` (in progress by date)."""
    if plan.status is PlanStatus.CERTIFIED and paused_on_day(plan.pauses, day):
        return PAUSED
    return plan.status_on(day)


def shown_status_sql(shown: str, status: str, pauses: str, day: str) -> str:
    """`shown_status` as a SQL expression: `shown` the status shown without pauses, `pauses` the document's jsonb
    array of pauses (`from`, `resumed_on`)."""
    return (
        f"CASE WHEN {status} = '{PlanStatus.CERTIFIED.value}' AND EXISTS (SELECT 1 FROM"
        f" jsonb_array_elements(coalesce({pauses}, '[]')) AS pause WHERE (pause->>'from')::date <= {day}"
        f" AND (pause->>'resumed_on' IS NULL OR {day} < (pause->>'resumed_on')::date))"
        f" THEN '{PAUSED}' ELSE {shown} END"
    )


def paused_since(plan: AppliedPlan) -> date | None:
    """While the plan is certified and a pause is not resumed: its first day."""
    pause = open_pause(plan)
    return pause.paused_on if pause and plan.status is PlanStatus.CERTIFIED else None


def days_not_in_training(plan: AppliedPlan) -> int:
    """The days of the plan's period (start to end, or to its last day once ended) without training: every resumed
    pause, and a pause the plan ended in up to its last day. What the stage's length and the trainee's totals leave
    out (`OtherPlan.paused_days`, `CertificationFacts.paused_days`)."""
    days = sum(p.days for p in plan.pauses)
    pause, ended = open_pause(plan), plan.ended_on
    if pause is not None and ended is not None:
        last = ended - timedelta(days=1) if plan.status is PlanStatus.TRANSFERRED else ended
        days += pause.days_within(pause.paused_on, last)
    return days


def pause(
    plan: AppliedPlan,
    on: date,
    reason: PauseReason,
    detail: str | None,
    reasons: frozenset[PauseReason] = PAUSE_REASONS,
) -> list[EventPayload]:
    """Pause a certified plan from `on`: a day of its period (`pause.before_start`, `pause.after_end`), after its
    last resumption (`pause.before_resumption`), not while paused (`pause.already_paused`)."""
    if plan.status is not PlanStatus.CERTIFIED:
        raise DomainRuleViolation(
            "pause.plan_not_in_force", f"only a certified plan in progress is paused; this plan is {plan.status}", "on"
        )
    if reason not in reasons:
        raise DomainRuleViolation(
            "pause.reason",
            f"a plan is paused for {', '.join(sorted(reasons))}; not {reason}",
            "reason",
        )
    if (pause := open_pause(plan)) is not None:
        raise DomainRuleViolation(
            "pause.already_paused", f"the plan is paused since {pause.paused_on}: resume it first", "on"
        )
    start, end = plan.application.start_date, plan.application.end_date
    if on < start:
        raise DomainRuleViolation("pause.before_start", f"on {on} is before the plan's start, {start}", "on")
    if on > end:
        raise DomainRuleViolation("pause.after_end", f"on {on} is after the plan's end, {end}", "on")
    if plan.pauses and (last := plan.pauses[-1].resumed_on) is not None and on < last:
        raise DomainRuleViolation("pause.before_resumption", f"on {on} is before the last resumption, {last}", "on")
    return [TrainingPlanPaused(**plan.header(), paused_on=on, reason=reason, detail=detail)]


def resume(plan: AppliedPlan, on: date) -> list[EventPayload]:
    """Resume a paused plan on `on`, after the pause's first day (`pause.resumed_before_pause`); the end moves by
    the days paused."""
    pause = open_pause(plan) if plan.status is PlanStatus.CERTIFIED else None
    if pause is None:
        raise DomainRuleViolation(
            "pause.not_paused",
            "only a paused plan is resumed"
            + (f"; this plan is {plan.status}" if plan.status is not PlanStatus.CERTIFIED else ": it is not paused"),
            "on",
        )
    if on <= pause.paused_on:
        raise DomainRuleViolation(
            "pause.resumed_before_pause",
            f"on {on} is not after the pause's first day, {pause.paused_on}: training resumes after a day paused",
            "on",
        )
    days = (on - pause.paused_on).days
    end = plan.application.end_date
    header = {**plan.header(), "end_date": end + timedelta(days=days)}
    return [
        TrainingPlanResumed(
            **header,
            resumed_on=on,
            paused_on=pause.paused_on,
            reason=pause.reason,
            paused_days=days,
            previous_end_date=end,
        )
    ]


def check_not_paused(plan: AppliedPlan, day: date) -> None:
    """A paused plan is not completed (`plan.paused`): neither while a pause is open nor on a day a pause covered."""
    pause = open_pause(plan)
    if pause is not None:
        raise DomainRuleViolation(
            "plan.paused", f"the plan is paused since {pause.paused_on}: resume it before completing it", "completed_on"
        )
    if paused_on_day(plan.pauses, day):
        raise DomainRuleViolation("plan.paused", f"the plan was paused on {day}", "completed_on")
