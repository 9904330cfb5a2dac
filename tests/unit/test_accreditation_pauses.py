"""Pauses of a plan in progress (issue 25 item 3): which pauses and resumptions the rules allow, how the end moves, and
how the stage's length and the trainee's totals count only days in training."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from contracts.accreditation import (
    DiscontinuationReason,
    ExamResult,
    PauseReason,
    PlanStatus,
    Stage,
    TrainingPlanPaused,
    TrainingPlanResumed,
)
from services.accreditation.domain import pauses
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.rules import OtherPlan, RuleBook, TitpRules, _total_period
from shared.errors import DomainRuleViolation
from tests.unit.test_accreditation_rules import earlier, facts, plan
from tests.unit.test_accreditation_training_plan import CERTIFIED, history

# The plan: stage i from 1 Apr 2026 to 31 Mar 2027 (365 days), certified on 1 Mar 2026.
PREGNANCY = PauseReason.PREGNANCY


def certified(s):
    return tp.certify(s, facts(certified_on=date(2026, 3, 1)), RuleBook())


def paused_on(day: date, reason: PauseReason = PREGNANCY):
    return lambda s: pauses.pause(s, day, reason, None)


def resumed_on(day: date):
    return lambda s: pauses.resume(s, day)


PAUSED = history(certified, paused_on(date(2026, 7, 1)))
RESUMED = history(certified, paused_on(date(2026, 7, 1)), resumed_on(date(2026, 11, 1)))


def test_a_pause_and_its_resumption_move_the_end_by_the_days_paused():
    # Check: paused from 1 Jul to 31 Oct (123 days), the plan ends 123 days after 31 Mar 2027, on 1 Aug 2027.
    [event] = pauses.resume(PAUSED, date(2026, 11, 1))
    assert isinstance(event, TrainingPlanResumed)
    assert (event.paused_days, event.previous_end_date, event.end_date) == (123, date(2027, 3, 31), date(2027, 8, 1))
    assert RESUMED.application.end_date == date(2027, 8, 1)
    [pause] = RESUMED.pauses
    assert (pause.paused_on, pause.until, pause.resumed_on, pause.days) == (
        date(2026, 7, 1),
        date(2026, 10, 31),
        date(2026, 11, 1),
        123,
    )
    # Check: the days in training stay the stage's 365.
    period = (RESUMED.application.end_date - RESUMED.application.start_date).days + 1
    assert period - pauses.days_not_in_training(RESUMED) == 365


def test_the_status_shown_is_paused_on_the_days_a_pause_covers():
    assert pauses.shown_status(PAUSED, date(2026, 6, 30)) == "in_progress"
    assert pauses.shown_status(PAUSED, date(2026, 7, 1)) == "paused"
    assert pauses.shown_status(PAUSED, date(2030, 1, 1)) == "paused"
    assert pauses.shown_status(RESUMED, date(2026, 10, 31)) == "paused"
    assert pauses.shown_status(RESUMED, date(2026, 11, 1)) == "in_progress"
    assert pauses.paused_since(PAUSED) == date(2026, 7, 1)
    assert pauses.paused_since(RESUMED) is None


REFUSED = [
    ("a pause before the start", CERTIFIED, paused_on(date(2026, 3, 31)), "pause.before_start"),
    ("a pause after the end", CERTIFIED, paused_on(date(2027, 4, 1)), "pause.after_end"),
    ("a second pause while paused", PAUSED, paused_on(date(2026, 8, 1)), "pause.already_paused"),
    ("a pause before the last resumption", RESUMED, paused_on(date(2026, 10, 1)), "pause.before_resumption"),
    ("a resumption of a plan not paused", CERTIFIED, resumed_on(date(2026, 8, 1)), "pause.not_paused"),
    ("a resumption twice", RESUMED, resumed_on(date(2026, 12, 1)), "pause.not_paused"),
    ("a resumption before the pause", PAUSED, resumed_on(date(2026, 6, 30)), "pause.resumed_before_pause"),
    ("a resumption on the pause's first day", PAUSED, resumed_on(date(2026, 7, 1)), "pause.resumed_before_pause"),
    (
        "a completion while paused",
        PAUSED,
        lambda s: tp.complete(s, date(2027, 3, 31), ExamResult.PASSED),
        "plan.paused",
    ),
    (
        "a completion on a day paused",
        history(certified, paused_on(date(2027, 3, 1)), resumed_on(date(2027, 4, 1))),
        lambda s: tp.complete(s, date(2027, 3, 15), ExamResult.PASSED),
        "plan.paused",
    ),
    (
        "a pause of an ended plan",
        history(certified, lambda s: tp.discontinue(s, date(2026, 9, 1), DiscontinuationReason.OTHER, None)),
        paused_on(date(2026, 9, 2)),
        "pause.plan_not_in_force",
    ),
    (
        "a pause of a plan not certified",
        history(),
        paused_on(date(2026, 5, 1)),
        "pause.plan_not_in_force",
    ),
]


@pytest.mark.parametrize(("case", "state", "step", "rule"), REFUSED, ids=[c[0] for c in REFUSED])
def test_refused_naming_the_rule(case, state, step, rule):
    with pytest.raises(DomainRuleViolation) as refused:
        step(state)
    assert refused.value.rule == rule


def test_a_reason_the_rule_book_leaves_out_is_refused():
    with pytest.raises(DomainRuleViolation) as refused:
        pauses.pause(CERTIFIED, date(2026, 5, 1), PauseReason.INJURY, None, frozenset({PREGNANCY}))
    assert (refused.value.rule, refused.value.members["field"]) == ("pause.reason", "reason")


def test_a_paused_plan_may_still_be_discontinued_and_a_resumed_one_completed_on_its_new_end():
    [discontinued] = tp.discontinue(PAUSED, date(2026, 9, 1), DiscontinuationReason.OTHER, "went home")
    ended = tp.evolve(PAUSED, discontinued)
    assert pauses.paused_since(ended) is None
    # Check: ended while paused, the days from the pause to the end are not in training (1 Jul - 1 Sep: 63).
    assert pauses.days_not_in_training(ended) == 63
    [completed] = tp.complete(RESUMED, date(2027, 8, 1), ExamResult.PASSED)
    assert completed.end_date == date(2027, 8, 1)


def test_the_pause_events_carry_the_header_as_it_stands():
    [paused] = pauses.pause(CERTIFIED, date(2026, 7, 1), PauseReason.ILLNESS, None)
    assert isinstance(paused, TrainingPlanPaused)
    assert (paused.end_date, paused.reason) == (date(2027, 3, 31), PauseReason.ILLNESS)


# The stage's length and the trainee's totals count only days in training


def test_a_change_certified_after_a_resumption_keeps_the_stage_length_less_the_days_paused():
    rules = TitpRules()
    moved = plan(end_date=date(2027, 8, 1))  # 1 Apr 2026 + 365 days in training + 123 paused
    with pytest.raises(DomainRuleViolation) as refused:
        rules.check(moved, facts())
    assert refused.value.rule == "plan.stage_length"
    rules.check(moved, facts(paused_days=123))
    with pytest.raises(DomainRuleViolation) as refused:
        rules.check(plan(end_date=date(2027, 8, 2)), facts(paused_days=123))
    assert refused.value.rule == "plan.stage_length"


def test_the_five_years_count_only_days_in_training():
    # Stage i and ii done (3 years), stage iii of 2 years applied for: exactly 5 years. Had stage ii been paused 200
    # days and ended 200 days later, the same stage iii is still within the 5 years.
    stage_i = earlier(Stage.I, date(2021, 4, 1), date(2022, 3, 31))
    stage_ii = earlier(Stage.II, date(2022, 4, 1), date(2024, 3, 31) + timedelta(days=200))
    long = plan(stage=Stage.III, start_date=date(2024, 10, 18), end_date=date(2026, 10, 17))
    with pytest.raises(DomainRuleViolation) as refused:
        _total(long, [stage_i, stage_ii])
    assert refused.value.rule == "trainee.total_period"
    _total(long, [stage_i, replace(stage_ii, paused_days=200)])


def _total(terms, others: list[OtherPlan]) -> None:
    _total_period(terms, others, 5, "trainee.total_period")


def test_other_plan_days_leave_out_its_pauses():
    other = OtherPlan(Stage.I, "construction", date(2026, 4, 1), date(2027, 8, 1), PlanStatus.CERTIFIED)
    assert other.days == 488
    assert replace(other, paused_days=123).days == 365
