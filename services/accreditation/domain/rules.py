"""The rules a training plan is certified under (DOMAIN §3, §4, §9): pure, the numbers in one place.

A certification is decided on the plan's terms and `CertificationFacts`, a snapshot of what
the service knows: the registry's organizations as its topic told them, the trainee's other
plans, and how many plans the implementing organization already has in force. The rule set
follows the plan's start date: TITP before 1 Apr 2027, Employment for Skill Development (ESD)
from then on. Each refusal is a `DomainRuleViolation` naming its rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NoReturn
from uuid import UUID

from contracts.accreditation import ExamGrade, ExamResult, PersonalData, PlanDetails, PlanStatus, PlanTerms, Stage
from contracts.registry import PermitType, TrainingType
from shared.dates import add_months, last_day
from shared.errors import DomainRuleViolation

I, II, III = Stage.I, Stage.II, Stage.III  # noqa: E741 - the stages' own names
SUPERVISORY_SUPPORT_PERMIT = "supervisory_support"  # ESD's permit; the registry publishes none yet

# Job categories whose trainees may go past stage i (移行対象職種), *configurable*.
TRANSITION_JOB_CATEGORIES = frozenset(
    {
        "agriculture",
        "fishery",
        "construction",
        "food manufacturing",
        "textiles and clothing",
        "machinery and metal",
        "furniture making",
        "printing",
        "bookbinding",
        "plastic molding",
        "painting",
        "welding",
        "industrial packaging",
        "carton box manufacturing",
        "ceramics",
        "automobile maintenance",
        "building cleaning",
        "nursing care",
        "linen supply",
        "concrete products",
        "accommodation",
        "rubber products",
        "railway vehicle maintenance",
    }
)


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Permit:
    """A supervising organization's permit, as the registry's events told it."""

    status: str  # applied | active | denied | revoked | expired
    permit_type: str | None
    granted_on: date | None
    expires_on: date | None
    suspensions: tuple[Period, ...] = ()

    def active_on(self, day: date) -> bool:
        return (
            self.status == "active"
            and self.granted_on is not None
            and self.granted_on <= day
            and (self.expires_on is None or day <= self.expires_on)
        )

    def suspension_on(self, day: date) -> Period | None:
        return next((s for s in self.suspensions if s.covers(day)), None)


@dataclass(frozen=True)
class ImplementingOrganization:
    training_type: TrainingType
    supervising_organization_id: UUID | None
    full_time_staff: int
    excellent: bool


@dataclass(frozen=True)
class OtherPlan:
    """Another certified plan of the same trainee (whatever became of it since)."""

    stage: Stage
    job_category: str
    start_date: date
    end_date: date
    status: PlanStatus
    ended_on: date | None = None
    exam_result: ExamResult | None = None

    @property
    def last_day(self) -> date:
        return min(self.ended_on, self.end_date) if self.ended_on else self.end_date

    @property
    def days(self) -> int:
        return max(0, (self.last_day - self.start_date).days + 1)


@dataclass(frozen=True)
class CertificationFacts:
    certified_on: date
    implementing_organization: ImplementingOrganization | None
    permit: Permit | None = None  # of the plan's supervising organization (type b)
    sending_organization_approved: bool = False
    sending_agreement_in_force: bool = False  # between the plan's sending and supervising organizations
    trainee_plans: tuple[OtherPlan, ...] = ()
    plans_in_force: int = 0  # the implementing organization's certified plans of this stage overlapping this one
    personal_data: PersonalData | None = None  # the trainee's, opened with their key; None once erased


# Quotas (DOMAIN §3)


@dataclass(frozen=True)
class QuotaRules:
    """How many trainees an implementing organization may have at once, per stage."""

    basic_table: tuple[tuple[int, int], ...] = ((30, 3), (40, 4), (50, 5), (100, 6), (200, 10), (300, 15))
    staff_per_trainee_above_table: int = 20
    normal: Mapping[Stage, int] = field(default_factory=lambda: {I: 1, II: 2, III: 0})
    excellent: Mapping[Stage, int] = field(default_factory=lambda: {I: 2, II: 4, III: 6})
    hard_cap_per_staff: Mapping[Stage, int] = field(default_factory=lambda: {I: 1, II: 2, III: 3})

    def basic(self, full_time_staff: int) -> int:
        for most_staff, quota in self.basic_table:
            if full_time_staff <= most_staff:
                return quota
        return full_time_staff // self.staff_per_trainee_above_table

    def limit(self, stage: Stage, full_time_staff: int, excellent: bool) -> tuple[int, str]:
        """The most plans of `stage` in force at once, and the rule that sets it."""
        table = (self.excellent if excellent else self.normal)[stage] * self.basic(full_time_staff)
        cap = self.hard_cap_per_staff[stage] * full_time_staff
        return (table, "quota.stage_limit") if table <= cap else (cap, "quota.hard_cap")


# The rule sets


@dataclass(frozen=True)
class TitpRules:
    name = "titp"
    minimum_age: int = 18
    stage_years: Mapping[Stage, int] = field(default_factory=lambda: {I: 1, II: 2, III: 2})
    total_years: int = 5
    return_home_min_months: int = 1  # between stages ii and iii: at least this ...
    return_home_max_years: int = 1  # ... and less than this
    transition_job_categories: frozenset[str] = TRANSITION_JOB_CATEGORIES
    quota: QuotaRules = QuotaRules()

    def check(self, plan: PlanTerms, facts: CertificationFacts) -> None:
        """Refuse with the first rule of DOMAIN §3-4 the plan breaks; return if it may be certified."""
        org = _organizations(plan, facts)
        if plan.training_type is TrainingType.B:
            permit = facts.permit
            if permit is None or not permit.active_on(facts.certified_on):
                _refuse(
                    "supervising_organization.permit_active",
                    f"the supervising organization holds no active permit on {facts.certified_on}"
                    + (f" (it is {permit.status})" if permit else ""),
                )
            if suspension := permit.suspension_on(facts.certified_on):
                _refuse(
                    "supervising_organization.permit_not_suspended",
                    f"the supervising organization's business is suspended from {suspension.start}"
                    f" until {suspension.end}",
                )
            if plan.stage is III and permit.permit_type != PermitType.GENERAL:
                _refuse(
                    "supervising_organization.permit_covers_stage",
                    f"stage iii needs a general permit; the supervising organization's is {permit.permit_type}",
                )
        _trainee(plan, facts, self.minimum_age)
        if plan.end_date > last_day(plan.start_date, 12 * self.stage_years[plan.stage]):
            _refuse("plan.stage_length", f"stage {plan.stage} lasts at most {self.stage_years[plan.stage]} year(s)")
        _total_period(plan, facts.trainee_plans, self.total_years, "trainee.total_period")
        if plan.stage is not I:
            self._moving_on(plan, facts, org)
        _wage(plan)
        if plan.training_type is TrainingType.B:
            _sending(facts)
        general_permit = facts.permit is not None and facts.permit.permit_type == PermitType.GENERAL
        _quota(plan, facts, self.quota, org, org.excellent and (plan.training_type is TrainingType.A or general_permit))

    def _moving_on(self, plan: PlanTerms, facts: CertificationFacts, org: ImplementingOrganization) -> None:
        """Stages ii and iii: the stage before, its exam, and for stage iii the return home."""
        if plan.job_category not in self.transition_job_categories:
            _refuse(
                "job_category.transition_eligible",
                f"{plan.job_category!r} is not a job category whose trainees may go past stage i",
            )
        before = I if plan.stage is II else II
        earlier = [
            p
            for p in facts.trainee_plans
            if p.stage == before
            and p.last_day < plan.start_date
            and p.status in (PlanStatus.COMPLETED, PlanStatus.CERTIFIED)
        ]
        if not earlier:
            _refuse(
                "previous_stage.plan",
                f"stage {plan.stage} needs a stage-{before} plan completed, or ending, before it starts",
            )
        previous = max(earlier, key=lambda p: p.last_day)
        if previous.job_category != plan.job_category:
            _refuse(
                "previous_stage.same_job_category",
                f"stage {plan.stage} continues the stage-{before} job category {previous.job_category!r}",
            )
        exam = STAGE_EXAM[before]
        if previous.exam_result != ExamResult.PASSED and not _passed(plan, exam):
            _refuse("previous_stage.exam_passed", f"stage {plan.stage} needs the {exam} exam passed")
        if plan.stage is III:
            home_from = previous.last_day + timedelta(days=1)
            if not (
                add_months(home_from, self.return_home_min_months)
                <= plan.start_date
                < add_months(home_from, 12 * self.return_home_max_years)
            ):
                _refuse(
                    "stage_iii.return_home",
                    f"between stage ii (ended {previous.last_day}) and stage iii the trainee returns home for"
                    f" at least {self.return_home_min_months} month(s) and under"
                    f" {self.return_home_max_years} year(s)",
                )
            if not org.excellent:
                _refuse(
                    "stage_iii.excellent_implementing_organization",
                    "stage iii is only for implementing organizations rated excellent",
                )


@dataclass(frozen=True)
class EsdRules:
    """Employment for Skill Development (DOMAIN §9), as far as it is decided.

    What the sources do not settle yet is refused with a rule of its own, never decided by
    the TITP rules: the quotas, the supervisory support organization permit (the registry
    publishes none yet), the fate of TITP stages moving on after the switch, and the transfer
    period of a field not yet set.
    """

    name = "esd"
    starts_on: date = date(2027, 4, 1)
    minimum_age: int = 18  # kept by the ESD act
    training_years: int = 3
    transfer_after_years: Mapping[str, int] = field(default_factory=dict)  # per job category: 1 or 2
    quota: QuotaRules | None = None

    def check(self, plan: PlanTerms, facts: CertificationFacts) -> None:
        org = _organizations(plan, facts)
        if plan.training_type is TrainingType.B and not (
            facts.permit
            and facts.permit.permit_type == SUPERVISORY_SUPPORT_PERMIT
            and facts.permit.active_on(facts.certified_on)
            and not facts.permit.suspension_on(facts.certified_on)
        ):
            _refuse(
                "esd.supervisory_support_permit",
                "under ESD the supervising organization needs an active supervisory support organization permit",
            )
        if plan.stage is not I:
            _refuse(
                "esd.titp_stage_transition",
                f"a TITP stage-{plan.stage} plan starting on or after {self.starts_on} is not provided for yet",
            )
        _trainee(plan, facts, self.minimum_age)
        if plan.end_date > last_day(plan.start_date, 12 * self.training_years):
            _refuse("esd.training_length", f"ESD training lasts at most {self.training_years} years")
        earlier = [p for p in facts.trainee_plans if p.start_date >= self.starts_on]
        _total_period(plan, earlier, self.training_years, "esd.total_period")
        if earlier:
            self._transfer(plan, max(earlier, key=lambda p: p.start_date))
        _wage(plan)
        if plan.training_type is TrainingType.B:
            _sending(facts)
        if self.quota is None:
            _refuse("esd.quota_undecided", "the ESD quotas are not set yet")
        _quota(plan, facts, self.quota, org, org.excellent)

    def _transfer(self, plan: PlanTerms, current: OtherPlan) -> None:
        """A later ESD plan moves the worker to another employer at their own wish."""
        if plan.job_category != current.job_category:
            _refuse("esd.transfer_same_job_category", f"a transfer stays in the job category {current.job_category!r}")
        years = self.transfer_after_years.get(plan.job_category)
        if years is None:
            _refuse(
                "esd.transfer_period_undecided",
                f"the period before a transfer is not set for {plan.job_category!r} yet",
            )
        if plan.start_date < add_months(current.start_date, 12 * years):
            _refuse(
                "esd.transfer_too_early",
                f"in {plan.job_category!r} a transfer comes after {years} year(s) with the first employer",
            )
        for grade, rule in (
            (ExamGrade.BASIC, "esd.transfer_basic_grade"),
            (ExamGrade.JAPANESE_A1, "esd.transfer_japanese_a1"),
        ):
            if not _passed(plan, grade):
                _refuse(rule, f"a transfer needs the {grade} exam passed")


@dataclass(frozen=True)
class RuleBook:
    titp: TitpRules = TitpRules()
    esd: EsdRules = EsdRules()

    def for_plan(self, plan: PlanTerms) -> TitpRules | EsdRules:
        return self.esd if plan.start_date >= self.esd.starts_on else self.titp


STAGE_EXAM = {I: ExamGrade.BASIC, II: ExamGrade.GRADE_3, III: ExamGrade.GRADE_2}


# What every application states consistently, whatever the rule set


def check_terms(plan: PlanDetails) -> None:
    """Refuse terms that contradict themselves: the dates, and the organizations the training type names.
    (At the HTTP edge the request body checks the same with this function, and answers 422.)"""
    if plan.end_date < plan.start_date:
        _refuse("plan.end_not_before_start", "end_date is before start_date")
    named = (plan.supervising_organization_id is not None, plan.sending_organization_id is not None)
    if plan.training_type is TrainingType.B and named != (True, True):
        _refuse(
            "plan.type_b_names_its_organizations", "a type (b) plan names its supervising and sending organizations"
        )
    if plan.training_type is TrainingType.A and any(named):
        _refuse("plan.type_a_names_no_organizations", "a type (a) plan has no supervising or sending organization")


# Rules both sets share


def _refuse(rule: str, detail: str) -> NoReturn:
    raise DomainRuleViolation(rule, detail)


def _organizations(plan: PlanTerms, facts: CertificationFacts) -> ImplementingOrganization:
    org = facts.implementing_organization
    if org is None:
        _refuse(
            "implementing_organization.registered",
            f"implementing organization {plan.implementing_organization_id} is not registered",
        )
    if org.training_type != plan.training_type:
        _refuse(
            "implementing_organization.training_type",
            f"the implementing organization is registered for type ({org.training_type}) training",
        )
    if plan.training_type is TrainingType.B and org.supervising_organization_id != plan.supervising_organization_id:
        _refuse(
            "implementing_organization.supervised_by",
            "the implementing organization belongs to another supervising organization",
        )
    return org


def _trainee(plan: PlanTerms, facts: CertificationFacts, minimum_age: int) -> None:
    if age_on(plan.trainee.date_of_birth, plan.start_date) < minimum_age:
        _refuse("trainee.minimum_age", f"the trainee is under {minimum_age} on {plan.start_date}")
    if any(
        p.stage == plan.stage and p.status in (PlanStatus.CERTIFIED, PlanStatus.COMPLETED) for p in facts.trainee_plans
    ):
        _refuse(
            "trainee.one_plan_per_stage",
            f"the trainee already has a stage-{plan.stage} plan in force or"
            " completed; only a discontinued or revoked one can be replaced",
        )


def _total_period(plan: PlanTerms, others: tuple[OtherPlan, ...] | list[OtherPlan], years: int, rule: str) -> None:
    """All the trainee's plans together: days planned (or, for ended ones, used) within `years`."""
    first = min([plan.start_date, *(p.start_date for p in others)])
    days = (plan.end_date - plan.start_date).days + 1 + sum(p.days for p in others)
    allowed = (add_months(first, 12 * years) - first).days
    if days > allowed:
        _refuse(rule, f"the trainee's plans together would last {days} days, more than {years} years")


def _wage(plan: PlanTerms) -> None:
    if plan.monthly_wage < plan.comparable_japanese_wage:
        _refuse(
            "wage.at_least_japanese_equivalent",
            f"the monthly wage {plan.monthly_wage} is below the {plan.comparable_japanese_wage}"
            " a Japanese worker is paid for the same work",
        )


def _sending(facts: CertificationFacts) -> None:
    if not facts.sending_organization_approved:
        _refuse("sending_organization.approved", "the sending organization is not approved")
    if not facts.sending_agreement_in_force:
        _refuse(
            "sending_organization.agreement",
            "the supervising organization has no agreement in force with the sending organization",
        )


def _quota(
    plan: PlanTerms, facts: CertificationFacts, quota: QuotaRules, org: ImplementingOrganization, excellent: bool
) -> None:
    limit, rule = quota.limit(plan.stage, org.full_time_staff, excellent)
    if facts.plans_in_force + 1 > limit:
        _refuse(
            rule,
            f"{facts.plans_in_force} stage-{plan.stage} plans are in force over this period; with"
            f" {org.full_time_staff} full-time staff{' and excellent ratings' if excellent else ''}"
            f" at most {limit} are allowed",
        )


def _passed(plan: PlanTerms, grade: ExamGrade) -> bool:
    return any(e.grade is grade and e.passed_on <= plan.start_date for e in plan.exams_passed)


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
