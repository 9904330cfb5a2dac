"""The local read model of other services' facts: training plans and permit restrictions.

Written by the subscriptions, in the transaction that records the event in the inbox; read by
commands inside theirs.
"""

from typing import Any
from uuid import UUID

import asyncpg

from contracts.accreditation import (
    DiscontinuationReason,
    ExamPassed,
    ExamResult,
    ExamResultRecorded,
    PlanEvent,
    PlanStatus,
    Stage,
    TrainingPlanApplied,
    TrainingPlanCertified,
    TrainingPlanCompleted,
    TrainingPlanDiscontinued,
    TrainingPlanRejected,
    TrainingPlanRevoked,
    TrainingPlanTransferred,
)
from contracts.registry import BusinessSuspended, PermitExpired, PermitRevoked, Scheme
from services.visa.domain.known import KnownPlan, PermitRestriction
from services.visa.projections.pauses import period
from shared import reference


def _status_change(event: PlanEvent) -> tuple[PlanStatus | None, dict[str, Any]]:
    """The plan's status after the event (None: unchanged), and the facts it adds."""
    match event:
        case TrainingPlanApplied():
            return PlanStatus.APPLIED, {}
        case TrainingPlanCertified():
            return PlanStatus.CERTIFIED, {"certified_on": event.certified_on}
        case TrainingPlanRejected():
            return PlanStatus.REJECTED, {}
        case TrainingPlanCompleted():
            return PlanStatus.COMPLETED, {"ended_on": event.completed_on, "exam_result": event.exam_result.value}
        case TrainingPlanDiscontinued():
            return PlanStatus.DISCONTINUED, {"ended_on": event.discontinued_on}
        case TrainingPlanRevoked():
            return PlanStatus.REVOKED, {"ended_on": event.revoked_on}
        case TrainingPlanTransferred():
            return PlanStatus.TRANSFERRED, {
                "ended_on": event.transferred_on,
                "transferred_on": event.transferred_on,
                "transferred_to": event.to_plan_id,
            }
    # Improvement orders and the like leave the status as it is: an order is closed after the plan completed, say.
    return None, {}


async def record_plan_event(conn: asyncpg.Connection, plan_id: UUID, event: PlanEvent, version: int) -> None:
    """Every plan event carries the plan's header; an event older than the row (a redriven one) changes nothing.
    The application's details (ESD field, transfer, extension, exams passed) are written whenever it arrives:
    no other event carries them, and they do not change."""
    status, facts = _status_change(event)
    await conn.execute(
        """
        INSERT INTO known_training_plans AS p (id, trainee_id, scheme, stage, job_category,
                                               supervising_organization_id, start_date, end_date, status,
                                               certified_on, ended_on, exam_result, transferred_on,
                                               transferred_to, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, coalesce($9::text, 'certified'), $10, $11, $12, $13, $14, $15)
        ON CONFLICT (id) DO UPDATE SET trainee_id = excluded.trainee_id, scheme = excluded.scheme,
            stage = excluded.stage, job_category = excluded.job_category,
            supervising_organization_id = excluded.supervising_organization_id,
            start_date = excluded.start_date, end_date = excluded.end_date, status = coalesce($9::text, p.status),
            certified_on = coalesce(excluded.certified_on, p.certified_on),
            ended_on = coalesce(excluded.ended_on, p.ended_on),
            exam_result = coalesce(excluded.exam_result, p.exam_result),
            transferred_on = coalesce(excluded.transferred_on, p.transferred_on),
            transferred_to = coalesce(excluded.transferred_to, p.transferred_to), version = excluded.version
         WHERE p.version < excluded.version
        """,
        plan_id,
        event.trainee_id,
        event.scheme.value,
        event.stage.value if event.stage else None,
        event.job_category,
        event.supervising_organization_id,
        event.start_date,
        event.end_date,
        status.value if status else None,
        facts.get("certified_on"),
        facts.get("ended_on"),
        facts.get("exam_result"),
        facts.get("transferred_on"),
        facts.get("transferred_to"),
        version,
    )
    if isinstance(event, TrainingPlanApplied):
        await conn.execute(
            "UPDATE known_training_plans SET field = $2, transfer_from = $3, extension = $4, exams_passed = $5,"
            " operation = $6 WHERE id = $1",
            plan_id,
            event.field,
            event.transfer_from,
            event.extension,
            [exam.model_dump(mode="json") for exam in event.exams_passed],
            getattr(event, "operation", None),
        )
    if isinstance(event, TrainingPlanDiscontinued):
        await conn.execute(
            "UPDATE known_training_plans SET discontinuation_reason = $2 WHERE id = $1", plan_id, event.reason.value
        )


async def record_exam_result(conn: asyncpg.Connection, event_id: UUID, event: ExamResultRecorded) -> None:
    """An exam result as the exam body reported it to accreditation, passed or not, once per event."""
    await conn.execute(
        "INSERT INTO known_exam_results (event_id, trainee_id, grade, result, taken_on) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT DO NOTHING",
        event_id,
        event.trainee_id,
        event.grade.value,
        event.result.value,
        event.taken_on,
    )


async def exams_passed_of(conn: asyncpg.Connection, trainee_id: UUID) -> tuple[ExamPassed, ...]:
    """The exams the trainee passed, as the exam body reported them (`ExamResultRecorded`)."""
    rows = await conn.fetch(
        "SELECT grade, taken_on FROM known_exam_results WHERE trainee_id = $1 AND result = $2 ORDER BY taken_on, grade",
        trainee_id,
        ExamResult.PASSED.value,
    )
    return tuple(ExamPassed(grade=r["grade"], passed_on=r["taken_on"]) for r in rows)


async def record_permit_restriction(
    conn: asyncpg.Connection,
    event_id: UUID,
    supervising_organization_id: UUID,
    event: PermitRevoked | PermitExpired | BusinessSuspended,
) -> None:
    """A revocation from its day, an expiry from its first day without a permit (`expired_on`), both for good;
    a suspension from..until."""
    if isinstance(event, PermitRevoked):
        kind, from_date, until_date = "revoked", event.revoked_on, None
    elif isinstance(event, PermitExpired):
        kind, from_date, until_date = "expired", event.expired_on, None
    else:
        kind, from_date, until_date = "suspended", event.from_date, event.until_date
    await conn.execute(
        "INSERT INTO known_permit_restrictions (event_id, supervising_organization_id, kind, from_date, until_date)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
        event_id,
        supervising_organization_id,
        kind,
        from_date,
        until_date,
    )


_PLAN_COLUMNS = (
    "id AS plan_id, trainee_id, stage, job_category, supervising_organization_id, start_date, end_date,"
    " status, certified_on, ended_on, exam_result, scheme, field, transfer_from, extension, exams_passed,"
    " transferred_on, transferred_to, operation, discontinuation_reason, pauses"
)


def _plan(row: asyncpg.Record) -> KnownPlan:
    """The plan, its operation looked up in shared.reference (the SSW (i) field it relates to)."""
    exam_result, stage, reason = row["exam_result"], row["stage"], row["discontinuation_reason"]
    operation = reference.operation(row["operation"]) if row["operation"] else None
    return KnownPlan(
        **{
            **dict(row),
            "stage": Stage(stage) if stage else None,
            "status": PlanStatus(row["status"]),
            "exam_result": ExamResult(exam_result) if exam_result else None,
            "scheme": Scheme(row["scheme"]),
            "exams_passed": tuple(ExamPassed.model_validate(exam) for exam in row["exams_passed"]),
            "discontinuation_reason": DiscontinuationReason(reason) if reason else None,
            "operation_known": operation is not None,
            "ssw_field": operation.ssw_field if operation else None,
            "pauses": tuple(
                period(p)
                for p in row.get("pauses") or ()  # a row without the column: no pauses
            ),
        }
    )


async def plan_for_update(conn: asyncpg.Connection, plan_id: UUID) -> KnownPlan | None:
    """The plan, locked until the command commits, so that its revocation cannot slip in between the
    decision and the commit: the subscription applies it before or after, never during."""
    row = await conn.fetchrow(f"SELECT {_PLAN_COLUMNS} FROM known_training_plans WHERE id = $1 FOR UPDATE", plan_id)
    return _plan(row) if row else None


async def plans_of_trainee(conn: asyncpg.Connection, trainee_id: UUID) -> list[KnownPlan]:
    rows = await conn.fetch(
        f"SELECT {_PLAN_COLUMNS} FROM known_training_plans WHERE trainee_id = $1 ORDER BY start_date, id", trainee_id
    )
    return [_plan(r) for r in rows]


async def permit_restrictions(
    conn: asyncpg.Connection, supervising_organization_id: UUID | None
) -> list[PermitRestriction]:
    if supervising_organization_id is None:
        return []
    rows = await conn.fetch(
        "SELECT kind, from_date, until_date FROM known_permit_restrictions WHERE supervising_organization_id = $1",
        supervising_organization_id,
    )
    return [PermitRestriction(**r) for r in rows]
