"""The switch from TITP to ESD (DOMAIN §9, transitional measures), table-driven at its boundaries: decided by the
application date and the trainee's status, never by the start date alone. Decided when the application arrives
(`RuleBook.check_application`: a refusal records nothing) and again at certification (`RuleBook.check`)."""

from datetime import date
from uuid import uuid4

import pytest

from contracts.accreditation import PlanStatus, Stage, TransferReason
from contracts.registry import Scheme
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.rules import EsdRules, OtherPlan, RuleBook, Switch, TitpRules
from shared.crypto import new_data_key, seal_model
from shared.errors import DomainRuleViolation
from tests.unit.test_accreditation_esd_rules import plan as esd_plan
from tests.unit.test_accreditation_rules import STAGE_I_DONE, facts, plan

I, II, III = Stage.I, Stage.II, Stage.III  # noqa: E741
# The switch alone: the filing windows (tested in test_accreditation_rules) are set to nothing here, so that the
# transitional measures can be tried at their own boundaries (a plan applied on the switch's eve, starting by 06-30).
NO_FILING_WINDOW = {I: 0, II: 0, III: 0}
BOOK = RuleBook(titp=TitpRules(filing_latest_months=NO_FILING_WINDOW))


def titp_plan(stage: Stage, start: date, end: date | None = None):
    return plan(stage=stage, start_date=start, end_date=end or date(start.year + 1, start.month, start.day))


def titp(stage: Stage, start: date, end: date, applied_on: date, status=PlanStatus.CERTIFIED, ended_on=None):
    """One of the trainee's TITP plans, as certification sees it."""
    return OtherPlan(
        stage, "construction", start, end, status, ended_on, None, Scheme.TITP, applied_on, uuid4(), uuid4()
    )


# The trainees of the cohort on 2027-04-01
STAGE_I_IN_MARCH = titp(I, date(2026, 6, 1), date(2027, 5, 31), date(2026, 1, 20))
STAGE_I_ENDED_MARCH_31 = titp(I, date(2026, 4, 1), date(2027, 3, 31), date(2025, 12, 1))
STAGE_I_TO_START_IN_MAY = titp(I, date(2027, 5, 1), date(2028, 4, 30), date(2027, 1, 15))  # the 06-30 rule
STAGE_I_REVOKED_IN_MARCH = titp(
    I, date(2026, 6, 1), date(2027, 5, 31), date(2026, 1, 20), PlanStatus.REVOKED, date(2027, 3, 15)
)
STAGE_II_12_MONTHS = titp(II, date(2026, 4, 1), date(2028, 3, 31), date(2025, 12, 1))
STAGE_II_A_DAY_SHORT = titp(II, date(2026, 4, 2), date(2028, 4, 1), date(2025, 12, 1))
STAGE_II_11_MONTHS = titp(II, date(2026, 5, 1), date(2028, 4, 30), date(2026, 1, 5))
I_DONE = titp(I, date(2025, 4, 1), date(2026, 3, 31), date(2024, 12, 1), PlanStatus.COMPLETED, date(2026, 3, 31))

DECISIONS = [
    # why, plan, applied on, the trainee's plans, refused with (None: accepted)
    ("a new trainee applied on 2027-03-31", titp_plan(I, date(2027, 6, 30)), date(2027, 3, 31), (), None),
    (
        "a new trainee applied on 2027-04-01",
        titp_plan(I, date(2027, 6, 30)),
        date(2027, 4, 1),
        (),
        "switch.titp_application_closed",
    ),
    ("applied in time, starting 2027-06-30", titp_plan(I, date(2027, 6, 30)), date(2027, 1, 10), (), None),
    (
        "applied in time, starting 2027-07-01",
        titp_plan(I, date(2027, 7, 1)),
        date(2027, 1, 10),
        (),
        "switch.titp_start_by",
    ),
    (
        "a stage i before the switch, starting before it",
        titp_plan(I, date(2026, 10, 1)),
        date(2026, 5, 1),
        (),
        None,
    ),
    (
        "stage i in March 2027 -> stage ii in May 2027, applied after the switch",
        titp_plan(II, date(2027, 6, 1), date(2029, 5, 31)),
        date(2027, 4, 20),
        (STAGE_I_IN_MARCH,),
        None,
    ),
    (
        "stage i to start under the 06-30 rule -> stage ii in 2028",
        titp_plan(II, date(2028, 5, 1), date(2030, 4, 30)),
        date(2028, 1, 20),
        (STAGE_I_TO_START_IN_MAY,),
        None,
    ),
    (
        "stage ii applied in time for a start after 06-30: a continuing trainee",
        titp_plan(II, date(2027, 9, 1), date(2029, 8, 31)),
        date(2027, 3, 1),
        (titp(I, date(2026, 9, 1), date(2027, 8, 31), date(2026, 4, 1)),),
        None,
    ),
    (
        "stage i ended on 2027-03-31: not in TITP on 2027-04-01",
        titp_plan(II, date(2027, 5, 1), date(2029, 4, 30)),
        date(2027, 4, 1),
        (STAGE_I_ENDED_MARCH_31,),
        "switch.titp_application_closed",
    ),
    (
        "stage i revoked before the switch",
        titp_plan(II, date(2027, 6, 1), date(2029, 5, 31)),
        date(2027, 4, 20),
        (STAGE_I_REVOKED_IN_MARCH,),
        "switch.titp_application_closed",
    ),
    (
        "stage ii -> iii with 12 months of stage ii on 2027-04-01",
        titp_plan(III, date(2028, 5, 1), date(2030, 4, 30)),
        date(2028, 1, 10),
        (I_DONE, STAGE_II_12_MONTHS),
        None,
    ),
    (
        "stage ii -> iii with a day short of 12 months",
        titp_plan(III, date(2028, 5, 1), date(2030, 4, 30)),
        date(2028, 1, 10),
        (I_DONE, STAGE_II_A_DAY_SHORT),
        "switch.stage_iii_year_of_stage_ii",
    ),
    (
        "stage ii -> iii with 11 months of stage ii on 2027-04-01",
        titp_plan(III, date(2028, 6, 1), date(2030, 5, 31)),
        date(2028, 2, 10),
        (I_DONE, STAGE_II_11_MONTHS),
        "switch.stage_iii_year_of_stage_ii",
    ),
    (
        "stage iii applied before the switch, starting by 06-30: no year asked",
        titp_plan(III, date(2027, 6, 1), date(2029, 5, 31)),
        date(2027, 2, 1),
        (),
        None,
    ),
    ("an ESD application before the switch, starting on it", esd_plan(), date(2026, 9, 1), (), None),
    (
        "an ESD plan starting the day before the switch",
        esd_plan(start_date=date(2027, 3, 31)),
        date(2026, 9, 1),
        (),
        "switch.esd_start",
    ),
    ("an ESD application after the switch", esd_plan(start_date=date(2027, 10, 1)), date(2027, 6, 1), (), None),
    ("a TITP plan names its stage", plan(stage=None), date(2026, 1, 1), (), "plan.titp_stage"),
    (
        "a TITP plan names no field",
        plan(field="construction"),
        date(2026, 1, 1),
        (),
        "plan.titp_no_esd_terms",
    ),
    ("an ESD plan names a field", esd_plan(field=None), date(2026, 9, 1), (), "esd.field"),
    (
        "a transfer names its reason",
        esd_plan(transfer_from=uuid4()),
        date(2026, 9, 1),
        (),
        "esd.transfer_reason",
    ),
    (
        "a reason without the plan transferred from",
        esd_plan(transfer_reason=TransferReason.ABUSE),
        date(2026, 9, 1),
        (),
        "esd.transfer_reason",
    ),
]


@pytest.mark.parametrize(
    ("terms", "applied_on", "plans", "rule"), [r[1:] for r in DECISIONS], ids=[r[0] for r in DECISIONS]
)
def test_the_switch_decides_by_application_date_and_the_trainees_status(terms, applied_on, plans, rule):
    if rule is None:
        BOOK.check_application(terms, applied_on, plans)
        return
    with pytest.raises(DomainRuleViolation) as refused:
        BOOK.check_application(terms, applied_on, plans)
    assert refused.value.rule == rule


def test_the_rule_set_follows_the_scheme_not_the_start_date():
    assert BOOK.for_plan(titp_plan(II, date(2027, 6, 1), date(2029, 5, 31))) is BOOK.titp
    assert BOOK.for_plan(plan(start_date=date(2027, 3, 31), end_date=date(2028, 3, 30))) is BOOK.titp
    assert BOOK.for_plan(esd_plan()) is BOOK.esd


def test_the_dates_and_the_year_are_configurable():
    book = RuleBook(titp=BOOK.titp, esd=EsdRules(starts_on=date(2027, 10, 1)), switch=Switch(date(2027, 12, 31), 2))
    book.check_application(titp_plan(I, date(2027, 12, 31)), date(2027, 9, 30), ())
    with pytest.raises(DomainRuleViolation, match="2027-10-01"):
        book.check_application(titp_plan(I, date(2027, 12, 1)), date(2027, 10, 1), ())
    with pytest.raises(DomainRuleViolation) as refused:  # 18 months of stage ii by 2027-10-01: not 2 years
        book.check_application(
            titp_plan(III, date(2028, 6, 1), date(2030, 5, 31)), date(2028, 2, 10), (I_DONE, STAGE_II_12_MONTHS)
        )
    assert refused.value.rule == "switch.stage_iii_year_of_stage_ii"


def sealed(terms):
    return terms.sealed(seal_model(new_data_key(), terms.trainee.personal_data(), f"trainee/{terms.trainee_id}"))


def test_a_refused_application_records_nothing_and_certification_decides_again():
    # Check: at application, the decide function refuses; no event.
    with pytest.raises(DomainRuleViolation) as refused:
        tp.apply_for_certification(tp.TrainingPlan(), sealed(titp_plan(I, date(2027, 6, 1))), date(2027, 4, 1), BOOK)
    assert refused.value.rule == "switch.titp_application_closed"

    # Check: stage ii accepted while the trainee was in stage i on 2027-04-01 ...
    stage_ii = titp_plan(II, date(2027, 6, 1), date(2029, 5, 31))
    [applied] = tp.apply_for_certification(
        tp.TrainingPlan(), sealed(stage_ii), date(2027, 4, 20), BOOK, (STAGE_I_IN_MARCH,)
    )
    state = tp.evolve(tp.TrainingPlan(), applied)
    # ... is refused at certification once the stage-i plan turns out revoked before the switch.
    with pytest.raises(DomainRuleViolation) as refused:
        tp.certify(state, facts(certified_on=date(2027, 5, 10), trainee_plans=(STAGE_I_REVOKED_IN_MARCH,)), BOOK)
    assert refused.value.rule == "switch.titp_application_closed"


def test_a_titp_plan_of_before_the_switch_is_certified_after_it_under_titp():
    terms = titp_plan(I, date(2027, 6, 30), date(2028, 6, 29))
    [applied] = tp.apply_for_certification(tp.TrainingPlan(), sealed(terms), date(2027, 3, 31), BOOK)
    [certified] = tp.certify(tp.evolve(tp.TrainingPlan(), applied), facts(certified_on=date(2027, 5, 1)), BOOK)
    assert (certified.rule_set, certified.scheme, certified.stage) == ("titp", Scheme.TITP, I)
    assert STAGE_I_DONE.scheme is Scheme.TITP  # plans recorded before ESD are TITP's


def test_with_the_filing_windows_a_new_trainee_s_last_titp_plan_is_filed_by_the_end_of_february_2027():
    """The default book: a stage-i plan starting on the transitional measures' last day (2027-06-30) is filed at least
    4 months before it, so by 2027-02-28; a day later it is too late for TITP (and ESD is not yet in force)."""
    book = RuleBook()
    book.check_application(titp_plan(I, date(2027, 6, 30)), date(2027, 2, 28), ())
    with pytest.raises(DomainRuleViolation) as refused:
        book.check_application(titp_plan(I, date(2027, 6, 30)), date(2027, 3, 1), ())
    assert refused.value.rule == "plan.filing_too_late"
