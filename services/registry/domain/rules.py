"""The permit rules of the Technical Intern Training Act (DOMAIN §2) and of Employment for Skill Development
(DOMAIN §9), with the numbers in one place.

Which countries may send trainees (the MoC list) is in `sending_rules`.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from contracts.registry import PermitType, RevocationGround, Scheme
from shared.dates import add_months, last_day, last_day_after
from shared.filings import FilingDues

NEW_PERMIT_YEARS = {PermitType.GENERAL: 5, PermitType.SPECIFIED: 3}
RENEWED_PERMIT_YEARS = {  # (type, excellent record) -> years
    (PermitType.GENERAL, True): 7,
    (PermitType.GENERAL, False): 5,
    (PermitType.SPECIFIED, True): 5,
    (PermitType.SPECIFIED, False): 3,
}
RENEWAL_LEAD_MONTHS = 3  # a renewal must be applied for at least this long before expiry
# An inspection's referral for an improvement order that names no deadline gives this long.
REFERRED_IMPROVEMENT_ORDER_DAYS = 90


# Art. 26: after a revocation, neither the organization (by its corporate number) nor an organization with one of its
# officers gets a permit for this many years (configurable: TITP_REGISTRY_REVOCATION_BAR_YEARS).
REVOCATION_BAR_YEARS = 5
# Art. 37(3): a suspension rests on one of these items of Art. 37(1); item 2 (a disqualification ground) is not one.
SUSPENSION_GROUNDS = frozenset(
    {
        RevocationGround.STANDARDS_NOT_MET,
        RevocationGround.CONDITION_BREACHED,
        RevocationGround.LAW_BREACHED,
        RevocationGround.WRONGFUL_ACT,
    }
)


def revocation_bar_last_day(revoked_on: date, years: int = REVOCATION_BAR_YEARS) -> date:
    """The last day no permit is granted after a revocation on `revoked_on`: `years` counted from the next day
    (Civil Code Art. 140), ending the day before the anniversary (Art. 143(2)); from the day after, one may."""
    return last_day_after(revoked_on, 12 * years)


def new_permit_years(permit_type: PermitType) -> int:
    return NEW_PERMIT_YEARS[permit_type]


def renewed_permit_years(permit_type: PermitType, excellent_record: bool) -> int:
    return RENEWED_PERMIT_YEARS[(permit_type, excellent_record)]


def permit_expiry(start: date, years: int) -> date:
    """The last day of validity: the day before the start's anniversary `years` later."""
    return last_day(start, 12 * years)


def latest_renewal_application(expires_on: date) -> date:
    """The last day on which a renewal may be applied for."""
    return add_months(expires_on, -RENEWAL_LEAD_MONTHS)


def renewal_valid_from(expires_on: date) -> date:
    """A renewed permit runs on from the day after the current one ends, so no day is lost."""
    return expires_on + timedelta(days=1)


def referred_improvement_order_deadline(decided_on: date, deadline: date | None) -> date:
    """The deadline of an improvement order an inspection referred: its own, or the default period."""
    return deadline or decided_on + timedelta(days=REFERRED_IMPROVEMENT_ORDER_DAYS)


# Employment for Skill Development (DOMAIN §9): the supervision support organization (監理支援機関).


@dataclass(frozen=True)
class SupervisionSupportRules:
    """The numbers of a supervision support organization's permit and audits. Every one is configurable (*c* in
    DOMAIN §9: the ordinance is not final); the defaults are DOMAIN §9's. The app settles them from its settings
    (`TITP_REGISTRY_ESD_*`, services/registry/app.py) and hands them to the commands."""

    min_full_time_staff: int = 2  # at least this many full-time staff
    employers_per_staff_below: int = 8  # each full-time staff member supports fewer than this many employers
    workers_per_staff_below: int = 40  # ... and fewer than this many ESD workers
    min_member_employers: int = 2  # at least this many member employers
    validity_years: int = 3  # a permit's validity, new or renewed
    excellent_validity_years: int = 5  # ... for an organization rated excellent
    renewal_earliest_months: int = 6  # a renewal is applied for at most this long before the last day
    renewal_latest_months: int = 3  # ... and at least this long before it
    interview_share: Fraction = Fraction(1, 4)  # a quarterly audit interviews at least this share of the workers
    audit_report_due_months: int = 3  # a quarterly audit report is late when filed after this long past the quarter

    def validity(self, excellent: bool) -> int:
        """Years of validity of a permit granted or renewed."""
        return self.excellent_validity_years if excellent else self.validity_years

    def max_employers(self, full_time_staff: int) -> int:
        """The most employers `full_time_staff` may support: fewer than `employers_per_staff_below` each."""
        return full_time_staff * self.employers_per_staff_below - 1 if full_time_staff else 0

    def max_workers(self, full_time_staff: int) -> int:
        """The most ESD workers `full_time_staff` may support: fewer than `workers_per_staff_below` each."""
        return full_time_staff * self.workers_per_staff_below - 1 if full_time_staff else 0

    def min_interviews(self, workers: int) -> int:
        """Workers a quarterly audit interviews at least: the share, rounded up."""
        return -(-workers * self.interview_share.numerator // self.interview_share.denominator)

    def audit_report_due_by(self, quarter_ending: date) -> date:
        """The last day a quarter's audit report is on time: `audit_report_due_months` after the quarter's end,
        counted from the next day and ending the day before the anniversary (Civil Code Art. 143)."""
        return last_day(quarter_ending + timedelta(days=1), self.audit_report_due_months)

    def audit_report_late(self, quarter_ending: date, filed_on: date) -> bool:
        """The one definition of a late report; the read model stores its answer (projections/audit_reports.py)."""
        return filed_on > self.audit_report_due_by(quarter_ending)


SUPERVISION_SUPPORT = SupervisionSupportRules()


def is_quarter_end(day: date) -> bool:
    """The last day of a calendar (and fiscal) quarter: 31 Mar, 30 Jun, 30 Sep, 31 Dec."""
    return day.month % 3 == 0 and (day + timedelta(days=1)).day == 1


# An employer in more than one supervising organization (issue 20): under TITP an employer may belong to several
# supervising organizations at once (a join `alongside`); under ESD one supervision support organization at a time
# unless configured (TITP_REGISTRY_ESD_ALONGSIDE; the ordinance is not final).
ALONGSIDE_ALLOWED: dict[Scheme, bool] = {Scheme.TITP: True, Scheme.ESD: False}


def alongside_allowed(esd: bool = False) -> dict[Scheme, bool]:
    return {Scheme.TITP: True, Scheme.ESD: esd}


FILING_DUES = FilingDues()  # the business report's due day among them (shared.filings)
