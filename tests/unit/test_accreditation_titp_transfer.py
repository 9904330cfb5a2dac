"""TITP transfers (DOMAIN §4/§7 and §11, issue 20): a trainee moves to another employer for an unavoidable reason on a
new plan for the rest of the stage, the stage's length counted across both plans, and the receiving side judged by
every other rule. One row per rule: a transfer that passes, then the one change that breaks exactly that rule (at its
boundary where it has one)."""

from dataclasses import replace
from datetime import date, timedelta
from uuid import uuid4

import pytest

from contracts.accreditation import (
    ExamGrade,
    ExamResult,
    PlanStatus,
    PlanTerms,
    Stage,
    Trainee,
    TrainingPlanCertified,
    TrainingPlanTransferred,
    TransferReason,
)
from contracts.registry import Scheme, TrainingType
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.rules import (
    CertificationFacts,
    EsdRules,
    ExamTaken,
    ImplementingOrganization,
    OtherPlan,
    Permit,
    RuleBook,
    Switch,
    TitpRules,
)
from shared.errors import DomainRuleViolation

B = TrainingType.B
I, II, III = Stage.I, Stage.II, Stage.III  # noqa: E741
SUPERVISING, OTHER_SUPERVISING = uuid4(), uuid4()
BANKRUPT, RECEIVING = uuid4(), uuid4()
SOURCE = uuid4()
CARPENTRY = "construction.carpentry.building"
PLASTERING = "construction.plastering.plastering"
RULES = RuleBook()


def source(**changes) -> OtherPlan:
    """The trainee's stage-i plan with the employer that went bankrupt: 1 Apr 2026 to 31 Mar 2027, in force."""
    return replace(
        OtherPlan(
            I,
            "construction",
            date(2026, 4, 1),
            date(2027, 3, 31),
            PlanStatus.CERTIFIED,
            id=SOURCE,
            implementing_organization_id=BANKRUPT,
            operation=CARPENTRY,
        ),
        **changes,
    )


def transfer(**changes) -> PlanTerms:
    """The new stage-i plan with another employer under the same supervising organization, for the rest of the
    stage: from 1 Oct 2026 to 31 Mar 2027, after the employer's bankruptcy."""
    return PlanTerms(
        **{
            "trainee_id": uuid4(),
            "stage": I,
            "training_type": B,
            "job_category": "construction",
            "operation": CARPENTRY,
            "implementing_organization_id": RECEIVING,
            "supervising_organization_id": SUPERVISING,
            "sending_organization_id": uuid4(),
            "start_date": date(2026, 10, 1),
            "end_date": date(2027, 3, 31),
            "trainee": Trainee(
                name="Nguyen Van An", date_of_birth=date(2000, 5, 1), nationality="VN", passport_number="C1234567"
            ),
            "monthly_wage": 200_000,
            "comparable_japanese_wage": 195_000,
            "transfer_from": SOURCE,
            "transfer_reason": TransferReason.BANKRUPTCY,
            **changes,
        }
    )


def facts(**changes) -> CertificationFacts:
    return CertificationFacts(
        **{
            "certified_on": date(2026, 9, 25),
            "implementing_organization": ImplementingOrganization(B, SUPERVISING, full_time_staff=40, excellent=False),
            "permit": Permit("active", "specified", date(2024, 3, 1), date(2029, 2, 28)),
            "sending_organization_approved": True,
            "sending_agreement_in_force": True,
            "personal_data": transfer().trainee.personal_data(),
            "trainee_plans": (source(),),
            "transfer_from_supervising_organization_id": SUPERVISING,
            "exams": (
                ExamTaken(ExamGrade.BASIC, ExamResult.PASSED, date(2025, 2, 1)),
                ExamTaken(ExamGrade.GRADE_3, ExamResult.PASSED, date(2025, 2, 1)),
            ),
            **changes,
        }
    )


APPLIED_ON = date(2026, 9, 15)


def decide(
    terms: PlanTerms, known: CertificationFacts, applied_on: date | None = None, rules: RuleBook = RULES
) -> None:
    """Applied for ten days before its certification unless told."""
    rules.check(terms, applied_on or known.certified_on - timedelta(days=10), known)


# A stage-ii transfer: stage i done in 2024-25; stage ii from 1 Apr 2025 to 31 Mar 2027 with the first employer,
# moved on 1 Oct 2026 (18 months after stage i ended: the gap rule is judged on the stage's first day).
STAGE_I_DONE = OtherPlan(
    I, "construction", date(2024, 4, 1), date(2025, 3, 31), PlanStatus.COMPLETED, date(2025, 3, 31), ExamResult.PASSED
)
STAGE_II_SOURCE = source(stage=II, start_date=date(2025, 4, 1), end_date=date(2027, 3, 31))
# A stage-iii transfer: stage ii done in 2023-24, home in April 2025, stage iii from May 2025 with the first employer.
STAGE_II_DONE = OtherPlan(
    II,
    "construction",
    date(2023, 4, 1),
    date(2025, 3, 31),
    PlanStatus.COMPLETED,
    date(2025, 3, 31),
    operation=CARPENTRY,
)
STAGE_III_SOURCE = source(stage=III, start_date=date(2025, 5, 1), end_date=date(2027, 4, 30))
EXCELLENT_ELSEWHERE = ImplementingOrganization(B, OTHER_SUPERVISING, full_time_staff=40, excellent=True)
GENERAL = Permit("active", "general", date(2024, 3, 1), date(2029, 2, 28))
# A chain: a first transfer in stage i on 1 Jan 2026 (that plan began on 1 Oct 2025): the stage began then.
FIRST_OF_CHAIN = source(
    id=uuid4(),
    start_date=date(2025, 10, 1),
    end_date=date(2026, 9, 30),
    status=PlanStatus.TRANSFERRED,
    ended_on=date(2026, 1, 1),
    implementing_organization_id=uuid4(),
)
CHAINED_SOURCE = source(start_date=date(2026, 1, 1), end_date=date(2026, 9, 30))

CASES = [
    ("a bankruptcy transfer for the rest of stage i", transfer(), facts(), None),
    *[
        (f"for {reason}", transfer(transfer_reason=reason), facts(), None)
        for reason in (TransferReason.ABUSE, TransferReason.SERIOUS_VIOLATION, TransferReason.PERMIT_ENDED)
    ],
    (
        "at the trainee's own wish",
        transfer(transfer_reason=TransferReason.OWN_WISH),
        facts(),
        "transfer.titp_unavoidable_only",
    ),
    ("a reason without the plan it continues", transfer(transfer_from=None), facts(), "transfer.reason"),
    ("the plan it continues without a reason", transfer(transfer_reason=None), facts(), "transfer.reason"),
    ("a plan not the trainee's", transfer(transfer_from=uuid4()), facts(), "transfer.source_plan"),
    (
        "an ESD plan is no TITP source",
        transfer(),
        facts(trainee_plans=(source(scheme=Scheme.ESD, stage=None),)),
        "transfer.source_plan",
    ),
    (
        "a source already completed",
        transfer(),
        facts(trainee_plans=(source(status=PlanStatus.COMPLETED, ended_on=date(2026, 9, 30)),)),
        "transfer.source_plan",
    ),
    (
        "a source that ended on a transfer already",
        transfer(),
        facts(trainee_plans=(source(status=PlanStatus.TRANSFERRED, ended_on=date(2026, 8, 1)),)),
        "transfer.source_plan",
    ),
    (
        "decided again after the move (a change certification): the source ended by this transfer",
        transfer(),
        facts(trainee_plans=(source(status=PlanStatus.TRANSFERRED, ended_on=date(2026, 10, 1)),)),
        None,
    ),
    (
        "the new start on the source's last day (boundary)",
        transfer(start_date=date(2027, 3, 31)),
        facts(certified_on=date(2027, 3, 20)),
        None,
    ),
    (
        "the new start after the source's end",
        transfer(start_date=date(2027, 4, 1), end_date=date(2027, 4, 30)),
        facts(certified_on=date(2027, 3, 20)),
        "transfer.source_plan",
    ),
    (
        "the new start on the source's start",
        transfer(start_date=date(2026, 4, 1)),
        facts(certified_on=date(2026, 3, 25)),
        "transfer.source_plan",
    ),
    ("another stage", transfer(), facts(trainee_plans=(source(stage=II),)), "transfer.same_stage"),
    ("another operation", transfer(operation=PLASTERING), facts(), "transfer.same_operation"),
    (
        "another job category (a source without an operation)",
        transfer(job_category="agriculture", operation=None),
        facts(trainee_plans=(source(operation=None),)),
        "transfer.same_operation",
    ),
    ("the same employer", transfer(implementing_organization_id=BANKRUPT), facts(), "transfer.another_employer"),
    (
        "another supervising organization at stage i for a bankruptcy",
        transfer(supervising_organization_id=OTHER_SUPERVISING),
        facts(
            implementing_organization=ImplementingOrganization(
                B, OTHER_SUPERVISING, full_time_staff=40, excellent=False
            )
        ),
        "transfer.supervising_organization",
    ),
    (
        "another supervising organization when the permit ended",
        transfer(supervising_organization_id=OTHER_SUPERVISING, transfer_reason=TransferReason.PERMIT_ENDED),
        facts(
            implementing_organization=ImplementingOrganization(
                B, OTHER_SUPERVISING, full_time_staff=40, excellent=False
            )
        ),
        None,
    ),
    (
        "the stage's year ends on the source start's anniversary eve (boundary)",
        transfer(end_date=date(2027, 3, 31)),
        facts(),
        None,
    ),
    (
        "one day past the stage's year counted from the source's start",
        transfer(end_date=date(2027, 4, 1)),
        facts(),
        "transfer.stage_length",
    ),
    (
        "a second transfer: the stage counts from the first plan of the chain",
        transfer(start_date=date(2026, 6, 1), end_date=date(2026, 9, 30)),
        facts(certified_on=date(2026, 5, 25), trainee_plans=(FIRST_OF_CHAIN, CHAINED_SOURCE)),
        None,
    ),
    (
        "a second transfer past the year since the chain began",
        transfer(start_date=date(2026, 6, 1), end_date=date(2026, 10, 1)),
        facts(certified_on=date(2026, 5, 25), trainee_plans=(FIRST_OF_CHAIN, CHAINED_SOURCE)),
        "transfer.stage_length",
    ),
    (
        "the receiving employer's quota counts the new plan (at the limit)",
        transfer(),
        facts(plans_in_force=4),
        "quota.stage_limit",
    ),
    ("the receiving employer's quota, one below the limit", transfer(), facts(plans_in_force=3), None),
    (
        "the receiving side's supervising organization holds an active permit",
        transfer(),
        facts(permit=Permit("revoked", "specified", date(2024, 3, 1), date(2029, 2, 28))),
        "supervising_organization.permit_active",
    ),
    (
        "the receiving employer belongs to the plan's supervising organization",
        transfer(),
        facts(
            implementing_organization=ImplementingOrganization(
                B, OTHER_SUPERVISING, full_time_staff=40, excellent=False
            )
        ),
        "implementing_organization.supervised_by",
    ),
    (
        "stage ii: moving on judged on the stage's first day, not the transfer's (no gap refusal)",
        transfer(stage=II, start_date=date(2026, 10, 1), end_date=date(2027, 3, 31)),
        facts(trainee_plans=(STAGE_I_DONE, STAGE_II_SOURCE)),
        None,
    ),
    (
        "stage ii: two years from the stage's first day at most",
        transfer(stage=II, start_date=date(2026, 10, 1), end_date=date(2027, 4, 1)),
        facts(trainee_plans=(STAGE_I_DONE, STAGE_II_SOURCE)),
        "transfer.stage_length",
    ),
    (
        "stage iii: another supervising organization and an excellent employer",
        transfer(
            stage=III,
            supervising_organization_id=OTHER_SUPERVISING,
            start_date=date(2026, 10, 1),
            end_date=date(2027, 4, 30),
        ),
        facts(
            implementing_organization=EXCELLENT_ELSEWHERE,
            permit=GENERAL,
            trainee_plans=(STAGE_II_DONE, STAGE_III_SOURCE),
        ),
        None,
    ),
    (
        "stage iii: the receiving employer is excellent",
        transfer(
            stage=III,
            supervising_organization_id=OTHER_SUPERVISING,
            start_date=date(2026, 10, 1),
            end_date=date(2027, 4, 30),
        ),
        facts(
            implementing_organization=replace(EXCELLENT_ELSEWHERE, excellent=False),
            permit=GENERAL,
            trainee_plans=(STAGE_II_DONE, STAGE_III_SOURCE),
        ),
        "stage_iii.excellent_implementing_organization",
    ),
    (
        "stage iii: the receiving supervising organization's permit is general",
        transfer(
            stage=III,
            supervising_organization_id=OTHER_SUPERVISING,
            start_date=date(2026, 10, 1),
            end_date=date(2027, 4, 30),
        ),
        facts(
            implementing_organization=EXCELLENT_ELSEWHERE,
            trainee_plans=(STAGE_II_DONE, STAGE_III_SOURCE),
        ),
        "supervising_organization.permit_covers_stage",
    ),
]


@pytest.mark.parametrize(("case", "terms", "known", "rule"), CASES, ids=[c[0] for c in CASES])
def test_titp_transfer_rules(case, terms, known, rule):
    if rule is None:
        decide(terms, known)
        return
    with pytest.raises(DomainRuleViolation) as refused:
        decide(terms, known)
    assert refused.value.rule == rule, refused.value.detail


FILING = [
    ("filed two weeks before its start (no 4-month wait)", date(2026, 9, 15), None),
    ("filed on its start day (boundary)", date(2026, 10, 1), None),
    ("filed after its start", date(2026, 10, 2), "plan.filing_too_late"),
    ("filed more than 6 months before its start", date(2026, 3, 31), "plan.filing_too_early"),
]


@pytest.mark.parametrize(("case", "applied_on", "rule"), FILING, ids=[c[0] for c in FILING])
def test_a_transfer_plan_is_filed_as_soon_as_it_can_be(case, applied_on, rule):
    known = facts(certified_on=max(applied_on, date(2026, 9, 25)))
    if rule is None:
        decide(transfer(), known, applied_on)
        return
    with pytest.raises(DomainRuleViolation) as refused:
        decide(transfer(), known, applied_on)
    assert refused.value.rule == rule


def test_the_filing_delay_and_reasons_are_configurable():
    rules = RuleBook(
        titp=TitpRules(transfer_filing_latest_days=30, transfer_reasons=frozenset({TransferReason.BANKRUPTCY}))
    )
    with pytest.raises(DomainRuleViolation) as refused:
        decide(transfer(), facts(), date(2026, 9, 15), rules)
    assert refused.value.rule == "plan.filing_too_late"
    decide(transfer(), facts(), date(2026, 8, 31), rules)
    with pytest.raises(DomainRuleViolation) as refused:
        decide(transfer(transfer_reason=TransferReason.ABUSE), facts(), date(2026, 8, 31), rules)
    assert refused.value.rule == "transfer.titp_unavoidable_only"


NEXT_STAGE = [
    ("completed in full at its end", date(2027, 3, 31), None),
    ("recorded completed before its period ran", date(2027, 3, 1), "previous_stage.completed_in_full"),
]


@pytest.mark.parametrize(("case", "completed_on", "rule"), NEXT_STAGE, ids=[c[0] for c in NEXT_STAGE])
def test_a_transferred_stage_completed_qualifies_for_the_next_stage(case, completed_on, rule):
    """Stage i moved on 1 Oct 2026; the new plan's completion is the stage's: stage ii follows it."""
    moved = source(status=PlanStatus.TRANSFERRED, ended_on=date(2026, 10, 1))
    rest = OtherPlan(
        I,
        "construction",
        date(2026, 10, 1),
        date(2027, 3, 31),
        PlanStatus.COMPLETED,
        completed_on,
        ExamResult.PASSED,
        id=uuid4(),
        implementing_organization_id=RECEIVING,
        operation=CARPENTRY,
    )
    stage_ii = transfer(
        stage=II, start_date=date(2027, 4, 1), end_date=date(2029, 3, 31), transfer_from=None, transfer_reason=None
    )
    known = facts(
        certified_on=date(2026, 12, 20),
        trainee_plans=(moved, rest),
        exams=(ExamTaken(ExamGrade.BASIC, ExamResult.PASSED, date(2027, 2, 1)),),
    )
    if rule is None:
        decide(stage_ii, known, date(2026, 12, 15))
        return
    with pytest.raises(DomainRuleViolation) as refused:
        decide(stage_ii, known, date(2026, 12, 15))
    assert refused.value.rule == rule


# The switch to ESD moved out of the way: the gap rule alone decides.
BEFORE_THE_SWITCH = RuleBook(esd=EsdRules(starts_on=date(2030, 4, 1)), switch=Switch(titp_last_start=date(2030, 6, 30)))


def test_the_stage_ii_gap_counts_from_the_transferred_stage_end():
    """Stage ii starts within 12 months after the new plan (the stage's last) ended, not after the first one."""
    moved = source(status=PlanStatus.TRANSFERRED, ended_on=date(2026, 10, 1))
    rest = OtherPlan(
        I,
        "construction",
        date(2026, 10, 1),
        date(2027, 3, 31),
        PlanStatus.COMPLETED,
        date(2027, 3, 31),
        ExamResult.PASSED,
        id=uuid4(),
        implementing_organization_id=RECEIVING,
        operation=CARPENTRY,
    )
    known = facts(
        certified_on=date(2027, 12, 20),
        trainee_plans=(moved, rest),
        exams=(ExamTaken(ExamGrade.BASIC, ExamResult.PASSED, date(2027, 2, 1)),),
    )
    late = transfer(
        stage=II, start_date=date(2028, 4, 2), end_date=date(2030, 3, 31), transfer_from=None, transfer_reason=None
    )
    with pytest.raises(DomainRuleViolation) as refused:
        decide(late, known, date(2027, 12, 15), BEFORE_THE_SWITCH)
    assert refused.value.rule == "previous_stage.gap"


def test_certifying_the_transfer_ends_the_source_as_transferred_and_nothing_else():
    """The decide function behind the same-transaction end of the source plan: TITP as ESD."""
    terms = transfer(transfer_from=None, transfer_reason=None, start_date=date(2026, 4, 1))
    sealed = terms.sealed("x" * 40)
    [applied] = tp.apply_for_certification(tp.TrainingPlan(), sealed, date(2025, 11, 20), RULES)
    state = tp.replay([applied])
    assert isinstance(state, tp.AppliedPlan)
    certified = tp.evolve(
        state, TrainingPlanCertified(**state.header(), certified_on=date(2026, 2, 1), rule_set="titp")
    )
    to = uuid4()
    [event] = tp.transfer(certified, date(2026, 10, 1), to, TransferReason.BANKRUPTCY)
    assert isinstance(event, TrainingPlanTransferred)
    assert (event.transferred_on, event.to_plan_id, event.reason) == (date(2026, 10, 1), to, TransferReason.BANKRUPTCY)
    ended = tp.evolve(certified, event)
    assert isinstance(ended, tp.AppliedPlan) and ended.status is PlanStatus.TRANSFERRED
    assert ended.ended_on == date(2026, 10, 1)
    assert tp.transfer(ended, date(2026, 10, 1), to, TransferReason.BANKRUPTCY) == []
