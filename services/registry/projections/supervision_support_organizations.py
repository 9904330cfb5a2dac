"""Read models of supervision support organizations (ESD) and the quarterly audit reports they file: written in
the same transaction as their events, and the queries behind their GET routes, the expiry sweep and the
statistics."""

from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from services.registry.domain.identity import prefecture_code
from services.registry.domain.permit import Lifecycle, status_on
from services.registry.domain.rules import SupervisionSupportRules
from services.registry.domain.supervision_support_organization import SupervisionSupportOrganization
from services.registry.projections.corporate_numbers import hold_corporate_number
from services.registry.projections.disclosure import project_disclosure
from services.registry.projections.prefectures import prefecture_forms
from services.registry.projections.reading import read_state
from shared.commands import Aggregate, CommandRunner

_state = TypeAdapter(SupervisionSupportOrganization)
# The audit reports have a table of their own (`quarterly_audit_reports`); the organization's row leaves them out.
_NOT_IN_ROW = {"audit_reports"}

# The SQL twin of `domain.permit.expiry_due` on this table, as `supervising_organizations.EXPIRY_DUE` is on
# the TITP one (tests/integration/test_registry_esd_rules_sql.py checks that both answer alike).
EXPIRY_DUE = "lifecycle = 'active' AND expires_on < $1"


def load_state(raw: dict[str, Any]) -> SupervisionSupportOrganization:
    return _state.validate_python(raw)


def supervision_support_organization_document(
    id: str, state: SupervisionSupportOrganization, version: int, day: date
) -> dict[str, Any]:
    """What clients see (api.schemas.SupervisionSupportOrganizationDocument): the application, the permit, and
    its status on `day`; the audit reports are listed on their own route."""
    facts = _state.dump_python(state, mode="json", exclude=_NOT_IN_ROW)
    application = facts.pop("application")
    application["prefecture"] = prefecture_code(application["prefecture"])  # a row written before issue 19: a name
    return {
        "id": id,
        "scheme": "esd",
        **application,
        **facts,
        "status": status_on(state, day),
        "status_on": day.isoformat(),
        "version": version,
    }


async def project_supervision_support_organization(
    conn: asyncpg.Connection, id: str, state: SupervisionSupportOrganization, version: int
) -> None:
    application = state.application
    assert application is not None and state.lifecycle is not None, "an event before the application"
    await hold_corporate_number(
        conn, application.corporate_number, id, state.lifecycle, "supervision_support_organization"
    )
    await conn.execute(
        """
        INSERT INTO supervision_support_organizations (id, name, corporate_number, prefecture, lifecycle, excellent,
                                                       expires_on, state, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (id) DO UPDATE SET lifecycle = excluded.lifecycle, excellent = excluded.excellent,
            expires_on = excluded.expires_on, state = excluded.state, version = excluded.version
        """,
        id,
        application.name,
        application.corporate_number,
        application.prefecture,
        state.lifecycle.value,
        state.excellent,
        state.expires_on,
        _state.dump_python(state, mode="json", exclude=_NOT_IN_ROW),
        version,
    )
    if state.audit_reports:
        reports = state.audit_reports
        await conn.execute(
            """
            INSERT INTO quarterly_audit_reports (report_id, supervision_support_organization_id,
                                                 implementing_organization_id, quarter_ending, filed_on, workers,
                                                 workers_interviewed)
            SELECT r, $1, i, q, f, w, n
              FROM unnest($2::uuid[], $3::uuid[], $4::date[], $5::date[], $6::int[], $7::int[]) AS t(r, i, q, f, w, n)
            ON CONFLICT (report_id) DO NOTHING
            """,
            id,
            [r.report_id for r in reports],
            [r.implementing_organization_id for r in reports],
            [r.quarter_ending for r in reports],
            [r.filed_on for r in reports],
            [r.workers for r in reports],
            [r.workers_interviewed for r in reports],
        )
    await project_disclosure(conn, id, state)


async def read_supervision_support_organization(
    pool: asyncpg.Pool,
    runner: CommandRunner,
    aggregate: Aggregate[SupervisionSupportOrganization],
    id: UUID,
    until: datetime | None,
    day: date,
) -> dict[str, Any] | None:
    """The organization's document with its status on `day`: as its read model holds it, or with `until`
    as recorded by then; None if it had not applied."""
    found = await read_state(pool, runner, "supervision_support_organizations", aggregate, load_state, id, until)
    return supervision_support_organization_document(str(id), *found, day) if found else None


async def list_supervision_support_organizations(
    db: asyncpg.Pool,
    *,
    day: date,
    lifecycle: Lifecycle | None,
    prefecture: str | None,
    corporate_number: str | None,
    after: UUID | None,
    only: str | None,
    limit: int,
    recorded_by: tuple[CommandRunner, Aggregate[SupervisionSupportOrganization], datetime] | None = None,
) -> list[dict[str, Any]]:
    """Documents in id order after `after`, at most `limit`; `only`: the one organization a caller may see.
    With `recorded_by` (runner, aggregate, time) each is as recorded by then, and `lifecycle` filters on that."""
    if recorded_by is not None:
        return await _listed_as_recorded_by(
            db, recorded_by, day, lifecycle, prefecture, corporate_number, after, only, limit
        )
    rows = await _rows(db, lifecycle, prefecture, corporate_number, after, only, limit)
    return [
        supervision_support_organization_document(str(r["id"]), load_state(r["state"]), r["version"], day) for r in rows
    ]


async def _rows(
    db: asyncpg.Pool | asyncpg.Connection,
    lifecycle: Lifecycle | None,
    prefecture: str | None,
    corporate_number: str | None,
    after: UUID | None,
    only: str | None,
    limit: int,
) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await db.fetch(
        """
        SELECT id, state, version FROM supervision_support_organizations
         WHERE ($1::text IS NULL OR lifecycle = $1) AND ($2::text[] IS NULL OR prefecture = ANY($2))
           AND ($3::text IS NULL OR corporate_number = $3) AND ($4::uuid IS NULL OR id > $4)
           AND ($5::text IS NULL OR id::text = $5)
         ORDER BY id LIMIT $6
        """,
        lifecycle.value if lifecycle else None,
        prefecture_forms(prefecture),
        corporate_number,
        after,
        only,
        limit,
    )
    return rows


async def _listed_as_recorded_by(
    db: asyncpg.Pool,
    recorded_by: tuple[CommandRunner, Aggregate[SupervisionSupportOrganization], datetime],
    day: date,
    lifecycle: Lifecycle | None,
    prefecture: str | None,
    corporate_number: str | None,
    after: UUID | None,
    only: str | None,
    limit: int,
) -> list[dict[str, Any]]:
    # Replays each candidate's stream up to the time: meant for the occasional look into the past.
    runner, aggregate, until = recorded_by
    found: list[dict[str, Any]] = []
    async with db.acquire() as conn:
        while len(found) < limit:
            rows = await _rows(conn, None, prefecture, corporate_number, after, only, limit)
            for row in rows:
                state, version = await runner.load(conn, aggregate, str(row["id"]), until=until)
                if state.exists and (lifecycle is None or state.lifecycle is lifecycle):
                    found.append(supervision_support_organization_document(str(row["id"]), state, version, day))
                    if len(found) == limit:
                        break
            if len(rows) < limit:
                break
            after = rows[-1]["id"]
    return found


async def support_expiry_due_ids(conn: asyncpg.Connection, as_of: date) -> list[UUID]:
    """The organizations whose expiry is due on `as_of` (`EXPIRY_DUE`), in id order."""
    return [
        r["id"]
        for r in await conn.fetch(
            f"SELECT id FROM supervision_support_organizations WHERE {EXPIRY_DUE} ORDER BY id", as_of
        )
    ]


async def support_permit_counts(db: asyncpg.Pool, prefecture: str | None) -> dict[str, Any]:
    """ESD permits by status as recorded, and how many active ones are rated excellent
    (api.schemas.SupervisionSupportPermitStatistics)."""
    forms = prefecture_forms(prefecture)
    rows = await db.fetch(
        """
        SELECT lifecycle AS status, count(*) AS n, count(*) FILTER (WHERE excellent) AS excellent
          FROM supervision_support_organizations WHERE $1::text[] IS NULL OR prefecture = ANY($1)
         GROUP BY 1 ORDER BY 1
        """,
        forms,
    )
    return {
        "prefecture": forms[0] if forms else None,
        "total": sum(r["n"] for r in rows),
        "permits": {r["status"]: r["n"] for r in rows},
        "active_excellent": next((r["excellent"] for r in rows if r["status"] == Lifecycle.ACTIVE), 0),
    }


# Quarterly audit reports


def audit_report_document(row: asyncpg.Record | dict[str, Any], book: SupervisionSupportRules) -> dict[str, Any]:
    """What clients see (api.schemas.AuditReportDocument): the report, the day it was due and whether it was
    late, by the rules in force (`SupervisionSupportRules.audit_report_late`, the one definition)."""
    quarter_ending, filed_on = row["quarter_ending"], row["filed_on"]
    return {
        "id": row["report_id"],
        "supervision_support_organization_id": row["supervision_support_organization_id"],
        "implementing_organization_id": row["implementing_organization_id"],
        "quarter_ending": quarter_ending,
        "filed_on": filed_on,
        "workers": row["workers"],
        "workers_interviewed": row["workers_interviewed"],
        "due_by": book.audit_report_due_by(quarter_ending),
        "late": book.audit_report_late(quarter_ending, filed_on),
    }


async def list_audit_reports(
    db: asyncpg.Pool,
    *,
    supervision_support_organization_id: UUID,
    implementing_organization_id: UUID | None,
    quarter_ending: date | None,
    after: tuple[date, UUID] | None,
    limit: int,
    book: SupervisionSupportRules,
) -> list[dict[str, Any]]:
    """An organization's reports, newest quarter first (then by report id), after the (quarter, report id)
    `after`, at most `limit`."""
    after_quarter, after_id = after or (None, None)
    rows = await db.fetch(
        """
        SELECT * FROM quarterly_audit_reports
         WHERE supervision_support_organization_id = $1
           AND ($2::uuid IS NULL OR implementing_organization_id = $2) AND ($3::date IS NULL OR quarter_ending = $3)
           AND ($4::date IS NULL OR (quarter_ending, report_id) < ($4, $5))
         ORDER BY quarter_ending DESC, report_id DESC LIMIT $6
        """,
        supervision_support_organization_id,
        implementing_organization_id,
        quarter_ending,
        after_quarter,
        after_id,
        limit,
    )
    return [audit_report_document(r, book) for r in rows]
