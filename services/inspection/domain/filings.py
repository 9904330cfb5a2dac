"""Filings the inspection worklist watches (DOMAIN §9, §10 `GET /v1/filings`): the quarterly audit reports a
supervision support organization owes about each employer it supports under ESD.

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

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from uuid import UUID, uuid5

from services.inspection.domain.rules import QUARTERLY_AUDIT_REPORT_MONTHS
from shared.dates import add_months


class FilingKind(StrEnum):
    QUARTERLY_AUDIT_REPORT = "quarterly_audit_report"  # ESD: a supervision support organization about an employer


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
