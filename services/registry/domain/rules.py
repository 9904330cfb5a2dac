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


def new_permit_years(permit_type: PermitType) -> int:
    return NEW_PERMIT_YEARS[permit_type]


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year + years, day=28)


def permit_expiry(start: date, years: int) -> date:
    """The last day of validity: the day before the start's anniversary `years` later."""
    return add_years(start, years) - timedelta(days=1)
