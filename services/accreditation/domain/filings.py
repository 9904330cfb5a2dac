"""The filings the agency receives from employers and supervising organizations (DOMAIN §11, issue 20 item 4).

Each filing is a stream of its own with one event: the implementation-start notice (Art. 17), the notice of
difficulty in continuing training (Art. 19), the annual implementation report (Art. 21) and the supervising
organization's monthly visit record in stage i. Each has the day it was filed and the day it was due (`FilingDues`);
it is late by the days between them. A filing that can be made once has a stream id derived from what it is about
(`start_notice_id`, `annual_report_id`, `visit_record_id`): a second one finds its stream taken (`filing.duplicate`).

The decisions are pure: the command gives them what the service knows (`PlanFacts`, the employer's receipt number).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from uuid import UUID, uuid5

from contracts.accreditation import (
    AnnualImplementationReportFiled,
    DifficultyCause,
    DifficultyNoticeFiled,
    FilingEvent,
    ImplementationStartNoticeFiled,
    PlanStatus,
    Stage,
    VisitRecordFiled,
)
from contracts.registry import Scheme, TrainingType
from shared.dates import fiscal_year_start
from shared.errors import DomainRuleViolation, NotFound
from shared.events import EventPayload
from shared.filings import FilingDues

FILING_IDS = UUID("5b0e7c3d-2a19-5f64-8e2b-9c1d0a3f4e57")

KINDS: dict[type[FilingEvent], str] = {
    ImplementationStartNoticeFiled: "start_notice",
    DifficultyNoticeFiled: "difficulty_notice",
    AnnualImplementationReportFiled: "annual_report",
    VisitRecordFiled: "visit_record",
}

# A plan that was ever certified (it may have ended since).
EVER_CERTIFIED = frozenset(
    {PlanStatus.CERTIFIED, PlanStatus.COMPLETED, PlanStatus.DISCONTINUED, PlanStatus.REVOKED, PlanStatus.TRANSFERRED}
)


def start_notice_id(implementing_organization_id: UUID) -> UUID:
    """One implementation-start notice per employer."""
    return uuid5(FILING_IDS, f"start-notice:{implementing_organization_id}")


def annual_report_id(implementing_organization_id: UUID, fiscal_year: int) -> UUID:
    """One annual implementation report per employer and fiscal year."""
    return uuid5(FILING_IDS, f"annual-report:{implementing_organization_id}:{fiscal_year}")


def visit_record_id(supervising_organization_id: UUID, implementing_organization_id: UUID, month: date) -> UUID:
    """One visit record per supervising organization, employer and month."""
    return uuid5(FILING_IDS, f"visit-record:{supervising_organization_id}:{implementing_organization_id}:{month}")


def receipt_number(year: int, serial: int) -> str:
    """The start notice's receipt number (受理番号): S-<year filed>-<serial within the year, 6 digits>."""
    return f"S-{year:04d}-{serial:06d}"


@dataclass(frozen=True)
class Filing:
    filed: FilingEvent | None = None

    @property
    def exists(self) -> bool:
        return self.filed is not None


def evolve(state: Filing, event: EventPayload) -> Filing:
    return Filing(event) if isinstance(event, FilingEvent) else state


@dataclass(frozen=True)
class PlanFacts:
    """What a filing is checked against of one training plan, as the service recorded it."""

    id: UUID
    implementing_organization_id: UUID
    supervising_organization_id: UUID | None
    training_type: TrainingType
    scheme: Scheme
    stage: Stage | None
    start_date: date
    end_date: date
    status: PlanStatus
    ended_on: date | None = None

    @property
    def last_day(self) -> date:
        """Its last day of training: the day it ended, or its end date."""
        return self.ended_on or self.end_date


class FilingRefused(DomainRuleViolation):
    """A rule refuses the filing (409): the problem names the rule and the request field it is about."""

    def __init__(self, rule: str, field: str, detail: str) -> None:
        super().__init__(rule, detail, field)


def _duplicate(state: Filing, what: str) -> None:
    if state.filed is not None:
        raise FilingRefused("filing.duplicate", "body", f"{what} was already filed (on {state.filed.filed_on})")


def _employers_plan(plan: PlanFacts | None, implementing_organization_id: UUID, plan_id: UUID) -> PlanFacts:
    if plan is None or plan.implementing_organization_id != implementing_organization_id:
        raise FilingRefused(
            "filing.training_plan",
            "body.training_plan_id",
            f"{plan_id} is not a training plan of the implementing organization {implementing_organization_id}",
        )
    if plan.status not in EVER_CERTIFIED:
        raise FilingRefused(
            "filing.training_plan", "body.training_plan_id", f"the training plan {plan_id} was never certified"
        )
    return plan


def _receipt(quoted: str, issued: str | None) -> None:
    if issued is None:
        raise FilingRefused(
            "filing.receipt_number",
            "body.receipt_number",
            "the implementing organization has filed no implementation-start notice: there is no receipt number"
            " to quote",
        )
    if quoted != issued:
        raise FilingRefused(
            "filing.receipt_number",
            "body.receipt_number",
            f"{quoted} is not the receipt number of the implementing organization's implementation-start notice",
        )


def _not_before(filed_on: date, day: date, rule: str, what: str) -> None:
    if filed_on < day:
        raise FilingRefused(rule, "body.filed_on", f"filed_on {filed_on} is before {what} {day}")


def file_start_notice(
    state: Filing,
    implementing_organization_id: UUID,
    plan: PlanFacts | None,
    plan_id: UUID,
    first_plan_start: date | None,
    started_on: date,
    filed_on: date,
    receipt: str,
    rules: FilingDues,
) -> list[EventPayload]:
    """Art. 17: the employer's notice that it started implementing training, once (`filing.duplicate`); it names a
    certified plan of the employer (`filing.training_plan`), started on a day of that plan
    (`filing.started_on`), filed on or after that day (`filing.before_start`). Due START_NOTICE_DAYS after the
    start of the employer's first certified plan (`first_plan_start`)."""
    _duplicate(state, "the implementing organization's implementation-start notice")
    found = _employers_plan(plan, implementing_organization_id, plan_id)
    if not found.start_date <= started_on <= found.last_day:
        raise FilingRefused(
            "filing.started_on",
            "body.started_on",
            f"started_on {started_on} is not a day of the plan ({found.start_date} to {found.last_day})",
        )
    _not_before(filed_on, started_on, "filing.before_start", "the start on")
    return [
        ImplementationStartNoticeFiled(
            implementing_organization_id=implementing_organization_id,
            training_plan_id=found.id,
            started_on=started_on,
            filed_on=filed_on,
            due_on=rules.start_notice_due(min(first_plan_start or found.start_date, found.start_date)),
            receipt_number=receipt,
        )
    ]


def check_filer(filer: str | None, implementing_organization_id: UUID, supervisors: Iterable[str]) -> None:
    """An employer files its own notices; a supervising organization files for its member employers (`supervisors`:
    the organizations the registry has the employer under, and those named on its plans); officers file any
    (`filer` None). Any other organization is answered as if the employer did not exist: 404, and nothing more (the
    filer learns nothing of other organizations, ARCHITECTURE §6)."""
    if filer is None or filer == str(implementing_organization_id) or filer in set(supervisors):
        return
    raise NotFound("implementing organization", implementing_organization_id)


def check_difficulty_filer(filer: str | None, plan: PlanFacts) -> None:
    """Art. 19: for a type (b) plan the notice comes through its supervising organization, not from the employer
    (`filing.through_supervising_organization`); for a type (a) plan, from the employer itself
    (`filing.own_organization`). Officers file any (`filer` None)."""
    if filer is None:
        return
    supervised = plan.training_type is TrainingType.B and plan.supervising_organization_id is not None
    if supervised and filer != str(plan.supervising_organization_id):
        raise FilingRefused(
            "filing.through_supervising_organization",
            "body.training_plan_id",
            f"the plan {plan.id} is supervised (type b): its difficulty notice is filed by its supervising"
            f" organization {plan.supervising_organization_id}",
        )
    if not supervised and filer != str(plan.implementing_organization_id):
        raise FilingRefused(
            "filing.own_organization",
            "body.training_plan_id",
            f"the plan {plan.id} is a direct hire (type a): its difficulty notice is filed by the employer",
        )


def file_difficulty_notice(
    state: Filing,
    implementing_organization_id: UUID,
    plan: PlanFacts | None,
    plan_id: UUID,
    occurred_on: date,
    filed_on: date,
    cause: DifficultyCause,
    measures: str,
    quoted_receipt: str,
    issued_receipt: str | None,
    rules: FilingDues,
) -> list[EventPayload]:
    """Art. 19: continuing the plan's training became difficult on `occurred_on`. The plan was certified and in
    training that day (`filing.plan_not_in_force`); the notice quotes the employer's receipt number
    (`filing.receipt_number`) and is filed on or after that day (`filing.before_occurrence`). The plan stays as it
    is: a transfer or a discontinuation is its own command. Due DIFFICULTY_NOTICE_DAYS after `occurred_on`."""
    _duplicate(state, "this difficulty notice")
    found = _employers_plan(plan, implementing_organization_id, plan_id)
    if not found.start_date <= occurred_on <= found.last_day:
        raise FilingRefused(
            "filing.plan_not_in_force",
            "body.occurred_on",
            f"occurred_on {occurred_on} is not a day of the plan's training ({found.start_date} to {found.last_day})",
        )
    _receipt(quoted_receipt, issued_receipt)
    _not_before(filed_on, occurred_on, "filing.before_occurrence", "the difficulty on")
    return [
        DifficultyNoticeFiled(
            implementing_organization_id=implementing_organization_id,
            training_plan_id=found.id,
            supervising_organization_id=found.supervising_organization_id
            if found.training_type is TrainingType.B
            else None,
            occurred_on=occurred_on,
            filed_on=filed_on,
            due_on=rules.difficulty_notice_due(occurred_on),
            cause=cause,
            measures=measures,
            receipt_number=quoted_receipt,
        )
    ]


def file_annual_report(
    state: Filing,
    implementing_organization_id: UUID,
    fiscal_year: int,
    filed_on: date,
    quoted_receipt: str,
    issued_receipt: str | None,
    trainees: int,
    had_plans_in_year: bool,
    rules: FilingDues,
) -> list[EventPayload]:
    """Art. 21: the report on a fiscal year, once per employer and year (`filing.duplicate`), after the year ended
    (`filing.too_early`), by an employer that had a certified plan in training during it
    (`filing.no_training_in_year`), quoting its receipt number (`filing.receipt_number`). Due 31 May after the
    year (configurable)."""
    _duplicate(state, f"the annual implementation report for fiscal year {fiscal_year}")
    year_end = fiscal_year_start(fiscal_year + 1)
    if filed_on < year_end:
        raise FilingRefused(
            "filing.too_early",
            "body.filed_on",
            f"the report on fiscal year {fiscal_year} is filed after the year ends on {year_end}, not on {filed_on}",
        )
    if not had_plans_in_year:
        raise FilingRefused(
            "filing.no_training_in_year",
            "body.fiscal_year",
            f"the implementing organization had no certified plan in training in fiscal year {fiscal_year}",
        )
    _receipt(quoted_receipt, issued_receipt)
    return [
        AnnualImplementationReportFiled(
            implementing_organization_id=implementing_organization_id,
            fiscal_year=fiscal_year,
            filed_on=filed_on,
            due_on=rules.annual_report_due(fiscal_year),
            receipt_number=quoted_receipt,
            trainees=trainees,
        )
    ]


def visit_supervisor(
    filer: str | None,
    named: UUID | None,
    implementing_organization_id: UUID,
    stage_i_supervisors: Mapping[str, int],
) -> UUID:
    """Who a visit record is of: a supervising organization's own (`filer`; `named`, if given, must be it, or it is
    not found); for an officer the organization named, or the one the employer had stage-i plans
    under in the month (`filing.supervising_organization` when there is none or more than one to choose from)."""
    if filer is not None:
        if named is not None and str(named) != filer:
            raise NotFound("supervising organization", named)
        return UUID(filer)
    if named is not None:
        return named
    if len(stage_i_supervisors) != 1:
        raise FilingRefused(
            "filing.supervising_organization",
            "body.supervising_organization_id",
            f"name the supervising organization: the implementing organization {implementing_organization_id} had"
            f" stage-i plans under {len(stage_i_supervisors)} organizations in the month",
        )
    return UUID(next(iter(stage_i_supervisors)))


def file_visit_record(
    state: Filing,
    supervising_organization_id: UUID,
    implementing_organization_id: UUID,
    month: date,
    visited_on: date,
    filed_on: date,
    stage_i_plans: int,
    rules: FilingDues,
) -> list[EventPayload]:
    """The supervising organization's record of its monthly visit to an employer in stage i: one per month
    (`filing.duplicate`), `month` its first day (`filing.month`), the visit in that month (`filing.visited_on`), the
    employer with a stage-i plan in training under the organization in that month (`filing.no_stage_i_plan`),
    filed on or after the visit (`filing.before_visit`). Due the last day of the next month (configurable)."""
    _duplicate(state, f"the visit record for {month:%Y-%m}")
    if month.day != 1:
        raise FilingRefused("filing.month", "body.month", f"month is the first day of a month, not {month}")
    if (visited_on.year, visited_on.month) != (month.year, month.month):
        raise FilingRefused("filing.visited_on", "body.visited_on", f"visited_on {visited_on} is not in {month:%Y-%m}")
    if stage_i_plans == 0:
        raise FilingRefused(
            "filing.no_stage_i_plan",
            "body.month",
            f"the implementing organization had no stage-i plan in training under the supervising organization"
            f" {supervising_organization_id} in {month:%Y-%m}",
        )
    _not_before(filed_on, visited_on, "filing.before_visit", "the visit on")
    return [
        VisitRecordFiled(
            supervising_organization_id=supervising_organization_id,
            implementing_organization_id=implementing_organization_id,
            month=month,
            visited_on=visited_on,
            filed_on=filed_on,
            due_on=rules.visit_record_due(month),
        )
    ]
