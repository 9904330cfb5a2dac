"""The filings received from employers and supervising organizations (issue 20 item 4): one row per filing, written
in the command's transaction; read by GET /v1/implementing-organizations/{id}/filings and a plan's GET (its
difficulty notices), and by the filing commands (the plans and receipt numbers a filing is checked against)."""

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from contracts.accreditation import (
    AnnualImplementationReportFiled,
    DifficultyNoticeFiled,
    ImplementationStartNoticeFiled,
    PlanStatus,
    Stage,
    VisitRecordFiled,
)
from contracts.registry import Scheme, TrainingType
from services.accreditation.domain import filings as fl
from shared.dates import add_months, fiscal_year_start

EVER_CERTIFIED = sorted(status.value for status in fl.EVER_CERTIFIED)


def filing_document(id: str, state: fl.Filing, version: int) -> dict[str, Any]:
    filed = state.filed
    assert filed is not None, "a filing's stream starts with it"
    return {
        "id": id,
        "kind": fl.KINDS[type(filed)],
        **filed.model_dump(mode="json"),
        "late_days": filed.late_days,
        "version": version,
    }


async def project_filing(conn: asyncpg.Connection, id: str, state: fl.Filing, version: int) -> None:
    filed = state.filed
    if filed is None:
        return
    await conn.execute(
        """
        INSERT INTO employer_filings (id, kind, implementing_organization_id, supervising_organization_id,
            training_plan_id, fiscal_year, month, filed_on, due_on, receipt_number, document, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (id) DO UPDATE SET document = excluded.document, version = excluded.version
        """,
        UUID(id),
        fl.KINDS[type(filed)],
        getattr(filed, "implementing_organization_id"),  # noqa: B009 - every kind has it
        getattr(filed, "supervising_organization_id", None),
        getattr(filed, "training_plan_id", None),
        filed.fiscal_year if isinstance(filed, AnnualImplementationReportFiled) else None,
        filed.month if isinstance(filed, VisitRecordFiled) else None,
        filed.filed_on,
        filed.due_on,
        filed.receipt_number
        if isinstance(filed, ImplementationStartNoticeFiled | DifficultyNoticeFiled | AnnualImplementationReportFiled)
        else None,
        filing_document(id, state, version),
        version,
    )


# What the filing commands check against (in the command's transaction)


async def plan_facts(conn: asyncpg.Connection, plan_id: UUID) -> fl.PlanFacts | None:
    row = await conn.fetchrow(
        "SELECT id, implementing_organization_id, supervising_organization_id, training_type, scheme, stage,"
        " start_date, end_date, status, ended_on FROM training_plans WHERE id = $1",
        plan_id,
    )
    if row is None:
        return None
    return fl.PlanFacts(
        id=row["id"],
        implementing_organization_id=row["implementing_organization_id"],
        supervising_organization_id=row["supervising_organization_id"],
        training_type=TrainingType(row["training_type"]),
        scheme=Scheme(row["scheme"]),
        stage=Stage(row["stage"]) if row["stage"] else None,
        start_date=row["start_date"],
        end_date=row["end_date"],
        status=PlanStatus(row["status"]),
        ended_on=row["ended_on"],
    )


async def first_plan_start(conn: asyncpg.Connection, implementing_organization_id: UUID) -> date | None:
    """The start of the employer's first plan that was ever certified."""
    first: date | None = await conn.fetchval(
        "SELECT min(start_date) FROM training_plans WHERE implementing_organization_id = $1"
        " AND status = ANY($2::text[])",
        implementing_organization_id,
        EVER_CERTIFIED,
    )
    return first


async def issued_receipt(conn: asyncpg.Connection, implementing_organization_id: UUID) -> str | None:
    """The receipt number of the employer's implementation-start notice, once filed."""
    receipt: str | None = await conn.fetchval(
        "SELECT receipt_number FROM employer_filings WHERE implementing_organization_id = $1 AND kind = 'start_notice'",
        implementing_organization_id,
    )
    return receipt


async def receipts_issued(conn: asyncpg.Connection, year: int) -> int:
    """How many receipt numbers of `year` were issued (the next one's serial is one more)."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM employer_filings WHERE kind = 'start_notice' AND receipt_number LIKE $1",
        f"S-{year:04d}-%",
    )
    return count


async def supervisors_of(conn: asyncpg.Connection, implementing_organization_id: UUID) -> set[str]:
    """The supervising organizations named on the employer's plans."""
    rows = await conn.fetch(
        "SELECT DISTINCT supervising_organization_id FROM training_plans WHERE implementing_organization_id = $1"
        " AND supervising_organization_id IS NOT NULL",
        implementing_organization_id,
    )
    return {str(r["supervising_organization_id"]) for r in rows}


async def had_plans_in_year(conn: asyncpg.Connection, implementing_organization_id: UUID, fiscal_year: int) -> bool:
    """Did the employer have a certified plan in training on some day of the fiscal year?"""
    first, last = fiscal_year_start(fiscal_year), fiscal_year_start(fiscal_year + 1) - timedelta(days=1)
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM training_plans WHERE implementing_organization_id = $1"
            " AND status = ANY($2::text[]) AND start_date <= $4 AND coalesce(ended_on, end_date) >= $3)",
            implementing_organization_id,
            EVER_CERTIFIED,
            first,
            last,
        )
    )


async def stage_i_supervisors(
    conn: asyncpg.Connection, implementing_organization_id: UUID, month: date
) -> dict[str, int]:
    """Per supervising organization: the employer's TITP stage-i plans in training under it in the month."""
    first = month.replace(day=1)
    last = add_months(first, 1) - timedelta(days=1)
    rows = await conn.fetch(
        "SELECT supervising_organization_id, count(*) AS plans FROM training_plans"
        " WHERE implementing_organization_id = $1 AND scheme = 'titp' AND stage = 'i'"
        " AND supervising_organization_id IS NOT NULL AND status = ANY($2::text[])"
        " AND start_date <= $4 AND coalesce(ended_on, end_date) >= $3 GROUP BY supervising_organization_id",
        implementing_organization_id,
        EVER_CERTIFIED,
        first,
        last,
    )
    return {str(r["supervising_organization_id"]): r["plans"] for r in rows}


# What readers see

_RECORDED_BY = (
    "($2::timestamptz IS NULL OR EXISTS (SELECT 1 FROM events e WHERE e.stream_id = f.id::text AND e.version = 1"
    " AND e.time <= $2))"
)


async def filings_of(
    pool: asyncpg.Pool,
    implementing_organization_id: UUID,
    *,
    kind: str | None = None,
    until: datetime | None = None,
) -> list[dict[str, Any]]:
    """The employer's filings, oldest due first; with `until`, those recorded by then."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT document FROM employer_filings f WHERE implementing_organization_id = $1 AND {_RECORDED_BY}"
            " AND ($3::text IS NULL OR kind = $3) ORDER BY due_on, filed_on, id",
            implementing_organization_id,
            until,
            kind,
        )
    return [dict(r["document"]) for r in rows]


async def difficulty_notices(
    conn: asyncpg.Connection, training_plan_id: UUID, *, until: datetime | None = None
) -> list[dict[str, Any]]:
    """A plan's difficulty notices, oldest first; with `until`, those recorded by then."""
    rows = await conn.fetch(
        f"SELECT document FROM employer_filings f WHERE training_plan_id = $1 AND {_RECORDED_BY}"
        " AND kind = 'difficulty_notice' ORDER BY (document->>'occurred_on'), filed_on, id",
        training_plan_id,
        until,
    )
    return [
        {k: v for k, v in dict(r["document"]).items() if k not in ("kind", "training_plan_id", "version")} for r in rows
    ]
