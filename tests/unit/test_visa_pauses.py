"""What the visa service keeps of a plan's pauses (issue 25 item 3): the pauses as titp.accreditation.v1 tells them, and
SSW (i)'s TITP days, which count only days in training."""

from dataclasses import replace
from datetime import date
from uuid import uuid4

from contracts.accreditation import (
    ExamResult,
    PausePeriod,
    PauseReason,
    PlanStatus,
    TrainingPlanPaused,
    TrainingPlanResumed,
)
from services.visa.domain.rules import VisaRules
from services.visa.domain.ssw import titp_days_completed
from services.visa.projections.pauses import with_pause
from tests.unit.test_visa_rules import PLAN

HEADER = {
    "trainee_id": PLAN.trainee_id,
    "stage": PLAN.stage,
    "training_type": "b",
    "job_category": PLAN.job_category,
    "implementing_organization_id": uuid4(),
    "start_date": PLAN.start_date,
    "end_date": PLAN.end_date,
}
PAUSED = TrainingPlanPaused(**HEADER, paused_on=date(2027, 1, 1), reason=PauseReason.CHILDBIRTH)
RESUMED = TrainingPlanResumed(
    **{**HEADER, "end_date": date(2027, 12, 1)},
    resumed_on=date(2027, 4, 1),
    paused_on=date(2027, 1, 1),
    reason=PauseReason.CHILDBIRTH,
    paused_days=90,
    previous_end_date=PLAN.end_date,
)


def test_the_pauses_follow_the_events_once_each():
    paused = with_pause([], PAUSED)
    assert paused == [{"from": "2027-01-01", "resumed_on": None, "reason": "childbirth"}]
    assert with_pause(paused, PAUSED) == paused  # a redriven pause changes nothing
    resumed = with_pause(paused, RESUMED)
    assert resumed == [{"from": "2027-01-01", "resumed_on": "2027-04-01", "reason": "childbirth"}]
    assert with_pause(resumed, RESUMED) == resumed
    assert with_pause(resumed, PAUSED) == resumed  # the pause arriving again does not reopen it
    # Check: a resumption whose pause was never seen still records the pause, resumed.
    assert with_pause([], RESUMED) == resumed


def test_ssw_counts_only_the_days_in_training():
    # Stage i from 1 Sep 2026, paused 1 Jan - 31 Mar 2027 (90 days), ends 90 days later, completed on 29 Nov 2027.
    completed = replace(
        PLAN,
        end_date=date(2027, 11, 29),
        status=PlanStatus.COMPLETED,
        ended_on=date(2027, 11, 29),
        exam_result=ExamResult.PASSED,
        pauses=(PausePeriod(paused_on=date(2027, 1, 1), resumed_on=date(2027, 4, 1)),),
    )
    done, _ = titp_days_completed([completed], date(2028, 1, 1), VisaRules())
    assert done == (date(2027, 11, 29) - date(2026, 9, 1)).days + 1 - 90 == 365
    assert completed.days_paused(date(2027, 3, 31), date(2027, 4, 30)) == 1
    # Check: ended while paused, the days from the pause to its end are not counted.
    left = replace(completed, pauses=(PausePeriod(paused_on=date(2027, 1, 1)),))
    assert left.days_paused(date(2026, 9, 1), date(2027, 1, 10)) == 10
