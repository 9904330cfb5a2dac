"""Statistics of training plans (DOMAIN §8), kept in the same transaction as the plans' events.

A plan counts once it is certified, under its dimensions: the trainee's nationality, the job
group of its job category, its stage (`none` for an ESD plan, which has none), its training type,
its implementing organization's prefecture (its JIS X 0401 code; plans counted before issue 19 may be under the
name the registry's event carried, which the routes read as the same prefecture) and its scheme (titp, esd).
It counts in:

- `plans_certified`: the month of its certification;
- `trainees_in_progress`: every month on whose last day it is in progress: certified, started,
  not past its end date, and not completed, discontinued or revoked on or before that day
  (a trainee has one plan in progress at a time, so plans in progress count trainees);
- `plans_revoked` and `implementing_organizations_with_plans_revoked` (by organization): the
  fiscal year of its revocation. Revoking an implementing organization (DOMAIN §8) is revoking
  the certification of its plans (Art. 16), so the organizations counted per fiscal year are
  those with at least one plan revoked in it;
- `transfers` (issue 20): the month the trainee moved (`TrainingPlanTransferred.transferred_on`, the new plan's
  start), counted once on the plan left, by reason, scheme and stage (`TRANSFER_DIMENSIONS`);
- `disappearances`: the month of a discontinuation for the trainee's disappearance, by scheme, stage and
  nationality (`DISAPPEARANCE_DIMENSIONS`); `deaths` likewise for a death (issue 25);
- `disappearances_and_deaths_per_employer` (issue 25): the fiscal year of a disappearance or a death, by kind
  (disappearance, death), implementing organization and scheme (`LOSS_DIMENSIONS`).
Plans that ended so before issue 20 count once an event of theirs is projected again (a rebuild).
"""

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import asyncpg

from contracts.accreditation import (
    DiscontinuationReason,
    TrainingPlanDiscontinued,
    TrainingPlanRevoked,
    TrainingPlanTransferred,
)
from services.accreditation.domain.rules import prefecture_code
from services.accreditation.domain.training_plan import AppliedPlan, TrainingPlan
from shared import reference
from shared.dates import add_months, fiscal_year, fiscal_year_start, last_day, month_start
from shared.statistics import Key, count_entity, totals

DIMENSIONS = ("nationality", "job_group", "stage", "training_type", "prefecture", "scheme")
PREFECTURE = DIMENSIONS.index("prefecture")
UNKNOWN = "unknown"
NO_STAGE = "none"  # an ESD plan's stage

# The job groups DOMAIN §8 gives the mix by; every other job category is in "other".
JOB_GROUPS = {
    "construction": "construction",
    "food manufacturing": "food",
    "machinery and metal": "machinery_metal",
    "agriculture": "agriculture",
    "textiles and clothing": "textiles",
}
OTHER = "other"

PLANS_CERTIFIED = "plans_certified"
TRAINEES_IN_PROGRESS = "trainees_in_progress"
PLANS_REVOKED = "plans_revoked"
ORGANIZATIONS_WITH_PLANS_REVOKED = "implementing_organizations_with_plans_revoked"
TRANSFERS = "transfers"
TRANSFER_DIMENSIONS = ("reason", "scheme", "stage")
DISAPPEARANCES = "disappearances"
DISAPPEARANCE_DIMENSIONS = ("scheme", "stage", "nationality")
DEATHS = "deaths"  # issue 25: by DISAPPEARANCE_DIMENSIONS
LOSSES_PER_EMPLOYER = "disappearances_and_deaths_per_employer"
LOSS_DIMENSIONS = ("kind", "implementing_organization_id", "scheme")
LOSSES = (DiscontinuationReason.DISAPPEARANCE, DiscontinuationReason.DEATH)


def job_group(job_category: str) -> str:
    return JOB_GROUPS.get(job_category, OTHER)


def plan_facts(state: TrainingPlan, prefecture: str | None) -> dict[str, Any] | None:
    """What the plan counts by, as JSON; None while it is not certified (or was never)."""
    if not isinstance(state, AppliedPlan) or state.certified_on is None:
        return None
    plan, ended_on = state.application, state.ended_on
    return {
        "dimensions": [
            plan.trainee.nationality,
            job_group(plan.job_category),
            plan.stage.value if plan.stage else NO_STAGE,
            plan.training_type.value,
            prefecture_code(prefecture) or UNKNOWN,
            plan.scheme.value,
        ],
        "implementing_organization_id": str(plan.implementing_organization_id),
        "certified_on": state.certified_on.isoformat(),
        "start_date": plan.start_date.isoformat(),
        "end_date": plan.end_date.isoformat(),
        "ended_on": ended_on.isoformat() if ended_on else None,
        "revoked": isinstance(state.ending, TrainingPlanRevoked),
        **_moved_or_disappeared(state),
    }


def _moved_or_disappeared(state: AppliedPlan) -> dict[str, Any]:
    """Only when it ended so (the facts of other plans stay as they were before issue 20)."""
    plan, ending = state.application, state.ending
    stage = plan.stage.value if plan.stage else NO_STAGE
    if isinstance(ending, TrainingPlanTransferred):
        return {"transfer": [ending.transferred_on.isoformat(), ending.reason.value, plan.scheme.value, stage]}
    if isinstance(ending, TrainingPlanDiscontinued) and ending.reason in LOSSES:
        on, kind = ending.discontinued_on.isoformat(), ending.reason.value
        return {
            kind: [on, plan.scheme.value, stage, plan.trainee.nationality],
            "loss": [on, kind, str(plan.implementing_organization_id), plan.scheme.value],  # issue 25: per employer
        }
    return {}


def plan_keys(facts: dict[str, Any]) -> dict[Key, int]:
    dimensions = tuple(facts["dimensions"])
    day = date.fromisoformat
    keys: dict[Key, int] = {(PLANS_CERTIFIED, month_start(day(facts["certified_on"])), dimensions): 1}
    start, last = day(facts["start_date"]), day(facts["end_date"])
    if facts["ended_on"]:
        last = min(last, day(facts["ended_on"]) - timedelta(days=1))
    month = month_start(start)
    while last_day(month, 1) <= last:  # the month's last day is on or after the start: it is in progress then
        keys[(TRAINEES_IN_PROGRESS, month, dimensions)] = 1
        month = add_months(month, 1)
    if facts["revoked"]:
        year = fiscal_year_start(fiscal_year(day(facts["ended_on"])))
        keys[(PLANS_REVOKED, year, dimensions)] = 1
        keys[(ORGANIZATIONS_WITH_PLANS_REVOKED, year, (facts["implementing_organization_id"],))] = 1
    for measure, name in ((TRANSFERS, "transfer"), (DISAPPEARANCES, "disappearance"), (DEATHS, "death")):
        if moved := facts.get(name):
            on, *dimensions = moved
            keys[(measure, month_start(day(on)), tuple(dimensions))] = 1
    if loss := facts.get("loss"):
        on, *dimensions = loss
        keys[(LOSSES_PER_EMPLOYER, fiscal_year_start(fiscal_year(day(on))), tuple(dimensions))] = 1
    return keys


async def project_plan_statistics(conn: asyncpg.Connection, id: str, state: TrainingPlan) -> None:
    prefecture = None
    if isinstance(state, AppliedPlan) and state.certified_on is not None:
        prefecture = await conn.fetchval(
            "SELECT prefecture FROM registry_implementing_organizations WHERE id = $1",
            state.application.implementing_organization_id,
        )
    await count_entity(conn, id, plan_facts(state, prefecture), plan_keys)


# What the statistics routes read


async def monthly(
    pool: asyncpg.Pool, measure: str, months: Sequence[date], *, by: int | None, where: list[str | None]
) -> dict[date, dict[str | None, int]]:
    """Per month of `months`: the count of `measure` per value of the dimension `by` (one total under None
    when not split), over the plans whose dimensions equal `where` (None: any).

    A prefecture, in `where` or as `by`, is one prefecture however it is spelled: the plans counted before issue 19
    are under the name the registry's event carried ("Tokyo"), those since under the code ("13")."""
    prefecture = where[PREFECTURE]
    spellings: list[str | None] = [None] if prefecture is None else [*prefecture_spellings(prefecture)]
    found: dict[date, dict[str | None, int]] = {month: {} for month in months}
    async with pool.acquire() as conn:
        for spelling in spellings:
            one = [*where[:PREFECTURE], spelling, *where[PREFECTURE + 1 :]]
            for month, value, n in await totals(conn, measure, months[0], months[-1], by=by, where=one):
                if by == PREFECTURE and value is not None and value != UNKNOWN:
                    value = prefecture_code(value)
                found[month][value] = found[month].get(value, 0) + n
    for counts in found.values():  # a name and its code that cancel out (a plan re-counted) are no prefecture
        for value in [v for v, n in counts.items() if n == 0]:
            del counts[value]
    return found


def prefecture_spellings(value: str) -> list[str]:
    """The values a prefecture may be counted under: its code, and the names (English, Japanese) the registry's
    events carried before issue 19; a value naming no prefecture (or "unknown") only as given."""
    found = reference.prefecture(value)
    if found is None:
        return [value]
    return list(dict.fromkeys((found.code, found.name, found.name_ja)))


async def revocations(pool: asyncpg.Pool, first: date, last: date) -> tuple[dict[date, int], dict[date, int]]:
    """Per fiscal year from the one starting on `first` to the one starting on `last`: the plans revoked, and
    the implementing organizations with at least one plan revoked."""
    async with pool.acquire() as conn:
        plans = await totals(conn, PLANS_REVOKED, first, last, where=[None] * len(DIMENSIONS))
        organizations = await totals(conn, ORGANIZATIONS_WITH_PLANS_REVOKED, first, last, by=0, where=[None])
    plans_in = {period: n for period, _, n in plans}
    organizations_in: dict[date, int] = {}
    for period, _, n in organizations:
        if n > 0:
            organizations_in[period] = organizations_in.get(period, 0) + 1
    return plans_in, organizations_in


async def monthly_events(
    pool: asyncpg.Pool, measure: str, months: Sequence[date], *, by: int | None, where: list[str | None]
) -> dict[date, dict[str | None, int]]:
    """Per month of `months`: the count of `measure` (transfers, disappearances) per value of the dimension `by`
    (one total under None when not split), over the keys whose dimensions equal `where` (None: any)."""
    found: dict[date, dict[str | None, int]] = {month: {} for month in months}
    async with pool.acquire() as conn:
        for month, value, n in await totals(conn, measure, months[0], months[-1], by=by, where=where):
            found[month][value] = found[month].get(value, 0) + n
    return found


async def losses_per_employer(
    pool: asyncpg.Pool, first: date, last: date, *, scheme: str | None, implementing_organization_id: str | None
) -> dict[date, dict[str, dict[str, int]]]:
    """Per fiscal year (its first day) from the one starting on `first` to the one on `last`: per implementing
    organization, its disappearances and deaths."""
    found: dict[date, dict[str, dict[str, int]]] = {}
    async with pool.acquire() as conn:
        for kind in LOSSES:
            where = [kind.value, implementing_organization_id, scheme]
            for year, employer, n in await totals(conn, LOSSES_PER_EMPLOYER, first, last, by=1, where=where):
                assert employer is not None, "split by employer"
                counted = found.setdefault(year, {}).setdefault(employer, {k.value: 0 for k in LOSSES})
                counted[kind.value] += n
    return found
