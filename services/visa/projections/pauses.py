"""The pauses of the trainees' plans as titp.accreditation.v1 told them (issue 25 item 3), and what immigration reads
of a trainee: the status of residence held and the plans behind it, paused or not. A pause never cancels the status
of residence: nothing here changes a visa or a change of status."""

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from contracts.accreditation import PausePeriod, TrainingPlanPaused, TrainingPlanResumed
from shared.dates import last_day
from shared.errors import NotFound


def with_pause(pauses: list[dict[str, Any]], event: TrainingPlanPaused | TrainingPlanResumed) -> list[dict[str, Any]]:
    """The plan's pauses after the event; the same again changes nothing (a redriven event)."""
    start = event.paused_on.isoformat()
    others = [p for p in pauses if p["from"] != start]
    resumed = event.resumed_on.isoformat() if isinstance(event, TrainingPlanResumed) else None
    known = next((p for p in pauses if p["from"] == start), None)
    if known is not None and resumed is None:
        return pauses
    entry = {"from": start, "resumed_on": resumed, "reason": event.reason.value}
    return sorted([*others, entry], key=lambda p: str(p["from"]))


async def record_pause(
    conn: asyncpg.Connection, plan_id: UUID, event: TrainingPlanPaused | TrainingPlanResumed
) -> None:
    """In the subscription's transaction, after the plan's header was recorded (`known.record_plan_event`)."""
    pauses = await conn.fetchval("SELECT pauses FROM known_training_plans WHERE id = $1 FOR UPDATE", plan_id)
    if pauses is None:
        return
    await conn.execute(
        "UPDATE known_training_plans SET pauses = $2 WHERE id = $1", plan_id, with_pause(list(pauses), event)
    )


def period(pause: dict[str, Any]) -> PausePeriod:
    """A pause as stored here (`from`, `resumed_on`)."""
    resumed = pause["resumed_on"]
    return PausePeriod(
        paused_on=date.fromisoformat(pause["from"]), resumed_on=date.fromisoformat(resumed) if resumed else None
    )


def _shown_pause(pause: dict[str, Any]) -> dict[str, Any]:
    until = period(pause).until
    return {**pause, "until": until.isoformat() if until else None}


def _paused_since(pauses: list[dict[str, Any]], status: str, day: date) -> date | None:
    """The first day of the pause covering `day`, for a plan still certified."""
    if status != "certified":
        return None
    return next((p.paused_on for p in map(period, pauses) if p.covers(day)), None)


async def residence_of(pool: asyncpg.Pool, trainee_id: UUID, day: date) -> dict[str, Any]:
    """The trainee as immigration sees them on `day`: the latest status of residence granted here (a visa or a change
    of status) with its period of stay, and the trainee's plans as accreditation told them, with their pauses; 404 for
    a trainee with no plan known."""
    async with pool.acquire() as conn:
        plans = await conn.fetch(
            "SELECT id, scheme, stage, status, start_date, end_date, ended_on, pauses FROM known_training_plans"
            " WHERE trainee_id = $1 ORDER BY start_date, id",
            trainee_id,
        )
        grants = await conn.fetch(
            "SELECT 'visa' AS kind, id, training_plan_id, state, (state->>'issued_on')::date AS granted_on FROM visas"
            " WHERE trainee_id = $1 AND (state->>'issued_on')::date <= $2"
            " UNION ALL SELECT 'status_change', id, training_plan_id, state, (state->>'decided_on')::date"
            " FROM status_changes WHERE trainee_id = $1 AND (state->>'decided_on')::date <= $2"
            " ORDER BY granted_on DESC, kind DESC LIMIT 1",
            trainee_id,
            day,
        )
    if not plans:
        raise NotFound("trainee", trainee_id)
    held = None
    if grants:
        [grant] = grants
        state = grant["state"]
        months = state["period_of_stay_months"]
        held = {
            "granted_by": grant["kind"],
            "id": grant["id"],
            "training_plan_id": grant["training_plan_id"],
            "scheme": state["scheme"],
            "stage": state.get("stage", state.get("to_stage")),
            "status_of_residence": state["status_of_residence"],
            "granted_on": grant["granted_on"],
            "period_of_stay_months": months,
            "period_of_stay_until": last_day(grant["granted_on"], months),
        }
    return {
        "trainee_id": trainee_id,
        "as_of": day,
        "status_of_residence": held,
        "training_plans": [
            {
                "training_plan_id": p["id"],
                "scheme": p["scheme"],
                "stage": p["stage"],
                "status": p["status"],
                "start_date": p["start_date"],
                "end_date": p["end_date"],
                "ended_on": p["ended_on"],
                "paused": (since := _paused_since(p["pauses"], p["status"], day)) is not None,
                "paused_since": since,
                "pauses": [_shown_pause(pause) for pause in p["pauses"]],
            }
            for p in plans
        ],
    }
