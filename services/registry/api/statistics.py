"""Program statistics the registry answers (DOMAIN §2, §8): permits by type and status, and the
administrative actions on permits per fiscal year, revocations among them.

Both read small read models kept by events: `supervising_organizations` (one row per
organization, about 3,750 nationally) and `disclosed_actions` (tens of rows a year).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from shared.web.auth import Principal, Role, require_roles
from shared.dates import fiscal_year_start
from shared.web.app import PoolDep
from shared.web.statistics import fiscal_year_span, fiscal_years, FiscalYear

Reader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.AUDITOR, Role.ADMIN))]
ACTIONS = {"revocation": "revocations", "suspension": "suspensions", "downgrade": "downgrades",
           "improvement_order": "improvement_orders"}

router = APIRouter(prefix="/v1/statistics", tags=["statistics"])


@router.get("/permits")
async def permits(pool: PoolDep, _: Reader, prefecture: Annotated[str | None, Query(max_length=20)] = None) -> dict:
    """Supervising organizations' permits by type and status as recorded (applied, active, denied, revoked,
    expired); an application not decided yet, or denied, counts under the type it asked for."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT coalesce(permit_type, state->'application'->>'requested_permit_type') AS permit_type,
                   lifecycle AS status, count(*) AS n
              FROM supervising_organizations WHERE $1::text IS NULL OR prefecture = $1
             GROUP BY 1, 2 ORDER BY 1, 2
            """, prefecture)
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["permit_type"], {})[row["status"]] = row["n"]
    return {"prefecture": prefecture, "total": sum(r["n"] for r in rows), "permits": counts}


@router.get("/administrative-actions")
async def administrative_actions(pool: PoolDep, _: Reader, from_fiscal_year: FiscalYear | None = None,
                                 to_fiscal_year: FiscalYear | None = None) -> dict:
    """Revocations, suspensions, downgrades and improvement orders of permits per fiscal year (April-March),
    by the day each took effect; by default the last five fiscal years."""
    years = fiscal_years(from_fiscal_year, to_fiscal_year)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT extract(year FROM action_date - interval '3 months')::int AS fiscal_year, action, count(*) AS n
              FROM disclosed_actions WHERE action_date >= $1 AND action_date < $2 GROUP BY 1, 2
            """, fiscal_year_start(years[0]), fiscal_year_start(years[-1] + 1))
    found = {(r["fiscal_year"], r["action"]): r["n"] for r in rows}
    return {"fiscal_years": [
        {**fiscal_year_span(year), **{name: found.get((year, action), 0) for action, name in ACTIONS.items()}}
        for year in years]}
