"""Read model: trainees' consultations, one row per consultation, written in the same transaction as its events;
the queries behind `GET /v1/consultations[/{id}]`; and the monthly counters behind
`GET /v1/statistics/consultations` (received per month, by subject and language: `DIMENSIONS`)."""

from datetime import date, datetime
from functools import reduce
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from contracts.inspection import ConsultationSubject
from services.inspection.api.schemas import ConsultationDocument
from services.inspection.domain.consultation import Consultation, ConsultationStatus, evolve
from shared.dates import month_start
from shared.statistics import Key, count_entity, totals
from shared.store import EventStore

_state = TypeAdapter(Consultation)

CONSULTATIONS_RECEIVED = "consultations_received"
DIMENSIONS = ("subject", "language")


def load_state(raw: dict[str, Any]) -> Consultation:
    return _state.validate_python(raw)


def consultation_document(id: str, state: Consultation, version: int) -> ConsultationDocument:
    """What OTIT and auditors see."""
    return ConsultationDocument.model_validate({"id": id, **_state.dump_python(state, mode="json"), "version": version})


async def project_consultation(conn: asyncpg.Connection, id: str, state: Consultation, version: int) -> None:
    assert state.status is not None, "only a recorded consultation is projected"
    await conn.execute(
        """
        INSERT INTO consultations (id, received_on, language, channel, subject, status, trainee_id, training_plan_id,
                                   implementing_organization_id, supervising_organization_id, inspection_id, state,
                                   version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, inspection_id = excluded.inspection_id,
            state = excluded.state, version = excluded.version
        """,
        UUID(id),
        state.received_on,
        state.language,
        state.channel.value,
        state.subject.value,
        state.status.value,
        state.trainee_id,
        state.training_plan_id,
        state.implementing_organization_id,
        state.supervising_organization_id,
        state.escalation.inspection_id if state.escalation else None,
        _state.dump_python(state, mode="json"),
        version,
    )
    await count_entity(conn, f"consultation:{id}", consultation_facts(state), consultation_keys)


# Statistics: a consultation counts once, in the month it was received, under its subject and language.


def consultation_facts(state: Consultation) -> dict[str, Any]:
    return {"received_on": state.received_on.isoformat(), "subject": state.subject.value, "language": state.language}


def consultation_keys(facts: dict[str, Any]) -> dict[Key, int]:
    month = month_start(date.fromisoformat(facts["received_on"]))
    return {(CONSULTATIONS_RECEIVED, month, (facts["subject"], facts["language"])): 1}


async def monthly(
    conn: asyncpg.Connection, months: list[date], *, by: str | None, subject: str | None, language: str | None
) -> dict[date, dict[str | None, int]]:
    """Per month of `months` (their first days, in order): consultations received, per value of the dimension
    `by` (one total under None when not split), of `subject` and `language` if given."""
    found: dict[date, dict[str | None, int]] = {month: {} for month in months}
    index = DIMENSIONS.index(by) if by else None
    for month, value, n in await totals(
        conn, CONSULTATIONS_RECEIVED, months[0], months[-1], by=index, where=[subject, language]
    ):
        found[month][value] = found[month].get(value, 0) + n
    return found


# Reads.


async def employer_of_plan(conn: asyncpg.Connection, plan_id: UUID) -> UUID | None:
    """The implementing organization of a certified training plan this service heard of (projections/
    organizations.py keeps them), None if it heard of none."""
    employer: UUID | None = await conn.fetchval(
        "SELECT implementing_organization_id FROM employer_plans WHERE plan_id = $1", plan_id
    )
    return employer


async def find_consultation(
    conn: asyncpg.Connection, store: EventStore, id: UUID, *, until: datetime | None = None
) -> tuple[Consultation, int] | None:
    """The consultation and its version: as the read model has it now, or with `until`, as its events had
    recorded it by then. None if there was none (or `id` is another kind of stream)."""
    if until is None:
        row = await conn.fetchrow("SELECT state, version FROM consultations WHERE id = $1", id)
        return (load_state(row["state"]), row["version"]) if row else None
    if not await conn.fetchval("SELECT EXISTS (SELECT 1 FROM consultations WHERE id = $1)", id):
        return None
    events = await store.read_stream(conn, str(id), until=until)
    if not events:
        return None
    return reduce(evolve, [store.types.parse(e.type, e.data) for e in events], Consultation()), events[-1].streamversion


async def list_consultations(
    conn: asyncpg.Connection,
    *,
    subject: ConsultationSubject | None = None,
    language: str | None = None,
    status: ConsultationStatus | None = None,
    organization_id: UUID | None = None,
    received_from: date | None = None,
    received_until: date | None = None,
    after: tuple[date, UUID] | None = None,
    limit: int = 50,
) -> list[ConsultationDocument]:
    """Consultations filtered (`organization_id`: named as the implementing or the supervising organization),
    ordered by the day received and id, after `after`. Up to `limit` items."""
    after_day, after_id = after or (None, None)
    rows = await conn.fetch(
        """
        SELECT id, state, version FROM consultations
         WHERE ($1::text IS NULL OR subject = $1) AND ($2::text IS NULL OR language = $2)
           AND ($3::text IS NULL OR status = $3)
           AND ($4::uuid IS NULL OR implementing_organization_id = $4 OR supervising_organization_id = $4)
           AND ($5::date IS NULL OR received_on >= $5) AND ($6::date IS NULL OR received_on <= $6)
           AND ($7::date IS NULL OR (received_on, id) > ($7, $8))
         ORDER BY received_on, id LIMIT $9
        """,
        subject.value if subject else None,
        language,
        status.value if status else None,
        organization_id,
        received_from,
        received_until,
        after_day,
        after_id,
        limit,
    )
    return [consultation_document(str(r["id"]), load_state(r["state"]), r["version"]) for r in rows]
