"""The training plans read model: written in the same transaction as the events it shows; read by
the plans' GET routes (with the trainee's personal data opened) and by certification (the counts
it is decided on)."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from contracts.accreditation import (
    ExamResult,
    PlanDetails,
    PlanHeader,
    PlanStatus,
    Stage,
)
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.rules import OtherPlan
from services.accreditation.projections import personal_data
from services.accreditation.projections.statistics import project_plan_statistics
from shared.store import EventStore

# The status as shown on the day $1: "in progress" as the domain defines it (tp.shown_status).
SHOWN_STATUS = tp.shown_status_sql("status", "start_date", "$1")


def _without_header(event: BaseModel | None) -> dict[str, Any] | None:
    return event.model_dump(mode="json", exclude=set(PlanHeader.model_fields)) if event else None


def training_plan_document(
    id: str, state: tp.AppliedPlan, version: int, *, as_of: date | None = None
) -> dict[str, Any]:
    """The plan as stored (the personal data sealed); its status as of a day (in progress by date), or as
    recorded when none is given. Readers see it through `personal_data.shown` (api/schemas.py
    `TrainingPlanDocument`)."""
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
        "improvement_orders": [
            {
                "order_id": str(o.order_id),
                "issued_on": o.issued_on.isoformat(),
                "deadline": o.deadline.isoformat(),
                "reason": o.reason,
                "closed_on": o.closed_on.isoformat() if o.closed_on else None,
            }
            for o in state.improvement_orders
        ],
        "new_supervising_organization_required": _without_header(state.new_supervising_organization_required),
        "version": version,
    }


async def project_training_plan(conn: asyncpg.Connection, id: str, state: tp.TrainingPlan, version: int) -> None:
    assert isinstance(state, tp.AppliedPlan), "a plan's stream starts with its application"
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
        UUID(id),
        plan.trainee_id,
        plan.stage.value,
        plan.training_type.value,
        plan.job_category,
        plan.implementing_organization_id,
        plan.supervising_organization_id,
        plan.start_date,
        plan.end_date,
        state.status.value,
        state.ended_on,
        getattr(ending, "exam_result", None),
        doc,
        version,
    )
    await project_plan_statistics(conn, id, state)


# What certification counts (in the command's transaction, under its locks)


async def trainee_plans(conn: asyncpg.Connection, plan_id: str, trainee_id: UUID) -> tuple[OtherPlan, ...]:
    """The trainee's other plans that were ever certified."""
    rows = await conn.fetch(
        "SELECT stage, job_category, start_date, end_date, status, ended_on, exam_result FROM training_plans"
        " WHERE trainee_id = $1 AND id <> $2 AND status = ANY($3::text[])",
        trainee_id,
        UUID(plan_id),
        [PlanStatus.CERTIFIED, PlanStatus.COMPLETED, PlanStatus.DISCONTINUED, PlanStatus.REVOKED],
    )
    return tuple(
        OtherPlan(
            stage=Stage(r["stage"]),
            job_category=r["job_category"],
            start_date=r["start_date"],
            end_date=r["end_date"],
            status=PlanStatus(r["status"]),
            ended_on=r["ended_on"],
            exam_result=ExamResult(r["exam_result"]) if r["exam_result"] else None,
        )
        for r in rows
    )


async def plans_in_force(conn: asyncpg.Connection, plan_id: str, plan: PlanDetails) -> int:
    """The implementing organization's certified plans of the same stage whose period overlaps this plan's."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM training_plans WHERE implementing_organization_id = $1 AND stage = $2"
        " AND status = 'certified' AND id <> $3 AND start_date <= $5 AND end_date >= $4",
        plan.implementing_organization_id,
        plan.stage.value,
        UUID(plan_id),
        plan.start_date,
        plan.end_date,
    )
    return count


async def plans_in_force_of(conn: asyncpg.Connection, column: str, organization_id: UUID) -> list[str]:
    """The certified plans of an implementing or supervising organization."""
    assert column in ("implementing_organization_id", "supervising_organization_id")
    rows = await conn.fetch(
        f"SELECT id FROM training_plans WHERE {column} = $1 AND status = 'certified' ORDER BY id", organization_id
    )
    return [str(r["id"]) for r in rows]


# What readers see


async def training_plan(
    pool: asyncpg.Pool,
    store: EventStore,
    id: UUID,
    *,
    today: date,
    until: datetime | None = None,
    as_of: date | None = None,
) -> dict[str, Any] | None:
    """One plan as readers see it, or None: as recorded now, its status as of `today`; or, with `until`,
    as recorded by then (its events replayed), its status as of the day `as_of`."""
    async with pool.acquire() as conn:
        if until is None:
            document = await conn.fetchval(
                f"SELECT document || jsonb_build_object('status', {SHOWN_STATUS}) FROM training_plans WHERE id = $2",
                today,
                id,
            )
        else:
            events = await store.read_stream(conn, str(id), until=until)
            state = tp.replay(store.types.parse(e.type, e.data) for e in events)
            document = (
                training_plan_document(str(id), state, events[-1].streamversion, as_of=as_of or today)
                if isinstance(state, tp.AppliedPlan)
                else None
            )
        if document is None:
            return None
        [shown] = await personal_data.shown(conn, [document])
    return shown


async def training_plans(
    pool: asyncpg.Pool,
    *,
    today: date,
    implementing_organization_id: UUID | None = None,
    supervising_organization_id: UUID | None = None,
    trainee_id: UUID | None = None,
    status: str | None = None,
    stage: Stage | None = None,
    needs_new_supervising_organization: bool | None = None,
    after: UUID | None = None,
    organization: str | None = None,
    limit: int,
) -> list[dict[str, Any]]:
    """Plans as readers see them, filtered, in id order after `after`, at most `limit`; only those naming
    `organization` (as implementing or supervising organization) when given."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"""
            SELECT document || jsonb_build_object('status', {SHOWN_STATUS}) AS document FROM training_plans
             WHERE ($2::uuid IS NULL OR implementing_organization_id = $2)
               AND ($3::uuid IS NULL OR supervising_organization_id = $3)
               AND ($4::uuid IS NULL OR trainee_id = $4)
               AND ($5::text IS NULL OR {SHOWN_STATUS} = $5)
               AND ($6::text IS NULL OR stage = $6)
               AND ($7::bool IS NULL OR (document->>'new_supervising_organization_required' IS NOT NULL) = $7)
               AND ($8::uuid IS NULL OR id > $8)
               AND ($9::text IS NULL
                    OR implementing_organization_id::text = $9 OR supervising_organization_id::text = $9)
             ORDER BY id LIMIT $10
            """,
            today,
            implementing_organization_id,
            supervising_organization_id,
            trainee_id,
            status,
            stage.value if stage else None,
            needs_new_supervising_organization,
            after,
            organization,
            limit,
        )
        return await personal_data.shown(conn, [r["document"] for r in rows])
