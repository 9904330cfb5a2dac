"""Immigration after a TITP transfer (issue 20): the trainee's residence follows the new plan without a new entry. No
COE for a transfer plan (the status held carries on), no change of status to it, and the next stage's change of
status is granted from it; SSW (i) counts the stage's days once across both plans."""

from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest

from contracts.accreditation import ExamResult, PlanStatus, Stage
from contracts.registry import Scheme
from services.visa.domain import certificate_of_eligibility as coe
from services.visa.domain import residence
from services.visa.domain.known import KnownPlan
from services.visa.domain.rules import VisaRules
from services.visa.domain.ssw import titp_days_completed
from shared.errors import DomainRuleViolation

RULES = VisaRules()
TRAINEE = uuid4()
LEFT = KnownPlan(
    plan_id=uuid4(),
    trainee_id=TRAINEE,
    stage=Stage.I,
    job_category="construction",
    supervising_organization_id=uuid4(),
    start_date=date(2026, 4, 1),
    end_date=date(2027, 3, 31),
    status=PlanStatus.TRANSFERRED,
    certified_on=date(2026, 1, 10),
    ended_on=date(2026, 10, 1),
    transferred_on=date(2026, 10, 1),
)
MOVED = replace(
    LEFT,
    plan_id=uuid4(),
    start_date=date(2026, 10, 1),
    status=PlanStatus.CERTIFIED,
    certified_on=date(2026, 9, 25),
    ended_on=None,
    transferred_on=None,
    transfer_from=LEFT.plan_id,
)
LEFT = replace(LEFT, transferred_to=MOVED.plan_id)


def refused(rule: str, decide) -> None:
    with pytest.raises(DomainRuleViolation) as refusal:
        decide()
    assert refusal.value.rule == rule, refusal.value.detail


@pytest.mark.parametrize(
    ("case", "plan", "rule"),
    [
        ("a stage-i transfer plan", MOVED, "coe.transfer_status_carries_on"),
        ("a stage-iii transfer plan", replace(MOVED, stage=Stage.III), "coe.transfer_status_carries_on"),
        ("the plan left", LEFT, "coe.plan_transferred"),
        (
            "an ESD transfer (unchanged)",
            replace(MOVED, scheme=Scheme.ESD, stage=None),
            "coe.esd_transfer_changes_status",
        ),
    ],
)
def test_no_coe_for_a_transfer(case, plan, rule):
    refused(rule, lambda: coe.apply_for_coe(coe.NoApplication(), plan.plan_id, plan, [], [], date(2026, 9, 26)))


def test_a_coe_for_the_same_stage_i_plan_not_a_transfer_is_still_accepted():
    plan = replace(MOVED, transfer_from=None, start_date=date(2027, 1, 1))
    [applied] = coe.apply_for_coe(coe.NoApplication(), plan.plan_id, plan, [], [], date(2026, 9, 26))
    assert applied.training_plan_id == plan.plan_id


@pytest.mark.parametrize(
    ("case", "plan", "held", "rule"),
    [
        (
            "to a stage-ii transfer plan: the status carries on",
            replace(MOVED, stage=Stage.II),
            {Stage.I, Stage.II},
            "status_change.transfer_status_carries_on",
        ),
        ("to a stage-i transfer plan", MOVED, {Stage.I}, "status_change.transfer_status_carries_on"),
    ],
)
def test_no_change_of_status_to_a_transfer_plan(case, plan, held, rule):
    refused(rule, lambda: residence.change_status(None, plan.plan_id, plan, held, date(2026, 9, 28), RULES))


def test_the_next_stage_changes_status_from_the_transfer_plan():
    """Stage i entered on the plan left (visa), finished on the transfer plan: stage ii is granted on the stage-i
    status the trainee holds."""
    stage_ii = replace(
        MOVED,
        plan_id=uuid4(),
        stage=Stage.II,
        start_date=date(2027, 4, 1),
        end_date=date(2029, 3, 31),
        transfer_from=None,
        certified_on=date(2027, 1, 10),
    )
    [change] = residence.change_status(None, stage_ii.plan_id, stage_ii, {Stage.I}, date(2027, 3, 20), RULES)
    assert (change.from_stage, change.to_stage, change.training_plan_id) == (Stage.I, Stage.II, stage_ii.plan_id)


def test_a_stage_split_by_a_transfer_counts_its_days_once_for_ssw():
    """The plan left was trained in until the day before the move; the transfer plan from the move to its end."""
    completed = replace(MOVED, status=PlanStatus.COMPLETED, ended_on=date(2027, 3, 31), exam_result=ExamResult.PASSED)
    done, _ = titp_days_completed([LEFT, completed], date(2027, 4, 1), RULES)
    assert done == (date(2027, 3, 31) - date(2026, 4, 1)).days + 1
