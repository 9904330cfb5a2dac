"""Visa's local view of training plans, from accreditation's events: an event that is not about the plan's
status (an improvement order, a flag) leaves the status as the events before it set it."""

from datetime import date
from pathlib import Path
from uuid import uuid4

from contracts.accreditation import (
    ExamResult,
    ImprovementOrderClosed,
    ImprovementOrderIssued,
    PlanStatus,
    Stage,
    TrainingPlanCertified,
    TrainingPlanCompleted,
)
from contracts.registry import TrainingType
from services.visa.projections.known import plan_for_update, record_plan_event
from shared.db import create_pool, migrate

MIGRATIONS = Path(__file__).resolve().parents[2] / "services" / "visa" / "migrations"


async def test_an_order_closed_after_the_plan_completed_leaves_it_completed(fresh_database):
    plan_id, order_id = uuid4(), uuid4()
    header = {
        "trainee_id": uuid4(),
        "stage": Stage.I,
        "training_type": TrainingType.A,
        "job_category": "construction",
        "implementing_organization_id": uuid4(),
        "start_date": date(2026, 6, 1),
        "end_date": date(2027, 5, 31),
    }
    pool = await create_pool(fresh_database)
    try:
        await migrate(pool, MIGRATIONS)
        async with pool.acquire() as conn:
            events = [
                TrainingPlanCertified(**header, certified_on=date(2026, 5, 1), rule_set="titp"),
                ImprovementOrderIssued(
                    **header, order_id=order_id, issued_on=date(2027, 1, 10), deadline=date(2027, 3, 1), reason="x"
                ),
                TrainingPlanCompleted(**header, completed_on=date(2027, 5, 31), exam_result=ExamResult.PASSED),
                ImprovementOrderClosed(**header, order_id=order_id, closed_on=date(2027, 6, 2)),
            ]
            statuses = []
            for version, event in enumerate(events, start=1):
                await record_plan_event(conn, plan_id, event, version)
                plan = await plan_for_update(conn, plan_id)
                assert plan is not None
                statuses.append(plan.status)
        # Check: the order keeps the plan certified; closing it after completion keeps it completed.
        assert statuses == [PlanStatus.CERTIFIED, PlanStatus.CERTIFIED, PlanStatus.COMPLETED, PlanStatus.COMPLETED]
    finally:
        await pool.close()
