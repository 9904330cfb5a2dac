"""What a plan counts in for the transfer and disappearance statistics (issue 20): the month the trainee moved, by
reason, scheme and stage of the plan left; the month of a discontinuation for disappearance, by scheme, stage and
nationality; nothing for other endings, and facts recorded before issue 20 still count as they did."""

from datetime import date
from uuid import uuid4

import pytest

from contracts.accreditation import (
    DiscontinuationReason,
    PlanHeader,
    TrainingPlanApplied,
    TrainingPlanCertified,
    TrainingPlanDiscontinued,
    TrainingPlanTransferred,
    TransferReason,
)
from contracts.registry import Scheme
from services.accreditation.domain import training_plan as tp
from services.accreditation.projections.statistics import DISAPPEARANCES, TRANSFERS, plan_facts, plan_keys

APPLICATION = {
    "trainee_id": str(uuid4()),
    "scheme": "titp",
    "stage": "i",
    "training_type": "b",
    "job_category": "construction",
    "operation": "construction.carpentry.building",
    "implementing_organization_id": str(uuid4()),
    "supervising_organization_id": str(uuid4()),
    "sending_organization_id": str(uuid4()),
    "start_date": "2026-04-01",
    "end_date": "2027-03-31",
    "monthly_wage": 200_000,
    "comparable_japanese_wage": 195_000,
    "trainee": {"nationality": "VN", "personal_data": None},
    "applied_on": "2025-11-20",
}


def certified() -> tp.AppliedPlan:
    applied = TrainingPlanApplied.model_validate(APPLICATION)
    header = {name: getattr(applied, name) for name in PlanHeader.model_fields}
    state = tp.replay([applied, TrainingPlanCertified(**header, certified_on=date(2026, 2, 1), rule_set="titp")])
    assert isinstance(state, tp.AppliedPlan)
    return state


def ended(event_of) -> tp.AppliedPlan:
    state = certified()
    after = tp.evolve(state, event_of(state.header()))
    assert isinstance(after, tp.AppliedPlan)
    return after


@pytest.mark.parametrize(
    ("case", "state", "expected"),
    [
        (
            "a bankruptcy transfer, in the month of the move",
            ended(
                lambda h: TrainingPlanTransferred(
                    **h, transferred_on=date(2026, 10, 1), to_plan_id=uuid4(), reason=TransferReason.BANKRUPTCY
                )
            ),
            {(TRANSFERS, date(2026, 10, 1), ("bankruptcy", "titp", "i"))},
        ),
        (
            "a disappearance, in the month of the discontinuation",
            ended(
                lambda h: TrainingPlanDiscontinued(
                    **h, discontinued_on=date(2026, 7, 31), reason=DiscontinuationReason.DISAPPEARANCE
                )
            ),
            {(DISAPPEARANCES, date(2026, 7, 1), ("titp", "i", "VN"))},
        ),
        (
            "a discontinuation for bankruptcy is no disappearance",
            ended(
                lambda h: TrainingPlanDiscontinued(
                    **h, discontinued_on=date(2026, 7, 31), reason=DiscontinuationReason.BANKRUPTCY
                )
            ),
            set(),
        ),
        ("a plan in force", certified(), set()),
    ],
)
def test_transfers_and_disappearances_are_counted_by_month(case, state, expected):
    keys = plan_keys(plan_facts(state, "13"))
    assert {k for k in keys if k[0] in (TRANSFERS, DISAPPEARANCES)} == expected


def test_an_esd_transfer_counts_under_its_scheme_without_a_stage():
    state = certified()
    esd = tp.AppliedPlan(
        application=state.application.model_copy(update={"scheme": Scheme.ESD, "stage": None}),
        status=state.status,
        certified_on=state.certified_on,
    )
    moved = tp.evolve(
        esd,
        TrainingPlanTransferred(
            **esd.header(), transferred_on=date(2028, 5, 1), to_plan_id=uuid4(), reason=TransferReason.OWN_WISH
        ),
    )
    keys = plan_keys(plan_facts(moved, None))
    assert (TRANSFERS, date(2028, 5, 1), ("own_wish", "esd", "none")) in keys


def test_facts_recorded_before_issue_20_still_count():
    facts = plan_facts(certified(), "13")
    assert facts is not None and "transfer" not in facts and "disappearance" not in facts
    assert plan_keys(facts)
