"""Pauses of plans in the training plans read model (issue 25 item 3): the document's members, the end date the
counts read (quotas, the trainee's plans), and the days paused that the stage's length and the totals leave out."""

from typing import Any
from uuid import UUID

import asyncpg

from services.accreditation.domain import pauses
from services.accreditation.domain import training_plan as tp


def pause_members(state: tp.AppliedPlan) -> dict[str, Any]:
    """`paused_since` (null unless paused now, as recorded), `pauses` oldest first (`from`, `until` its last day
    paused, `resumed_on`, `days`, `reason`; `detail` sealed, opened for readers by `personal_data.shown`), and
    `paused_days`: the days of the plan's period without training."""
    since = pauses.paused_since(state)
    return {
        "paused_since": since.isoformat() if since else None,
        "pauses": [
            {
                "from": p.paused_on.isoformat(),
                "until": p.until.isoformat() if p.until else None,
                "resumed_on": p.resumed_on.isoformat() if p.resumed_on else None,
                "days": p.days,
                "reason": p.reason.value,
                "detail": p.detail,
            }
            for p in state.pauses
        ],
        "paused_days": pauses.days_not_in_training(state),
    }


async def project_plan_pauses(conn: asyncpg.Connection, id: str, state: tp.AppliedPlan) -> None:
    """A resumption moves the plan's end in the column the counts read (the insert keeps it as first applied)."""
    if not state.pauses:
        return
    await conn.execute(
        "UPDATE training_plans SET end_date = $2 WHERE id = $1 AND end_date <> $2", UUID(id), state.application.end_date
    )


async def own_paused_days(conn: asyncpg.Connection, plan_id: str) -> int:
    """The days the plan was paused, as the read model has them (0 for a plan never paused or not recorded yet)."""
    days: int | None = await conn.fetchval(
        "SELECT (document->>'paused_days')::int FROM training_plans WHERE id = $1", UUID(plan_id)
    )
    return days or 0
