"""Read model: the quarterly audit reports each supervision support organization owes about each employer it
supports under ESD (domain/filings.py), written from the registry's events; and the query behind
`GET /v1/filings` (the filings part of the worklist).

Written so the order the events arrive in does not matter across streams: a report (the support organization's
stream) may come before the support it is about (the employer's stream), and the end of the organization's
permit is read from `organizations.schedule_ended_on` when asked, not copied into the duties.
"""

from datetime import date
from uuid import UUID

import asyncpg

from contracts.registry import Scheme
from services.inspection.api.schemas import FilingDocument
from services.inspection.domain.filings import (
    FilingKind,
    audit_report_due,
    duty_id,
    is_audit_report_overdue,
)


async def support_from(conn: asyncpg.Connection, support_organization_id: UUID, employer_id: UUID, on: date) -> None:
    """From `on` the organization supports the employer under ESD: another organization's support of it ends
    that day; a support of it by this organization that had ended starts again."""
    await conn.execute(
        """
        UPDATE audit_duties SET supported_until = $3
         WHERE implementing_organization_id = $2 AND support_organization_id <> $1 AND supported_until IS NULL
        """,
        support_organization_id,
        employer_id,
        on,
    )
    await conn.execute(
        """
        INSERT INTO audit_duties AS d (support_organization_id, implementing_organization_id, id, supported_from)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (support_organization_id, implementing_organization_id) DO UPDATE
           SET supported_from = CASE WHEN d.supported_until IS NULL
                                     THEN least(d.supported_from, excluded.supported_from)
                                     ELSE excluded.supported_from END,
               supported_until = NULL
        """,
        support_organization_id,
        employer_id,
        duty_id(support_organization_id, employer_id),
        on,
    )


async def record_audit_report(
    conn: asyncpg.Connection,
    report_id: UUID,
    *,
    support_organization_id: UUID,
    employer_id: UUID,
    quarter_ending: date,
    filed_on: date,
) -> None:
    await conn.execute(
        """
        INSERT INTO audit_reports (report_id, support_organization_id, implementing_organization_id, quarter_ending,
                                   filed_on)
        VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING
        """,
        report_id,
        support_organization_id,
        employer_id,
        quarter_ending,
        filed_on,
    )


# The rules of domain/filings.py as SQL on the columns of `_DUTIES` (as of the day `day` names), for the filters.
# tests/integration/test_inspection_esd_filings_overdue.py checks they answer as the domain does on the boundary
# days.


def due_on_sql(supported_from: str, last_quarter_ending: str, months: str) -> str:
    """`audit_report_due`: `months` after the later of the two (greatest() skips a NULL, as `max` a None)."""
    return f"(greatest({supported_from}, {last_quarter_ending}) + make_interval(months => {months}))::date"


def not_ended_sql(day: str) -> str:
    """`not support_ended(day)`."""
    return f"(supported_until IS NULL OR {day} < supported_until)"


def supported_sql(day: str) -> str:
    """`supported_on(day)`."""
    return f"(supported_from <= {day} AND {not_ended_sql(day)})"


def overdue_sql(day: str) -> str:
    """`is_audit_report_overdue(day)`, on `_DUTIES` computed for the same day."""
    return f"({supported_sql(day)} AND due_on < {day})"


# What each duty stands at on day $1 (the reports filed by then), with months $2: the support ends on the day
# another organization took over or the organization's permit ended, whichever came first.
_DUTIES = f"""
    SELECT d.id, d.support_organization_id, d.implementing_organization_id, d.supported_from,
           least(d.supported_until, o.schedule_ended_on) AS supported_until,
           r.last_quarter_ending, r.last_filed_on, coalesce(r.reports_filed, 0) AS reports_filed,
           {due_on_sql("d.supported_from", "r.last_quarter_ending", "$2::int")} AS due_on
      FROM audit_duties d
      LEFT JOIN organizations o ON o.id = d.support_organization_id
      LEFT JOIN LATERAL (
          SELECT max(a.quarter_ending) AS last_quarter_ending, max(a.filed_on) AS last_filed_on,
                 count(*) AS reports_filed
            FROM audit_reports a
           WHERE a.support_organization_id = d.support_organization_id
             AND a.implementing_organization_id = d.implementing_organization_id AND a.filed_on <= $1) r ON true
"""


def filing_document(row: asyncpg.Record, day: date, months: int) -> FilingDocument:
    """What clients see, as of `day`; `due_on` and `overdue` from the domain's rules."""
    due_on = audit_report_due(row["supported_from"], row["last_quarter_ending"], months)
    return FilingDocument(
        id=row["id"],
        kind=FilingKind.QUARTERLY_AUDIT_REPORT,
        scheme=Scheme.ESD,
        supervision_support_organization_id=row["support_organization_id"],
        implementing_organization_id=row["implementing_organization_id"],
        supported_from=row["supported_from"],
        supported_until=row["supported_until"],
        last_quarter_ending=row["last_quarter_ending"],
        last_filed_on=row["last_filed_on"],
        reports_filed=row["reports_filed"],
        due_on=due_on,
        overdue=is_audit_report_overdue(
            day,
            supported_from=row["supported_from"],
            supported_until=row["supported_until"],
            last_quarter_ending=row["last_quarter_ending"],
            months=months,
        ),
        status_on=day,
    )


async def list_filings(
    conn: asyncpg.Connection,
    *,
    day: date,
    months: int,
    kind: FilingKind | None = None,
    support_organization_id: UUID | None = None,
    employer_id: UUID | None = None,
    due_before: date | None = None,
    overdue_as_of: date | None = None,
    after: tuple[date, UUID] | None = None,
    limit: int = 50,
) -> list[FilingDocument]:
    """The filings owed, as of `day` (the reports filed by then): those whose support has not ended by `day` (one
    that starts later included), or with `overdue_as_of` (which is then `day`) those overdue on it;
    `due_before`: next due before that day. Ordered by the due day, then id, after `after`; up to `limit`."""
    if kind not in (None, FilingKind.QUARTERLY_AUDIT_REPORT):
        return []
    after_due, after_id = after or (None, None)
    rows = await conn.fetch(
        f"""
        SELECT * FROM ({_DUTIES}) AS duties
         WHERE {not_ended_sql("$1")}
           AND ($3::uuid IS NULL OR support_organization_id = $3)
           AND ($4::uuid IS NULL OR implementing_organization_id = $4)
           AND ($5::date IS NULL OR due_on < $5)
           AND (NOT $6::boolean OR {overdue_sql("$1")})
           AND ($7::date IS NULL OR (due_on, id) > ($7, $8))
         ORDER BY due_on, id LIMIT $9
        """,
        day,
        months,
        support_organization_id,
        employer_id,
        due_before,
        overdue_as_of is not None,
        after_due,
        after_id,
        limit,
    )
    return [filing_document(row, day, months) for row in rows]
