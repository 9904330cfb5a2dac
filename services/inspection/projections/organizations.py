"""Read model: the organizations this service knows from other services' events, whether their regular schedule
has started (first inspection scheduled) or ended (permit revoked or expired), and the scheme it is under."""

from datetime import date
from uuid import UUID

import asyncpg

from contracts.inspection import TargetType
from contracts.registry import Scheme

# An organization's scheme only ever turns from titp to esd (an employer's first certified ESD plan): ESD
# replaces TITP, and one schedule serves both.
_SCHEME = "CASE WHEN excluded.scheme = 'esd' THEN 'esd' ELSE organizations.scheme END"


async def know_organization(
    conn: asyncpg.Connection, id: UUID, target_type: TargetType, scheme: Scheme = Scheme.TITP
) -> None:
    await conn.execute(
        "INSERT INTO organizations (id, target_type, scheme) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        id,
        target_type.value,
        scheme.value,
    )


async def known_scheme(conn: asyncpg.Connection, id: UUID, target_type: TargetType) -> Scheme | None:
    """The scheme of an organization this service has heard of as a `target_type`; None if it has not."""
    scheme = await conn.fetchval(
        "SELECT scheme FROM organizations WHERE id = $1 AND target_type = $2", id, target_type.value
    )
    return Scheme(scheme) if scheme else None


async def target_type_of(conn: asyncpg.Connection, id: UUID) -> TargetType | None:
    target_type = await conn.fetchval("SELECT target_type FROM organizations WHERE id = $1", id)
    return TargetType(target_type) if target_type else None


async def start_schedule(
    conn: asyncpg.Connection, id: UUID, target_type: TargetType, on: date, scheme: Scheme = Scheme.TITP
) -> bool:
    """Record that the organization's regular schedule starts; true only for the first call."""
    return bool(
        await conn.fetchval(
            f"""
        INSERT INTO organizations (id, target_type, schedule_started_on, scheme) VALUES ($1, $2, $3, $4)
        ON CONFLICT (id) DO UPDATE SET schedule_started_on = excluded.schedule_started_on, scheme = {_SCHEME}
         WHERE organizations.schedule_started_on IS NULL AND organizations.schedule_ended_on IS NULL
        RETURNING true
        """,
            id,
            target_type.value,
            on,
            scheme.value,
        )
    )


async def note_scheme(conn: asyncpg.Connection, id: UUID, scheme: Scheme) -> None:
    """The organization (already scheduled) has something under `scheme` too: esd from now on if it is ESD."""
    if scheme is Scheme.ESD:
        await conn.execute("UPDATE organizations SET scheme = 'esd' WHERE id = $1 AND scheme <> 'esd'", id)


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


async def schedule_running(conn: asyncpg.Connection, inspection_id: UUID) -> tuple[bool, Scheme]:
    """Has the schedule of the inspection's organization not ended, and what scheme is the organization under?

    Shares the organization's row until commit, and is called before the inspection is
    touched: a permit's end (`end_schedule`, then the cancellations) and a completion take
    their locks in the same order, so they take turns instead of deadlocking, and whichever
    comes second sees what the first did.
    """
    row = await conn.fetchrow(
        """
        SELECT o.schedule_ended_on IS NULL AS running, o.scheme FROM inspections i
          JOIN organizations o ON o.id = i.target_id
         WHERE i.id = $1 FOR SHARE OF o
        """,
        inspection_id,
    )
    return (bool(row["running"]), Scheme(row["scheme"])) if row else (False, Scheme.TITP)
