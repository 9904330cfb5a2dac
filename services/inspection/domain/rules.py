"""The inspection service's numbers, in one place (*configurable*): the inspection cadence of DOMAIN §5 per
scheme (§9), and the period of the quarterly audit reports an ESD supervision support organization files.

Every number here is settable through `InspectionSettings` (app.py, `TITP_INSPECTION_*`).
"""

from dataclasses import dataclass
from datetime import date

from contracts.inspection import TargetType
from contracts.registry import Scheme
from shared.dates import add_months

# TITP (DOMAIN §5).
SUPERVISING_ORGANIZATION_YEARS = 1  # each supervising organization about once a year
IMPLEMENTING_ORGANIZATION_YEARS = 3  # each implementing organization about once every 3 years

# ESD (DOMAIN §9 (c)): the law gives no inspection cadence of its own yet, so by default an ESD target is
# inspected as often as its TITP counterpart (a supervision support organization as a supervising organization,
# an ESD employer as an implementing organization). None in `Cadence` means "the TITP number".
ESD_SUPPORT_ORGANIZATION_YEARS: int | None = None
ESD_IMPLEMENTING_ORGANIZATION_YEARS: int | None = None

# DOMAIN §9 (c): a supervision support organization audits each employer every 3 months. Kept simple: its next
# quarterly audit report is due this many months after the last reported quarter's end (or after the support
# began), and overdue from the day after (domain/filings.py).
QUARTERLY_AUDIT_REPORT_MONTHS = 3

# Issue 25: an extraordinary inspection of the employer opened by accreditation's events (an early return flagged, an
# employer above the rate of such returns, a trainee's disappearance or death) is due this many days after the day it
# is opened on. No law gives a number: this service's default.
TRAINEE_PROTECTION_DUE_DAYS = 30


@dataclass(frozen=True)
class Cadence:
    """How long after the event that starts or continues an organization's schedule its next inspection is due,
    per target and scheme; and how often an ESD employer's audit report is due."""

    supervising_organization_years: int = SUPERVISING_ORGANIZATION_YEARS
    implementing_organization_years: int = IMPLEMENTING_ORGANIZATION_YEARS
    esd_support_organization_years: int | None = ESD_SUPPORT_ORGANIZATION_YEARS
    esd_implementing_organization_years: int | None = ESD_IMPLEMENTING_ORGANIZATION_YEARS
    quarterly_audit_report_months: int = QUARTERLY_AUDIT_REPORT_MONTHS
    trainee_protection_due_days: int = TRAINEE_PROTECTION_DUE_DAYS

    def years(self, target_type: TargetType, scheme: Scheme = Scheme.TITP) -> int:
        """A supervision support organization is always ESD; an implementing organization follows `scheme`."""
        if target_type is TargetType.SUPERVISION_SUPPORT_ORGANIZATION or (
            target_type is TargetType.SUPERVISING_ORGANIZATION and scheme is Scheme.ESD
        ):
            return _or(self.esd_support_organization_years, self.supervising_organization_years)
        if target_type is TargetType.SUPERVISING_ORGANIZATION:
            return self.supervising_organization_years
        if scheme is Scheme.ESD:
            return _or(self.esd_implementing_organization_years, self.implementing_organization_years)
        return self.implementing_organization_years

    def next_due(self, target_type: TargetType, since: date, scheme: Scheme = Scheme.TITP) -> date:
        """The day by which the next inspection is due: the anniversary of `since` the cadence's years later."""
        return add_months(since, 12 * self.years(target_type, scheme))


def _or(esd: int | None, titp: int) -> int:
    return titp if esd is None else esd
