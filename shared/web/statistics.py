"""The query parameters of the statistics routes: months, fiscal years and the periods between them."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Query

from shared.dates import add_months, fiscal_year, fiscal_year_start
from shared.web.http import today
from shared.web.problems import InvalidParameter

# Years 1900-2199: the range of every date a client may send (shared.web.http.EARLIEST_DATE..LATEST_DATE).
Month = Annotated[
    str, Query(pattern=r"^(19|20|21)\d{2}-(0[1-9]|1[0-2])$", description="a month, YYYY-MM, from 1900-01 to 2199-12")
]
FiscalYear = Annotated[
    int,
    Query(
        ge=1989, le=2200, description="a fiscal year, named by the year it starts (FY2025: 1 Apr 2025 - 31 Mar 2026)"
    ),
]
MOST_PERIODS = 600


def month_of(value: str) -> date:
    return date.fromisoformat(f"{value}-01")


def periods(first: date, last: date, months: int) -> list[date]:
    """The first days of the periods of `months` months from the one starting on `first` to the one on `last`."""
    if last < first:
        raise InvalidParameter("query.to", "must not be before from")
    found = [first]
    while (following := add_months(found[-1], months)) <= last:
        found.append(following)
        if len(found) > MOST_PERIODS:
            raise InvalidParameter("query.to", f"at most {MOST_PERIODS} periods at once")
    return found


def fiscal_years(first: int | None, last: int | None) -> range:
    """The fiscal years from `first` to `last`; by default the five up to this one."""
    last = last or fiscal_year(today())
    first = first or last - 4
    if last < first:
        raise InvalidParameter("query.to_fiscal_year", "must not be before from_fiscal_year")
    if last - first >= MOST_PERIODS:
        raise InvalidParameter("query.to_fiscal_year", f"at most {MOST_PERIODS} fiscal years at once")
    return range(first, last + 1)


def fiscal_year_span(year: int) -> dict[str, Any]:
    return {"fiscal_year": year, "from": fiscal_year_start(year).isoformat(), "to": f"{year + 1}-03-31"}
