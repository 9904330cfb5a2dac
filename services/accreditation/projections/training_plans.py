"""The training plans read model: written in the same transaction as the events it shows; read by
the plans' GET routes (with the trainee's personal data opened) and by certification (the counts
it is decided on: quotas, the trainee's plans, ESD transfers and national caps)."""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import BaseModel

from contracts.accreditation import (
    ExamGrade,
    ExamResult,
    PlanDetails,
    PlanHeader,
    PlanStatus,
    Stage,
    TransferReason,
)
from contracts.registry import Scheme
from services.accreditation.domain import pauses
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.rules import OtherPlan, designated_area
from services.accreditation.projections import personal_data
from services.accreditation.projections.early_returns import project_plan_early_returns
from services.accreditation.projections.exam_results import passes
from services.accreditation.projections.fees import plan_fee_members, project_plan_fees
from services.accreditation.projections.filings import difficulty_notices
from services.accreditation.projections.pauses import pause_members, project_plan_pauses
from services.accreditation.projections.statistics import project_plan_statistics
from shared.dates import fiscal_year_start
from shared.store import EventStore

# The status as shown on the day $1: "in progress" as the domain defines it (tp.shown_status).
SHOWN_STATUS = pauses.shown_status_sql(
    tp.shown_status_sql("status", "start_date", "$1"), "status", "document->'pauses'", "$1"
)  # issue 25: or "paused" on a day a pause covers
# ESD's first-year exams missing on the day $1, as the domain defines it (tp.first_year_exams_missing).
FIRST_YEAR_EXAMS_MISSING = tp.first_year_exams_missing_sql(
    scheme="training_plans.scheme",
    status="training_plans.status",
    start_date="training_plans.start_date",
    stated="training_plans.document->'exams_passed'",
    trainee_id="training_plans.trainee_id",
    day="$1",
)
SHOWN = (
    f"document || jsonb_build_object('status', {SHOWN_STATUS}, 'first_year_exams_missing', {FIRST_YEAR_EXAMS_MISSING})"
)


def _without_header(event: BaseModel | None) -> dict[str, Any] | None:
    return event.model_dump(mode="json", exclude=set(PlanHeader.model_fields)) if event else None


def training_plan_document(
    id: str,
    state: tp.AppliedPlan,
    version: int,
    *,
    as_of: date | None = None,
    recorded_passes: Sequence[tuple[ExamGrade, date]] = (),
) -> dict[str, Any]:
    """The plan as stored (the personal data sealed); its status and first-year flag as of a day (in progress
    by date; the flag with the exam body's `recorded_passes`), or as recorded when none is given. Readers see
    it through `personal_data.shown` (api/schemas.py `TrainingPlanDocument`)."""
    ending, plan = state.ending, state.application
    stated = [(e.grade, e.passed_on) for e in plan.exams_passed]
    return {
        "id": id,
        **state.application.model_dump(mode="json"),
        "status": pauses.shown_status(state, as_of) if as_of else state.status.value,
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
        "transfer": _without_header(ending) if ending and state.status is PlanStatus.TRANSFERRED else None,
        "new_supervising_organization_required": _without_header(state.new_supervising_organization_required),
        "reassignments": [
            {
                "supervising_organization_id": str(r.supervising_organization_id),
                "previous_supervising_organization_id": str(r.previous_supervising_organization_id)
                if r.previous_supervising_organization_id
                else None,
                "reassigned_on": r.reassigned_on.isoformat(),
            }
            for r in state.reassignments
        ],
        "first_year_exams_missing": as_of is not None
        and tp.first_year_exams_missing(plan.scheme, state.status, plan.start_date, [*stated, *recorded_passes], as_of),
        "version": version,
        **plan_change_members(state),
        **plan_fee_members(state),
        **pause_members(state),
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
            exam_result, document, version, scheme, field, transfer_from, transfer_reason, applied_on, operation)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, ended_on = excluded.ended_on,
            supervising_organization_id = excluded.supervising_organization_id,
            exam_result = excluded.exam_result, document = excluded.document, version = excluded.version
        """,
        UUID(id),
        plan.trainee_id,
        plan.stage.value if plan.stage else None,
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
        plan.scheme.value,
        plan.field,
        plan.transfer_from,
        plan.transfer_reason.value if plan.transfer_reason else None,
        plan.applied_on,
        plan.operation,
    )
    await project_plan_statistics(conn, id, state)
    await project_plan_early_returns(conn, id, state)  # issue 25
    await project_plan_terms(conn, id, state)
    await project_plan_fees(conn, id, state)
    await project_plan_pauses(conn, id, state)


# Plan changes (issue 20): the terms in force and their history


def plan_change_members(state: tp.AppliedPlan) -> dict[str, Any]:
    """The version of the plan's terms, and its changes and minor-change notices (oldest first)."""
    return {
        "terms_version": state.terms_version,
        "changes": [
            {
                "id": str(c.id),
                "kind": c.kind,
                "status": c.status,
                "on": c.on.isoformat(),
                "reason": c.reason,
                "changes": c.changes.model_dump(mode="json", exclude_none=True),
                "certified_on": c.certified_on.isoformat() if c.certified_on else None,
                "rejection_reason": c.rejection_reason,
                "terms_version": c.terms_version,
            }
            for c in state.change_history
        ],
    }


async def project_plan_terms(conn: asyncpg.Connection, id: str, state: tp.AppliedPlan) -> None:
    """A certified change moves the plan's period or job in the columns the counts read (quotas, the trainee's
    plans, field limits); the insert above keeps them as first applied."""
    if not state.change_history:
        return
    plan = state.application
    await conn.execute(
        "UPDATE training_plans SET start_date = $2, end_date = $3, job_category = $4, operation = $5 WHERE id = $1"
        " AND (start_date, end_date, job_category, operation) IS DISTINCT FROM ($2, $3, $4, $5)",
        UUID(id),
        plan.start_date,
        plan.end_date,
        plan.job_category,
        plan.operation,
    )


# What certification counts (in the command's transaction, under its locks)


async def trainee_plans(conn: asyncpg.Connection, plan_id: str, trainee_id: UUID) -> tuple[OtherPlan, ...]:
    """The trainee's other plans that were ever certified."""
    rows = await conn.fetch(
        "SELECT id, stage, job_category, start_date, end_date, status, ended_on, exam_result, scheme, applied_on,"
        " implementing_organization_id, field, operation, coalesce((document->>'paused_days')::int, 0) AS paused_days"
        " FROM training_plans"
        " WHERE trainee_id = $1 AND id <> $2 AND status = ANY($3::text[])",
        trainee_id,
        UUID(plan_id),
        [
            PlanStatus.CERTIFIED,
            PlanStatus.COMPLETED,
            PlanStatus.DISCONTINUED,
            PlanStatus.REVOKED,
            PlanStatus.TRANSFERRED,
        ],
    )
    return tuple(
        OtherPlan(
            stage=Stage(r["stage"]) if r["stage"] else None,
            job_category=r["job_category"],
            start_date=r["start_date"],
            end_date=r["end_date"],
            status=PlanStatus(r["status"]),
            ended_on=r["ended_on"],
            exam_result=ExamResult(r["exam_result"]) if r["exam_result"] else None,
            scheme=Scheme(r["scheme"]),
            applied_on=r["applied_on"],
            id=r["id"],
            implementing_organization_id=r["implementing_organization_id"],
            field=r["field"],
            operation=r["operation"],
            paused_days=r["paused_days"],
        )
        for r in rows
    )


async def transfer_source_supervising_organization(conn: asyncpg.Connection, plan_id: UUID) -> UUID | None:
    """The supervising organization of the plan a TITP transfer continues (after any reassignment of it)."""
    found: UUID | None = await conn.fetchval(
        "SELECT supervising_organization_id FROM training_plans WHERE id = $1", plan_id
    )
    return found


async def plans_in_force(conn: asyncpg.Connection, plan_id: str, plan: PlanDetails) -> int:
    """The implementing organization's certified plans whose period overlaps this plan's: of the same stage
    (TITP), or of ESD (an ESD plan)."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM training_plans WHERE implementing_organization_id = $1 AND scheme = $6"
        " AND ($2::text IS NULL OR stage = $2)"
        " AND status = 'certified' AND id <> $3 AND start_date <= $5 AND end_date >= $4",
        plan.implementing_organization_id,
        plan.stage.value if plan.stage else None,
        UUID(plan_id),
        plan.start_date,
        plan.end_date,
        plan.scheme.value,
    )
    return count


async def latest_revocation(conn: asyncpg.Connection, implementing_organization_id: UUID, on: date) -> date | None:
    """Art. 10: the latest day, by `on`, a plan of the implementing organization had its certification revoked."""
    revoked: date | None = await conn.fetchval(
        "SELECT max(ended_on) FROM training_plans WHERE implementing_organization_id = $1 AND status = 'revoked'"
        " AND ended_on <= $2",
        implementing_organization_id,
        on,
    )
    return revoked


async def field_trainees(
    conn: asyncpg.Connection, plan_id: str, plan: PlanDetails, operations: Sequence[str], job_categories: Sequence[str]
) -> int:
    """The implementing organization's certified TITP plans (any stage) overlapping this one in a field with a
    limit: of one of its `operations`, or, for plans applied for before plans named one, of its job categories."""
    count: int = await conn.fetchval(
        "SELECT count(*) FROM training_plans WHERE implementing_organization_id = $1 AND scheme = 'titp'"
        " AND status = 'certified' AND id <> $2 AND start_date <= $4 AND end_date >= $3"
        " AND (operation = ANY($5::text[]) OR (operation IS NULL AND job_category = ANY($6::text[])))",
        plan.implementing_organization_id,
        UUID(plan_id),
        plan.start_date,
        plan.end_date,
        list(operations),
        list(job_categories),
    )
    return count


async def esd_workers_on(
    conn: asyncpg.Connection, plan_id: str, implementing_organization_id: UUID, day: date, metropolitan: frozenset[str]
) -> tuple[int, int, int]:
    """The employer's ESD plans in force on `day`; of them, transfers at the worker's own wish; and of those,
    transfers from an employer in a designated area (the receiving employer's caps).

    The previous employers' prefectures are counted per value and classified here (`designated_area`): the local
    view holds names for organizations the registry told of before issue 19 and JIS codes since."""
    rows = await conn.fetch(
        """
        SELECT o.prefecture, count(*) AS workers, count(*) FILTER (WHERE p.transfer_reason = $4) AS own_wish
          FROM training_plans p
          LEFT JOIN training_plans f ON f.id = p.transfer_from
          LEFT JOIN registry_implementing_organizations o ON o.id = f.implementing_organization_id
         WHERE p.implementing_organization_id = $1 AND p.scheme = 'esd' AND p.status = 'certified' AND p.id <> $2
           AND p.start_date <= $3 AND p.end_date >= $3
         GROUP BY o.prefecture
        """,
        implementing_organization_id,
        UUID(plan_id),
        day,
        TransferReason.OWN_WISH.value,
    )
    workers = sum(r["workers"] for r in rows)
    own_wish = sum(r["own_wish"] for r in rows)
    from_designated = sum(r["own_wish"] for r in rows if designated_area(r["prefecture"], metropolitan))
    return workers, own_wish, from_designated


def counted_in_year(first: str, last: str) -> str:
    """A worker counts against a field's national cap in a fiscal year (from `first` to `last`) when one of
    their ESD plans in the field, once certified, runs in it: from its start to its end, or the day it ended."""
    return (
        "scheme = 'esd' AND status IN ('certified', 'completed', 'transferred', 'discontinued', 'revoked')"
        f" AND start_date <= {last} AND least(end_date, coalesce(ended_on, end_date)) >= {first}"
        " AND coalesce(ended_on, end_date) >= start_date"
    )


def _fiscal_year_span(year: int) -> tuple[date, date]:
    return fiscal_year_start(year), fiscal_year_start(year + 1) - timedelta(days=1)


async def field_workers(conn: asyncpg.Connection, field: str, trainee_id: UUID, years: Sequence[int]) -> dict[int, int]:
    """Per fiscal year: the other workers counted against the field's national cap."""
    found = {}
    for year in years:
        found[year] = await conn.fetchval(
            "SELECT count(DISTINCT trainee_id) FROM training_plans WHERE field = $1 AND trainee_id <> $2"
            f" AND {counted_in_year('$3', '$4')}",
            field,
            trainee_id,
            *_fiscal_year_span(year),
        )
    return found


async def workers_per_field(pool: asyncpg.Pool, year: int) -> dict[str, int]:
    """Per field: the workers counted against its national cap in the fiscal year (GET /v1/esd/fields)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"SELECT field, count(DISTINCT trainee_id) AS n FROM training_plans WHERE {counted_in_year('$1', '$2')}"
            " GROUP BY field",
            *_fiscal_year_span(year),
        )
    return {r["field"]: r["n"] for r in rows}


async def trainee_known(conn: asyncpg.Connection, trainee_id: UUID) -> bool:
    return bool(await conn.fetchval("SELECT EXISTS (SELECT 1 FROM training_plans WHERE trainee_id = $1)", trainee_id))


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
            document = await conn.fetchval(f"SELECT {SHOWN} FROM training_plans WHERE id = $2", today, id)
        else:
            events = await store.read_stream(conn, str(id), until=until)
            state = tp.replay(store.types.parse(e.type, e.data) for e in events)
            document = (
                training_plan_document(
                    str(id),
                    state,
                    events[-1].streamversion,
                    as_of=as_of or today,
                    recorded_passes=await passes(conn, state.application.trainee_id),
                )
                if isinstance(state, tp.AppliedPlan)
                else None
            )
        if document is None:
            return None
        [shown] = await personal_data.shown(conn, [document])
        shown["difficulty_notices"] = await difficulty_notices(conn, id, until=until)  # its Art. 19 notices
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
    scheme: Scheme | None = None,
    field: str | None = None,
    first_year_exams_missing: bool | None = None,
    needs_new_supervising_organization: bool | None = None,
    flagged_by: date | None = None,
    after: UUID | None = None,
    organization: str | None = None,
    limit: int,
) -> list[dict[str, Any]]:
    """Plans as readers see them on the day `today` (status, first-year flag), filtered, in id order after
    `after`, at most `limit`; only those naming `organization` (as implementing or supervising organization)
    when given. With `flagged_by`: only plans in force flagged for a new supervising organization by that day and
    not reassigned since (the worklist of flags nobody acted on)."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"""
            SELECT {SHOWN} AS document FROM training_plans
             WHERE ($2::uuid IS NULL OR implementing_organization_id = $2)
               AND ($3::uuid IS NULL OR supervising_organization_id = $3)
               AND ($4::uuid IS NULL OR trainee_id = $4)
               AND ($5::text IS NULL OR {SHOWN_STATUS} = $5)
               AND ($6::text IS NULL OR stage = $6)
               AND ($7::bool IS NULL OR (document->>'new_supervising_organization_required' IS NOT NULL) = $7)
               AND ($8::uuid IS NULL OR id > $8)
               AND ($9::text IS NULL
                    OR implementing_organization_id::text = $9 OR supervising_organization_id::text = $9)
               AND ($11::text IS NULL OR scheme = $11)
               AND ($12::text IS NULL OR field = $12)
               AND ($13::bool IS NULL OR {FIRST_YEAR_EXAMS_MISSING} = $13)
               AND ($14::date IS NULL OR (status = 'certified'
                    AND (document->'new_supervising_organization_required'->>'since')::date <= $14))
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
            scheme.value if scheme else None,
            field,
            first_year_exams_missing,
            flagged_by,
        )
        return await personal_data.shown(conn, [r["document"] for r in rows])
