"""Read model: the organizations this service knows from other services' events, and whether their
regular schedule has started (first inspection scheduled) or ended (permit revoked or expired)."""

from datetime import date
from uuid import UUID

import asyncpg

from contracts.inspection import TargetType


async def know_organization(conn: asyncpg.Connection, id: UUID, target_type: TargetType) -> None:
    await conn.execute(
        "INSERT INTO organizations (id, target_type) VALUES ($1, $2) ON CONFLICT DO NOTHING", id, target_type.value
    )


async def organization_known(conn: asyncpg.Connection, id: UUID, target_type: TargetType) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM organizations WHERE id = $1 AND target_type = $2)", id, target_type.value
        )
    )


async def start_schedule(conn: asyncpg.Connection, id: UUID, target_type: TargetType, on: date) -> bool:
    """Record that the organization's regular schedule starts; true only for the first call."""
    return bool(
        await conn.fetchval(
            """
        INSERT INTO organizations (id, target_type, schedule_started_on) VALUES ($1, $2, $3)
        ON CONFLICT (id) DO UPDATE SET schedule_started_on = excluded.schedule_started_on
         WHERE organizations.schedule_started_on IS NULL AND organizations.schedule_ended_on IS NULL
        RETURNING true
        """,
            id,
            target_type.value,
            on,
        )
    )


async def end_schedule(conn: asyncpg.Connection, id: UUID, target_type: TargetType, on: date) -> None:
    """Nothing more is scheduled for the organization. Holds its row until commit (see `schedule_running`)."""
    await conn.execute(
        """
        INSERT INTO organizations (id, target_type, schedule_ended_on) VALUES ($1, $2, $3)
        ON CONFLICT (id) DO UPDATE SET schedule_ended_on = coalesce(organizations.schedule_ended_on, $3)
        """,
        id,
        target_type.value,
        on,
    )


async def schedule_running(conn: asyncpg.Connection, inspection_id: UUID) -> bool:
    """Has the schedule of the inspection's organization not ended?

    Shares the organization's row until commit, and is called before the inspection is
    touched: a permit's end (`end_schedule`, then the cancellations) and a completion take
    their locks in the same order, so they take turns instead of deadlocking, and whichever
    comes second sees what the first did.
    """
    return bool(
        await conn.fetchval(
            """
        SELECT o.schedule_ended_on IS NULL FROM inspections i JOIN organizations o ON o.id = i.target_id
         WHERE i.id = $1 FOR SHARE OF o
        """,
            inspection_id,
        )
    )
