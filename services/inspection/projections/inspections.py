"""Read model: inspections, one row per inspection, written in the same transaction as its events;
and the queries behind `GET /v1/inspections` (the worklist) and `GET /v1/inspections/{id}`."""

from datetime import date, datetime
from functools import reduce
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from contracts.inspection import InspectionReason, TargetType
from services.inspection.api.schemas import InspectionDocument
from services.inspection.domain.inspection import Inspection, Status, evolve
from services.inspection.projections.statistics import project_inspection_statistics
from shared.store import EventStore

_state = TypeAdapter(Inspection)


def load_state(raw: dict[str, Any]) -> Inspection:
    return _state.validate_python(raw)


def inspection_document(id: str, state: Inspection, version: int, day: date) -> InspectionDocument:
    """What clients see; `overdue` and `report_overdue` are as of `day`."""
    return InspectionDocument.model_validate(
        {
            "id": id,
            **_state.dump_python(state, mode="json"),
            "kind": "extraordinary" if state.extraordinary else "regular",
            "awaiting_report": state.awaiting_report,
            "overdue": state.overdue_on(day),
            "report_overdue": state.report_overdue_on(day),
            "status_on": day,
            "version": version,
        }
    )


async def project_inspection(conn: asyncpg.Connection, id: str, state: Inspection, version: int) -> None:
    assert state.status is not None, "only an inspection on the schedule is projected"
    await conn.execute(
        """
        INSERT INTO inspections (id, target_type, target_id, extraordinary, status, scheduled_on, due_by, closed_on,
                                 improvement_report_due, improvement_report_received_on, report_wait_closed_on,
                                 state, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, closed_on = excluded.closed_on,
            improvement_report_due = excluded.improvement_report_due,
            improvement_report_received_on = excluded.improvement_report_received_on,
            report_wait_closed_on = excluded.report_wait_closed_on, state = excluded.state,
            version = excluded.version
        """,
        UUID(id),
        state.target_type.value,
        state.target_id,
        state.extraordinary,
        state.status.value,
        state.scheduled_on,
        state.due_by,
        state.closed_on,
        state.improvement_report_due,
        state.improvement_report_received_on,
        state.report_wait_closed_on,
        _state.dump_python(state, mode="json"),
        version,
    )
    await project_inspection_statistics(conn, id, state)


async def open_inspections_of(conn: asyncpg.Connection, target_id: UUID) -> list[str]:
    """The organization's inspections on a worklist: scheduled, or awaiting an improvement report."""
    rows = await conn.fetch(
        f"SELECT id FROM inspections WHERE target_id = $1 AND (status = 'scheduled' OR {AWAITING_REPORT_SQL})"
        " ORDER BY id",
        target_id,
    )
    return [str(r["id"]) for r in rows]


async def last_closed_for_want_of_plans(conn: asyncpg.Connection, target_id: UUID) -> Inspection | None:
    """The implementing organization's regular inspection cancelled last because it had no plan in force."""
    row = await conn.fetchrow(
        """
        SELECT state FROM inspections
         WHERE target_id = $1 AND status = 'cancelled' AND NOT extraordinary
           AND state->>'cancellation_reason' = 'no_plans_in_force'
         ORDER BY closed_on DESC, due_by DESC, id LIMIT 1
        """,
        target_id,
    )
    return load_state(row["state"]) if row else None


# The rules of domain/inspection.py as SQL on this table's columns, for the worklist's filters. `closed_on` is
# `Inspection.closed_on` (inspected or cancelled on); an improvement report is due on guidance and
# recommendations only (`improvement_report_due` is set for them alone), until received or the wait is closed.
# tests/integration/test_inspection_overdue.py checks they answer as the domain does on the boundary days.


def overdue_sql(day: str) -> str:
    """`is_overdue(day)`: on or after `overdue_from` (the later of due_by + 1 and scheduled_on), not closed by then."""
    return f"(scheduled_on <= {day} AND due_by < {day} AND (closed_on IS NULL OR {day} < closed_on))"


def report_overdue_sql(day: str) -> str:
    """`Inspection.report_overdue_on(day)`: a report due before `day`, not received and its wait not closed by
    then."""
    return (
        f"(improvement_report_due < {day} AND (improvement_report_received_on IS NULL"
        f" OR {day} < improvement_report_received_on)"
        f" AND (report_wait_closed_on IS NULL OR {day} < report_wait_closed_on))"
    )


AWAITING_REPORT_SQL = (
    "(improvement_report_due IS NOT NULL AND improvement_report_received_on IS NULL AND report_wait_closed_on IS NULL)"
)
"""`Inspection.awaiting_report`: an improvement report asked for, not received yet, its wait not closed."""


async def find_inspection(
    conn: asyncpg.Connection, store: EventStore, id: UUID, *, until: datetime | None = None
) -> tuple[Inspection, int] | None:
    """The inspection and its version: as the read model has it now, or with `until`, as its events had
    recorded it by then. None if there was none."""
    if until is None:
        row = await conn.fetchrow("SELECT state, version FROM inspections WHERE id = $1", id)
        return (load_state(row["state"]), row["version"]) if row else None
    events = await store.read_stream(conn, str(id), until=until)
    if not events:
        return None
    return reduce(evolve, [store.types.parse(e.type, e.data) for e in events], Inspection()), events[-1].streamversion


async def list_inspections(
    conn: asyncpg.Connection,
    *,
    day: date,
    target_type: TargetType | None = None,
    target_id: UUID | None = None,
    status: Status | None = None,
    due_before: date | None = None,
    overdue_as_of: date | None = None,
    awaiting_report: bool | None = None,
    report_overdue_as_of: date | None = None,
    after: tuple[date, UUID] | None = None,
    limit: int = 50,
    reason: InspectionReason | None = None,
) -> list[InspectionDocument]:
    """The worklist: inspections filtered, ordered by due date and id, after `after`; `overdue` and
    `report_overdue` of each as of `day`. Up to `limit` items."""
    after_due, after_id = after or (None, None)
    rows = await conn.fetch(
        f"""
        SELECT id, state, version FROM inspections
         WHERE ($1::text IS NULL OR target_type = $1) AND ($2::uuid IS NULL OR target_id = $2)
           AND ($3::text IS NULL OR status = $3)
           AND ($4::date IS NULL OR (status = 'scheduled' AND due_by < $4))
           AND ($5::date IS NULL OR {overdue_sql("$5")})
           AND ($6::boolean IS NULL OR {AWAITING_REPORT_SQL} = $6)
           AND ($7::date IS NULL OR {report_overdue_sql("$7")})
           AND ($8::date IS NULL OR (due_by, id) > ($8, $9))
           AND ($11::text IS NULL OR state->>'reason' = $11)
         ORDER BY due_by, id LIMIT $10
        """,
        target_type.value if target_type else None,
        target_id,
        status.value if status else None,
        due_before,
        overdue_as_of,
        awaiting_report,
        report_overdue_as_of,
        after_due,
        after_id,
        limit,
        reason.value if reason else None,
    )
    return [inspection_document(str(r["id"]), load_state(r["state"]), r["version"], day) for r in rows]
