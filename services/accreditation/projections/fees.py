"""The fees read model (issue 25 item 2): written with the plan's events in their transaction (from
`training_plans.project_training_plan`), read by the plan's document, `GET /v1/training-plans/{id}/fees` and
`GET /v1/statistics/fees` (by sending organization or country: count, total, mean, max; the worklist of sending
organizations flagged for fees above the ceiling).

A plan counts by its latest declaration, in the month it starts, unless its application was rejected (the trainee
never came on it). Its country is its sending organization's as the registry published it, or the trainee's
nationality when the plan names none (type a) or the registry's view does not know it yet.
"""

from collections.abc import Sequence
from datetime import date
from typing import Any, Literal
from uuid import UUID

import asyncpg

from contracts.accreditation import PlanStatus, TrainingPlanFeesDeclared
from services.accreditation.domain import training_plan as tp
from shared.dates import month_start

FeesBy = Literal["sending_organization", "country"]
NO_SENDING_ORGANIZATION = "none"  # the group of type (a) plans, which name no sending organization


def _declaration(declaration: TrainingPlanFeesDeclared) -> dict[str, Any]:
    return declaration.model_dump(
        mode="json",
        include={
            "declaration_id",
            "declared_on",
            "sending_organization_id",
            "items",
            "total_yen",
            "borrowed_yen",
            "employer_share_yen",
            "employer_share_expected_yen",
            "ceiling_yen",
            "above_ceiling",
        },
    )


def plan_fee_members(state: tp.AppliedPlan) -> dict[str, Any]:
    """The plan's fees as its document shows them: the declaration that stands, the flag, the earlier ones."""
    fees = state.fees
    latest = fees.latest
    if latest is None:
        return {"fees": None}
    return {
        "fees": {
            **_declaration(latest),
            "sending_organization_flagged_on": fees.flag.flagged_on.isoformat() if fees.flag else None,
            "earlier": [
                {
                    "declaration_id": str(d.declaration_id),
                    "declared_on": d.declared_on.isoformat(),
                    "total_yen": d.total_yen,
                    "above_ceiling": d.above_ceiling,
                }
                for d in fees.declarations[:-1]
            ],
        }
    }


async def project_plan_fees(conn: asyncpg.Connection, id: str, state: tp.AppliedPlan) -> None:
    """The plan's row of the fees statistics: its latest declaration, its status and its flag."""
    latest, plan = state.fees.latest, state.application
    if latest is None:
        return
    country = None
    if plan.sending_organization_id is not None:
        country = await conn.fetchval(
            "SELECT country FROM registry_sending_organizations WHERE id = $1", plan.sending_organization_id
        )
    flag = state.fees.flag
    await conn.execute(
        """
        INSERT INTO plan_fees (training_plan_id, scheme, status, sending_organization_id, country, start_month,
            declared_on, total_yen, borrowed_yen, employer_share_yen, ceiling_yen, above_ceiling, flagged_on)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        ON CONFLICT (training_plan_id) DO UPDATE SET scheme = excluded.scheme, status = excluded.status,
            sending_organization_id = excluded.sending_organization_id, country = excluded.country,
            start_month = excluded.start_month, declared_on = excluded.declared_on, total_yen = excluded.total_yen,
            borrowed_yen = excluded.borrowed_yen, employer_share_yen = excluded.employer_share_yen,
            ceiling_yen = excluded.ceiling_yen, above_ceiling = excluded.above_ceiling,
            flagged_on = excluded.flagged_on
        """,
        UUID(id),
        plan.scheme.value,
        state.status.value,
        plan.sending_organization_id,
        country or plan.trainee.nationality,
        month_start(plan.start_date),
        latest.declared_on,
        latest.total_yen,
        latest.borrowed_yen,
        latest.employer_share_yen,
        latest.ceiling_yen,
        latest.above_ceiling,
        flag.flagged_on if flag else None,
    )


async def fee_statistics(
    pool: asyncpg.Pool,
    *,
    by: FeesBy,
    first_month: date,
    last_month: date,
    scheme: str | None,
    flagged: bool | None,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Per sending organization (or country) of the plans starting from `first_month` to `last_month`: plans with a
    declaration, total, mean (rounded to the yen), max, those above the ceiling, the borrowed total and the first
    day one of them flagged the sending organization; and the same over all of them. `flagged`: only the groups
    with (true) or without (false) a flag."""
    group = (
        f"coalesce(sending_organization_id::text, '{NO_SENDING_ORGANIZATION}')"
        if by == "sending_organization"
        else "country"
    )
    where = "start_month BETWEEN $1 AND $2 AND status <> $3 AND ($4::text IS NULL OR scheme = $4)"
    measures = (
        "count(*) AS plans, coalesce(sum(total_yen), 0) AS total_yen,"
        " coalesce(round(avg(total_yen)), 0)::bigint AS mean_yen, coalesce(max(total_yen), 0) AS max_yen,"
        " count(*) FILTER (WHERE above_ceiling) AS plans_above_ceiling,"
        " coalesce(sum(borrowed_yen), 0) AS borrowed_yen, min(flagged_on) AS flagged_on"
    )
    arguments: Sequence[Any] = (first_month, last_month, PlanStatus.REJECTED.value, scheme)
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT {group} AS key, min(country) AS country, {measures} FROM plan_fees WHERE {where}"
            f" GROUP BY 1 HAVING ($5::boolean IS NULL OR (min(flagged_on) IS NOT NULL) = $5) ORDER BY 1",
            *arguments,
            flagged,
        )
        overall = await conn.fetchrow(f"SELECT {measures} FROM plan_fees WHERE {where}", *arguments)
    groups = [
        {
            "key": r["key"],
            **({"country": r["country"] if r["key"] != NO_SENDING_ORGANIZATION else None} if by != "country" else {}),
            **_measures(r),
        }
        for r in rows
    ]
    return groups, _measures(overall)


def _measures(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "plans": row["plans"],
        "total_yen": row["total_yen"],
        "mean_yen": row["mean_yen"],
        "max_yen": row["max_yen"],
        "plans_above_ceiling": row["plans_above_ceiling"],
        "borrowed_yen": row["borrowed_yen"],
        "flagged_on": row["flagged_on"],
    }
