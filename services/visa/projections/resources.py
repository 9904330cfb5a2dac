"""The read models of the visa service's own aggregates: their writes, called by `commands.py`'s aggregates
in the same transaction as their events, the documents clients see, and the reads commands decide on.
The reads behind the GET routes and lists are in `queries.py`."""

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from contracts.accreditation import Stage
from contracts.registry import Scheme
from contracts.visa import EvaluationReportReceived, StatusOfResidenceChanged, VisaIssued
from services.visa.domain import certificate_of_eligibility as coe

coe_state = TypeAdapter(coe.CertificateOfEligibility)
visa_state = TypeAdapter(VisaIssued)
status_change_state = TypeAdapter(StatusOfResidenceChanged)
evaluation_report_state = TypeAdapter(EvaluationReportReceived)

# Writes


async def project_coe_application(conn: asyncpg.Connection, id: str, state: coe.Coe, version: int) -> None:
    if not isinstance(state, coe.CertificateOfEligibility):
        return  # a stream opens with its application: there is always one by the time anything is projected
    await conn.execute(
        """
        INSERT INTO coe_applications (id, training_plan_id, trainee_id, lifecycle, scheme, state, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (id) DO UPDATE SET lifecycle = excluded.lifecycle, state = excluded.state,
                                       version = excluded.version
        """,
        UUID(id),
        state.training_plan_id,
        state.trainee_id,
        state.lifecycle.value,
        state.scheme.value,
        coe_state.dump_python(state, mode="json"),
        version,
    )


async def project_visa(conn: asyncpg.Connection, id: str, state: VisaIssued | None, version: int) -> None:
    if state is None:
        return
    await conn.execute(
        "INSERT INTO visas (id, coe_id, training_plan_id, trainee_id, scheme, state, version)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (id) DO UPDATE SET state = excluded.state, version = excluded.version",
        UUID(id),
        state.coe_id,
        state.training_plan_id,
        state.trainee_id,
        state.scheme.value,
        state.model_dump(mode="json"),
        version,
    )


async def project_status_change(
    conn: asyncpg.Connection, id: str, state: StatusOfResidenceChanged | None, version: int
) -> None:
    if state is None:
        return
    await conn.execute(
        "INSERT INTO status_changes (id, training_plan_id, trainee_id, to_stage, scheme, state, version)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (id) DO UPDATE SET state = excluded.state, version = excluded.version",
        UUID(id),
        state.training_plan_id,
        state.trainee_id,
        state.to_stage.value if state.to_stage else None,
        state.scheme.value,
        state.model_dump(mode="json"),
        version,
    )


async def project_evaluation_report(
    conn: asyncpg.Connection, id: str, state: EvaluationReportReceived | None, version: int
) -> None:
    if state is None:
        return
    await conn.execute(
        "INSERT INTO evaluation_reports (id, training_plan_id, trainee_id, state, version) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (id) DO UPDATE SET state = excluded.state, version = excluded.version",
        UUID(id),
        state.training_plan_id,
        state.trainee_id,
        state.model_dump(mode="json"),
        version,
    )


# Documents: what clients see (api/schemas.py has their models)


def coe_document(id: str, state: coe.CertificateOfEligibility, version: int, day: date) -> dict[str, Any]:
    """The application and its certificate, with the status on `day` (an unused certificate expires)."""
    return {
        "id": id,
        **coe_state.dump_python(state, mode="json"),
        "stage": state.entry_stage and state.entry_stage.value,
        "status": state.status_on(day).value,
        "status_on": day.isoformat(),
        "version": version,
    }


def grant_document(
    id: str, state: VisaIssued | StatusOfResidenceChanged | EvaluationReportReceived, version: int, day: date
) -> dict[str, Any]:
    return {"id": id, **state.model_dump(mode="json"), "version": version}


# Reads inside commands


async def training_plan_of_coe(conn: asyncpg.Connection, id: UUID) -> UUID | None:
    """The plan a COE application was filed for; None for no such application."""
    return await conn.fetchval("SELECT training_plan_id FROM coe_applications WHERE id = $1", id)


async def coe_applications_of_plan(conn: asyncpg.Connection, plan_id: UUID) -> dict[str, coe.CertificateOfEligibility]:
    rows = await conn.fetch("SELECT id, state FROM coe_applications WHERE training_plan_id = $1 ORDER BY id", plan_id)
    return {str(r["id"]): coe_state.validate_python(r["state"]) for r in rows}


async def stages_held(conn: asyncpg.Connection, trainee_id: UUID) -> set[Stage]:
    """The TITP stages whose status of residence the trainee was granted here: i (or iii after a departure) by a
    visa, the others by a change."""
    rows = await conn.fetch(
        "SELECT coalesce(state->>'stage', 'i') AS stage FROM visas WHERE trainee_id = $1 AND scheme = $2"
        " UNION SELECT to_stage FROM status_changes WHERE trainee_id = $1 AND scheme = $2",
        trainee_id,
        Scheme.TITP.value,
    )
    return {Stage(r["stage"]) for r in rows}


async def esd_plans_held(conn: asyncpg.Connection, trainee_id: UUID) -> list[UUID]:
    """The ESD plans whose status of residence the worker was granted here (by a visa or a change of status),
    in the order granted."""
    rows = await conn.fetch(
        "SELECT training_plan_id, (state->>'issued_on')::date AS granted_on FROM visas"
        "  WHERE trainee_id = $1 AND scheme = $2"
        " UNION ALL SELECT training_plan_id, (state->>'decided_on')::date FROM status_changes"
        "  WHERE trainee_id = $1 AND scheme = $2"
        " ORDER BY granted_on, training_plan_id",
        trainee_id,
        Scheme.ESD.value,
    )
    return [r["training_plan_id"] for r in rows]


async def evaluation_reports_of(conn: asyncpg.Connection, trainee_id: UUID) -> tuple[EvaluationReportReceived, ...]:
    """The evaluation reports (評価調書) received here on the trainee's stage-ii plans."""
    rows = await conn.fetch("SELECT state FROM evaluation_reports WHERE trainee_id = $1 ORDER BY id", trainee_id)
    return tuple(EvaluationReportReceived.model_validate(r["state"]) for r in rows)
