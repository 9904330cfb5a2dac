"""Read model: the organizations this service knows from other services' events, whether their regular schedule
has started (first inspection scheduled) or ended (permit revoked or expired; an implementing organization with
no plan in force any more), and the scheme it is under; and each implementing organization's certified plans, in
force or ended (`employer_plans`).

Everything here follows from the registry's and accreditation's events alone (never from what the service decided
in reaction), so a replay of their topics writes the same rows.
"""

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from contracts.inspection import CancellationReason, TargetType
from contracts.registry import Scheme

NO_PLANS_IN_FORCE: CancellationReason = "no_plans_in_force"


async def know_organization(
    conn: asyncpg.Connection, id: UUID, target_type: TargetType, scheme: Scheme = Scheme.TITP
) -> None:
    await conn.execute(
        "INSERT INTO organizations (id, target_type, scheme) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        id,
        target_type.value,
        scheme.value,
    )


async def known_scheme(conn: asyncpg.Connection, id: UUID, target_type: TargetType) -> Scheme | None:
    """The scheme of an organization this service has heard of as a `target_type`; None if it has not."""
    scheme = await conn.fetchval(
        "SELECT scheme FROM organizations WHERE id = $1 AND target_type = $2", id, target_type.value
    )
    return Scheme(scheme) if scheme else None


async def target_type_of(conn: asyncpg.Connection, id: UUID) -> TargetType | None:
    target_type = await conn.fetchval("SELECT target_type FROM organizations WHERE id = $1", id)
    return TargetType(target_type) if target_type else None


@dataclass(frozen=True)
class Start:
    """The organization's regular schedule starts: for the first time, or again (`after_end_on`: the day it ended
    for want of plans in force)."""

    after_end_on: date | None = None


async def start_schedule(
    conn: asyncpg.Connection, id: UUID, target_type: TargetType, on: date, scheme: Scheme = Scheme.TITP
) -> Start | None:
    """Record that the organization's regular schedule starts; a Start only if it had not started, or had ended
    for want of plans in force (an implementing organization's next certified plan starts it again); else None.
    A schedule ended by the permit's end stays ended."""
    await conn.execute(
        "INSERT INTO organizations (id, target_type, scheme) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        id,
        target_type.value,
        scheme.value,
    )
    row = await conn.fetchrow(
        "SELECT schedule_started_on, schedule_ended_on, schedule_end_reason FROM organizations WHERE id = $1"
        " FOR UPDATE",
        id,
    )
    if row["schedule_ended_on"] is not None and row["schedule_end_reason"] == NO_PLANS_IN_FORCE:
        start = Start(after_end_on=row["schedule_ended_on"])
    elif row["schedule_started_on"] is None and row["schedule_ended_on"] is None:
        start = Start()
    else:
        return None
    # An organization's scheme only ever turns from titp to esd (an employer's first certified ESD plan): ESD
    # replaces TITP, and one schedule serves both.
    await conn.execute(
        """
        UPDATE organizations SET schedule_started_on = $2, schedule_ended_on = NULL, schedule_end_reason = NULL,
               scheme = CASE WHEN $3 = 'esd' THEN 'esd' ELSE scheme END
         WHERE id = $1
        """,
        id,
        on,
        scheme.value,
    )
    return start


async def note_scheme(conn: asyncpg.Connection, id: UUID, scheme: Scheme) -> None:
    """The organization (already scheduled) has something under `scheme` too: esd from now on if it is ESD."""
    if scheme is Scheme.ESD:
        await conn.execute("UPDATE organizations SET scheme = 'esd' WHERE id = $1 AND scheme <> 'esd'", id)


async def end_schedule(
    conn: asyncpg.Connection, id: UUID, target_type: TargetType, on: date, reason: CancellationReason
) -> None:
    """Nothing more is scheduled for the organization. Holds its row until commit (see `schedule_running`).

    A permit's end is for good: it replaces an end for want of plans, and is not replaced by one."""
    await conn.execute(
        """
        INSERT INTO organizations (id, target_type, schedule_ended_on, schedule_end_reason) VALUES ($1, $2, $3, $4)
        ON CONFLICT (id) DO UPDATE SET
            schedule_ended_on = CASE WHEN organizations.schedule_ended_on IS NULL
                                       OR organizations.schedule_end_reason = 'no_plans_in_force'
                                     THEN excluded.schedule_ended_on ELSE organizations.schedule_ended_on END,
            schedule_end_reason = CASE WHEN organizations.schedule_ended_on IS NULL
                                         OR organizations.schedule_end_reason = 'no_plans_in_force'
                                       THEN excluded.schedule_end_reason ELSE organizations.schedule_end_reason END
        """,
        id,
        target_type.value,
        on,
        reason,
    )


# An implementing organization's plans (DOMAIN §11, §5): its schedule runs while it has a plan in force.


async def plan_certified(conn: asyncpg.Connection, plan_id: UUID, employer_id: UUID, certified_on: date) -> None:
    """A plan of the employer is in force from its certification (until an event ends it)."""
    await conn.execute(
        """
        INSERT INTO employer_plans (plan_id, implementing_organization_id, certified_on) VALUES ($1, $2, $3)
        ON CONFLICT (plan_id) DO UPDATE SET certified_on = excluded.certified_on
        """,
        plan_id,
        employer_id,
        certified_on,
    )


async def plan_ended(conn: asyncpg.Connection, plan_id: UUID, employer_id: UUID, ended_on: date) -> None:
    """The plan is in force no more (completed, discontinued, revoked or transferred), from the first event to say
    so."""
    await conn.execute(
        """
        INSERT INTO employer_plans (plan_id, implementing_organization_id, ended_on) VALUES ($1, $2, $3)
        ON CONFLICT (plan_id) DO UPDATE SET ended_on = coalesce(employer_plans.ended_on, excluded.ended_on)
        """,
        plan_id,
        employer_id,
        ended_on,
    )


async def last_plan_ended_on(conn: asyncpg.Connection, employer_id: UUID) -> date | None:
    """The day the employer's last plan in force ended, if it has none in force any more and had some; None while
    one is in force, and for an employer whose plans this service did not all see (`plans_known`).

    The latest end of all its plans, not the end of the event that came last: a replay, or events of several
    plans arriving out of order, give the same day."""
    return await conn.fetchval(
        """
        SELECT max(p.ended_on) FROM employer_plans p
          JOIN organizations o ON o.id = p.implementing_organization_id AND o.plans_known
         WHERE p.implementing_organization_id = $1 AND p.certified_on IS NOT NULL
        HAVING count(*) FILTER (WHERE p.ended_on IS NULL) = 0
        """,
        employer_id,
    )


async def schedule_running(conn: asyncpg.Connection, inspection_id: UUID) -> tuple[bool, Scheme]:
    """Has the schedule of the inspection's organization not ended, and what scheme is the organization under?

    Shares the organization's row until commit, and is called before the inspection is
    touched: a permit's end (`end_schedule`, then the cancellations) and a completion take
    their locks in the same order, so they take turns instead of deadlocking, and whichever
    comes second sees what the first did.
    """
    row = await conn.fetchrow(
        """
        SELECT o.schedule_ended_on IS NULL AS running, o.scheme FROM inspections i
          JOIN organizations o ON o.id = i.target_id
         WHERE i.id = $1 FOR SHARE OF o
        """,
        inspection_id,
    )
    return (bool(row["running"]), Scheme(row["scheme"])) if row else (False, Scheme.TITP)
