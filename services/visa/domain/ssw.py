"""The way on to Specified Skilled Worker (i) (DOMAIN §6, §9, §11): which path applies to the trainee, and
whether it is open on a day.

- TITP (`ssw.titp_exempt_after_stage_ii`, DOMAIN §11): a trainee who, by that day, completed TITP (ii) in good
  standing — a completed stage-ii plan (`ssw.stage_ii_not_completed`), at least 2 years 10 months of TITP
  training done (`ssw.titp_period_too_short`, `rules.ssw_titp_months`), grade 3 passed or the implementing
  organization's evaluation report received (`ssw.grade_3_or_evaluation_report_missing`), no plan revoked
  (`ssw.plan_revoked`) or discontinued but for an unavoidable reason (`ssw.plan_discontinued`; the employer's
  bankruptcy or a transfer count as training, not against the trainee) — moves without the Japanese test
  whatever the field, and without the skills test when a completed stage-ii plan's operation relates to the
  field (its `ssw_field` in shared.reference; the job category for a plan whose operation is not known).
- ESD (`ssw.esd_grade_3_and_japanese_a2`): the TITP exemption does not apply. The worker needs a certified
  ESD plan in the field, a skills test passed (grade 3 practical, or the SSW skills test) AND Japanese A2.
  An exam counts when it was passed by that day, as an application for one of the worker's plans stated it
  or as the exam body reported it to accreditation (`ExamResultRecorded`).

Which path: the scheme of the trainee's latest plan (by start date) that was ever certified, or of the
latest plan when none was: an ESD worker is judged as one, a TITP trainee keeps the TITP path.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from uuid import UUID

from contracts.accreditation import ExamGrade, ExamPassed, ExamResult, PlanStatus
from contracts.registry import Scheme
from contracts.visa import EvaluationReportReceived
from services.visa.domain.known import KnownPlan
from services.visa.domain.rules import ESD_SSW_JAPANESE_TEST, ESD_SSW_SKILLS_TESTS, SSW_QUALIFYING_STAGE, VisaRules

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
    tests_required: tuple[str, ...] = ()  # TITP, eligible: the tests still to take (the skills test, field unrelated)
    field_related: bool | None = None  # TITP: a completed stage-ii plan's operation relates to the field
    skills_evidence: tuple[str, ...] = ()  # TITP: grade_3, evaluation_report: what shows the skills
    titp_days_completed: int = 0  # TITP: training done by the day (completed plans, unavoidable ends)
    titp_days_required: int = 0  # TITP: the days the configured months (2 years 10 months) make


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
    plans: list[KnownPlan],
    field: str,
    day: date,
    results: Iterable[ExamPassed] = (),
    reports: Iterable[EvaluationReportReceived] = (),
    rules: VisaRules | None = None,
) -> SswEligibility:
    """`results`: the exams the exam body reported passed; `reports`: the evaluation reports received here."""
    if path_of(plans) is Scheme.ESD:
        return _esd_path(plans, field, day, results)
    return _titp_path(plans, field, day, tuple(results), tuple(reports), rules or VisaRules())


def _counts_towards_titp(plan: KnownPlan, day: date, rules: VisaRules) -> bool:
    """A TITP plan whose training was done by `day`: completed, ended by the worker's transfer, or discontinued
    for an unavoidable reason (the employer's bankruptcy, a transfer) — not revoked, not left."""
    if plan.scheme is not Scheme.TITP or plan.ended_on is None or plan.ended_on > day:
        return False
    if plan.status is PlanStatus.DISCONTINUED:
        return plan.discontinuation_reason in rules.ssw_unavoidable_discontinuations
    return plan.status in (PlanStatus.COMPLETED, PlanStatus.TRANSFERRED)


def _last_day_trained(plan: KnownPlan) -> date:
    """A plan left by a transfer was trained in until the day before the move (the new plan's first day)."""
    ended = plan.ended_on or plan.end_date
    if plan.transferred and plan.ended_on is not None:
        ended = plan.ended_on - timedelta(days=1)
    return min(ended, plan.end_date)


def titp_days_completed(plans: list[KnownPlan], day: date, rules: VisaRules) -> tuple[int, int]:
    """The days of TITP training done by `day` (each counted plan from its start to its end, both included, less
    the days it was paused: issue 25), and the days `rules.ssw_titp_months` make from the first counted plan's start."""
    counted = [p for p in plans if _counts_towards_titp(p, day, rules)]
    if not counted:
        return 0, rules.ssw_titp_days(day)
    done = sum(
        (_last_day_trained(p) - p.start_date).days + 1 - p.days_paused(p.start_date, _last_day_trained(p))
        for p in counted
    )
    return done, rules.ssw_titp_days(min(p.start_date for p in counted))


def _titp_path(
    plans: list[KnownPlan],
    field: str,
    day: date,
    results: Iterable[ExamPassed],
    reports: Iterable[EvaluationReportReceived],
    rules: VisaRules,
) -> SswEligibility:
    completed = [
        p
        for p in plans
        if p.scheme is Scheme.TITP
        and p.stage is SSW_QUALIFYING_STAGE
        and p.status is PlanStatus.COMPLETED
        and p.ended_on is not None
        and p.ended_on <= day
    ]
    grade_3 = any(p.exam_result is ExamResult.PASSED for p in completed) or any(
        r.grade is ExamGrade.GRADE_3 and r.passed_on <= day for r in results
    )
    stage_ii_plans = {p.plan_id for p in plans if p.scheme is Scheme.TITP and p.stage is SSW_QUALIFYING_STAGE}
    evaluated = any(r.training_plan_id in stage_ii_plans and r.received_on <= day for r in reports)
    done, needed = titp_days_completed(plans, day, rules)
    ended = [p for p in plans if p.ended_on is not None and p.ended_on <= day]
    unmet = []
    if not completed:
        unmet.append("ssw.stage_ii_not_completed")
    if done < needed:
        unmet.append("ssw.titp_period_too_short")
    if not (grade_3 or evaluated):
        unmet.append("ssw.grade_3_or_evaluation_report_missing")
    if any(p.status is PlanStatus.REVOKED for p in ended):
        unmet.append("ssw.plan_revoked")
    if any(
        p.status is PlanStatus.DISCONTINUED and p.discontinuation_reason not in rules.ssw_unavoidable_discontinuations
        for p in ended
    ):
        unmet.append("ssw.plan_discontinued")
    related = [p for p in completed if p.related_to_ssw_field(field)]
    qualifying = max(related or completed, key=lambda p: (p.ended_on, str(p.plan_id)), default=None)
    exempt = () if unmet else ("japanese_test", "skills_test") if related else ("japanese_test",)
    return SswEligibility(
        not unmet,
        tuple(unmet),
        qualifying.plan_id if qualifying and not unmet else None,
        scheme=Scheme.TITP,
        rule=TITP_PATH,
        exempt_from=exempt,
        tests_required=() if unmet or related else ("skills_test",),
        field_related=bool(related),
        skills_evidence=tuple(name for name, held in (("grade_3", grade_3), ("evaluation_report", evaluated)) if held),
        titp_days_completed=done,
        titp_days_required=needed,
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
