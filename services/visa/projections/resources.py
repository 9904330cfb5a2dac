"""The visa service's own aggregates and their read models, written in the same transaction as their events."""

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from contracts.accreditation import Stage
from services.visa.domain import certificate_of_eligibility as coe
from services.visa.domain import residence
from contracts.visa import StatusOfResidenceChanged, VisaIssued
from shared.commands import Aggregate

coe_state = TypeAdapter(coe.CertificateOfEligibility)
visa_state = TypeAdapter(VisaIssued)
status_change_state = TypeAdapter(StatusOfResidenceChanged)


async def project_coe_application(conn: asyncpg.Connection, id: str, state: coe.CertificateOfEligibility,
                                  version: int) -> None:
    await conn.execute(
        """
        INSERT INTO coe_applications (id, training_plan_id, trainee_id, lifecycle, state, version)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (id) DO UPDATE SET lifecycle = excluded.lifecycle, state = excluded.state,
                                       version = excluded.version
        """,
        UUID(id), state.training_plan_id, state.trainee_id, state.lifecycle.value,
        coe_state.dump_python(state, mode="json"), version)


async def project_visa(conn: asyncpg.Connection, id: str, state: VisaIssued, version: int) -> None:
    await conn.execute(
        "INSERT INTO visas (id, coe_id, training_plan_id, trainee_id, state, version) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (id) DO UPDATE SET state = excluded.state, version = excluded.version",
        UUID(id), state.coe_id, state.training_plan_id, state.trainee_id, state.model_dump(mode="json"), version)


async def project_status_change(conn: asyncpg.Connection, id: str, state: StatusOfResidenceChanged,
                                version: int) -> None:
    await conn.execute(
        "INSERT INTO status_changes (id, training_plan_id, trainee_id, to_stage, state, version)"
        " VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT (id) DO UPDATE SET state = excluded.state, version = excluded.version",
        UUID(id), state.training_plan_id, state.trainee_id, state.to_stage.value, state.model_dump(mode="json"),
        version)


COE_APPLICATION = Aggregate("coe-application", coe.CertificateOfEligibility(), coe.evolve, project_coe_application)
VISA = Aggregate("visa", None, residence.evolve_visa, project_visa)
STATUS_CHANGE = Aggregate("status-change", None, residence.evolve_status_change, project_status_change)


def coe_document(id: str, state: coe.CertificateOfEligibility, version: int, day: date) -> dict[str, Any]:
    """The application and its certificate, with the status on `day` (an unused certificate expires)."""
    return {"id": id, **coe_state.dump_python(state, mode="json"), "status": state.status_on(day),
            "status_on": day.isoformat(), "version": version}


def grant_document(id: str, state: VisaIssued | StatusOfResidenceChanged, version: int, day: date) -> dict[str, Any]:
    return {"id": id, **state.model_dump(mode="json"), "version": version}


async def coe_applications_of_plan(conn: asyncpg.Connection, plan_id: UUID) -> dict[str, coe.CertificateOfEligibility]:
    rows = await conn.fetch("SELECT id, state FROM coe_applications WHERE training_plan_id = $1 ORDER BY id", plan_id)
    return {str(r["id"]): coe_state.validate_python(r["state"]) for r in rows}


async def stages_held(conn: asyncpg.Connection, trainee_id: UUID) -> set[Stage]:
    """The stages whose status of residence the trainee was granted here: i by a visa, the others by a change."""
    rows = await conn.fetch("SELECT 'i' AS stage FROM visas WHERE trainee_id = $1"
                            " UNION SELECT to_stage FROM status_changes WHERE trainee_id = $1", trainee_id)
    return {Stage(r["stage"]) for r in rows}
