"""The training plans read model, written in the same transaction as the events it shows,
and the counts a certification is decided on."""

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from contracts.accreditation import ExamResult, PlanDetails, PlanHeader, PlanStatus, Stage
from services.accreditation.domain.rules import OtherPlan
from services.accreditation.domain.training_plan import TrainingPlan
from services.accreditation.projections.statistics import project_plan_statistics

# "In progress" is a certified plan on or after its start date, as of the day $1.
SHOWN_STATUS = "CASE WHEN status = 'certified' AND start_date <= $1 THEN 'in_progress' ELSE status END"


def _without_header(event) -> dict[str, Any] | None:
    return event.model_dump(mode="json", exclude=set(PlanHeader.model_fields)) if event else None


def training_plan_document(id: str, state: TrainingPlan, version: int, *, as_of: date | None = None) -> dict[str, Any]:
    """The plan as shown; its status as of a day (in progress by date), or as recorded when none is given."""
    ending = state.ending
    return {
        "id": id,
        **state.application.model_dump(mode="json"),
        "status": state.status_on(as_of) if as_of else state.status.value,
        "certified_on": state.certified_on.isoformat() if state.certified_on else None,
        "rule_set": state.rule_set,
        "rejection_reason": state.rejection_reason,
        "completion": _without_header(ending) if ending and state.status is PlanStatus.COMPLETED else None,
        "discontinuation": _without_header(ending) if ending and state.status is PlanStatus.DISCONTINUED else None,
        "revocation": _without_header(ending) if ending and state.status is PlanStatus.REVOKED else None,
        "improvement_orders": [{"order_id": str(o.order_id), "issued_on": o.issued_on.isoformat(),
                                "deadline": o.deadline.isoformat(), "reason": o.reason,
                                "closed_on": o.closed_on.isoformat() if o.closed_on else None}
                               for o in state.improvement_orders],
        "new_supervising_organization_required": _without_header(state.new_supervising_organization_required),
        "version": version,
    }


async def project_training_plan(conn: asyncpg.Connection, id: str, state: TrainingPlan, version: int) -> None:
    plan, ending = state.application, state.ending
    # Stored with the status as recorded; readers show "in_progress" by date (SHOWN_STATUS).
    doc = training_plan_document(id, state, version)
    await conn.execute(
        """
        INSERT INTO training_plans (id, trainee_id, stage, training_type, job_category,
            implementing_organization_id, supervising_organization_id, start_date, end_date, status, ended_on,
            exam_result, document, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, ended_on = excluded.ended_on,
            exam_result = excluded.exam_result, document = excluded.document, version = excluded.version
        """,
        UUID(id), plan.trainee_id, plan.stage.value, plan.training_type.value, plan.job_category,
        plan.implementing_organization_id, plan.supervising_organization_id, plan.start_date, plan.end_date,
        state.status.value, _ended_on(ending), getattr(ending, "exam_result", None), doc, version,
    )
    await project_plan_statistics(conn, id, state)


def _ended_on(ending) -> date | None:
    if ending is None:
        return None
    return getattr(ending, "completed_on", None) or getattr(ending, "discontinued_on", None) or ending.revoked_on


async def trainee_plans(conn: asyncpg.Connection, plan_id: str, trainee_id: UUID) -> tuple[OtherPlan, ...]:
    """The trainee's other plans that were ever certified."""
    rows = await conn.fetch(
        "SELECT stage, job_category, start_date, end_date, status, ended_on, exam_result FROM training_plans"
        " WHERE trainee_id = $1 AND id <> $2 AND status = ANY($3::text[])",
        trainee_id, UUID(plan_id), [PlanStatus.CERTIFIED, PlanStatus.COMPLETED, PlanStatus.DISCONTINUED,
                                    PlanStatus.REVOKED])
    return tuple(OtherPlan(stage=Stage(r["stage"]), job_category=r["job_category"], start_date=r["start_date"],
                           end_date=r["end_date"], status=PlanStatus(r["status"]), ended_on=r["ended_on"],
                           exam_result=ExamResult(r["exam_result"]) if r["exam_result"] else None)
                 for r in rows)


async def plans_in_force(conn: asyncpg.Connection, plan_id: str, plan: PlanDetails) -> int:
    """The implementing organization's certified plans of the same stage whose period overlaps this plan's."""
    return await conn.fetchval(
        "SELECT count(*) FROM training_plans WHERE implementing_organization_id = $1 AND stage = $2"
        " AND status = 'certified' AND id <> $3 AND start_date <= $5 AND end_date >= $4",
        plan.implementing_organization_id, plan.stage.value, UUID(plan_id), plan.start_date, plan.end_date)


async def plans_in_force_of(conn: asyncpg.Connection, column: str, organization_id: UUID) -> list[str]:
    """The certified plans of an implementing or supervising organization."""
    assert column in ("implementing_organization_id", "supervising_organization_id")
    rows = await conn.fetch(f"SELECT id FROM training_plans WHERE {column} = $1 AND status = 'certified' ORDER BY id",
                            organization_id)
    return [str(r["id"]) for r in rows]
