"""Read model of supervising organizations: written in the same transaction as their events, and the
queries behind their GET routes, the expiry sweep and the permit statistics."""

from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from contracts.registry import Officer, PermitType
from services.registry.domain.identity import prefecture_code
from services.registry.domain.supervising_organization import (
    Lifecycle,
    RevokedPermit,
    SupervisingOrganization,
    status_on,
)
from services.registry.projections.corporate_numbers import hold_corporate_number
from services.registry.projections.disclosure import project_disclosure
from services.registry.projections.prefectures import prefecture_forms
from services.registry.projections.reading import read_state
from shared.commands import Aggregate, CommandRunner

_state = TypeAdapter(SupervisingOrganization)

# The SQL twin of `domain.supervising_organization.expiry_due`: recorded active, last day before $1
# (tests/integration/test_registry_expiry_rule.py checks that both answer alike).
EXPIRY_DUE = "lifecycle = 'active' AND expires_on < $1"


def load_state(raw: dict[str, Any]) -> SupervisingOrganization:
    return _state.validate_python(raw)


def supervising_organization_document(
    id: str, state: SupervisingOrganization, version: int, day: date
) -> dict[str, Any]:
    """What clients see (api.schemas.SupervisingOrganizationDocument): the application, the permit, and
    its status on `day`."""
    facts = _state.dump_python(state, mode="json")
    application = facts.pop("application")
    application["prefecture"] = prefecture_code(application["prefecture"])  # a row written before issue 19: a name
    facts["business_reports"] = [
        {**report, "late_days": filed.late_days}
        for report, filed in zip(facts["business_reports"], state.business_reports)
    ]
    return {
        "id": id,
        **application,
        **facts,
        "status": status_on(state, day),
        "status_on": day.isoformat(),
        "version": version,
    }


async def project_supervising_organization(
    conn: asyncpg.Connection, id: str, state: SupervisingOrganization, version: int
) -> None:
    application = state.application
    assert application is not None and state.lifecycle is not None, "an event before the application"
    await hold_corporate_number(conn, application.corporate_number, id, state.lifecycle, "supervising_organization")
    await conn.execute(
        """
        INSERT INTO supervising_organizations (id, name, corporate_number, prefecture, lifecycle, permit_type,
                                               expires_on, state, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, corporate_number = excluded.corporate_number,
            prefecture = excluded.prefecture, lifecycle = excluded.lifecycle, permit_type = excluded.permit_type,
            expires_on = excluded.expires_on, state = excluded.state, version = excluded.version
        """,
        id,
        application.name,
        application.corporate_number,
        application.prefecture,
        state.lifecycle.value,
        state.permit_type.value if state.permit_type else None,
        state.expires_on,
        _state.dump_python(state, mode="json"),
        version,
    )
    await project_disclosure(conn, id, state)


async def read_supervising_organization(
    pool: asyncpg.Pool,
    runner: CommandRunner,
    aggregate: Aggregate[SupervisingOrganization],
    id: UUID,
    until: datetime | None,
    day: date,
) -> dict[str, Any] | None:
    """The organization's document with its status on `day`: as its read model holds it, or with `until`
    as recorded by then; None if it had not applied."""
    found = await read_state(pool, runner, "supervising_organizations", aggregate, load_state, id, until)
    return supervising_organization_document(str(id), *found, day) if found else None


async def list_supervising_organizations(
    db: asyncpg.Pool,
    *,
    day: date,
    lifecycle: Lifecycle | None,
    permit_type: PermitType | None,
    prefecture: str | None,
    after: UUID | None,
    only: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Documents in id order after `after`, at most `limit`; `only`: the one organization a caller may see."""
    rows = await db.fetch(
        """
        SELECT id, state, version FROM supervising_organizations
         WHERE ($1::text IS NULL OR lifecycle = $1) AND ($2::text IS NULL OR permit_type = $2)
           AND ($3::text[] IS NULL OR prefecture = ANY($3)) AND ($4::uuid IS NULL OR id > $4)
           AND ($5::text IS NULL OR id::text = $5)
         ORDER BY id LIMIT $6
        """,
        lifecycle.value if lifecycle else None,
        permit_type.value if permit_type else None,
        prefecture_forms(prefecture),
        after,
        only,
        limit,
    )
    return [supervising_organization_document(str(r["id"]), load_state(r["state"]), r["version"], day) for r in rows]


async def expiry_due_ids(conn: asyncpg.Connection, as_of: date) -> list[UUID]:
    """The organizations whose expiry is due on `as_of` (`EXPIRY_DUE`), in id order."""
    return [
        r["id"]
        for r in await conn.fetch(f"SELECT id FROM supervising_organizations WHERE {EXPIRY_DUE} ORDER BY id", as_of)
    ]


async def revoked_permits(
    conn: asyncpg.Connection, day: date, years: int, *, table: str = "supervising_organizations"
) -> list[RevokedPermit]:
    """The permits revoked in about the `years` before `day` (a day more: the domain counts exactly), as
    recorded in `table` (supervising_organizations, or supervision_support_organizations for ESD): Art. 26."""
    since = day - timedelta(days=366 * years + 1)
    rows = await conn.fetch(
        f"""
        SELECT id, corporate_number, (state->'revocation'->>'revoked_on')::date AS revoked_on,
               coalesce(state->'application'->'officers', '[]'::jsonb) AS officers
          FROM {table} WHERE lifecycle = 'revoked' AND (state->'revocation'->>'revoked_on')::date >= $1
        """,
        since,
    )
    return [
        RevokedPermit(r["id"], r["corporate_number"], r["revoked_on"], tuple(Officer(**o) for o in r["officers"]))
        for r in rows
    ]


async def permit_counts(db: asyncpg.Pool, prefecture: str | None) -> dict[str, Any]:
    """Permits by type and status as recorded; an application not decided yet, or denied, counts under the
    type it asked for (api.schemas.PermitStatistics)."""
    forms = prefecture_forms(prefecture)
    rows = await db.fetch(
        """
        SELECT coalesce(permit_type, state->'application'->>'requested_permit_type') AS permit_type,
               lifecycle AS status, count(*) AS n
          FROM supervising_organizations WHERE $1::text[] IS NULL OR prefecture = ANY($1)
         GROUP BY 1, 2 ORDER BY 1, 2
        """,
        forms,
    )
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        counts.setdefault(row["permit_type"], {})[row["status"]] = row["n"]
    return {"prefecture": forms[0] if forms else None, "total": sum(r["n"] for r in rows), "permits": counts}
