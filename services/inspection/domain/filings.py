"""Filings the inspection worklist watches (DOMAIN §9, §10 `GET /v1/filings`, §11): the quarterly audit reports a
supervision support organization owes about each employer it supports under ESD; and (issue 20, below) the
implementation-start notices, annual implementation reports, business reports and stage-i visit records.

The duty, kept simple and stated: from the day an employer is supported under ESD by an organization
(`SupervisionChanged`), that organization owes a report (`QuarterlyAuditReportFiled`) every
`months` (3, *configurable*, rules.py): the next report is due `months` after the end of the last quarter it
reported (or after the support began, if that is later or nothing was reported), and is overdue from the day
after that due day until a report arrives. The duty ends on the day another organization takes over the
employer's ESD support, or the organization's permit is revoked or expires (not overdue from that day on).

A question about a day: only the reports filed on or before `day` count (a report filed on its due day is on
time; the due day of a report filed later is still what `day` saw). The functions below are the one definition
of "due" and "overdue" for these filings: the worklist's SQL (projections/filings.py) is built next to them,
and tests/integration/test_inspection_esd_filings_overdue.py checks both answer alike on the boundary days.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from uuid import UUID, uuid5

from contracts.inspection import InspectionReason, InspectionScheduled, TargetType
from contracts.registry import Scheme
from services.inspection.domain.rules import QUARTERLY_AUDIT_REPORT_MONTHS
from shared import filings
from shared.dates import add_months, fiscal_year, fiscal_year_start, month_start
from shared.errors import DomainRuleViolation
from shared.filings import FilingDues


class FilingKind(StrEnum):
    QUARTERLY_AUDIT_REPORT = "quarterly_audit_report"  # ESD: a supervision support organization about an employer
    START_NOTICE = "start_notice"  # Art. 17: an implementing organization, after its first certified plan starts
    ANNUAL_REPORT = "annual_report"  # Art. 21: an implementing organization, per fiscal year with a plan in force
    BUSINESS_REPORT = "business_report"  # Art. 43: a supervising organization, per fiscal year its permit was in force
    VISIT_RECORD = "visit_record"  # a supervising organization, per employer and month with a stage-i plan


@dataclass(frozen=True)
class AuditReport:
    quarter_ending: date
    filed_on: date


def last_quarter_reported(day: date, reports: Iterable[AuditReport]) -> date | None:
    """The end of the latest quarter reported on or before `day` (a report counts from the day it was filed)."""
    return max((r.quarter_ending for r in reports if r.filed_on <= day), default=None)


def audit_report_due(
    supported_from: date, last_quarter_ending: date | None, months: int = QUARTERLY_AUDIT_REPORT_MONTHS
) -> date:
    """The day the next report is due: `months` after the later of the last reported quarter's end and the
    support's start (the same day of the month, or that month's last day: 30 Nov + 3 months = 28/29 Feb)."""
    basis = supported_from if last_quarter_ending is None else max(supported_from, last_quarter_ending)
    return add_months(basis, months)


def support_ended(day: date, supported_until: date | None) -> bool:
    """Has the support ended by `day` (on `supported_until` or after)? Until then the organization owes its reports,
    the next one due on `audit_report_due` (a support that starts later is owed from its start)."""
    return supported_until is not None and supported_until <= day


def supported_on(day: date, *, supported_from: date, supported_until: date | None) -> bool:
    """Does the organization support the employer on `day`: from `supported_from`, until (not on) `supported_until`."""
    return supported_from <= day and not support_ended(day, supported_until)


def is_audit_report_overdue(
    day: date,
    *,
    supported_from: date,
    supported_until: date | None,
    last_quarter_ending: date | None,
    months: int = QUARTERLY_AUDIT_REPORT_MONTHS,
) -> bool:
    """Overdue on `day`: supported that day, and the next report (as the reports filed by `day` leave it) was due
    before `day` (on the due day itself it is not overdue yet). `last_quarter_ending` is
    `last_quarter_reported(day, ...)`."""
    return (
        supported_on(day, supported_from=supported_from, supported_until=supported_until)
        and audit_report_due(supported_from, last_quarter_ending, months) < day
    )


def duty_id(support_organization_id: UUID, implementing_organization_id: UUID) -> UUID:
    """The stable id of what one organization owes about one employer."""
    return uuid5(support_organization_id, f"quarterly-audit-report:{implementing_organization_id}")


@dataclass(frozen=True)
class QuarterlyAuditDuty:
    """What a supervision support organization owes about one employer: its support and the reports filed."""

    support_organization_id: UUID
    implementing_organization_id: UUID
    supported_from: date
    supported_until: date | None = None
    reports: tuple[AuditReport, ...] = ()

    @property
    def id(self) -> UUID:
        return duty_id(self.support_organization_id, self.implementing_organization_id)

    def due_on(self, day: date, months: int = QUARTERLY_AUDIT_REPORT_MONTHS) -> date:
        """When the next report is due, as the reports filed by `day` leave it."""
        return audit_report_due(self.supported_from, last_quarter_reported(day, self.reports), months)

    def overdue_on(self, day: date, months: int = QUARTERLY_AUDIT_REPORT_MONTHS) -> bool:
        return is_audit_report_overdue(
            day,
            supported_from=self.supported_from,
            supported_until=self.supported_until,
            last_quarter_ending=last_quarter_reported(day, self.reports),
            months=months,
        )


# The filings of the life of a plan (issue 20 item 4; DOMAIN §11 "§4 after certification"): what an employer and a
# supervising organization owe, each duty one item of the worklist with a stable id, the day it is owed from, its
# due day, and the day it was filed (the first filing received for it, counted from its filed_on).
#
#   start_notice     an implementing organization, once: START_NOTICE_DAYS after its first certified plan starts
#   annual_report    an implementing organization, per fiscal year (April-March) with a plan in force in it:
#                    31 May after the year
#   business_report  a supervising organization, per fiscal year its TITP permit was in force in: 31 May after it
#   visit_record     a supervising organization, per employer and month with a stage-i TITP plan of that employer
#                    under it in progress: the last day of the next month
#
# A plan is in force from its start to its end date, or to the day it ended (completed, discontinued, revoked,
# transferred) if earlier; a plan that ended before it started brings no duty. A supervising organization's duties
# end with its permit (revoked or expired): from that day one it has not filed leaves the worklist, as an ESD
# support organization's audit reports do. An employer's duties do not end: its annual report answers for a year
# in which it had trainees, whatever came after.
#
# A question about a day: only filings filed on or before `day` count, and only duties owed by then are shown.
# Overdue: not filed by `day`, due before `day` (on the due day itself it is not overdue yet), not ended.

FILING_DUTIES = UUID("4c2d9e61-0b7a-5f38-9e15-7a3c6b2d8f40")


class FilingStatus(StrEnum):
    DUE = "due"  # owed, not filed, not (yet) overdue
    OVERDUE = "overdue"
    FILED = "filed"


def start_notice_duty_id(implementing_organization_id: UUID) -> UUID:
    return uuid5(FILING_DUTIES, f"start-notice:{implementing_organization_id}")


def annual_report_duty_id(implementing_organization_id: UUID, fiscal_year: int) -> UUID:
    return uuid5(FILING_DUTIES, f"annual-report:{implementing_organization_id}:{fiscal_year}")


def business_report_duty_id(supervising_organization_id: UUID, fiscal_year: int) -> UUID:
    return uuid5(FILING_DUTIES, f"business-report:{supervising_organization_id}:{fiscal_year}")


def visit_record_duty_id(supervising_organization_id: UUID, implementing_organization_id: UUID, month: date) -> UUID:
    return uuid5(FILING_DUTIES, f"visit-record:{supervising_organization_id}:{implementing_organization_id}:{month}")


def filing_due_on(kind: FilingKind, basis: date, dues: FilingDues = FilingDues()) -> date:
    """When a duty is due, from its `basis`: the first plan's start (start_notice), the fiscal year's first day
    (annual_report, business_report) or the month's first day (visit_record)."""
    match kind:
        case FilingKind.START_NOTICE:
            return dues.start_notice_due(basis)
        case FilingKind.ANNUAL_REPORT:
            return dues.annual_report_due(fiscal_year(basis))
        case FilingKind.BUSINESS_REPORT:
            return dues.business_report_due(fiscal_year(basis))
        case FilingKind.VISIT_RECORD:
            return dues.visit_record_due(basis)
    raise ValueError(f"{kind} is due by the audit reports' rule (audit_report_due)")


def filing_status(
    day: date, *, due_on: date, filed_on: date | None, ended_on: date | None = None
) -> FilingStatus | None:
    """What the duty stands at on `day`: filed (on or before `day`), overdue (due before `day`), due; None when it
    ended unfiled by `day` (the supervising organization's permit ended): it is owed no more."""
    if filed_on is not None and filed_on <= day:
        return FilingStatus.FILED
    if ended_on is not None and ended_on <= day:
        return None
    return FilingStatus.OVERDUE if due_on < day else FilingStatus.DUE


def late_days(day: date, *, due_on: date, filed_on: date | None) -> int:
    """Days late: a filing filed by `day`, by its filed_on; one not filed yet, by `day` (0 until it is overdue)."""
    return filings.late_days(due_on, filed_on if filed_on is not None and filed_on <= day else day)


@dataclass(frozen=True)
class PlanInForce:
    """A certified plan as the worklist sees it (from accreditation's plan events' header)."""

    plan_id: UUID
    implementing_organization_id: UUID
    supervising_organization_id: UUID | None
    scheme: Scheme
    stage: str | None
    start_date: date
    end_date: date
    ended_on: date | None = None
    supervisions: tuple[tuple[date, UUID], ...] = ()  # (from, supervising organization): its start's, then moves

    @property
    def last_day(self) -> date:
        """Its last day in force: its end date, or the day it ended if earlier."""
        return self.end_date if self.ended_on is None else min(self.end_date, self.ended_on)

    @property
    def started(self) -> bool:
        return self.start_date <= self.last_day

    @property
    def supervised_stage_i(self) -> bool:
        return self.scheme is Scheme.TITP and self.stage == "i" and self.supervising_organization_id is not None

    def supervised_in(self, month: date) -> list[tuple[UUID, date]]:
        """The supervising organizations the plan was under while in progress in `month`, each with its first such
        day: the one it started under until a reassignment moved it (`supervisions`; without them, the header's)."""
        first, last = max(month, self.start_date), min(add_months(month, 1) - timedelta(days=1), self.last_day)
        periods = sorted(self.supervisions) or (
            [(self.start_date, self.supervising_organization_id)] if self.supervising_organization_id else []
        )
        found: dict[UUID, date] = {}
        for i, (since, organization) in enumerate(periods):
            until = periods[i + 1][0] - timedelta(days=1) if i + 1 < len(periods) else last
            begin, end = max(first, since), min(last, until)
            if begin <= end and organization not in found:
                found[organization] = begin
        return list(found.items())


@dataclass(frozen=True)
class Duty:
    """One filing owed: by whom, for which period; owed (shown) from `owed_from`; due `filing_due_on(kind, basis)`."""

    id: UUID
    kind: FilingKind
    implementing_organization_id: UUID | None
    supervising_organization_id: UUID | None
    fiscal_year: int | None
    month: date | None
    owed_from: date
    basis: date

    def due_on(self, dues: FilingDues = FilingDues()) -> date:
        return filing_due_on(self.kind, self.basis, dues)


def _months(first: date, last: date) -> Iterator[date]:
    month = month_start(first)
    while month <= last:
        yield month
        month = add_months(month, 1)


def employer_duties(implementing_organization_id: UUID, plans: Iterable[PlanInForce]) -> list[Duty]:
    """What an implementing organization and its supervising organizations owe from its certified plans: its start
    notice, its annual report per fiscal year with a plan in force, and a visit record per supervising
    organization and month with a stage-i plan in progress under it."""
    started = [p for p in plans if p.started]
    if not started:
        return []
    employer = implementing_organization_id
    first = min(p.start_date for p in started)
    duties = [Duty(start_notice_duty_id(employer), FilingKind.START_NOTICE, employer, None, None, None, first, first)]
    years: dict[int, date] = {}
    visits: dict[tuple[UUID, date], date] = {}
    for plan in started:
        for year in range(fiscal_year(plan.start_date), fiscal_year(plan.last_day) + 1):
            owed_from = max(fiscal_year_start(year), plan.start_date)
            years[year] = min(years.get(year, owed_from), owed_from)
        if plan.supervised_stage_i:
            for month in _months(plan.start_date, plan.last_day):
                for organization, owed_from in plan.supervised_in(month):
                    key = (organization, month)
                    visits[key] = min(visits.get(key, owed_from), owed_from)
    duties += [
        Duty(
            annual_report_duty_id(employer, year),
            FilingKind.ANNUAL_REPORT,
            employer,
            None,
            year,
            None,
            owed_from,
            fiscal_year_start(year),
        )
        for year, owed_from in sorted(years.items())
    ]
    duties += [
        Duty(
            visit_record_duty_id(organization, employer, month),
            FilingKind.VISIT_RECORD,
            employer,
            organization,
            fiscal_year(month),
            month,
            owed_from,
            month,
        )
        for (organization, month), owed_from in sorted(visits.items(), key=lambda kv: (kv[0][1], str(kv[0][0])))
    ]
    return duties


def business_report_duties(supervising_organization_id: UUID, granted_on: date, in_force_until: date) -> list[Duty]:
    """A supervising organization's business report per fiscal year its permit was in force in, from `granted_on`
    to `in_force_until` (the first day it is not: the day after its expiry, or its revocation)."""
    if in_force_until <= granted_on:
        return []
    last = in_force_until - timedelta(days=1)
    return [
        Duty(
            business_report_duty_id(supervising_organization_id, year),
            FilingKind.BUSINESS_REPORT,
            None,
            supervising_organization_id,
            year,
            None,
            max(fiscal_year_start(year), granted_on),
            fiscal_year_start(year),
        )
        for year in range(fiscal_year(granted_on), fiscal_year(last) + 1)
    ]


# An inspection from an overdue filing (POST /v1/filings/{id}/inspection): of the organization that owes it.

TARGET_OF_KIND = {
    FilingKind.START_NOTICE: TargetType.IMPLEMENTING_ORGANIZATION,
    FilingKind.ANNUAL_REPORT: TargetType.IMPLEMENTING_ORGANIZATION,
    FilingKind.BUSINESS_REPORT: TargetType.SUPERVISING_ORGANIZATION,
    FilingKind.VISIT_RECORD: TargetType.SUPERVISING_ORGANIZATION,
    FilingKind.QUARTERLY_AUDIT_REPORT: TargetType.SUPERVISION_SUPPORT_ORGANIZATION,
}


class FilingRefused(DomainRuleViolation):
    """A rule refuses the request about a filing (409): the problem names the rule and the field it is about."""

    def __init__(self, rule: str, field: str, detail: str) -> None:
        super().__init__(rule, detail, field)


@dataclass(frozen=True)
class OwedFiling:
    """A filing on the worklist as of a day: what an inspection from it needs to know."""

    id: UUID
    kind: FilingKind
    owed_by: UUID
    due_on: date
    status: FilingStatus
    inspection_id: UUID | None = None


def inspection_for_overdue_filing(
    filing: OwedFiling, *, scheduled_on: date, due_by: date, reason: str | None, scheme: Scheme = Scheme.TITP
) -> InspectionScheduled:
    """An extraordinary inspection of the organization owing the filing, naming it: only while the filing is
    overdue on `scheduled_on` (`filing.not_overdue`), and once (`filing.inspection_open`)."""
    if filing.inspection_id is not None:
        raise FilingRefused(
            "filing.inspection_open",
            "path.id",
            f"the inspection {filing.inspection_id} was already opened from this filing",
        )
    if filing.status is not FilingStatus.OVERDUE:
        raise FilingRefused(
            "filing.not_overdue",
            "body.scheduled_on",
            f"the {filing.kind} due on {filing.due_on} is {filing.status} on {scheduled_on}, not overdue",
        )
    detail = f"overdue {filing.kind} {filing.id}, due on {filing.due_on}"
    return InspectionScheduled(
        target_type=TARGET_OF_KIND[filing.kind],
        target_id=filing.owed_by,
        reason=InspectionReason.OVERDUE_FILING,
        scheduled_on=scheduled_on,
        due_by=due_by,
        detail=f"{detail}: {reason}" if reason else detail,
        scheme=scheme,
        filing_id=filing.id,
    )
