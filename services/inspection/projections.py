"""Read models: inspections (written in the same transaction as their events) and the
organizations this service knows from other services' events."""

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from contracts.inspection import TargetType
from services.inspection.domain.inspection import Inspection
from services.inspection.statistics import project_inspection_statistics

_state = TypeAdapter(Inspection)


def load_state(raw: dict[str, Any]) -> Inspection:
    return _state.validate_python(raw)


def inspection_document(id: str, state: Inspection, version: int, day: date) -> dict[str, Any]:
    """What clients see; `overdue` and `report_overdue` are as of `day`."""
    return {"id": id, **_state.dump_python(state, mode="json"),
            "kind": "extraordinary" if state.extraordinary else "regular",
            "awaiting_report": state.awaiting_report, "overdue": state.overdue_on(day),
            "report_overdue": state.report_overdue_on(day), "status_on": day.isoformat(), "version": version}


async def project_inspection(conn: asyncpg.Connection, id: str, state: Inspection, version: int) -> None:
    await conn.execute(
        """
        INSERT INTO inspections (id, target_type, target_id, extraordinary, status, scheduled_on, due_by, closed_on,
                                 improvement_report_due, improvement_report_received_on, state, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, closed_on = excluded.closed_on,
            improvement_report_due = excluded.improvement_report_due,
            improvement_report_received_on = excluded.improvement_report_received_on, state = excluded.state,
            version = excluded.version
        """,
        UUID(id), state.target_type.value, state.target_id, state.extraordinary, state.status.value,
        state.scheduled_on, state.due_by, state.closed_on, state.improvement_report_due,
        state.improvement_report_received_on, _state.dump_python(state, mode="json"), version,
    )
    await project_inspection_statistics(conn, id, state)


async def open_inspections_of(conn: asyncpg.Connection, target_id: UUID) -> list[str]:
    rows = await conn.fetch("SELECT id FROM inspections WHERE target_id = $1 AND status = 'scheduled' ORDER BY id",
                            target_id)
    return [str(r["id"]) for r in rows]


# Organizations


async def know_organization(conn: asyncpg.Connection, id: UUID, target_type: TargetType) -> None:
    await conn.execute("INSERT INTO organizations (id, target_type) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                       id, target_type.value)


async def organization_known(conn: asyncpg.Connection, id: UUID, target_type: TargetType) -> bool:
    return await conn.fetchval("SELECT EXISTS (SELECT 1 FROM organizations WHERE id = $1 AND target_type = $2)",
                               id, target_type.value)


async def start_schedule(conn: asyncpg.Connection, id: UUID, target_type: TargetType, on: date) -> bool:
    """Record that the organization's regular schedule starts; true only for the first call."""
    return bool(await conn.fetchval(
        """
        INSERT INTO organizations (id, target_type, schedule_started_on) VALUES ($1, $2, $3)
        ON CONFLICT (id) DO UPDATE SET schedule_started_on = excluded.schedule_started_on
         WHERE organizations.schedule_started_on IS NULL AND organizations.schedule_ended_on IS NULL
        RETURNING true
        """,
        id, target_type.value, on))


async def end_schedule(conn: asyncpg.Connection, id: UUID, target_type: TargetType, on: date) -> None:
    """Nothing more is scheduled for the organization. Holds its row until commit (see `schedule_running`)."""
    await conn.execute(
        """
        INSERT INTO organizations (id, target_type, schedule_ended_on) VALUES ($1, $2, $3)
        ON CONFLICT (id) DO UPDATE SET schedule_ended_on = coalesce(organizations.schedule_ended_on, $3)
        """,
        id, target_type.value, on)


async def schedule_running(conn: asyncpg.Connection, inspection_id: UUID) -> bool:
    """Has the schedule of the inspection's organization not ended?

    Shares the organization's row until commit, and is called before the inspection is
    touched: a permit's end (`end_schedule`, then the cancellations) and a completion take
    their locks in the same order, so they take turns instead of deadlocking, and whichever
    comes second sees what the first did.
    """
    return bool(await conn.fetchval(
        """
        SELECT o.schedule_ended_on IS NULL FROM inspections i JOIN organizations o ON o.id = i.target_id
         WHERE i.id = $1 FOR SHARE OF o
        """,
        inspection_id))
