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


# The periods statistics count by. Japan's fiscal year runs from 1 April to 31 March; FY2025 starts on 1 Apr 2025.


def month_start(day: date) -> date:
    return day.replace(day=1)


def quarter_start(day: date) -> date:
    """The first day of the calendar quarter: fiscal quarters start on the same days (Apr, Jul, Oct, Jan)."""
    return date(day.year, (day.month - 1) // 3 * 3 + 1, 1)


def fiscal_year(day: date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def fiscal_year_start(year: int) -> date:
    return date(year, 4, 1)
