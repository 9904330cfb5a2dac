"""Calendar arithmetic the program's rules share: periods counted in months and years."""

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), or that month's last day when it has none (31 Jan + 1 = 28/29 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def last_day(start: date, months: int) -> date:
    """The last day of a period of `months` from `start`: 1 Apr 2026 + 12 -> 31 Mar 2027."""
    return add_months(start, months) - timedelta(days=1)
