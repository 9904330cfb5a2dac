"""Statistics of inspections per quarter (DOMAIN §5), by target type and scheme, from the counters of
projections/statistics.py."""

from typing import Annotated

from fastapi import APIRouter, Query

from contracts.inspection import ConsultationSubject, TargetType
from contracts.registry import Scheme
from services.inspection.api.auth import Reader
from services.inspection.api.schemas import (
    ConsultationDimension,
    ConsultationStatistics,
    InspectionStatistics,
    StatisticsDimension,
)
from services.inspection.projections import consultations, statistics
from shared.dates import fiscal_year, fiscal_year_start, last_day, month_start, quarter_start
from shared.web.app import PoolDep
from shared.web.http import today
from shared.web.statistics import Month, month_of, periods

router = APIRouter(prefix="/v1/statistics", tags=["statistics"])


@router.get("/inspections", response_model=InspectionStatistics, response_model_exclude_unset=True)
async def get_inspection_statistics(
    pool: PoolDep,
    _: Reader,
    target_type: TargetType | None = None,
    scheme: Scheme | None = None,
    by: Annotated[StatisticsDimension | None, Query(description="split the counts by this dimension")] = None,
    from_month: Annotated[Month | None, Query(alias="from")] = None,
    to_month: Annotated[Month | None, Query(alias="to")] = None,
) -> InspectionStatistics:
    """Per quarter (by default those of this fiscal year so far): inspections done in it, those with findings, and
    those overdue on its last day (on today, for the quarter under way); of the target type and scheme given, and
    split by `by` if given."""
    now = today()
    first = quarter_start(month_of(from_month)) if from_month else fiscal_year_start(fiscal_year(now))
    quarters = periods(first, quarter_start(month_of(to_month) if to_month else now), 3)
    async with pool.acquire() as conn:
        return await statistics.inspections_per_quarter(
            conn, quarters, today=now, target_type=target_type, scheme=scheme, by=by
        )


@router.get("/consultations", response_model=ConsultationStatistics, response_model_exclude_unset=True)
async def get_consultation_statistics(
    pool: PoolDep,
    _: Reader,
    subject: ConsultationSubject | None = None,
    language: Annotated[str | None, Query(pattern=r"^[a-z]{2}$", description="ISO 639-1 code")] = None,
    by: Annotated[ConsultationDimension | None, Query(description="split the counts by this dimension")] = None,
    from_month: Annotated[Month | None, Query(alias="from")] = None,
    to_month: Annotated[Month | None, Query(alias="to")] = None,
) -> ConsultationStatistics:
    """Trainees' consultations received per month (by default this month), of the subject and language given, and
    split by `by` (subject or language) if given. Counts only: no consultation is shown."""
    this_month = month_start(today())
    months = periods(
        month_of(from_month) if from_month else this_month, month_of(to_month) if to_month else this_month, 1
    )
    async with pool.acquire() as conn:
        found = await consultations.monthly(
            conn, months, by=by, subject=subject.value if subject else None, language=language
        )
    return ConsultationStatistics.model_validate(
        {
            "by": by,
            "where": {k: v for k, v in {"subject": subject, "language": language}.items() if v is not None},
            "months": [
                {
                    "month": month.strftime("%Y-%m"),
                    "last_day": last_day(month, 1),
                    "total": sum(counts.values()),
                    **({"counts": counts} if by else {}),
                }
                for month, counts in found.items()
            ],
        }
    )
