"""Periods counted in months and years end as Civil Code Art. 143(2) says (DOMAIN §11)."""

from datetime import date, timedelta

import pytest

from shared.dates import add_months, last_day, last_day_after


@pytest.mark.parametrize(
    "start, months, last",
    [
        # The day before the corresponding day of the last month.
        (date(2026, 4, 1), 12, date(2027, 3, 31)),
        (date(2026, 1, 1), 1, date(2026, 1, 31)),
        (date(2026, 6, 20), 3, date(2026, 9, 19)),
        (date(2025, 2, 28), 12, date(2026, 2, 27)),  # 28 Feb exists every year
        (date(2024, 1, 29), 1, date(2024, 2, 28)),  # 29 Feb 2024 exists: the day before it
        (date(2024, 1, 30), 1, date(2024, 2, 29)),  # no 30 Feb: February's last day
        (date(2024, 2, 29), 48, date(2028, 2, 28)),  # 29 Feb 2028 exists: the day before it
        (date(2026, 12, 15), 2, date(2027, 2, 14)),  # across a year
        (date(2026, 3, 1), 24, date(2028, 2, 29)),  # the day before 1 Mar in a leap year
        # No corresponding day in the last month: that month's last day.
        (date(2024, 2, 29), 60, date(2029, 2, 28)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2025, 11, 30), 3, date(2026, 2, 28)),
        (date(2023, 11, 30), 3, date(2024, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 8, 31), 3, date(2026, 11, 30)),
        (date(2026, 5, 31), 6, date(2026, 11, 30)),
        (date(2026, 10, 31), 12, date(2027, 10, 30)),  # 31 Oct exists: the day before it
    ],
)
def test_a_period_ends_on_the_day_before_the_corresponding_day_or_on_the_months_last_day(start, months, last):
    assert last_day(start, months) == last


STARTS = [date(2024, 1, 1) + timedelta(days=n) for n in range(0, 366 * 2, 7)]
STARTS += [date(2024, 1, 31), date(2024, 2, 29), date(2025, 5, 31), date(2025, 12, 31)]


@pytest.mark.parametrize("start", STARTS)
@pytest.mark.parametrize("months", [1, 3, 6, 12, 24, 36, 60])
def test_a_period_ends_in_its_last_month_except_from_a_first_and_never_before_add_months_less_a_day(start, months):
    last = last_day(start, months)
    year, month = divmod(start.year * 12 + start.month - 1 + months - (start.day == 1), 12)
    assert (last.year, last.month) == (year, month + 1)
    assert add_months(start, months) - timedelta(days=1) <= last < add_months(start, months) or (
        start.day > 28 and last == add_months(start, months)
    )


def test_consecutive_monthly_periods_from_a_first_of_the_month_cover_whole_months():
    start = date(2026, 1, 1)
    for months in range(1, 25):
        end = last_day(start, months)
        assert (end + timedelta(days=1)).day == 1


@pytest.mark.parametrize(
    ("event_day", "months", "last"),
    [
        (date(2021, 3, 1), 60, date(2026, 3, 1)),  # counted from 2 Mar 2021: through the anniversary
        (date(2024, 2, 28), 60, date(2029, 2, 28)),  # from 29 Feb 2024: 29 Feb 2029 missing -> 28 Feb
        (date(2024, 2, 29), 60, date(2029, 2, 28)),  # from 1 Mar 2024: the day before 1 Mar 2029
        (date(2026, 3, 31), 12, date(2027, 3, 31)),  # from 1 Apr 2026
    ],
)
def test_a_period_after_an_event_does_not_count_its_day(event_day, months, last):
    assert last_day_after(event_day, months) == last
