"""The way on to Specified Skilled Worker (i) (DOMAIN §6, §9, §11): which path applies to the trainee, and
whether it is open on a day.

- TITP (`ssw.titp_exempt_after_stage_ii`): a trainee who, by that day, completed stage ii with its exam
  (grade 3) passed in the job category of the requested field, none of whose plans was revoked or
  discontinued (good standing), moves without the skills and Japanese tests.
- ESD (`ssw.esd_grade_3_and_japanese_a2`): the TITP exemption does not apply. The worker needs a certified
  ESD plan in the field, a skills test passed (grade 3 practical, or the SSW skills test) AND Japanese A2.
  An exam counts when it was passed by that day, as an application for one of the worker's plans stated it
  or as the exam body reported it to accreditation (`ExamResultRecorded`).

Which path: the scheme of the trainee's latest plan (by start date) that was ever certified, or of the
latest plan when none was: an ESD worker is judged as one, a TITP trainee keeps the TITP path.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from contracts.accreditation import ExamGrade, ExamPassed, ExamResult, PlanStatus
from contracts.registry import Scheme
from services.visa.domain.known import KnownPlan
from services.visa.domain.rules import ESD_SSW_JAPANESE_TEST, ESD_SSW_SKILLS_TESTS, SSW_QUALIFYING_STAGE

TITP_PATH = "ssw.titp_exempt_after_stage_ii"
ESD_PATH = "ssw.esd_grade_3_and_japanese_a2"


@dataclass(frozen=True)
class SswEligibility:
    eligible: bool
    unmet: tuple[str, ...]  # the rules that fail, by name
    qualifying_plan_id: UUID | None
    scheme: Scheme = Scheme.TITP  # the path judged
    rule: str = TITP_PATH  # the rule that decided
    exempt_from: tuple[str, ...] = ()  # the tests the trainee need not take
    exams_passed: tuple[ExamGrade, ...] = ()  # on record by the day (ESD)


def path_of(plans: list[KnownPlan]) -> Scheme:
    """The scheme of the trainee's latest plan that was certified, or of the latest plan; TITP for none."""
    certified = [p for p in plans if p.certified_on is not None]
    latest = max(certified or plans, key=lambda p: (p.start_date, str(p.plan_id)), default=None)
    return latest.scheme if latest else Scheme.TITP


def exams_passed_by(plans: list[KnownPlan], results: Iterable[ExamPassed], day: date) -> set[ExamGrade]:
    """The grades passed by `day`: stated in the applications of the trainee's plans, or reported as results."""
    stated = (exam for plan in plans for exam in plan.exams_passed)
    return {exam.grade for exam in (*stated, *results) if exam.passed_on <= day}


def ssw_eligibility(
    plans: list[KnownPlan], field: str, day: date, results: Iterable[ExamPassed] = ()
) -> SswEligibility:
    if path_of(plans) is Scheme.ESD:
        return _esd_path(plans, field, day, results)
    return _titp_path(plans, field, day)


def _titp_path(plans: list[KnownPlan], field: str, day: date) -> SswEligibility:
    def ended(status: PlanStatus) -> list[KnownPlan]:
        return [p for p in plans if p.status is status and p.ended_on is not None and p.ended_on <= day]

    completed = [p for p in ended(PlanStatus.COMPLETED) if p.scheme is Scheme.TITP and p.stage is SSW_QUALIFYING_STAGE]
    passed = [p for p in completed if p.exam_result is ExamResult.PASSED]
    in_field = [p for p in passed if p.job_category == field]
    unmet = []
    if not completed:
        unmet.append("ssw.stage_ii_not_completed")
    elif not passed:
        unmet.append("ssw.exam_not_passed")
    elif not in_field:
        unmet.append("ssw.field_differs")
    if ended(PlanStatus.REVOKED):
        unmet.append("ssw.plan_revoked")
    if ended(PlanStatus.DISCONTINUED):
        unmet.append("ssw.plan_discontinued")
    return SswEligibility(
        not unmet,
        tuple(unmet),
        in_field[0].plan_id if in_field else None,
        scheme=Scheme.TITP,
        rule=TITP_PATH,
        exempt_from=() if unmet else ("skills_test", "japanese_test"),
    )


def _esd_path(plans: list[KnownPlan], field: str, day: date, results: Iterable[ExamPassed]) -> SswEligibility:
    in_field = [
        p
        for p in plans
        if p.scheme is Scheme.ESD and p.certified_on is not None and p.certified_on <= day and p.in_field(field)
    ]
    passed = exams_passed_by(plans, results, day)
    unmet = []
    if not in_field:
        unmet.append("ssw.field_differs")
    if not passed & ESD_SSW_SKILLS_TESTS:
        unmet.append("ssw.skills_test_not_passed")
    if ESD_SSW_JAPANESE_TEST not in passed:
        unmet.append("ssw.japanese_a2_not_passed")
    latest = max(in_field, key=lambda p: (p.start_date, str(p.plan_id)), default=None)
    return SswEligibility(
        not unmet,
        tuple(unmet),
        latest.plan_id if latest and not unmet else None,
        scheme=Scheme.ESD,
        rule=ESD_PATH,
        exempt_from=(),
        exams_passed=tuple(sorted(passed)),
    )
