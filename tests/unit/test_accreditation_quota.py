"""The quota arithmetic of DOMAIN §3 and §11 (type (a)), as properties over any staff count and any number of
plans in force."""

from datetime import date
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from contracts.accreditation import Stage
from contracts.registry import TrainingType
from services.accreditation.domain.rules import ImplementingOrganization, QuotaRules, TitpRules
from shared.errors import DomainRuleViolation
from tests.unit.test_accreditation_rules import STAGE_I_DONE, facts, plan, stage_ii

QUOTA = QuotaRules()
staff = st.integers(min_value=0, max_value=100_000)
stages = st.sampled_from(list(Stage))


def basic_as_written(full_time_staff: int) -> int:
    """DOMAIN §3, word for word."""
    if full_time_staff <= 30:
        return 3
    if full_time_staff <= 40:
        return 4
    if full_time_staff <= 50:
        return 5
    if full_time_staff <= 100:
        return 6
    if full_time_staff <= 200:
        return 10
    if full_time_staff <= 300:
        return 15
    return full_time_staff // 20


@given(staff)
def test_the_basic_quota_follows_the_table(n):
    assert QUOTA.basic(n) == basic_as_written(n)


@given(staff)
def test_more_staff_never_lowers_the_basic_quota(n):
    assert QUOTA.basic(n) <= QUOTA.basic(n + 1)


@given(staff, stages, st.booleans())
def test_the_limit_is_the_multiplied_basic_quota_within_the_hard_cap(n, stage, excellent):
    multiplier = {
        (Stage.I, False): 1,
        (Stage.II, False): 2,
        (Stage.III, False): 0,
        (Stage.I, True): 2,
        (Stage.II, True): 4,
        (Stage.III, True): 6,
    }[stage, excellent]
    cap = {Stage.I: 1, Stage.II: 2, Stage.III: 3}[stage] * n
    limit, rule = QUOTA.limit(stage, n, excellent)
    assert limit == min(multiplier * basic_as_written(n), cap)
    assert rule == ("quota.hard_cap" if cap < multiplier * basic_as_written(n) else "quota.stage_limit")


@given(staff, stages)
def test_excellence_never_lowers_the_limit_and_stage_iii_needs_it(n, stage):
    assert QUOTA.limit(stage, n, True)[0] >= QUOTA.limit(stage, n, False)[0]
    assert QUOTA.limit(Stage.III, n, False)[0] == 0


@given(staff, stages, st.booleans())
def test_type_a_takes_its_share_of_the_staff_unless_recognised_as_stable(n, stage, excellent):
    share = {
        (Stage.I, False): Fraction(1, 20),
        (Stage.II, False): Fraction(1, 10),
        (Stage.III, False): Fraction(0),
        (Stage.I, True): Fraction(1, 10),
        (Stage.II, True): Fraction(1, 5),
        (Stage.III, True): Fraction(3, 10),
    }[stage, excellent]
    limit, rule = QUOTA.limit(stage, n, excellent, type_a=True)
    assert limit == n * share.numerator // share.denominator  # the share, rounded down (never above the hard cap)
    assert rule == "quota.type_a_staff_share"


@given(
    st.integers(min_value=0, max_value=2_000),
    st.integers(min_value=0, max_value=300),
    st.booleans(),
    st.sampled_from([Stage.I, Stage.II]),
    st.booleans(),
)
def test_a_certification_is_refused_exactly_when_the_new_plan_would_exceed_the_limit(
    n, in_force, excellent, stage, stable
):
    org = ImplementingOrganization(TrainingType.A, None, n, excellent, stability_recognised=stable)
    terms = (plan if stage is Stage.I else stage_ii)(
        training_type=TrainingType.A, supervising_organization_id=None, sending_organization_id=None
    )
    known = facts(
        implementing_organization=org,
        permit=None,
        plans_in_force=in_force,
        trainee_plans=(STAGE_I_DONE,) if stage is Stage.II else (),
        certified_on=date(2026, 3, 1),
    )
    # type (a): the implementing organization's rating alone; the table only for a company recognised as stable
    limit, rule = QUOTA.limit(stage, n, excellent, type_a=not stable)
    try:
        TitpRules().check(terms, known)
    except DomainRuleViolation as refused:
        assert in_force + 1 > limit
        assert refused.rule == rule
    else:
        assert in_force + 1 <= limit
