"""Early returns home, disappearances and deaths (issue 25 items 1 and 4), the pure rules: which returns end a plan
and which are flagged; what a flagged return refuses until an officer decides; the employer's rate of flagged returns;
a disappearance or a death recorded with the day reported and by whom; what each counts in; which inspection each
asks the inspection service for."""

from datetime import date
from fractions import Fraction
from uuid import uuid4

import pytest

from contracts.accreditation import (
    DiscontinuationReason,
    EarlyReturnConfirmation,
    EarlyReturnDecision,
    EarlyReturnFlag,
    EarlyReturnReason,
    EmployerEarlyReturnRateExceeded,
    ExamResult,
    ReportedBy,
    ReportingParty,
    TrainingPlanDiscontinued,
    TrainingPlanEarlyReturnDecided,
    TrainingPlanEarlyReturnFiled,
)
from contracts.inspection import InspectionReason
from services.accreditation.domain import early_returns as er
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.rules import EarlyReturnRules
from services.accreditation.projections.statistics import (
    DEATHS,
    DISAPPEARANCES,
    LOSSES_PER_EMPLOYER,
    plan_facts,
    plan_keys,
)
from services.inspection.domain.trainee_protection import inspection_asked_by
from shared.errors import DomainRuleViolation
from tests.unit.test_accreditation_transfer_statistics import certified as certified_plan

PLAN, RETURN, NOTICE = uuid4(), uuid4(), uuid4()
START, END = date(2026, 4, 1), date(2027, 3, 31)  # the plan's period (test_accreditation_transfer_statistics)
RETURNED, FILED = date(2026, 11, 20), date(2026, 11, 25)
POLICE = ReportedBy(party=ReportingParty.POLICE, office="Naka police station")


def confirmation(**changes) -> EarlyReturnConfirmation:
    given = {
        "confirmed_on": date(2026, 11, 18),
        "language": "vi",
        "taken_by": "Sakura Cooperative, interpreter",
        "wish_stated": True,
        "contested": False,
        **changes,
    }
    return EarlyReturnConfirmation.model_validate(given)


def apply(state: tp.TrainingPlan, events) -> tp.AppliedPlan:
    for event in events:
        state = tp.evolve(state, event)
    assert isinstance(state, tp.AppliedPlan)
    return state


def filed(state=None, *, confirmed: EarlyReturnConfirmation | None = None, **changes):
    given = {"returned_on": RETURNED, "filed_on": FILED, "reason": EarlyReturnReason.OWN_WISH, **changes}
    return er.file_early_return(state or certified_plan(), PLAN, RETURN, confirmation=confirmed, **given)


FLAGGED = apply(certified_plan(), filed())


@pytest.mark.parametrize(
    ("case", "given", "flags"),
    [
        ("no confirmation", None, (EarlyReturnFlag.UNCONFIRMED,)),
        ("the trainee's own stated wish, uncontested", confirmation(), ()),
        (
            "confirmed without the trainee's own words",
            confirmation(wish_stated=False),
            (EarlyReturnFlag.WISH_NOT_STATED,),
        ),
        ("contested", confirmation(contested=True), (EarlyReturnFlag.CONTESTED,)),
        (
            "contested, and no words",
            confirmation(contested=True, wish_stated=False),
            (EarlyReturnFlag.WISH_NOT_STATED, EarlyReturnFlag.CONTESTED),
        ),
    ],
)
def test_a_return_is_flagged_unless_the_trainee_confirmed_their_own_stated_wish_uncontested(case, given, flags):
    assert er.flags_of(given) == flags, case
    events = filed(confirmed=given)
    assert isinstance(events[0], TrainingPlanEarlyReturnFiled) and events[0].flags == flags
    if flags:
        assert len(events) == 1, "flagged: the plan goes on"
    else:
        [_, ended] = events
        assert isinstance(ended, TrainingPlanDiscontinued)
        assert (ended.reason, ended.discontinued_on) == (DiscontinuationReason.EARLY_RETURN, RETURNED)


@pytest.mark.parametrize(
    ("case", "state", "changes", "rule"),
    [
        ("a plan not started yet", None, {"returned_on": date(2026, 3, 31)}, "early_return.plan_not_in_progress"),
        ("after the plan's end", None, {"returned_on": date(2027, 4, 1)}, "early_return.plan_not_in_progress"),
        ("a plan that ended", "discontinued", {}, "early_return.plan_not_in_progress"),
        ("a flagged return awaits its decision", "flagged", {}, "early_return.pending"),
        (
            "confirmed after the trainee left",
            None,
            {"confirmed": confirmation(confirmed_on=date(2026, 11, 21))},
            "early_return.confirmation_after_return",
        ),
        (
            "a notice of difficulty about another plan",
            None,
            {"difficulty_notice_id": NOTICE, "notice_plan_id": uuid4()},
            "early_return.difficulty_notice",
        ),
        (
            "a notice of difficulty that is none",
            None,
            {"difficulty_notice_id": NOTICE, "notice_plan_id": None},
            "early_return.difficulty_notice",
        ),
    ],
)
def test_a_return_is_refused_naming_the_rule(case, state, changes, rule):
    states = {
        None: certified_plan(),
        "flagged": FLAGGED,
        "discontinued": apply(certified_plan(), filed(confirmed=confirmation())),
    }
    with pytest.raises(DomainRuleViolation) as refused:
        filed(states[state], **changes)
    assert refused.value.rule == rule, case


def test_a_return_names_the_notice_of_difficulty_about_its_plan():
    [event] = filed(difficulty_notice_id=NOTICE, notice_plan_id=PLAN)
    assert isinstance(event, TrainingPlanEarlyReturnFiled) and event.difficulty_notice_id == NOTICE


@pytest.mark.parametrize(
    ("case", "state", "reason", "refused"),
    [
        ("early_return is never a reason to discontinue", certified_plan(), DiscontinuationReason.EARLY_RETURN, True),
        ("nor while a return is flagged", FLAGGED, DiscontinuationReason.EARLY_RETURN, True),
        (
            "other while a return is flagged: the same end under another name",
            FLAGGED,
            DiscontinuationReason.OTHER,
            True,
        ),
        ("other without a flagged return", certified_plan(), DiscontinuationReason.OTHER, False),
        ("bankruptcy while a return is flagged", FLAGGED, DiscontinuationReason.BANKRUPTCY, False),
    ],
)
def test_a_flagged_return_refuses_the_plans_ending_by_it_until_an_officer_decides(case, state, reason, refused):
    def discontinue():
        return tp.discontinue(state, RETURNED, reason, None)

    if refused:
        with pytest.raises(DomainRuleViolation) as refusal:
            discontinue()
        assert refusal.value.rule == "early_return.unconfirmed", case
    else:
        [event] = discontinue()
        assert isinstance(event, TrainingPlanDiscontinued) and event.reason is reason, case


def test_a_plan_with_a_flagged_return_is_not_completed_until_an_officer_decides():
    with pytest.raises(DomainRuleViolation) as refused:
        tp.complete(FLAGGED, END, ExamResult.PASSED)
    assert refused.value.rule == "early_return.unconfirmed"
    [decided] = er.decide_early_return(
        FLAGGED, decided_on=date(2026, 12, 1), decision=EarlyReturnDecision.REFUSED, reason="the trainee is here"
    )
    [completed] = tp.complete(apply(FLAGGED, [decided]), END, ExamResult.PASSED)
    assert completed.completed_on == END


def test_an_officer_accepts_a_flagged_return_and_the_plan_ends_on_the_day_of_the_return():
    decided, ended = er.decide_early_return(
        FLAGGED, decided_on=date(2026, 12, 1), decision=EarlyReturnDecision.ACCEPTED, reason="confirmed by phone"
    )
    assert isinstance(decided, TrainingPlanEarlyReturnDecided) and decided.early_return_id == RETURN
    assert isinstance(ended, TrainingPlanDiscontinued)
    assert (ended.reason, ended.discontinued_on) == (DiscontinuationReason.EARLY_RETURN, RETURNED)
    state = apply(FLAGGED, [decided, ended])
    assert tp.pending_early_return(state) is None and state.ended_on == RETURNED


def test_a_refused_return_leaves_the_plan_in_force_and_another_may_be_filed():
    [decided] = er.decide_early_return(
        FLAGGED, decided_on=date(2026, 12, 1), decision=EarlyReturnDecision.REFUSED, reason="the trainee is here"
    )
    state = apply(FLAGGED, [decided])
    assert state.status_on(date(2026, 12, 1)) == tp.IN_PROGRESS and tp.pending_early_return(state) is None
    assert filed(state, returned_on=date(2026, 12, 20), filed_on=date(2026, 12, 21))


@pytest.mark.parametrize(
    ("case", "state", "decided_on", "rule"),
    [
        ("nothing flagged", certified_plan(), date(2026, 12, 1), "early_return.not_pending"),
        (
            "a confirmed return needs no decision",
            apply(certified_plan(), filed(confirmed=confirmation())),
            date(2026, 12, 1),
            "early_return.not_pending",
        ),
        ("before the filing", FLAGGED, date(2026, 11, 24), "early_return.decided_before_filing"),
    ],
)
def test_a_decision_is_refused_naming_the_rule(case, state, decided_on, rule):
    with pytest.raises(DomainRuleViolation) as refused:
        er.decide_early_return(state, decided_on=decided_on, decision=EarlyReturnDecision.ACCEPTED, reason="x")
    assert refused.value.rule == rule, case


# The employer's rate (default: more than 1/5 of its plans ended or returned from in 12 months, at least 3 returns)


@pytest.mark.parametrize(
    ("returns", "plans", "exceeded"),
    [
        (3, 15, False),  # exactly 1/5: not above
        (3, 14, True),
        (2, 2, False),  # all of them, but fewer than 3
        (3, 3, True),
        (0, 0, False),
    ],
)
def test_the_rate_is_above_one_fifth_with_at_least_three_returns(returns, plans, exceeded):
    assert EarlyReturnRules().exceeded(returns, plans) is exceeded


def test_the_rate_is_configurable():
    assert EarlyReturnRules(rate=Fraction(1, 2), minimum_returns=1).exceeded(2, 3)
    assert not EarlyReturnRules(rate=Fraction(1, 2), minimum_returns=1).exceeded(1, 2)


def test_the_window_is_the_twelve_months_ending_on_the_day():
    assert EarlyReturnRules().window_from(date(2027, 3, 31)) == date(2026, 4, 1)
    assert EarlyReturnRules(window_months=6).window_from(date(2026, 11, 20)) == date(2026, 5, 21)


def test_an_employer_above_the_rate_is_flagged_once_per_window():
    employer, rules = uuid4(), EarlyReturnRules()
    [flag] = er.flag_rate(er.EarlyReturnRate(), employer, on=RETURNED, returns=3, plans=3, rules=rules)
    assert isinstance(flag, EmployerEarlyReturnRateExceeded)
    assert (flag.window_from, flag.returns, flag.plans, flag.rate) == (date(2025, 11, 21), 3, 3, "1/5")
    state = er.evolve_rate(er.EarlyReturnRate(), flag)
    assert er.flag_rate(state, employer, on=date(2027, 2, 1), returns=4, plans=4, rules=rules) == []
    assert er.flag_rate(state, employer, on=date(2027, 11, 20), returns=3, plans=3, rules=rules)  # a new window
    assert er.flag_rate(er.EarlyReturnRate(), employer, on=RETURNED, returns=2, plans=2, rules=rules) == []


# Disappearances and deaths


@pytest.mark.parametrize(
    ("case", "reason", "reported_on", "reported_by", "rule"),
    [
        (
            "a disappearance without the day reported",
            DiscontinuationReason.DISAPPEARANCE,
            None,
            POLICE,
            "discontinuation.reported",
        ),
        ("a death without who reported it", DiscontinuationReason.DEATH, RETURNED, None, "discontinuation.reported"),
        (
            "reported before it happened",
            DiscontinuationReason.DISAPPEARANCE,
            date(2026, 11, 19),
            POLICE,
            "discontinuation.reported_before",
        ),
        (
            "a bankruptcy is not reported so",
            DiscontinuationReason.BANKRUPTCY,
            RETURNED,
            POLICE,
            "discontinuation.reported",
        ),
        ("a disappearance reported the same day", DiscontinuationReason.DISAPPEARANCE, RETURNED, POLICE, None),
        ("a death reported later", DiscontinuationReason.DEATH, date(2026, 11, 22), POLICE, None),
        ("a bankruptcy", DiscontinuationReason.BANKRUPTCY, None, None, None),
    ],
)
def test_a_disappearance_or_a_death_is_recorded_with_the_day_reported_and_by_whom(
    case, reason, reported_on, reported_by, rule
):
    def discontinue():
        return tp.discontinue(certified_plan(), RETURNED, reason, None, reported_on, reported_by)

    if rule:
        with pytest.raises(DomainRuleViolation) as refused:
            discontinue()
        assert refused.value.rule == rule, case
    else:
        [event] = discontinue()
        assert isinstance(event, TrainingPlanDiscontinued)
        assert (event.reported_on, event.reported_by) == (reported_on, reported_by), case


@pytest.mark.parametrize(
    ("reason", "monthly", "kind"),
    [
        (DiscontinuationReason.DISAPPEARANCE, DISAPPEARANCES, "disappearance"),
        (DiscontinuationReason.DEATH, DEATHS, "death"),
    ],
)
def test_a_disappearance_or_a_death_counts_per_month_and_per_employer_and_fiscal_year(reason, monthly, kind):
    [event] = tp.discontinue(certified_plan(), date(2027, 3, 3), reason, None, date(2027, 3, 4), POLICE)
    state = apply(certified_plan(), [event])
    keys = plan_keys(plan_facts(state, "13"))
    employer = str(state.application.implementing_organization_id)
    assert (monthly, date(2027, 3, 1), ("titp", "i", "VN")) in keys
    assert (LOSSES_PER_EMPLOYER, date(2026, 4, 1), (kind, employer, "titp")) in keys  # FY2026
    other = DEATHS if monthly == DISAPPEARANCES else DISAPPEARANCES
    assert not [k for k in keys if k[0] == other]


# What the inspection service opens


def test_each_asks_the_inspection_service_for_an_extraordinary_inspection_of_the_employer():
    [flagged] = filed()
    confirmed, ended = filed(confirmed=confirmation())
    [lost] = tp.discontinue(certified_plan(), RETURNED, DiscontinuationReason.DISAPPEARANCE, None, FILED, POLICE)
    [bankrupt] = tp.discontinue(certified_plan(), RETURNED, DiscontinuationReason.BANKRUPTCY, None)
    [rate] = er.flag_rate(er.EarlyReturnRate(), uuid4(), on=RETURNED, returns=3, plans=3, rules=EarlyReturnRules())

    def asked(event):
        found = inspection_asked_by(event, str(PLAN))
        return (found.reason, found.opened_on) if found else None

    assert asked(flagged) == (InspectionReason.EARLY_RETURN, FILED)
    assert asked(lost) == (InspectionReason.DISAPPEARANCE, FILED)  # on the day reported
    assert asked(rate) == (InspectionReason.EARLY_RETURN_RATE, RETURNED)
    assert asked(confirmed) is asked(ended) is asked(bankrupt) is None
    by_police = inspection_asked_by(lost, str(PLAN))
    assert by_police is not None and "police (Naka police station)" in by_police.detail
    assert InspectionReason.EARLY_RETURN.extraordinary and InspectionReason.DEATH.extraordinary
