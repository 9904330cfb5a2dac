"""Calendar arithmetic the program's rules share: periods counted in months and years."""

import calendar
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), or that month's last day when it has none (31 Jan + 1 = 28/29 Feb)."""
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def last_day(start: date, months: int) -> date:
    """The last day of a period of `months` that starts on (and counts) `start`: Civil Code Art. 143(2).

    The period ends on the day before the day corresponding to `start` in its last month (1 Apr 2026 + 12 ->
    31 Mar 2027); when that month has no corresponding day, on that month's last day (29 Feb 2024 + 60 ->
    28 Feb 2029; 31 Jan 2026 + 1 -> 28 Feb 2026; 30 Nov 2025 + 3 -> 28 Feb 2026).
    """
    year, month = divmod(start.month - 1 + months, 12)
    year, month = start.year + year, month + 1
    days_in_month = calendar.monthrange(year, month)[1]
    if start.day > days_in_month:
        return date(year, month, days_in_month)
    return date(year, month, start.day) - timedelta(days=1)


def last_day_after(event_day: date, months: int) -> date:
    """The last day of a period of `months` that follows an event (a revocation: "for 5 years from the day it was
    revoked"): counted from the next day, the event's own day not counted (Civil Code Art. 140), ending as
    Art. 143(2) says. Revoked 1 Mar 2021, 5 years: through 1 Mar 2026."""
    return last_day(event_day + timedelta(days=1), months)


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


def fiscal_year_end(year: int) -> date:
    return date(year + 1, 3, 31)
