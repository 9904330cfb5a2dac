"""Accreditation's flags of sending organizations for fees above its ceiling (issue 25 item 2), as the registry keeps
them beside its sending organizations: written by the subscription from `SendingOrganizationFeesFlagged`, read by
the sending organizations' list (`flagged`) and `GET /v1/sending-organizations/{id}/fee-flags`.

The event is read by name and field, as the registry reads accreditation's Art. 15/16 events: a field added to it
later changes nothing here."""

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

FEES_FLAGGED = "SendingOrganizationFeesFlagged"


async def record_fee_flag(conn: asyncpg.Connection, plan_id: UUID, data: dict[str, Any]) -> None:
    """One flag per sending organization and plan; the same event again (a redelivery, a replay) changes nothing."""
    await conn.execute(
        "INSERT INTO sending_organization_fee_flags (sending_organization_id, training_plan_id, flagged_on, total_yen,"
        " ceiling_yen) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        UUID(str(data["sending_organization_id"])),
        plan_id,
        date.fromisoformat(data["flagged_on"]),
        int(data["total_yen"]),
        int(data["ceiling_yen"]),
    )


async def fee_flags(db: asyncpg.Pool, sending_organization_id: UUID) -> list[dict[str, Any]]:
    """The organization's flags, oldest first."""
    rows = await db.fetch(
        "SELECT training_plan_id, flagged_on, total_yen, ceiling_yen FROM sending_organization_fee_flags"
        " WHERE sending_organization_id = $1 ORDER BY flagged_on, training_plan_id",
        sending_organization_id,
    )
    return [dict(r) for r in rows]


FLAGGED = "EXISTS (SELECT 1 FROM sending_organization_fee_flags f WHERE f.sending_organization_id = {table}.id)"
