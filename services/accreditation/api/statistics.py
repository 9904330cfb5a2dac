"""Program statistics of training plans (DOMAIN §8): trainees in progress and plans certified per month,
by nationality, job group, stage, type, prefecture and scheme (titp, esd); revocations per fiscal year; transfers
(by reason, scheme, stage) and disappearances (by scheme, stage, nationality) per month (issue 20).

Answered from the counters `projections/statistics.py` keeps, never from the plans themselves.
"""

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query

from contracts.accreditation import TransferReason
from services.accreditation.api.auth import StatisticsReader
from services.accreditation.api.schemas import (
    Dimension,
    DisappearanceCounts,
    MonthlyCounts,
    Revocations,
    TransferCounts,
)
from services.accreditation.domain.rules import prefecture_code
from services.accreditation.projections import statistics as plan_statistics
from services.accreditation.projections.statistics import (
    DEATHS,
    DIMENSIONS,
    DISAPPEARANCE_DIMENSIONS,
    DISAPPEARANCES,
    TRANSFER_DIMENSIONS,
    TRANSFERS,
)
from shared.dates import fiscal_year_start, last_day, month_start
from shared.web.app import PoolDep
from shared.web.http import today
from shared.web.statistics import FiscalYear, Month, fiscal_year_span, fiscal_years, month_of, periods


class PlanFilters:
    """Count only the plans with these values; `by` splits each count by one dimension."""

    def __init__(
        self,
        by: Annotated[Dimension | None, Query(description="split the counts by this dimension")] = None,
        nationality: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
        job_group: Literal["construction", "food", "machinery_metal", "agriculture", "textiles", "other"] | None = None,
        stage: Annotated[
            Literal["i", "ii", "iii", "none"] | None, Query(description="none: ESD plans, which have no stage")
        ] = None,
        training_type: Literal["a", "b"] | None = None,
        prefecture: Annotated[
            str | None,
            Query(
                max_length=20,
                description="the JIS X 0401 code or the name (English or Japanese): the same prefecture either way",
            ),
        ] = None,
        scheme: Literal["titp", "esd"] | None = None,
    ) -> None:
        self.by = by
        self.where = {
            "nationality": nationality,
            "job_group": job_group,
            "stage": stage,
            "training_type": training_type,
            "prefecture": prefecture_code(prefecture),
            "scheme": scheme,
        }

    def index(self) -> int | None:
        return DIMENSIONS.index(self.by) if self.by else None

    def values(self) -> list[str | None]:
        return [self.where[name] for name in DIMENSIONS]


Filters = Annotated[PlanFilters, Depends()]
FromMonth = Annotated[Month | None, Query(alias="from")]
ToMonth = Annotated[Month | None, Query(alias="to")]

router = APIRouter(prefix="/v1/statistics", tags=["statistics"])


async def _monthly(
    pool: PoolDep, measure: str, first: str | None, last: str | None, filters: PlanFilters
) -> MonthlyCounts:
    this_month = month_start(today())
    months = periods(month_of(first) if first else this_month, month_of(last) if last else this_month, 1)
    found = await plan_statistics.monthly(pool, measure, months, by=filters.index(), where=filters.values())
    # `counts` only when split by a dimension (the route leaves unset members out).
    return MonthlyCounts.model_validate(
        {
            "by": filters.by,
            "where": {k: v for k, v in filters.where.items() if v is not None},
            "months": [
                {
                    "month": month.strftime("%Y-%m"),
                    "last_day": last_day(month, 1),
                    "total": sum(counts.values()),
                    **({"counts": counts} if filters.by else {}),
                }
                for month, counts in found.items()
            ],
        }
    )


@router.get("/trainees-in-progress", response_model=MonthlyCounts, response_model_exclude_unset=True)
async def get_trainees_in_progress(
    pool: PoolDep, _: StatisticsReader, filters: Filters, from_month: FromMonth = None, to_month: ToMonth = None
) -> MonthlyCounts:
    """Trainees whose plan is in progress on the last day of each month (by default this month's: as recorded
    now): certified, started, not past its end and not ended by then."""
    return await _monthly(pool, plan_statistics.TRAINEES_IN_PROGRESS, from_month, to_month, filters)


@router.get("/plans-certified", response_model=MonthlyCounts, response_model_exclude_unset=True)
async def get_plans_certified(
    pool: PoolDep, _: StatisticsReader, filters: Filters, from_month: FromMonth = None, to_month: ToMonth = None
) -> MonthlyCounts:
    """Plans certified in each month (by default this month), by the month of their certification."""
    return await _monthly(pool, plan_statistics.PLANS_CERTIFIED, from_month, to_month, filters)


@router.get("/revocations", response_model=Revocations)
async def get_revocations(
    pool: PoolDep,
    _: StatisticsReader,
    from_fiscal_year: FiscalYear | None = None,
    to_fiscal_year: FiscalYear | None = None,
) -> Revocations:
    """Plans whose certification was revoked (Art. 16) per fiscal year (April-March), and the implementing
    organizations with at least one; by default the last five fiscal years."""
    years = fiscal_years(from_fiscal_year, to_fiscal_year)
    plans, organizations = await plan_statistics.revocations(
        pool, fiscal_year_start(years[0]), fiscal_year_start(years[-1])
    )
    return Revocations.model_validate(
        {
            "fiscal_years": [
                {
                    **fiscal_year_span(year),
                    "plans": plans.get(fiscal_year_start(year), 0),
                    "implementing_organizations": organizations.get(fiscal_year_start(year), 0),
                }
                for year in years
            ]
        }
    )


StageFilter = Annotated[
    Literal["i", "ii", "iii", "none"] | None, Query(description="none: ESD plans, which have no stage")
]


async def _events_per_month(
    pool: PoolDep,
    measure: str,
    dimensions: tuple[str, ...],
    by: str | None,
    where: dict[str, str | None],
    first: str | None,
    last: str | None,
) -> dict[str, object]:
    this_month = month_start(today())
    months = periods(month_of(first) if first else this_month, month_of(last) if last else this_month, 1)
    found = await plan_statistics.monthly_events(
        pool,
        measure,
        months,
        by=dimensions.index(by) if by else None,
        where=[where[name] for name in dimensions],
    )
    return {
        "by": by,
        "where": {k: v for k, v in where.items() if v is not None},
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


@router.get("/transfers", response_model=TransferCounts, response_model_exclude_unset=True)
async def get_transfers(
    pool: PoolDep,
    _: StatisticsReader,
    by: Annotated[Literal["reason", "scheme", "stage"] | None, Query(description="split the counts")] = None,
    reason: TransferReason | None = None,
    scheme: Literal["titp", "esd"] | None = None,
    stage: StageFilter = None,
    from_month: FromMonth = None,
    to_month: ToMonth = None,
) -> TransferCounts:
    """Trainees (TITP) and workers (ESD) who moved to another employer on a new plan, by the month they moved (the
    new plan's start; by default this month), TITP and ESD alike (one mechanism): per reason (abuse, bankruptcy,
    serious_violation, permit_ended, own_wish), scheme and stage of the plan they left."""
    where = {"reason": reason.value if reason else None, "scheme": scheme, "stage": stage}
    answer = await _events_per_month(pool, TRANSFERS, TRANSFER_DIMENSIONS, by, where, from_month, to_month)
    return TransferCounts.model_validate(answer)


@router.get("/disappearances", response_model=DisappearanceCounts, response_model_exclude_unset=True)
async def get_disappearances(
    pool: PoolDep,
    _: StatisticsReader,
    by: Annotated[Literal["scheme", "stage", "nationality"] | None, Query(description="split the counts")] = None,
    scheme: Literal["titp", "esd"] | None = None,
    stage: StageFilter = None,
    nationality: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
    kind: Annotated[
        Literal["disappearance", "death"], Query(description="disappearances (the default), or deaths (issue 25)")
    ] = "disappearance",
    from_month: FromMonth = None,
    to_month: ToMonth = None,
) -> DisappearanceCounts:
    """Plans discontinued because the trainee disappeared (the difficulty notice's reason `disappearance`; with
    `kind=death`, because the trainee died), by the month of the discontinuation (by default this month): per scheme,
    stage and the trainee's nationality. Per employer and fiscal year: `/v1/statistics/disappearances/per-employer`."""
    where = {"scheme": scheme, "stage": stage, "nationality": nationality}
    measure = DISAPPEARANCES if kind == "disappearance" else DEATHS
    answer = await _events_per_month(pool, measure, DISAPPEARANCE_DIMENSIONS, by, where, from_month, to_month)
    return DisappearanceCounts.model_validate(answer)
