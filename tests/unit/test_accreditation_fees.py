"""What a trainee paid before coming (issue 25 item 2; DOMAIN §7): the declaration's rules each at its boundary, the
ceiling and the flag of the sending organization (once per plan), ESD's ceiling in months of the wage and the
employer's share (recorded, never refused), and the settings. The plan is tests/unit/test_accreditation_rules.py's
type (b) stage-i plan (¥200,000 a month), applied for on 20 Nov 2025."""

from dataclasses import replace
from datetime import date
from fractions import Fraction
from uuid import uuid4

import pytest

from contracts.accreditation import (
    FeeDeclarant,
    FeeItem,
    FeeKind,
    FeeRecipient,
    PlanStatus,
    SendingOrganizationFeesFlagged,
    TrainingPlanApplied,
    TrainingPlanFeesDeclared,
)
from contracts.registry import Scheme, TrainingType
from services.accreditation.app import AccreditationSettings
from services.accreditation.domain import fees
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.fees import FeeRules
from services.accreditation.domain.rules import RuleBook
from shared.errors import DomainRuleViolation
from shared.web.problems import status_of
from tests.unit.test_accreditation_rules import plan
from tests.unit.test_accreditation_training_plan import sealed

APPLIED_ON = date(2025, 11, 20)
DECLARED_ON = date(2025, 12, 1)
RULES = FeeRules()


def item(amount: int, kind=FeeKind.SENDING_FEE, recipient=FeeRecipient.SENDING_ORGANIZATION) -> FeeItem:
    return FeeItem(
        kind=kind,
        recipient=recipient,
        purpose="as declared",
        amount_yen=amount,
        declared_by=FeeDeclarant.SENDING_ORGANIZATION,
    )


def applied(status: PlanStatus = PlanStatus.APPLIED, **terms) -> tp.AppliedPlan:
    stated = sealed(plan(**terms))
    state = tp.evolve(
        tp.TrainingPlan(), TrainingPlanApplied(**stated.details(), trainee=stated.trainee, applied_on=APPLIED_ON)
    )
    assert isinstance(state, tp.AppliedPlan)
    return replace(state, status=status)


def declare(state, *items, on=DECLARED_ON, rules=RULES, **amounts):
    return fees.declare_fees(state, uuid4(), on, items, rules, **amounts)


def after(state, events) -> tp.AppliedPlan:
    for event in events:
        state = tp.evolve(state, event)
    return state


# Refused, naming the rule (409), nothing recorded

ESD = {"scheme": Scheme.ESD, "stage": None, "field": "construction", "operation": None}
REFUSED = [
    ("a deposit (保証金)", applied(), [item(100_000, FeeKind.DEPOSIT)], {}, "fees.deposit_forbidden", "items[0].kind"),
    (
        "a penalty contract (違約金) among lawful items",
        applied(),
        [item(300_000), item(0, FeeKind.PENALTY_CONTRACT, FeeRecipient.BROKER)],
        {},
        "fees.penalty_contract_forbidden",
        "items[1].kind",
    ),
    (
        "a deposit on a rejected plan: the forbidden item is named first",
        applied(PlanStatus.REJECTED),
        [item(1, FeeKind.DEPOSIT)],
        {},
        "fees.deposit_forbidden",
        "items[0].kind",
    ),
    ("a rejected application", applied(PlanStatus.REJECTED), [item(300_000)], {}, "fees.plan_rejected", None),
    (
        "a day before the application",
        applied(),
        [item(300_000)],
        {"on": date(2025, 11, 19)},
        "fees.declared_before_application",
        "declared_on",
    ),
    (
        "a yen more borrowed than paid",
        applied(),
        [item(300_000)],
        {"borrowed_yen": 300_001},
        "fees.borrowed_above_total",
        "borrowed_yen",
    ),
    (
        "an employer's share on a TITP plan",
        applied(),
        [item(300_000)],
        {"employer_share_yen": 0},
        "fees.employer_share_esd_only",
        "employer_share_yen",
    ),
    (
        "paid to the sending organization of a type (a) plan",
        applied(training_type=TrainingType.A, supervising_organization_id=None, sending_organization_id=None),
        [item(10_000, FeeKind.TRAVEL, FeeRecipient.OTHER), item(300_000)],
        {},
        "fees.sending_organization_named",
        "items[1].recipient",
    ),
]


@pytest.mark.parametrize(
    ("state", "items", "given", "rule", "field"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_each_rule_refuses_with_its_name_and_field(state, items, given, rule, field):
    with pytest.raises(DomainRuleViolation) as refused:
        declare(state, *items, **given)
    assert refused.value.rule == rule
    assert refused.value.members.get("field") == field
    assert status_of(refused.value) == 409


ACCEPTED = [
    ("on the application's day", applied(), [item(300_000)], {"on": APPLIED_ON}),
    ("everything borrowed", applied(), [item(300_000)], {"borrowed_yen": 300_000}),
    ("nothing paid", applied(), [], {}),
    ("a certified plan", applied(PlanStatus.CERTIFIED), [item(300_000)], {}),
    ("a plan ended: a correction after the fact", applied(PlanStatus.COMPLETED), [item(300_000)], {}),
    (
        "a type (a) plan paid to others",
        applied(training_type=TrainingType.A, supervising_organization_id=None, sending_organization_id=None),
        [item(50_000, FeeKind.BROKERAGE, FeeRecipient.BROKER)],
        {},
    ),
]


@pytest.mark.parametrize(("state", "items", "given"), [r[1:] for r in ACCEPTED], ids=[r[0] for r in ACCEPTED])
def test_a_lawful_declaration_is_recorded(state, items, given):
    events = declare(state, *items, **given)
    assert [type(e) for e in events] == [TrainingPlanFeesDeclared]
    (declared,) = events
    assert declared.total_yen == sum(i.amount_yen for i in items)
    assert declared.sending_organization_id == state.application.sending_organization_id
    assert declared.trainee_id == state.application.trainee_id  # the plan's header, as on every plan event


# The ceiling and the flag


@pytest.mark.parametrize(
    ("amounts", "above"),
    [((700_000,), False), ((500_000, 200_001), True), ((700_001,), True), ((), False)],
    ids=["at the ceiling", "a yen above, in two items", "a yen above", "nothing"],
)
def test_above_the_default_ceiling_the_sending_organization_is_flagged(amounts, above):
    state = applied()
    events = declare(state, *(item(a) for a in amounts))
    declared = events[0]
    assert isinstance(declared, TrainingPlanFeesDeclared)
    assert (declared.ceiling_yen, declared.above_ceiling) == (fees.FEE_CEILING_YEN, above)
    flags = [e for e in events if isinstance(e, SendingOrganizationFeesFlagged)]
    if not above:
        assert flags == []
        return
    (flag,) = flags
    assert flag.sending_organization_id == state.application.sending_organization_id
    assert (flag.declaration_id, flag.flagged_on, flag.total_yen) == (
        declared.declaration_id,
        DECLARED_ON,
        sum(amounts),
    )


def test_a_plan_flags_its_sending_organization_once_and_its_latest_declaration_stands():
    state = applied()
    first = after(state, declare(state, item(800_000)))
    assert first.fees.flag is not None
    corrected = after(first, events := declare(first, item(900_000), on=date(2026, 1, 5)))
    assert [type(e) for e in events] == [TrainingPlanFeesDeclared]  # no second flag
    lower = after(corrected, declare(corrected, item(100_000), on=date(2026, 2, 1)))
    assert lower.fees.latest is not None and lower.fees.latest.total_yen == 100_000
    assert [d.total_yen for d in lower.fees.declarations] == [800_000, 900_000, 100_000]  # the history stays
    assert lower.fees.flag == first.fees.flag


def test_a_type_a_plan_above_the_ceiling_flags_no_one():
    state = applied(training_type=TrainingType.A, supervising_organization_id=None, sending_organization_id=None)
    events = declare(state, item(900_000, FeeKind.BROKERAGE, FeeRecipient.BROKER))
    assert [type(e) for e in events] == [TrainingPlanFeesDeclared]
    assert isinstance(events[0], TrainingPlanFeesDeclared) and events[0].above_ceiling


# ESD: a ceiling in months of the wage, the employer's share recorded


def test_esd_judges_the_worker_against_two_months_of_the_wage_and_records_the_employers_share():
    state = applied(**ESD, monthly_wage=215_000)
    at = declare(state, item(430_000), employer_share_yen=100_000)
    declared = at[0]
    assert isinstance(declared, TrainingPlanFeesDeclared)
    assert (declared.ceiling_yen, declared.above_ceiling, len(at)) == (430_000, False, 1)
    # half of what the sending organization got (430,000 + 100,000), rounded up: expected, not required
    assert (declared.employer_share_yen, declared.employer_share_expected_yen) == (100_000, 265_000)
    above = declare(state, item(430_001, FeeKind.PRE_ENTRY_TRAINING))
    assert [type(e) for e in above] == [TrainingPlanFeesDeclared, SendingOrganizationFeesFlagged]


def test_the_employers_expected_share_counts_only_what_the_sending_organization_got():
    state = applied(**ESD)
    events = declare(state, item(101, FeeKind.TRAVEL, FeeRecipient.OTHER), item(3), employer_share_yen=0)
    declared = events[0]
    assert isinstance(declared, TrainingPlanFeesDeclared)
    assert declared.employer_share_expected_yen == 2  # half of 3, rounded up
    titp = declare(applied(), item(3))[0]
    assert isinstance(titp, TrainingPlanFeesDeclared) and titp.employer_share_expected_yen is None


# The numbers are configurable


def test_the_numbers_are_settings_with_the_stated_defaults(monkeypatch):
    assert AccreditationSettings().rule_book().fees == FeeRules(700_000, 2, Fraction(1, 2)) == RuleBook().fees
    monkeypatch.setenv("TITP_ACCREDITATION_FEE_CEILING_YEN", "500000")
    monkeypatch.setenv("TITP_ACCREDITATION_ESD_FEE_CEILING_WAGE_MONTHS", "0")
    monkeypatch.setenv("TITP_ACCREDITATION_ESD_EMPLOYER_SHARE_EXPECTED", "2/3")
    rules = AccreditationSettings().rule_book().fees
    assert rules == FeeRules(500_000, None, Fraction(2, 3))
    assert rules.ceiling(applied(**ESD).application) == 500_000  # 0 months: ESD takes the yen ceiling
    declared = declare(applied(), item(500_001), rules=rules)
    assert isinstance(declared[0], TrainingPlanFeesDeclared) and declared[0].above_ceiling


def test_a_negative_ceiling_is_refused_at_start(monkeypatch):
    monkeypatch.setenv("TITP_ACCREDITATION_FEE_CEILING_YEN", "-1")
    with pytest.raises(ValueError, match="fee_ceiling_yen"):
        AccreditationSettings()
