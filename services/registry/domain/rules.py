"""The permit rules of the Technical Intern Training Act, with the numbers in one place (DOMAIN §2)."""

from datetime import date, timedelta

from services.registry.domain.events import PermitType

NEW_PERMIT_YEARS = {PermitType.GENERAL: 5, PermitType.SPECIFIED: 3}
RENEWED_PERMIT_YEARS = {  # (type, excellent record) -> years
    (PermitType.GENERAL, True): 7,
    (PermitType.GENERAL, False): 5,
    (PermitType.SPECIFIED, True): 5,
    (PermitType.SPECIFIED, False): 3,
}
RENEWAL_LEAD_MONTHS = 3  # a renewal must be applied for at least this long before expiry


def new_permit_years(permit_type: PermitType) -> int:
    return NEW_PERMIT_YEARS[permit_type]


def renewed_permit_years(permit_type: PermitType, excellent_record: bool) -> int:
    return RENEWED_PERMIT_YEARS[(permit_type, excellent_record)]


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), or the month's last day when it has no such day."""
    month_index = day.year * 12 + day.month - 1 + months
    year, month = divmod(month_index, 12)
    for last in (day.day, 30, 29, 28):
        try:
            return date(year, month + 1, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def permit_expiry(start: date, years: int) -> date:
    """The last day of validity: the day before the start's anniversary `years` later."""
    return add_years(start, years) - timedelta(days=1)


def latest_renewal_application(expires_on: date) -> date:
    """The last day on which a renewal may be applied for."""
    return add_months(expires_on, -RENEWAL_LEAD_MONTHS)


def renewal_valid_from(expires_on: date) -> date:
    """A renewed permit runs on from the day after the current one ends, so no day is lost."""
    return expires_on + timedelta(days=1)
