"""The rules a training plan is certified under (DOMAIN §3, §4, §9): pure, the numbers in one place.

A certification is decided on the plan's terms and `CertificationFacts`, a snapshot of what
the service knows: the registry's organizations as its topic told them, the worker's other
plans and exam results, and the counts (quotas, transfers, national caps) taken from the
service's own plans. The rule set follows the plan's scheme: TITP (技能実習) or Employment for
Skill Development (ESD, 育成就労). Which scheme an application may use is decided by the
transitional measures (`Switch`, DOMAIN §9): by the application date and the trainee's status,
never by the start date alone. Each refusal is a `DomainRuleViolation` naming its rule.

Numbers marked (c) are configurable (DOMAIN §9): each is a field of a rules dataclass with the
default below, set through `AccreditationSettings` (services/accreditation/app.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from fractions import Fraction
from typing import NoReturn
from uuid import UUID

from contracts.accreditation import (
    ExamGrade,
    ExamResult,
    PauseReason,
    PersonalData,
    PlanDetails,
    PlanStatus,
    PlanTerms,
    ReturnHome,
    Stage,
    TransferReason,
)
from contracts.registry import PermitType, Scheme, Supervision, TrainingType
from services.accreditation.domain.fees import FeeRules
from shared import reference
from shared.dates import add_months, fiscal_year, fiscal_year_start, last_day, last_day_after
from shared.errors import DomainRuleViolation
from shared.filings import FilingDues
from shared.reference import Operation

I, II, III = Stage.I, Stage.II, Stage.III  # noqa: E741 - the stages' own names
TITP, ESD = Scheme.TITP, Scheme.ESD

# The day ESD replaces TITP (DOMAIN §9): the amended Act's entry into force. (c)
ESD_STARTS_ON = date(2027, 4, 1)
# A TITP plan applied for by the day before ESD_STARTS_ON may be certified after it, if its training
# (entry) starts by this day (the transitional measures). (c)
TITP_LAST_START = date(2027, 6, 30)

# Job categories whose trainees may go past stage i (移行対象職種): since issue 19 every job category of the
# reference data's operations (shared/reference: the jobs and operations, each with the last stage its trainees
# may reach). Still *configurable* (a shorter list keeps a job category at stage i); the operation decides first.
TRANSITION_JOB_CATEGORIES = frozenset(reference.job_categories())

# Filing windows (§11, ordinance): a plan is filed from 6 months before its start, and at the latest 4 months
# before it for stage i, 3 months for stages ii and iii (the agency's processing time). (c)
FILING_EARLIEST_MONTHS = 6
FILING_LATEST_MONTHS: Mapping[Stage, int] = {Stage.I: 4, Stage.II: 3, Stage.III: 3}

# Art. 10: after one of its plans' certification was revoked, an implementing organization gets no plan
# certified for 5 years from the revocation. (c)
REVOCATION_BAR_YEARS = 5

# Stage ii follows a stage-i plan that ended at most this long before it (§11, (c)).
STAGE_II_MAX_GAP_MONTHS = 12

_STAGE_ORDER = {Stage.I: 1, Stage.II: 2, Stage.III: 3}

# A plan flagged for a new supervising organization (§11) that nobody reassigned within this many days of the
# flag shows on the officers' worklist (GET /v1/training-plans?unattended_as_of=). (c)
UNATTENDED_FLAG_DAYS = 30

# TITP transfers (§4/§7, issue 20): a trainee moves to another employer only for an unavoidable reason, on a new plan
# for the rest of the stage. (c) The reasons accepted under TITP:
TITP_TRANSFER_REASONS = frozenset(
    {TransferReason.ABUSE, TransferReason.BANKRUPTCY, TransferReason.SERIOUS_VIOLATION, TransferReason.PERMIT_ENDED}
)
# A transfer plan cannot wait out the filing window (4 months for stage i): it is filed at the latest this many days
# before its start (its earliest day is the usual 6 months). (c)
TRANSFER_FILING_LATEST_DAYS = 0
# Stages at which a transfer may also change the supervising organization whatever the reason (§11: stage iii);
# at any stage when the reason is `permit_ended`. (c)
TRANSFER_OTHER_SUPERVISING_STAGES = frozenset({Stage.III})

# Plan changes (§11, Art. 11): the terms a notice of minor changes (軽微な変更) may change; a change of any other term
# of a certified plan needs change certification. The monthly wage is minor only when raised (a cut is material).
# (c: the ordinance's list of minor changes is mostly about what the plan states beside these terms)
MINOR_CHANGE_TERMS = frozenset({"monthly_wage"})

# Early returns (issue 25): an employer whose unwilling or unexplained early returns (filed flagged: without the
# trainee's confirmation of their own stated wish, or contested) are more than EARLY_RETURN_RATE of its plans ended or
# returned from in the last EARLY_RETURN_WINDOW_MONTHS months, with at least EARLY_RETURN_MINIMUM_RETURNS of them, goes
# on the inspection worklist. No law or OTIT practice gives these numbers: they are this service's defaults. (c)
EARLY_RETURN_RATE = Fraction(1, 5)
EARLY_RETURN_MINIMUM_RETURNS = 3
EARLY_RETURN_WINDOW_MONTHS = 12


@dataclass(frozen=True)
class EarlyReturnRules:
    rate: Fraction = EARLY_RETURN_RATE
    minimum_returns: int = EARLY_RETURN_MINIMUM_RETURNS
    window_months: int = EARLY_RETURN_WINDOW_MONTHS

    def window_from(self, on: date) -> date:
        """The window's first day: it ends on `on` and lasts `window_months` months (the day after the same day
        that many months before)."""
        return add_months(on, -self.window_months) + timedelta(days=1)

    def exceeded(self, returns: int, plans: int) -> bool:
        """More than `rate` of the employer's plans, and at least `minimum_returns` returns."""
        return returns >= self.minimum_returns and plans > 0 and Fraction(returns, plans) > self.rate


# The ESD fields (育成就労産業分野, DOMAIN §9)


@dataclass(frozen=True)
class EsdField:
    """One ESD field: how long a worker stays with the first employer before a transfer at their own wish,
    and the Japanese level a transfer needs. (c)"""

    name: str
    transfer_years: int
    transfer_japanese: ExamGrade = ExamGrade.JAPANESE_A1


A1, A2 = ExamGrade.JAPANESE_A1, ExamGrade.JAPANESE_A2

# The 17 fields and their transfer periods: the expert panel's proposal of Sep 2025. (c)
ESD_FIELDS: Mapping[str, EsdField] = {
    "building_cleaning": EsdField("building cleaning", 1),
    "linen_supply": EsdField("linen supply", 1),
    "accommodation": EsdField("accommodation", 1),
    "railway": EsdField("railway", 1),
    "logistics_warehousing": EsdField("logistics warehousing", 1),
    "agriculture": EsdField("agriculture", 1),
    "fishery": EsdField("fishery", 1),
    "forestry": EsdField("forestry", 1),
    "wood_industry": EsdField("wood industry", 1),
    "nursing_care": EsdField("nursing care", 2, A2),
    "industrial_products_manufacturing": EsdField("industrial products manufacturing", 2),
    "construction": EsdField("construction", 2),
    "shipbuilding_and_marine_industry": EsdField("shipbuilding and marine industry", 2),
    "automobile_repair_and_maintenance": EsdField("automobile repair and maintenance", 2),
    "food_and_beverage_manufacturing": EsdField("food and beverage manufacturing", 2),
    "food_service": EsdField("food service", 2),
    "resource_recycling": EsdField("resource recycling", 2),
}

# National caps (受入れ見込数) per field: 426,200 workers in all until the end of FY2028 (March 2029). (c)
# Construction, industrial products manufacturing, food and beverage manufacturing and nursing care are the
# figures the government put to its expert panel on 2025-12-23; the other 87,800 are split here by this
# service's own estimate (the cabinet decision's split is to be configured when known). The period's figure
# is each of its fiscal years' cap.
CAPS_FY2027_28: Mapping[str, int] = {
    "construction": 123_500,
    "industrial_products_manufacturing": 119_700,
    "food_and_beverage_manufacturing": 61_400,
    "nursing_care": 33_800,
    "agriculture": 26_000,
    "food_service": 14_000,
    "building_cleaning": 9_000,
    "railway": 7_000,
    "shipbuilding_and_marine_industry": 6_000,
    "logistics_warehousing": 5_000,
    "fishery": 4_000,
    "automobile_repair_and_maintenance": 4_000,
    "accommodation": 3_000,
    "resource_recycling": 3_000,
    "linen_supply": 2_500,
    "wood_industry": 2_500,
    "forestry": 1_800,
}
NATIONAL_CAPS: Mapping[int, Mapping[str, int]] = {2027: CAPS_FY2027_28, 2028: CAPS_FY2027_28}

# Designated areas (指定区域) for transfers: every prefecture outside the three metropolitan areas (Tokyo,
# Osaka, Nagoya); the government's proposal, not final. (c) Compared as JIS X 0401 codes (`prefecture_code`): a
# configured list may name them by code or name, the registry's events carry either.
METROPOLITAN_PREFECTURES = frozenset(
    {"Saitama", "Chiba", "Tokyo", "Kanagawa", "Aichi", "Kyoto", "Osaka", "Hyogo"}
    | {"11", "12", "13", "14", "23", "26", "27", "28"}
)


def prefecture_code(value: str | None) -> str | None:
    """A prefecture as its JIS X 0401 code, whichever way it was given: the registry's events since issue 19 carry
    the code ("13"), those before the name as filed ("Tokyo", "東京都"). A value naming no prefecture (accepted by
    the registry before issue 19) is kept as given, stripped; None (or blank) stays None."""
    if value is None or not value.strip():
        return None
    return reference.prefecture_code(value.strip())


def prefecture_codes(values: Iterable[str]) -> frozenset[str]:
    """`prefecture_code` of each (a configured list may name prefectures either way)."""
    return frozenset(code for v in values if (code := prefecture_code(v)) is not None)


def designated_area(prefecture: str | None, metropolitan: frozenset[str]) -> bool:
    """An employer in a designated (rural) area: its prefecture is known and not metropolitan (compared as
    JIS codes, so a name and a code of the same prefecture are the same prefecture)."""
    code = prefecture_code(prefecture)
    return code is not None and code not in prefecture_codes(metropolitan)


# What the service knows


@dataclass(frozen=True)
class Period:
    start: date
    end: date  # inclusive

    def covers(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True)
class Permit:
    """A supervising organization's permit (TITP), or a supervision support organization's (ESD), as the
    registry's events told it."""

    status: str  # applied | active | denied | revoked | expired
    permit_type: str | None  # TITP: general | specified; ESD: None
    granted_on: date | None
    expires_on: date | None
    suspensions: tuple[Period, ...] = ()
    scheme: Scheme = TITP

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
    supervising_organization_id: UUID | None  # TITP's supervising organization (type b): the latest begun
    full_time_staff: int
    excellent: bool
    prefecture: str | None = None
    esd_supervising_organization_id: UUID | None = None  # ESD's supervision support organization (type b)
    esd_supervised_from: date | None = None
    stability_recognised: bool = False  # type (a): the Ministers recognise the company as stable (registry)
    supervised_from: date | None = None  # TITP: from `SupervisionChanged`; None: since its registration
    # Issue 20: every supervision, both schemes, with its dates (`supervision_periods`); None: not known, the one
    # of each scheme above stands for them.
    supervisions: tuple[Supervision, ...] | None = None

    def supervisors(self, scheme: Scheme) -> tuple[Supervision, ...]:
        """The scheme's supervisions, ended or not."""
        if self.supervisions is not None:
            return tuple(s for s in self.supervisions if s.scheme is scheme)
        latest, since = (
            (self.esd_supervising_organization_id, self.esd_supervised_from)
            if scheme is ESD
            else (self.supervising_organization_id, self.supervised_from)
        )
        return (Supervision(scheme, latest, since),) if latest else ()

    def supervised_by(self, scheme: Scheme, organization_id: UUID | None, day: date) -> bool:
        """Does `organization_id` supervise (TITP) or support (ESD) the employer on `day`?"""
        return any(s.organization_id == organization_id and s.covers(day) for s in self.supervisors(scheme))

    def current_supervisors(self, scheme: Scheme) -> tuple[UUID, ...]:
        """The organizations whose supervision under the scheme has not ended."""
        return tuple(s.organization_id for s in self.supervisors(scheme) if s.until is None)

    def every_supervisor(self) -> tuple[UUID, ...]:
        """Every organization supervising (TITP) or supporting (ESD) the employer now: they may see its records."""
        return tuple(dict.fromkeys(i for scheme in Scheme for i in self.current_supervisors(scheme)))


@dataclass(frozen=True)
class OtherPlan:
    """Another certified plan of the same trainee (whatever became of it since)."""

    stage: Stage | None
    job_category: str
    start_date: date
    end_date: date
    status: PlanStatus
    ended_on: date | None = None
    exam_result: ExamResult | None = None
    scheme: Scheme = TITP
    applied_on: date | None = None
    id: UUID | None = None
    implementing_organization_id: UUID | None = None
    field: str | None = None
    operation: str | None = None
    paused_days: int = 0  # issue 25: days of its period without training (its pauses, domain/pauses.py)

    @property
    def last_day(self) -> date:
        """Its last day of training: a transferred plan's is the day before the worker moved."""
        if self.ended_on is None:
            return self.end_date
        ended = self.ended_on - timedelta(days=1) if self.status is PlanStatus.TRANSFERRED else self.ended_on
        return min(ended, self.end_date)

    @property
    def days(self) -> int:
        """Its days in training: its period (to its last day) less the days it was paused."""
        return max(0, (self.last_day - self.start_date).days + 1 - self.paused_days)


@dataclass(frozen=True)
class ExamTaken:
    """An exam result the exam body reported (POST /v1/exam-results)."""

    grade: ExamGrade
    result: ExamResult
    taken_on: date


@dataclass(frozen=True)
class CertificationFacts:
    certified_on: date
    implementing_organization: ImplementingOrganization | None
    permit: Permit | None = None  # of the plan's supervising (TITP) or supervision support (ESD) organization
    sending_organization_approved: bool = False
    sending_agreement_in_force: bool = False  # between the plan's sending and supervising organizations
    trainee_plans: tuple[OtherPlan, ...] = ()
    plans_in_force: int = 0  # the implementing organization's certified plans of this stage (TITP) or scheme (ESD)
    # overlapping this one
    personal_data: PersonalData | None = None  # the trainee's, opened with their key; None once erased
    exams: tuple[ExamTaken, ...] = ()  # the trainee's exam results as the exam body reported them
    certification_revoked_on: date | None = None  # Art. 10: the implementing organization's latest plan revocation
    field_trainees: int = 0  # TITP, an operation with a field limit (nursing care, construction): the employer's
    # certified TITP plans of that field (any stage) overlapping this one
    # ESD only
    transfer_from_employer: ImplementingOrganization | None = None  # of the plan named by `transfer_from`
    esd_workers: int = 0  # the receiving employer's ESD plans in force on the new plan's start date
    own_wish_transfers: int = 0  # ... of which transfers at the worker's own wish
    from_designated_areas: int = 0  # ... of which from an employer in a designated area
    field_workers: Mapping[int, int] = field(default_factory=dict)  # per fiscal year the plan runs in: other
    # workers counted against the field's national cap (`EsdRules.national_count`)
    # TITP transfers: the supervising organization of the plan named by `transfer_from` (as the read model has it)
    transfer_from_supervising_organization_id: UUID | None = None
    # Issue 25: the days this plan itself was paused (decided again after a resumption moved its end)
    paused_days: int = 0


# Quotas (DOMAIN §3)


@dataclass(frozen=True)
class QuotaRules:
    """How many trainees an implementing organization may have at once, per stage."""

    basic_table: tuple[tuple[int, int], ...] = ((30, 3), (40, 4), (50, 5), (100, 6), (200, 10), (300, 15))
    staff_per_trainee_above_table: int = 20
    normal: Mapping[Stage, int] = field(default_factory=lambda: {I: 1, II: 2, III: 0})
    excellent: Mapping[Stage, int] = field(default_factory=lambda: {I: 2, II: 4, III: 6})
    hard_cap_per_staff: Mapping[Stage, int] = field(default_factory=lambda: {I: 1, II: 2, III: 3})
    # Type (a) (企業単独型, §11): a share of the full-time staff, unless the Ministers recognise the company as
    # stable (then the table above). (c)
    type_a_share: Mapping[Stage, Fraction] = field(
        default_factory=lambda: {I: Fraction(1, 20), II: Fraction(1, 10), III: Fraction(0)}
    )
    type_a_excellent_share: Mapping[Stage, Fraction] = field(
        default_factory=lambda: {I: Fraction(1, 10), II: Fraction(1, 5), III: Fraction(3, 10)}
    )
    # Field limits (§11): trainees of the field in total (all stages) at most this share of the full-time staff:
    # nursing care per establishment (approximated by the organization's staff: the registry keeps no
    # establishments), construction per company. (c)
    field_limit_share: Mapping[str, Fraction] = field(
        default_factory=lambda: {"nursing_care": Fraction(1), "construction": Fraction(1)}
    )

    def basic(self, full_time_staff: int) -> int:
        for most_staff, quota in self.basic_table:
            if full_time_staff <= most_staff:
                return quota
        return full_time_staff // self.staff_per_trainee_above_table

    def limit(self, stage: Stage, full_time_staff: int, excellent: bool, type_a: bool = False) -> tuple[int, str]:
        """The most plans of `stage` in force at once, and the rule that sets it. `type_a`: a type (a) company
        not recognised as stable (its share of the staff, not the table)."""
        if type_a:
            share = (self.type_a_excellent_share if excellent else self.type_a_share)[stage]
            table, rule = int(share * full_time_staff), "quota.type_a_staff_share"
        else:
            table = (self.excellent if excellent else self.normal)[stage] * self.basic(full_time_staff)
            rule = "quota.stage_limit"
        cap = self.hard_cap_per_staff[stage] * full_time_staff
        return (table, rule) if table <= cap else (cap, "quota.hard_cap")


# The rule sets


@dataclass(frozen=True)
class TitpRules:
    name = "titp"
    minimum_age: int = 18
    stage_years: Mapping[Stage, int] = field(default_factory=lambda: {I: 1, II: 2, III: 2})
    total_years: int = 5
    return_home_min_months: int = 1  # before stage iii or within its first year: at least this ...
    return_home_max_years: int = 1  # ... and less than this
    transition_job_categories: frozenset[str] = TRANSITION_JOB_CATEGORIES
    quota: QuotaRules = QuotaRules()
    # The jobs' operations and the last stage each may reach: shared/reference's unless given. (c)
    operations: Mapping[str, Operation] = field(default_factory=lambda: dict(reference.operations()))
    stage_ii_max_gap_months: int = STAGE_II_MAX_GAP_MONTHS  # (c)
    filing_earliest_months: int = FILING_EARLIEST_MONTHS  # (c)
    filing_latest_months: Mapping[Stage, int] = field(default_factory=lambda: dict(FILING_LATEST_MONTHS))  # (c)
    revocation_bar_years: int = REVOCATION_BAR_YEARS  # (c)
    transfer_reasons: frozenset[TransferReason] = TITP_TRANSFER_REASONS  # (c)
    transfer_filing_latest_days: int = TRANSFER_FILING_LATEST_DAYS  # (c)
    transfer_other_supervising_stages: frozenset[Stage] = TRANSFER_OTHER_SUPERVISING_STAGES  # (c)

    def operation_of(self, plan: PlanDetails) -> Operation | None:
        """The plan's operation (作業): required for stages ii and iii, checked whenever it is given."""
        if plan.operation is None:
            if plan.stage is not I:
                _refuse(
                    "plan.operation_required",
                    f"a stage-{plan.stage} plan names its operation (a code of the reference data's operations)",
                )
            return None
        operation = self.operations.get(plan.operation)
        if operation is None:
            _refuse("plan.operation_known", f"{plan.operation!r} is not an operation of the reference data")
        if operation.job_category != plan.job_category:
            _refuse(
                "plan.operation_job_category",
                f"the operation {operation.code} ({operation.job}: {operation.name}) is in the job category"
                f" {operation.job_category!r}, not {plan.job_category!r}",
            )
        return operation

    def check_filing(self, plan: PlanDetails, applied_on: date) -> None:
        """The filing window: from `filing_earliest_months` before the start, at the latest the stage's
        `filing_latest_months` before it."""
        assert plan.stage is not None
        earliest = add_months(plan.start_date, -self.filing_earliest_months)
        latest = add_months(plan.start_date, -self.filing_latest_months[plan.stage])
        if plan.transfer_from is not None:  # a transfer for an unavoidable reason: filed as soon as it can be
            latest = plan.start_date - timedelta(days=self.transfer_filing_latest_days)
        if applied_on < earliest:
            _refuse(
                "plan.filing_too_early",
                f"a plan is filed from {self.filing_earliest_months} months before its start: from {earliest}"
                f" for a start on {plan.start_date} (applied on {applied_on})",
            )
        if applied_on > latest:
            _refuse(
                "plan.filing_too_late",
                f"a stage-{plan.stage} plan is filed at least {self.filing_latest_months[plan.stage]} months before"
                f" its start: by {latest} for a start on {plan.start_date} (applied on {applied_on})",
            )

    def check_application(self, plan: PlanDetails, applied_on: date) -> None:
        """What a TITP application must state when it arrives: its operation, within its filing window."""
        self.operation_of(plan)
        self.check_transfer_terms(plan)
        self.check_filing(plan, applied_on)

    def check_transfer_terms(self, plan: PlanDetails) -> None:
        """A TITP transfer names the plan it continues and its reason, both or neither; only an unavoidable reason."""
        if (plan.transfer_from is None) != (plan.transfer_reason is None):
            _refuse("transfer.reason", "a transfer names the plan it continues and its reason, both or neither")
        if plan.transfer_reason is not None and plan.transfer_reason not in self.transfer_reasons:
            _refuse(
                "transfer.titp_unavoidable_only",
                f"under TITP a trainee moves to another employer only for an unavoidable reason"
                f" ({', '.join(sorted(self.transfer_reasons))}), not {plan.transfer_reason}",
            )

    def check(self, plan: PlanTerms, facts: CertificationFacts) -> None:
        """Refuse with the first rule of DOMAIN §3-4 the plan breaks; return if it may be certified."""
        stage = plan.stage
        if stage is None:
            _refuse("plan.titp_stage", "a TITP plan names its stage: i, ii or iii")
        org = _organizations(plan, facts)
        _revocation_bar(facts, self.revocation_bar_years)
        operation = self.operation_of(plan)
        if plan.training_type is TrainingType.B:
            permit = facts.permit
            if permit is None or permit.scheme is not TITP or not permit.active_on(facts.certified_on):
                _refuse(
                    "supervising_organization.permit_active",
                    f"the supervising organization holds no active permit on {facts.certified_on}"
                    + (
                        f" (its {permit.scheme} permit is {permit.status})"
                        if permit and permit.scheme is not TITP
                        else f" (it is {permit.status})"
                        if permit
                        else ""
                    ),
                )
            if suspension := permit.suspension_on(facts.certified_on):
                _refuse(
                    "supervising_organization.permit_not_suspended",
                    f"the supervising organization's business is suspended from {suspension.start}"
                    f" until {suspension.end}",
                )
            if stage is III and permit.permit_type != PermitType.GENERAL:
                _refuse(
                    "supervising_organization.permit_covers_stage",
                    f"stage iii needs a general permit; the supervising organization's is {permit.permit_type}",
                )
        _minimum_age(plan, self.minimum_age)
        source = self._transfer_source(plan, stage, facts)
        _one_plan_per_stage(
            stage, replace(facts, trainee_plans=tuple(p for p in facts.trainee_plans if p is not source))
        )
        if plan.end_date - timedelta(days=facts.paused_days) > last_day(plan.start_date, 12 * self.stage_years[stage]):
            _refuse("plan.stage_length", f"stage {stage} lasts at most {self.stage_years[stage]} year(s)")
        titp_plans = [
            replace_last_day(p, plan.start_date - timedelta(days=1)) if p is source else p
            for p in facts.trainee_plans
            if p.scheme is TITP
        ]
        _total_period(plan, titp_plans, self.total_years, "trainee.total_period", facts.paused_days)
        if stage is not I:
            assert operation is not None  # operation_of refuses a stage ii or iii plan without one
            # A transfer continues a stage already begun: moving on is judged as on the stage's first day.
            begun = plan if source is None else plan.model_copy(update={"start_date": self.stage_start(source, facts)})
            self._moving_on(begun, stage, facts, org, operation)
        _wage(plan)
        if plan.training_type is TrainingType.B:
            _sending(facts)
        general_permit = facts.permit is not None and facts.permit.permit_type == PermitType.GENERAL
        type_a = plan.training_type is TrainingType.A
        excellent = org.excellent and (type_a or general_permit)
        _quota(stage, facts, self.quota, org, excellent, type_a and not org.stability_recognised)
        if operation is not None and operation.field_limit is not None:
            self._field_limit(operation.field_limit, facts, org)

    def _transfer_source(self, plan: PlanTerms, stage: Stage, facts: CertificationFacts) -> OtherPlan | None:
        """A TITP transfer (§4/§7): the plan it continues is the trainee's certified TITP plan in force on the new
        start, of the same stage, job and operation, with another employer; the supervising organization changes
        only at stage iii or when its permit ended; the new plan covers only the rest of the stage, whose length
        counts across both (from the stage's first day to the new end)."""
        if plan.transfer_from is None:
            return None
        source = next((p for p in facts.trainee_plans if p.id == plan.transfer_from and p.scheme is TITP), None)
        if source is None:
            _refuse("transfer.source_plan", f"plan {plan.transfer_from} is not a certified TITP plan of this trainee")
        # Decided again later (a change certification), the source already ended by this transfer: on the new start.
        moved_here = source.status is PlanStatus.TRANSFERRED and source.ended_on == plan.start_date
        if (
            not (source.status is PlanStatus.CERTIFIED or moved_here)
            or not source.start_date < plan.start_date <= source.end_date
        ):
            _refuse(
                "transfer.source_plan",
                f"the plan transferred from is {source.status} ({source.start_date} to {source.end_date}): a transfer"
                f" continues a certified plan in force on the new start ({plan.start_date}), after it started",
            )
        if source.stage is not stage:
            _refuse("transfer.same_stage", f"a transfer continues stage {source.stage} (the plan it continues)")
        if source.job_category != plan.job_category or (
            source.operation is not None and source.operation != plan.operation
        ):
            _refuse(
                "transfer.same_operation",
                f"a transfer continues the job category {source.job_category!r}"
                + (f" and the operation {source.operation}" if source.operation else ""),
            )
        if source.implementing_organization_id == plan.implementing_organization_id:
            _refuse("transfer.another_employer", "a transfer is to another implementing organization")
        if (
            facts.transfer_from_supervising_organization_id != plan.supervising_organization_id
            and stage not in self.transfer_other_supervising_stages
            and plan.transfer_reason is not TransferReason.PERMIT_ENDED
        ):
            _refuse(
                "transfer.supervising_organization",
                f"a stage-{stage} transfer stays with the supervising organization"
                f" {facts.transfer_from_supervising_organization_id}; another one only at stage"
                f" {', '.join(sorted(self.transfer_other_supervising_stages))} or when its permit ended (permit_ended)",
            )
        begun = self.stage_start(source, facts)
        latest_end = last_day(begun, 12 * self.stage_years[stage]) + timedelta(days=source.paused_days)
        if plan.end_date > latest_end:
            _refuse(
                "transfer.stage_length",
                f"the new plan covers the rest of stage {stage} only: begun on {begun}, it lasts at most"
                f" {self.stage_years[stage]} year(s), to {latest_end} (this plan ends on {plan.end_date})",
            )
        return source

    @staticmethod
    def stage_start(source: OtherPlan, facts: CertificationFacts) -> date:
        """The first day of the stage a transfer continues: the source's start, or, after earlier transfers in the
        stage, the start of the first plan of the chain (a plan transferred on the day the next one starts)."""
        begun = source.start_date
        while before := next(
            (
                p
                for p in facts.trainee_plans
                if p.scheme is TITP
                and p.stage is source.stage
                and p.status is PlanStatus.TRANSFERRED
                and p.ended_on == begun
                and p.start_date < begun
            ),
            None,
        ):
            begun = before.start_date
        return begun

    def _field_limit(self, field_limit: str, facts: CertificationFacts, org: ImplementingOrganization) -> None:
        share = self.quota.field_limit_share.get(field_limit)
        if share is None:
            return
        limit = int(share * org.full_time_staff)
        if facts.field_trainees + 1 > limit:
            # Nursing care counts per establishment; the registry keeps none: the organization's staff stands in.
            staff = "full-time staff" + (" (per establishment)" if field_limit == "nursing_care" else "")
            _refuse(
                f"quota.{field_limit}_staff",
                f"{field_limit.replace('_', ' ')} trainees are at most {share} x the {staff}:"
                f" {facts.field_trainees} in force over this period, {org.full_time_staff} full-time staff",
            )

    def _moving_on(
        self,
        plan: PlanTerms,
        stage: Stage,
        facts: CertificationFacts,
        org: ImplementingOrganization,
        operation: Operation,
    ) -> None:
        """Stages ii and iii: the operation goes that far, the stage before was done in full (and for stage ii not
        long ago), its exam passed as the exam body recorded it, and for stage iii the return home."""
        if _STAGE_ORDER[Stage(operation.last_stage)] < _STAGE_ORDER[stage]:
            _refuse(
                "operation.transition_eligible",
                f"the operation {operation.code} ({operation.job}: {operation.name}) goes to stage"
                f" {operation.last_stage} at most",
            )
        if plan.job_category not in self.transition_job_categories:
            _refuse(
                "job_category.transition_eligible",
                f"{plan.job_category!r} is not a job category whose trainees may go past stage i",
            )
        before = I if stage is II else II
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
                f"stage {stage} needs a stage-{before} plan completed, or ending, before it starts",
            )
        previous = max(earlier, key=lambda p: p.last_day)
        if (
            previous.status is PlanStatus.COMPLETED
            and previous.ended_on is not None
            and (previous.ended_on < previous.end_date)
        ):
            _refuse(
                "previous_stage.completed_in_full",
                f"the stage-{before} plan ({previous.start_date} to {previous.end_date}) was recorded completed on"
                f" {previous.ended_on}, before its period ran: stage {stage} follows a stage done in full",
            )
        if stage is II:
            gap_from = previous.last_day + timedelta(days=1)
            latest_start = last_day(gap_from, self.stage_ii_max_gap_months) + timedelta(days=1)
            if plan.start_date > latest_start:
                _refuse(
                    "previous_stage.gap",
                    f"stage ii starts at most {self.stage_ii_max_gap_months} months after stage i ended"
                    f" ({previous.last_day}): by {latest_start}",
                )
        if previous.job_category != plan.job_category:
            _refuse(
                "previous_stage.same_job_category",
                f"stage {stage} continues the stage-{before} job category {previous.job_category!r}",
            )
        if previous.operation is not None and previous.operation != plan.operation:
            _refuse(
                "previous_stage.same_operation",
                f"stage {stage} continues the stage-{before} operation {previous.operation}",
            )
        exam = STAGE_EXAM[before]
        if not any(
            e.grade is exam and e.result is ExamResult.PASSED and e.taken_on <= plan.start_date for e in facts.exams
        ):
            _refuse(
                "previous_stage.exam_passed",
                f"stage {stage} needs the {exam} exam passed by its start, as the exam body recorded it"
                " (POST /v1/exam-results); the application's exams_passed does not count",
            )
        if stage is III:
            self._return_home(plan, previous)
            if not org.excellent:
                _refuse(
                    "stage_iii.excellent_implementing_organization",
                    "stage iii is only for implementing organizations rated excellent",
                )

    def _return_home(self, plan: PlanTerms, previous: OtherPlan) -> None:
        """At least `return_home_min_months` and under `return_home_max_years` at home, counted as months are
        (shared.dates, Civil Code Art. 143): between stage ii and stage iii, or as the plan states within stage
        iii's first year."""
        months, years = self.return_home_min_months, self.return_home_max_years
        home_from = previous.last_day + timedelta(days=1)
        if plan.start_date > last_day(home_from, 12 * years):
            _refuse(
                "stage_iii.return_home",
                f"stage ii ended on {previous.last_day}: stage iii starts less than {years} year(s) after it"
                f" (by {last_day(home_from, 12 * years)})",
            )
        if plan.start_date > last_day(home_from, months):
            return  # a return home of a month or more before stage iii
        stated = plan.return_home
        if stated is None:
            _refuse(
                "stage_iii.return_home",
                f"the trainee returns home for at least {months} month(s) and under {years} year(s): before stage"
                f" iii (stage ii ended on {previous.last_day}, so from {home_from} to at least"
                f" {last_day(home_from, months)}) or within its first year (return_home)",
            )
        self._return_home_in_first_year(plan, stated, months, years)

    def _return_home_in_first_year(self, plan: PlanTerms, stated: ReturnHome, months: int, years: int) -> None:
        first_year_end = last_day(plan.start_date, 12)
        if not plan.start_date <= stated.from_date <= stated.until_date <= first_year_end:
            _refuse(
                "stage_iii.return_home_in_first_year",
                f"a return home during stage iii lies within its first year ({plan.start_date} to {first_year_end});"
                f" this one is {stated.from_date} to {stated.until_date}",
            )
        if not last_day(stated.from_date, months) <= stated.until_date < last_day(stated.from_date, 12 * years):
            _refuse(
                "stage_iii.return_home",
                f"a return home lasts at least {months} month(s) (from {stated.from_date} to at least"
                f" {last_day(stated.from_date, months)}) and under {years} year(s)",
            )


@dataclass(frozen=True)
class EsdRules:
    """Employment for Skill Development (DOMAIN §9): one plan per worker per employer, three years in all
    (+1 after a failed SSW skills test), Japanese A1 before work starts, quotas per employer, national caps
    per field and fiscal year, and transfers. Every number here is configurable; none refuses the scheme."""

    name = "esd"
    starts_on: date = ESD_STARTS_ON  # (c)
    minimum_age: int = 18  # kept by the amended Act
    training_years: int = 3
    extension_years: int = 1  # after a failed Specified Skilled Worker skills test (c)
    fields: Mapping[str, EsdField] = field(default_factory=lambda: dict(ESD_FIELDS))  # (c)
    national_caps: Mapping[int, Mapping[str, int]] = field(default_factory=lambda: dict(NATIONAL_CAPS))  # (c)
    quota: QuotaRules = QuotaRules()  # its basic table: TITP's (c)
    quota_multiple: int = 1  # of the basic table (c)
    quota_multiple_excellent: int = 2  # for an employer rated excellent (c)
    transferred_share: Fraction = Fraction(1, 3)  # own-wish transfers among the receiving employer's workers (c)
    from_designated_share: Fraction = Fraction(1, 6)  # ... from designated areas, for an employer outside them (c)
    metropolitan_prefectures: frozenset[str] = METROPOLITAN_PREFECTURES  # outside the designated areas (c)
    revocation_bar_years: int = REVOCATION_BAR_YEARS  # Art. 10, kept by the amended Act (c)

    # What every ESD application states (decided at application; again at certification)

    def check_terms(self, plan: PlanDetails) -> None:
        if plan.stage is not None:
            _refuse("plan.esd_has_no_stage", "an ESD plan has no stage (stage is null)")
        if plan.field is None or plan.field not in self.fields:
            _refuse("esd.field", f"an ESD plan names one of the ESD fields ({', '.join(sorted(self.fields))})")
        if (plan.transfer_from is None) != (plan.transfer_reason is None):
            _refuse("esd.transfer_reason", "a transfer names the plan it continues and its reason, both or neither")
        if plan.start_date < self.starts_on:
            _refuse(
                "switch.esd_start",
                f"an ESD plan starts on or after {self.starts_on}; ESD applications are accepted before that day",
            )

    # The numbers

    def field_of(self, plan: PlanDetails) -> EsdField:
        if plan.field is None or plan.field not in self.fields:
            _refuse("esd.field", f"{plan.field!r} is not an ESD field")
        return self.fields[plan.field]

    def cap(self, field_name: str, year: int) -> int | None:
        """The national cap of a field in a fiscal year: that year's, or the latest earlier year's until a new
        one is set; None where none is set (then nothing is refused for it)."""
        known = [y for y in self.national_caps if y <= year]
        return self.national_caps[max(known)].get(field_name) if known else None

    def quota_limit(self, org: ImplementingOrganization) -> int:
        return self.quota.basic(org.full_time_staff) * (
            self.quota_multiple_excellent if org.excellent else self.quota_multiple
        )

    def years_allowed(self, plan: PlanDetails) -> int:
        return self.training_years + (self.extension_years if plan.extension else 0)

    # Certification

    def check(self, plan: PlanTerms, facts: CertificationFacts) -> None:
        """Refuse with the first rule of DOMAIN §9 the plan breaks; return if it may be certified."""
        self.check_terms(plan)
        org = _organizations(plan, facts)
        _revocation_bar(facts, self.revocation_bar_years)
        if plan.training_type is TrainingType.B:
            self._supervision_support(facts)
        _minimum_age(plan, self.minimum_age)
        mine = [p for p in facts.trainee_plans if p.scheme is ESD]
        source = self._source(plan, mine)
        self._one_plan(plan, mine, source)
        passes = _passes(plan, facts)
        if not _passed_by(passes, (A1, A2), plan.start_date):
            _refuse(
                "esd.japanese_a1_before_start", f"Japanese A1 (or higher) is passed by the start, {plan.start_date}"
            )
        if plan.extension:
            self._extension(plan, facts)
        years = self.years_allowed(plan)
        if plan.end_date - timedelta(days=facts.paused_days) > last_day(plan.start_date, 12 * years):
            _refuse("esd.training_length", f"an ESD plan lasts at most {years} year(s)")
        counted = [replace_last_day(p, plan.start_date - timedelta(days=1)) if p is source else p for p in mine]
        _total_period(plan, counted, years, "esd.total_period", facts.paused_days)
        if source is not None:
            self._transfer(plan, source, facts, org, passes)
        _wage(plan)
        if plan.training_type is TrainingType.B:
            _sending(facts)
        self._quota(facts, org)
        self._national_cap(plan, facts)

    def _quota(self, facts: CertificationFacts, org: ImplementingOrganization) -> None:
        limit = self.quota_limit(org)
        if facts.plans_in_force + 1 > limit:
            _refuse(
                "esd.quota",
                f"{facts.plans_in_force} ESD plans of this employer are in force over this period; with"
                f" {org.full_time_staff} full-time staff{' and an excellent rating' if org.excellent else ''}"
                f" at most {limit} are allowed",
            )

    def _one_plan(self, plan: PlanTerms, mine: list[OtherPlan], source: OtherPlan | None) -> None:
        """One plan per worker per employer (but the extension), and one employer at a time (but a transfer)."""
        if not plan.extension and any(
            p.implementing_organization_id == plan.implementing_organization_id
            and p.status in (PlanStatus.CERTIFIED, PlanStatus.COMPLETED, PlanStatus.TRANSFERRED)
            for p in mine
        ):
            _refuse(
                "esd.one_plan_per_employer",
                "the worker already has an ESD plan with this employer (only the extension after a failed SSW"
                " skills test adds another)",
            )
        if clash := next(
            (
                p
                for p in mine
                if p is not source
                and p.status is PlanStatus.CERTIFIED
                and p.start_date <= plan.end_date
                and plan.start_date <= p.last_day
            ),
            None,
        ):
            _refuse(
                "esd.one_plan_at_a_time",
                f"the worker's ESD plan from {clash.start_date} to {clash.last_day} is in force over this period;"
                " a move to another employer is a transfer (transfer_from)",
            )

    def _supervision_support(self, facts: CertificationFacts) -> None:
        permit, day = facts.permit, facts.certified_on
        if permit is None or permit.scheme is not ESD or not permit.active_on(day):
            _refuse(
                "esd.supervision_support_permit",
                f"a type (b) ESD plan needs a supervision support organization with an active ESD permit on {day}"
                + (f" (its {permit.scheme} permit is {permit.status})" if permit else ""),
            )
        if suspension := permit.suspension_on(day):
            _refuse(
                "esd.supervision_support_not_suspended",
                f"the supervision support organization's business is suspended from {suspension.start}"
                f" until {suspension.end}",
            )

    def _source(self, plan: PlanTerms, mine: list[OtherPlan]) -> OtherPlan | None:
        if plan.transfer_from is None:
            return None
        source = next((p for p in mine if p.id == plan.transfer_from), None)
        if source is None:
            _refuse("esd.transfer_from_plan", f"plan {plan.transfer_from} is not a certified ESD plan of this worker")
        unavoidable = plan.transfer_reason is not TransferReason.OWN_WISH
        if not (
            source.status is PlanStatus.CERTIFIED or (unavoidable and source.status is PlanStatus.DISCONTINUED)
        ) or not (source.start_date < plan.start_date <= source.last_day + timedelta(days=1) or unavoidable):
            _refuse(
                "esd.transfer_from_plan",
                f"the plan transferred from is {source.status} ({source.start_date} to {source.last_day}): a transfer"
                " continues a plan in force (or one discontinued for an unavoidable reason) after it started",
            )
        if source.implementing_organization_id == plan.implementing_organization_id:
            _refuse("esd.transfer_another_employer", "a transfer is to another employer")
        return source

    def _extension(self, plan: PlanTerms, facts: CertificationFacts) -> None:
        ssw = ExamGrade.SSW_SKILLS
        failed = any(e.grade is ssw and e.result is ExamResult.FAILED for e in facts.exams)
        passed = any(e.grade is ssw and e.result is ExamResult.PASSED for e in facts.exams)
        if not failed or passed:
            _refuse(
                "esd.extension_after_failed_ssw_test",
                f"the extra {self.extension_years} year(s) are for a worker who failed the SSW skills test"
                " (and has not passed it since)",
            )

    def _transfer(
        self,
        plan: PlanTerms,
        source: OtherPlan,
        facts: CertificationFacts,
        org: ImplementingOrganization,
        passes: list[tuple[ExamGrade, date]],
    ) -> None:
        """A move to another employer: at the worker's own wish after the field's period, with the exams, within
        the receiving employer's caps; for an unavoidable reason without these conditions."""
        if plan.transfer_reason is not TransferReason.OWN_WISH:
            return
        if plan.job_category != source.job_category:
            _refuse("esd.transfer_same_job_category", f"a transfer stays in the job category {source.job_category!r}")
        if plan.field != source.field:
            _refuse("esd.transfer_same_field", f"a transfer stays in the field {source.field!r}")
        field_rules = self.field_of(plan)
        allowed_from = add_months(source.start_date, 12 * field_rules.transfer_years)
        if plan.start_date < allowed_from:
            _refuse(
                "esd.transfer_too_early",
                f"in {field_rules.name} a transfer at the worker's own wish comes after"
                f" {field_rules.transfer_years} year(s) with the first employer: from {allowed_from}",
            )
        if not _passed_by(passes, (ExamGrade.BASIC,), plan.start_date):
            _refuse("esd.transfer_basic_grade", "a transfer at the worker's own wish needs the basic grade passed")
        levels = (A1, A2) if field_rules.transfer_japanese is A1 else (A2,)
        if not _passed_by(passes, levels, plan.start_date):
            _refuse(
                "esd.transfer_japanese_level",
                f"a transfer in {field_rules.name} needs Japanese {field_rules.transfer_japanese} passed",
            )
        self._receiving_caps(facts, org)

    def _receiving_caps(self, facts: CertificationFacts, org: ImplementingOrganization) -> None:
        """The receiving employer's caps on workers transferred at their own wish."""
        workers = facts.esd_workers + 1
        if facts.own_wish_transfers + 1 > workers * self.transferred_share:
            _refuse(
                "esd.transfer_receiving_cap",
                f"workers transferred at their own wish are at most {self.transferred_share} of the receiving"
                f" employer's ESD workers: {facts.own_wish_transfers} of {facts.esd_workers} already",
            )
        metropolitan = self.metropolitan_prefectures
        if (
            facts.transfer_from_employer is not None
            and designated_area(facts.transfer_from_employer.prefecture, metropolitan)
            and not designated_area(org.prefecture, metropolitan)
            and facts.from_designated_areas + 1 > workers * self.from_designated_share
        ):
            _refuse(
                "esd.transfer_designated_area_cap",
                f"an employer outside the designated areas takes at most {self.from_designated_share} of its ESD"
                f" workers from inside them: {facts.from_designated_areas} of {facts.esd_workers} already",
            )

    def fiscal_years(self, plan: PlanDetails) -> list[int]:
        """The fiscal years a plan runs in: it counts against its field's cap in each."""
        return list(range(fiscal_year(plan.start_date), fiscal_year(plan.end_date) + 1))

    def _national_cap(self, plan: PlanTerms, facts: CertificationFacts) -> None:
        assert plan.field is not None
        for year in self.fiscal_years(plan):
            cap = self.cap(plan.field, year)
            others = facts.field_workers.get(year, 0)
            if cap is not None and others + 1 > cap:
                _refuse(
                    "esd.national_cap",
                    f"the field {plan.field} is at its national cap for FY{year}"
                    f" ({fiscal_year_start(year)} to {fiscal_year_start(year + 1) - timedelta(days=1)}):"
                    f" {others} of {cap} workers",
                )


def replace_last_day(plan: OtherPlan, day: date) -> OtherPlan:
    """The plan as counted when it ends on `day` at the latest (the plan a transfer leaves)."""
    return OtherPlan(
        plan.stage,
        plan.job_category,
        plan.start_date,
        min(plan.end_date, day),
        plan.status,
        None,
        plan.exam_result,
        plan.scheme,
        plan.applied_on,
        plan.id,
        plan.implementing_organization_id,
        plan.field,
        plan.operation,
    )


# The switch (DOMAIN §9, transitional measures)


@dataclass(frozen=True)
class Switch:
    """From the ESD start no TITP application is accepted, except for a trainee in TITP on that day; a TITP
    application made before it may be certified after it if its training starts by `titp_last_start`."""

    titp_last_start: date = TITP_LAST_START  # (c)
    stage_ii_years_before_iii: int = 1  # of stage ii done by the ESD start, for a move to stage iii after it (c)

    def in_titp_on(self, day: date, plans: Iterable[OtherPlan]) -> bool:
        """A trainee in TITP on `day`: a TITP plan of theirs, applied for before it and certified, had not ended
        by then (in progress, or certified to start under the transitional measures)."""
        return any(
            p.scheme is TITP and (p.applied_on is None or p.applied_on < day) and p.last_day >= day for p in plans
        )

    def year_of_stage_ii(self, day: date, plans: Iterable[OtherPlan]) -> bool:
        """At least `stage_ii_years_before_iii` of stage ii done by `day`, counted from the change of status
        to stage ii (the first stage-ii plan's start)."""
        stage_ii = [p for p in plans if p.scheme is TITP and p.stage is II and p.start_date < day]
        if not stage_ii:
            return False
        first = min(p.start_date for p in stage_ii)
        done_until = min(day, max(p.last_day for p in stage_ii) + timedelta(days=1))
        return add_months(first, 12 * self.stage_ii_years_before_iii) <= done_until

    def check_titp(self, plan: PlanDetails, applied_on: date, esd_starts_on: date, plans: Iterable[OtherPlan]) -> None:
        if applied_on < esd_starts_on and plan.start_date <= self.titp_last_start:
            return  # an application under the TITP as it was
        plans = list(plans)
        if not self.in_titp_on(esd_starts_on, plans):
            if applied_on >= esd_starts_on:
                _refuse(
                    "switch.titp_application_closed",
                    f"no TITP application is accepted from {esd_starts_on} (applied on {applied_on}) but for a"
                    f" trainee in TITP on that day; apply under ESD (scheme esd)",
                )
            _refuse(
                "switch.titp_start_by",
                f"a TITP plan applied for before {esd_starts_on} starts by {self.titp_last_start}"
                f" (this one starts on {plan.start_date}), unless the trainee was in TITP on {esd_starts_on}",
            )
        if plan.stage is III and not self.year_of_stage_ii(esd_starts_on, plans):
            _refuse(
                "switch.stage_iii_year_of_stage_ii",
                f"after {esd_starts_on} a trainee moves on to stage iii only with at least"
                f" {self.stage_ii_years_before_iii} year(s) of stage ii done by {esd_starts_on}",
            )


@dataclass(frozen=True)
class ReassignmentFacts:
    """What a reassignment to a new supervising organization is decided on: the employer and the new organization's
    permit as the registry's topic told them."""

    reassigned_on: date
    implementing_organization: ImplementingOrganization | None
    permit: Permit | None


def check_reassignment(plan: PlanDetails, supervising_organization_id: UUID, facts: ReassignmentFacts) -> None:
    """A flagged plan moves only to an organization that may supervise it from `reassigned_on` (§11): one holding an
    active permit of the plan's scheme, not suspended, that supervises (TITP) or supports (ESD) the employer from
    that day as the registry recorded it (`SupervisionChanged`), with a general permit for stage iii."""
    day = facts.reassigned_on
    if supervising_organization_id == plan.supervising_organization_id:
        _refuse(
            "reassign.same_supervising_organization",
            f"the plan is already under the supervising organization {supervising_organization_id}",
        )
    permit = facts.permit
    if permit is None or permit.scheme is not plan.scheme or not permit.active_on(day):
        _refuse(
            "reassign.permit_not_active",
            f"the supervising organization {supervising_organization_id} holds no active {plan.scheme} permit on {day}"
            + (f" (its {permit.scheme} permit is {permit.status})" if permit else ""),
        )
    if suspension := permit.suspension_on(day):
        _refuse(
            "reassign.permit_suspended",
            f"the supervising organization's business is suspended from {suspension.start} until {suspension.end}",
        )
    employer = facts.implementing_organization
    # Issue 20: any organization that supervises the employer that day (it may have more than one under TITP).
    if employer is None or not employer.supervised_by(plan.scheme, supervising_organization_id, day):
        under = [
            f"{s.organization_id}"
            + (f" from {s.from_date}" if s.from_date else "")
            + (f" until {s.until}" if s.until else "")
            for s in (employer.supervisors(plan.scheme) if employer else ())
        ]
        _refuse(
            "reassign.not_supervising_the_employer",
            f"the registry has the implementing organization {plan.implementing_organization_id} under"
            f" {', '.join(under) or 'no supervising organization'}, not under {supervising_organization_id} on {day}",
        )
    if plan.stage is III and permit.permit_type != PermitType.GENERAL:
        _refuse(
            "reassign.permit_covers_stage",
            f"stage iii needs a general permit; the supervising organization's is {permit.permit_type}",
        )


# Issue 25: the reasons a plan in progress may be paused for; by default every one the contract knows (pregnancy,
# childbirth, illness, injury: DOMAIN §10's list). (c)
PAUSE_REASONS = frozenset(PauseReason)


@dataclass(frozen=True)
class RuleBook:
    titp: TitpRules = TitpRules()
    esd: EsdRules = EsdRules()
    switch: Switch = Switch()
    unattended_flag_days: int = UNATTENDED_FLAG_DAYS  # (c)
    filings: FilingDues = FilingDues()  # when filings are due (shared.filings)
    early_returns: EarlyReturnRules = EarlyReturnRules()  # (c) issue 25: the employers' early-return rate
    minor_change_terms: frozenset[str] = MINOR_CHANGE_TERMS  # (c)
    fees: FeeRules = FeeRules()  # (c) the fees ceiling and ESD's employer share (domain/fees.py; issue 25)
    pause_reasons: frozenset[PauseReason] = PAUSE_REASONS  # issue 25: why a plan may be paused (c)

    def for_plan(self, plan: PlanDetails) -> TitpRules | EsdRules:
        """The plan's rule set: its scheme's."""
        return self.esd if plan.scheme is ESD else self.titp

    def check_application(self, plan: PlanDetails, applied_on: date, trainee_plans: Iterable[OtherPlan]) -> None:
        """What is decided when the application arrives (a refusal records nothing): the scheme's terms, and
        which scheme the application date and the trainee's status allow."""
        if plan.scheme is ESD:
            self.esd.check_terms(plan)
            return
        if plan.stage is None:
            _refuse("plan.titp_stage", "a TITP plan names its stage: i, ii or iii")
        if plan.field is not None or plan.extension:
            _refuse("plan.titp_no_esd_terms", "field and extension are for ESD plans only")
        self.switch.check_titp(plan, applied_on, self.esd.starts_on, trainee_plans)
        self.titp.check_application(plan, applied_on)

    def check(self, plan: PlanTerms, applied_on: date, facts: CertificationFacts) -> TitpRules | EsdRules:
        """Certification: the application's rules again on what is known now, then the scheme's rule set."""
        self.check_application(plan, applied_on, facts.trainee_plans)
        rules = self.for_plan(plan)
        rules.check(plan, facts)
        return rules


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
    if plan.return_home is not None:
        if plan.stage is not Stage.III:
            _refuse("plan.return_home_stage_iii", "return_home is stated by a stage-iii plan only")
        if plan.return_home.until_date < plan.return_home.from_date:
            _refuse("plan.return_home_dates", "return_home.until_date is before its from_date")


# Rules both sets share


def _refuse(rule: str, detail: str) -> NoReturn:
    raise DomainRuleViolation(rule, detail)


def _organizations(plan: PlanTerms, facts: CertificationFacts) -> ImplementingOrganization:
    """The implementing organization is registered for the plan's training type, and for type (b) belongs to
    the plan's supervising organization (TITP) or supervision support organization (ESD)."""
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
    if plan.training_type is not TrainingType.B:
        return org
    # Issue 20: any organization that supervises (supports) the employer on the plan's start.
    if plan.scheme is ESD:
        if not org.supervised_by(ESD, plan.supervising_organization_id, plan.start_date):
            supporters = [
                f"{s.organization_id}" + (f" from {s.from_date}" if s.from_date else "")
                for s in org.supervisors(ESD)
                if s.until is None
            ]
            _refuse(
                "implementing_organization.supported_by",
                "under ESD the implementing organization is supported by "
                + (", ".join(supporters) or "no supervision support organization")
                + f", not by {plan.supervising_organization_id} when the plan starts",
            )
    elif not org.supervised_by(TITP, plan.supervising_organization_id, plan.start_date):
        _refuse(
            "implementing_organization.supervised_by",
            f"the implementing organization belongs to another supervising organization: not to"
            f" {plan.supervising_organization_id} on the plan's start {plan.start_date}",
        )
    return org


def _revocation_bar(facts: CertificationFacts, years: int) -> None:
    """Art. 10: no certification for `years` from the day one of the organization's plans was revoked (counted, as
    the registry's Art. 26 bar, from the next day: Civil Code Art. 140)."""
    revoked = facts.certification_revoked_on
    if revoked is not None and revoked <= facts.certified_on <= (barred_until := last_day_after(revoked, 12 * years)):
        _refuse(
            "implementing_organization.certification_revoked",
            f"a plan of the implementing organization had its certification revoked on {revoked}: no plan is"
            f" certified for {years} years, until {barred_until} (Art. 10)",
        )


def _minimum_age(plan: PlanTerms, minimum_age: int) -> None:
    if age_on(plan.trainee.date_of_birth, plan.start_date) < minimum_age:
        _refuse("trainee.minimum_age", f"the trainee is under {minimum_age} on {plan.start_date}")


def _one_plan_per_stage(stage: Stage, facts: CertificationFacts) -> None:
    if any(p.stage == stage and p.status in (PlanStatus.CERTIFIED, PlanStatus.COMPLETED) for p in facts.trainee_plans):
        _refuse(
            "trainee.one_plan_per_stage",
            f"the trainee already has a stage-{stage} plan in force or"
            " completed; only a discontinued or revoked one can be replaced",
        )


def _total_period(plan: PlanTerms, others: Iterable[OtherPlan], years: int, rule: str, paused_days: int = 0) -> None:
    """All the trainee's plans together: days planned (or, for ended ones, used) within `years`; only days in
    training count (issue 25: the days paused, this plan's `paused_days` and the others', are left out)."""
    others = list(others)
    first = min([plan.start_date, *(p.start_date for p in others)])
    days = (plan.end_date - plan.start_date).days + 1 - paused_days + sum(p.days for p in others)
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
    stage: Stage,
    facts: CertificationFacts,
    quota: QuotaRules,
    org: ImplementingOrganization,
    excellent: bool,
    type_a_share: bool = False,
) -> None:
    limit, rule = quota.limit(stage, org.full_time_staff, excellent, type_a_share)
    if facts.plans_in_force + 1 > limit:
        _refuse(
            rule,
            f"{facts.plans_in_force} stage-{stage} plans are in force over this period; with"
            f" {org.full_time_staff} full-time staff{' and excellent ratings' if excellent else ''}"
            f" at most {limit} are allowed",
        )


def _passes(plan: PlanTerms, facts: CertificationFacts) -> list[tuple[ExamGrade, date]]:
    """The worker's passes: those the application states, and those the exam body reported."""
    return [(e.grade, e.passed_on) for e in plan.exams_passed] + [
        (e.grade, e.taken_on) for e in facts.exams if e.result is ExamResult.PASSED
    ]


def _passed_by(passes: Iterable[tuple[ExamGrade, date]], grades: tuple[ExamGrade, ...], day: date) -> bool:
    return any(grade in grades and on <= day for grade, on in passes)


def age_on(born: date, day: date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))
