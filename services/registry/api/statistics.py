"""Program statistics the registry answers (DOMAIN §2, §8, §9): permits by type and status (TITP), supervision
support permits by status (ESD), and the administrative actions on permits of both schemes per fiscal year,
revocations among them.

They read small read models kept by events: `supervising_organizations` (one row per organization, about
3,750 nationally), `supervision_support_organizations` and `disclosed_actions` (tens of rows a year).
"""

from typing import Annotated

from fastapi import APIRouter, Query

from contracts.registry import Scheme
from services.registry.api.auth import StatisticsReader
from services.registry.api.schemas import (
    AdministrativeActionStatistics,
    FiscalYearActions,
    PermitStatistics,
    SupervisionSupportPermitStatistics,
)
from services.registry.projections.disclosure import action_counts
from services.registry.projections.supervising_organizations import permit_counts
from services.registry.projections.supervision_support_organizations import support_permit_counts
from shared.dates import fiscal_year_start
from shared.web.app import PoolDep
from shared.web.statistics import FiscalYear, fiscal_year_span, fiscal_years

ACTIONS = {
    "revocation": "revocations",
    "suspension": "suspensions",
    "downgrade": "downgrades",
    "improvement_order": "improvement_orders",
}

router = APIRouter(prefix="/v1/statistics", tags=["statistics"])


@router.get("/permits", response_model=PermitStatistics)
async def get_permit_statistics(
    pool: PoolDep, _: StatisticsReader, prefecture: Annotated[str | None, Query(max_length=20)] = None
) -> PermitStatistics:
    """Supervising organizations' permits by type and status as recorded (applied, active, denied, revoked,
    expired); an application not decided yet, or denied, counts under the type it asked for."""
    return PermitStatistics.model_validate(await permit_counts(pool, prefecture))


@router.get("/supervision-support-permits", response_model=SupervisionSupportPermitStatistics)
async def get_supervision_support_permit_statistics(
    pool: PoolDep, _: StatisticsReader, prefecture: Annotated[str | None, Query(max_length=20)] = None
) -> SupervisionSupportPermitStatistics:
    """Supervision support organizations' ESD permits by status as recorded (applied, active, denied, revoked,
    expired), and how many active ones are rated excellent."""
    return SupervisionSupportPermitStatistics.model_validate(await support_permit_counts(pool, prefecture))


@router.get("/administrative-actions", response_model=AdministrativeActionStatistics)
async def get_administrative_action_statistics(
    pool: PoolDep,
    _: StatisticsReader,
    from_fiscal_year: FiscalYear | None = None,
    to_fiscal_year: FiscalYear | None = None,
    scheme: Annotated[Scheme | None, Query(description="titp or esd; both when not given")] = None,
) -> AdministrativeActionStatistics:
    """Revocations, suspensions, downgrades and improvement orders of permits (TITP and ESD, or the `scheme`
    named) per fiscal year (April-March), by the day each took effect; by default the last five fiscal years."""
    years = fiscal_years(from_fiscal_year, to_fiscal_year)
    found = await action_counts(pool, fiscal_year_start(years[0]), fiscal_year_start(years[-1] + 1), scheme)
    return AdministrativeActionStatistics(
        fiscal_years=[
            FiscalYearActions.model_validate(
                {**fiscal_year_span(year), **{name: found.get((year, action), 0) for action, name in ACTIONS.items()}}
            )
            for year in years
        ]
    )
