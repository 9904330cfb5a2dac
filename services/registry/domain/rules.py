"""The permit rules of the Technical Intern Training Act, with the numbers in one place (DOMAIN §2).

Which countries may send trainees (the MoC list) is in `sending_rules`.
"""

from datetime import date, timedelta

from contracts.registry import PermitType
from shared.dates import add_months, last_day

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
