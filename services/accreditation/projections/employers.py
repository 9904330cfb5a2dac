"""The implementing organizations' Art. 15 improvement orders (the employer's stream, §11): written in the
command's transaction; read by GET /v1/implementing-organizations/{id}/improvement-orders."""

from typing import Any
from uuid import UUID

import asyncpg

from services.accreditation.domain.employer import EmployerRecord


async def project_employer(conn: asyncpg.Connection, stream_id: str, state: EmployerRecord, version: int) -> None:
    if state.implementing_organization_id is None:
        return
    await conn.executemany(
        """
        INSERT INTO employer_improvement_orders (order_id, implementing_organization_id, issued_on, deadline, reason,
            referral_id, closed_on, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (order_id) DO UPDATE SET closed_on = excluded.closed_on, version = excluded.version
        """,
        [
            (
                o.order_id,
                state.implementing_organization_id,
                o.issued_on,
                o.deadline,
                o.reason,
                state.referral_of(o.order_id),
                o.closed_on,
                version,
            )
            for o in state.improvement_orders
        ],
    )


async def improvement_orders(pool: asyncpg.Pool, implementing_organization_id: UUID) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT order_id, implementing_organization_id, issued_on, deadline, reason, referral_id, closed_on"
            " FROM employer_improvement_orders WHERE implementing_organization_id = $1"
            " ORDER BY issued_on, order_id",
            implementing_organization_id,
        )
    return [dict(r) for r in rows]
