"""Read model: the quarterly audit reports each supervision support organization owes about each employer it
supports under ESD (domain/filings.py), written from the registry's events; and the query behind
`GET /v1/filings` (the filings part of the worklist).

Written so the order the events arrive in does not matter across streams: a report (the support organization's
stream) may come before the support it is about (the employer's stream), and the end of the organization's
permit is read from `organizations.schedule_ended_on` when asked, not copied into the duties.
"""

from datetime import date, timedelta
from uuid import UUID

import asyncpg

from contracts.accreditation import (
    AnnualImplementationReportFiled,
    ImplementationStartNoticeFiled,
    PlanEvent,
    TrainingPlanCertified,
    TrainingPlanCompleted,
    TrainingPlanDiscontinued,
    TrainingPlanReassigned,
    TrainingPlanRevoked,
    TrainingPlanTransferred,
    VisitRecordFiled,
)
from contracts.registry import (
    BusinessReportFiled,
    PermitExpired,
    PermitGranted,
    PermitRenewed,
    PermitRevoked,
    PermitTypeChanged,
    Scheme,
    SupervisionEnded,
)
from services.inspection.api.schemas import FilingDocument
from services.inspection.domain.filings import (
    Duty,
    FilingKind,
    FilingStatus,
    PlanInForce,
    annual_report_duty_id,
    audit_report_due,
    business_report_duties,
    business_report_duty_id,
    duty_id,
    employer_duties,
    filing_due_on,
    filing_status,
    is_audit_report_overdue,
    late_days,
    start_notice_duty_id,
    visit_record_duty_id,
)
from shared.dates import month_start
from shared.events import EventPayload
from shared.filings import FilingDues


async def support_from(
    conn: asyncpg.Connection, support_organization_id: UUID, employer_id: UUID, on: date, *, alongside: bool = False
) -> None:
    """From `on` the organization supports the employer under ESD: another organization's support of it ends
    that day, unless the employer joins this one `alongside` the others (SupervisionChanged.alongside); a support
    of it by this organization that had ended starts again."""
    if not alongside:
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
    overdue = is_audit_report_overdue(
        day,
        supported_from=row["supported_from"],
        supported_until=row["supported_until"],
        last_quarter_ending=row["last_quarter_ending"],
        months=months,
    )
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
        overdue=overdue,
        status=FilingStatus.OVERDUE if overdue else FilingStatus.DUE,
        late_days=late_days(day, due_on=due_on, filed_on=None) if overdue else 0,
        owed_from=row["supported_from"],
        ended_on=row["supported_until"],
        inspection_id=row.get("inspection_id"),
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


async def support_until(
    conn: asyncpg.Connection, support_organization_id: UUID, employer_id: UUID, until: date
) -> None:
    """The organization's ESD support of the employer ended: `until` was its last day (SupervisionEnded); it owes
    no report from the day after."""
    await conn.execute(
        """
        UPDATE audit_duties SET supported_until = least(coalesce(supported_until, $3), $3)
         WHERE support_organization_id = $1 AND implementing_organization_id = $2
        """,
        support_organization_id,
        employer_id,
        until + timedelta(days=1),
    )


# The filings of the life of a plan (issue 20; domain/filings.py): duties from accreditation's plan events and the
# registry's permit events, filings from their filing events.


async def record_filing_facts(conn: asyncpg.Connection, event_id: UUID, subject: UUID, payload: EventPayload) -> None:
    """What the filings worklist learns from another service's event (subject: its stream's id)."""
    match payload:
        case ImplementationStartNoticeFiled():
            employer = payload.implementing_organization_id
            await _received(conn, event_id, start_notice_duty_id(employer), FilingKind.START_NOTICE, payload)
        case AnnualImplementationReportFiled():
            duty = annual_report_duty_id(payload.implementing_organization_id, payload.fiscal_year)
            await _received(conn, event_id, duty, FilingKind.ANNUAL_REPORT, payload)
        case VisitRecordFiled():
            duty = visit_record_duty_id(
                payload.supervising_organization_id, payload.implementing_organization_id, month_start(payload.month)
            )
            await _received(conn, event_id, duty, FilingKind.VISIT_RECORD, payload)
        case BusinessReportFiled():
            duty = business_report_duty_id(payload.supervising_organization_id, payload.fiscal_year)
            await _received(conn, event_id, duty, FilingKind.BUSINESS_REPORT, payload)
        case TrainingPlanCertified():
            await _plan_header(conn, subject, payload, certified_on=payload.certified_on)
        case TrainingPlanReassigned():
            await _plan_header(conn, subject, payload, reassigned_on=payload.reassigned_on)
        case PlanEvent():
            await _plan_header(conn, subject, payload, ended_on=_plan_ended_on(payload))
        case PermitGranted():
            await conn.execute(
                """
                INSERT INTO filing_permits (supervising_organization_id, granted_on, expires_on) VALUES ($1, $2, $3)
                ON CONFLICT (supervising_organization_id) DO UPDATE
                   SET granted_on = excluded.granted_on, expires_on = excluded.expires_on
                """,
                subject,
                payload.granted_on,
                payload.expires_on,
            )
            await _refresh_business_reports(conn, subject)
        case PermitRenewed() | PermitTypeChanged():
            await _permit_update(conn, subject, "expires_on = $2", payload.expires_on)
        case PermitRevoked():
            await _permit_update(conn, subject, "ended_on = least(coalesce(ended_on, $2), $2)", payload.revoked_on)
        case PermitExpired():
            await _permit_update(conn, subject, "ended_on = least(coalesce(ended_on, $2), $2)", payload.expired_on)
        case SupervisionEnded(scheme=Scheme.ESD):
            await support_until(conn, payload.supervising_organization_id, subject, payload.effective_until)


def _plan_ended_on(payload: PlanEvent) -> date | None:
    """A plan's last day in force, when the event ends it."""
    match payload:
        case TrainingPlanCompleted():
            return payload.completed_on
        case TrainingPlanDiscontinued():
            return payload.discontinued_on
        case TrainingPlanRevoked():
            return payload.revoked_on
        case TrainingPlanTransferred():
            return payload.transferred_on - timedelta(days=1)  # the new plan starts that day
    return None


async def _received(
    conn: asyncpg.Connection,
    event_id: UUID,
    duty_id: UUID,
    kind: FilingKind,
    payload: ImplementationStartNoticeFiled | AnnualImplementationReportFiled | VisitRecordFiled | BusinessReportFiled,
) -> None:
    await conn.execute(
        """
        INSERT INTO filings_received (filing_id, duty_id, kind, filed_on, receipt_number) VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT DO NOTHING
        """,
        event_id,
        duty_id,
        kind.value,
        payload.filed_on,
        getattr(payload, "receipt_number", None),
    )


async def _plan_header(
    conn: asyncpg.Connection,
    plan_id: UUID,
    header: PlanEvent,
    *,
    certified_on: date | None = None,
    ended_on: date | None = None,
    reassigned_on: date | None = None,
) -> None:
    """The plan as its event states it (a change certified or a reassignment moves its dates or organization);
    only a certified plan is kept (any later event of a plan not certified changes nothing)."""
    employer = header.implementing_organization_id
    await _lock_employer(conn, employer)
    values = (
        plan_id,
        employer,
        header.supervising_organization_id,
        header.scheme.value,
        header.stage.value if header.stage else None,
        header.start_date,
        header.end_date,
    )
    if certified_on is not None:
        await conn.execute(
            """
            INSERT INTO filing_plans (plan_id, implementing_organization_id, supervising_organization_id, scheme,
                                      stage, start_date, end_date, certified_on)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
            ON CONFLICT (plan_id) DO UPDATE SET certified_on = excluded.certified_on
            """,
            *values,
            certified_on,
        )
        await _supervised_from(conn, plan_id, header.start_date, header.supervising_organization_id)
    else:
        updated = await conn.execute(
            """
            UPDATE filing_plans SET implementing_organization_id = $2, supervising_organization_id = $3, scheme = $4,
                   stage = $5, start_date = $6, end_date = $7, ended_on = coalesce(ended_on, $8)
             WHERE plan_id = $1
            """,
            *values,
            ended_on,
        )
        if updated == "UPDATE 0":
            return
        if reassigned_on is not None:
            await _supervised_from(
                conn, plan_id, max(reassigned_on, header.start_date), header.supervising_organization_id
            )
    await _refresh_employer(conn, employer)


async def _supervised_from(conn: asyncpg.Connection, plan_id: UUID, on: date, organization_id: UUID | None) -> None:
    """From `on` the plan is under the organization (a reassignment supersedes any period from that day on)."""
    await conn.execute("DELETE FROM filing_plan_supervisions WHERE plan_id = $1 AND from_date >= $2", plan_id, on)
    if organization_id is not None:
        await conn.execute(
            "INSERT INTO filing_plan_supervisions (plan_id, from_date, supervising_organization_id)"
            " VALUES ($1, $2, $3)",
            plan_id,
            on,
            organization_id,
        )


async def _lock_employer(conn: asyncpg.Connection, employer_id: UUID) -> None:
    """One transaction at a time recomputes an employer's duties (plans of one employer come on several
    partitions): the second reads the plans the first committed."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"filing-duties:{employer_id}")


async def _refresh_employer(conn: asyncpg.Connection, employer_id: UUID) -> None:
    rows = await conn.fetch(
        """
        SELECT p.*, coalesce(
                   (SELECT array_agg(s.from_date ORDER BY s.from_date) FROM filing_plan_supervisions s
                     WHERE s.plan_id = p.plan_id), '{}') AS supervised_from,
               coalesce(
                   (SELECT array_agg(s.supervising_organization_id ORDER BY s.from_date) FROM filing_plan_supervisions s
                     WHERE s.plan_id = p.plan_id), '{}') AS supervised_by
          FROM filing_plans p WHERE p.implementing_organization_id = $1 AND p.certified_on IS NOT NULL
        """,
        employer_id,
    )
    plans = [
        PlanInForce(
            plan_id=r["plan_id"],
            implementing_organization_id=r["implementing_organization_id"],
            supervising_organization_id=r["supervising_organization_id"],
            scheme=Scheme(r["scheme"]),
            stage=r["stage"],
            start_date=r["start_date"],
            end_date=r["end_date"],
            ended_on=r["ended_on"],
            supervisions=tuple(zip(r["supervised_from"], r["supervised_by"], strict=True)),
        )
        for r in rows
    ]
    await conn.execute(
        "DELETE FROM filing_duties WHERE implementing_organization_id = $1 AND kind = ANY($2::text[])",
        employer_id,
        [FilingKind.START_NOTICE.value, FilingKind.ANNUAL_REPORT.value, FilingKind.VISIT_RECORD.value],
    )
    await _insert_duties(conn, employer_duties(employer_id, plans))


async def _permit_update(conn: asyncpg.Connection, organization_id: UUID, assignment: str, day: date) -> None:
    """Only a supervising organization's TITP permit is kept (a support organization's stream has the same
    revocation and expiry events)."""
    updated = await conn.execute(
        f"UPDATE filing_permits SET {assignment} WHERE supervising_organization_id = $1", organization_id, day
    )
    if updated != "UPDATE 0":
        await _refresh_business_reports(conn, organization_id)


async def _refresh_business_reports(conn: asyncpg.Connection, organization_id: UUID) -> None:
    permit = await conn.fetchrow(
        "SELECT * FROM filing_permits WHERE supervising_organization_id = $1 FOR UPDATE", organization_id
    )
    await conn.execute(
        "DELETE FROM filing_duties WHERE supervising_organization_id = $1 AND kind = $2",
        organization_id,
        FilingKind.BUSINESS_REPORT.value,
    )
    in_force_until = permit["ended_on"] or permit["expires_on"] + timedelta(days=1)
    await _insert_duties(conn, business_report_duties(organization_id, permit["granted_on"], in_force_until))


async def _insert_duties(conn: asyncpg.Connection, duties: list[Duty]) -> None:
    await conn.executemany(
        """
        INSERT INTO filing_duties (id, kind, implementing_organization_id, supervising_organization_id, fiscal_year,
                                   month, owed_from, basis)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT (id) DO UPDATE SET owed_from = excluded.owed_from, basis = excluded.basis
        """,
        [
            (
                d.id,
                d.kind.value,
                d.implementing_organization_id,
                d.supervising_organization_id,
                d.fiscal_year,
                d.month,
                d.owed_from,
                d.basis,
            )
            for d in duties
        ],
    )


async def record_inspection_opened(
    conn: asyncpg.Connection, filing_id: UUID, inspection_id: UUID, *, due_on: date, opened_on: date
) -> bool:
    """The inspection opened from the filing (due on `due_on`); False if one was (a request racing this one)."""
    inserted = await conn.execute(
        """
        INSERT INTO filing_inspections (duty_id, due_on, inspection_id, opened_on) VALUES ($1, $2, $3, $4)
        ON CONFLICT (duty_id, due_on) DO NOTHING
        """,
        filing_id,
        due_on,
        inspection_id,
        opened_on,
    )
    return bool(inserted != "INSERT 0 0")


# The worklist: every kind in one list, ordered by due day. The due days and statuses in SQL are those of
# domain/filings.py (`filing_due_on`, `filing_status`; the audit reports' as above);
# tests/integration/test_inspection_filings_worklist.py checks they answer alike on the boundary days.


def _day_in_month_sql(year: str, month: str, day: str) -> str:
    """That day of the month (`shared.filings.FilingDues`: a configured due day is one every year has)."""
    first = f"make_date({year}, {month}, 1)"
    return f"least({first} + ({day} - 1), ({first} + interval '1 month')::date - 1)"


_NEXT_YEAR = "(extract(year FROM d.basis)::int + 1)"
_FILING_DUE_SQL = f"""
    CASE d.kind
        WHEN 'start_notice' THEN d.basis + $3::int
        WHEN 'annual_report' THEN {_day_in_month_sql(_NEXT_YEAR, "$4::int", "$5::int")}
        WHEN 'business_report' THEN {_day_in_month_sql(_NEXT_YEAR, "$6::int", "$7::int")}
        WHEN 'visit_record' THEN (d.basis + make_interval(months => $8::int + 1))::date - 1
    END"""

# Parameters: $1 the day, $2 the audit reports' months, $3-$8 the other filings' numbers (FilingDues).
_OWED = f"""
    SELECT d.id, d.kind, NULL::uuid AS support_organization_id, d.implementing_organization_id,
           d.supervising_organization_id, d.fiscal_year, d.month, d.owed_from, d.basis, d.due_on, r.filed_on,
           r.receipt_number, CASE WHEN d.kind IN ('business_report', 'visit_record') THEN p.ended_on END AS ended_on,
           NULL::date AS supported_from, NULL::date AS supported_until, NULL::date AS last_quarter_ending,
           NULL::date AS last_filed_on, 0::bigint AS reports_filed, i.inspection_id,
           CASE WHEN r.filed_on IS NOT NULL THEN 'filed' WHEN d.due_on < $1 THEN 'overdue' ELSE 'due' END AS status
      FROM (SELECT *, {_FILING_DUE_SQL} AS due_on FROM filing_duties d) d
      LEFT JOIN filing_permits p ON p.supervising_organization_id = d.supervising_organization_id
      LEFT JOIN LATERAL (
          SELECT f.filed_on, f.receipt_number FROM filings_received f
           WHERE f.duty_id = d.id AND f.filed_on <= $1 ORDER BY f.filed_on, f.filing_id LIMIT 1) r ON true
      LEFT JOIN filing_inspections i ON i.duty_id = d.id AND i.due_on = d.due_on
     WHERE d.owed_from <= $1
    UNION ALL
    SELECT a.id, 'quarterly_audit_report', a.support_organization_id, a.implementing_organization_id, NULL::uuid,
           NULL::int, NULL::date, a.supported_from, NULL::date, a.due_on, NULL::date, NULL::text, a.supported_until,
           a.supported_from, a.supported_until, a.last_quarter_ending, a.last_filed_on, a.reports_filed,
           i.inspection_id, a.status
      FROM (SELECT *, CASE WHEN {overdue_sql("$1")} THEN 'overdue' ELSE 'due' END AS status
              FROM ({_DUTIES}) AS duties WHERE {not_ended_sql("$1")}) AS a
      LEFT JOIN filing_inspections i ON i.duty_id = a.id AND i.due_on = a.due_on
"""


def owed_filing_document(row: asyncpg.Record, day: date, months: int, dues: FilingDues) -> FilingDocument:
    """What clients see of any kind, as of `day`; the due day and status from the domain's rules."""
    kind = FilingKind(row["kind"])
    if kind is FilingKind.QUARTERLY_AUDIT_REPORT:
        return filing_document(row, day, months)
    due_on = filing_due_on(kind, row["basis"], dues)
    status = filing_status(day, due_on=due_on, filed_on=row["filed_on"], ended_on=row["ended_on"])
    return FilingDocument(
        id=row["id"],
        kind=kind,
        scheme=Scheme.TITP if kind in (FilingKind.BUSINESS_REPORT, FilingKind.VISIT_RECORD) else None,
        implementing_organization_id=row["implementing_organization_id"],
        supervising_organization_id=row["supervising_organization_id"],
        fiscal_year=row["fiscal_year"],
        month=row["month"],
        owed_from=row["owed_from"],
        ended_on=row["ended_on"],
        due_on=due_on,
        filed_on=row["filed_on"],
        receipt_number=row["receipt_number"],
        late_days=late_days(day, due_on=due_on, filed_on=row["filed_on"]),
        status=status or FilingStatus.DUE,
        overdue=status is FilingStatus.OVERDUE,
        inspection_id=row["inspection_id"],
        status_on=day,
    )


async def list_owed_filings(
    conn: asyncpg.Connection,
    *,
    day: date,
    months: int,
    dues: FilingDues = FilingDues(),
    id: UUID | None = None,
    kind: FilingKind | None = None,
    support_organization_id: UUID | None = None,
    employer_id: UUID | None = None,
    supervising_organization_id: UUID | None = None,
    due_before: date | None = None,
    status: FilingStatus | None = None,
    after: tuple[date, UUID] | None = None,
    limit: int = 50,
) -> list[FilingDocument]:
    """Every filing owed as of `day` (the filings filed by then; the duties owed by then): those filed, due or
    overdue; not those a supervising (or support) organization owed no more by `day`, unfiled. Filters: kind, who
    owes it, due before a day, status on `day`. Ordered by due day, then id, after `after`; up to `limit`."""
    after_due, after_id = after or (None, None)
    rows = await conn.fetch(
        f"""
        SELECT * FROM ({_OWED}) AS owed
         WHERE (filed_on IS NOT NULL OR ended_on IS NULL OR $1 < ended_on)
           AND ($9::uuid IS NULL OR id = $9)
           AND ($10::text IS NULL OR kind = $10)
           AND ($11::uuid IS NULL OR support_organization_id = $11)
           AND ($12::uuid IS NULL OR implementing_organization_id = $12)
           AND ($13::uuid IS NULL OR supervising_organization_id = $13)
           AND ($14::date IS NULL OR due_on < $14)
           AND ($15::text IS NULL OR status = $15)
           AND ($16::date IS NULL OR (due_on, id) > ($16, $17))
         ORDER BY due_on, id LIMIT $18
        """,
        day,
        months,
        dues.start_notice_days,
        dues.annual_report_due_month,
        dues.annual_report_due_day,
        dues.business_report_due_month,
        dues.business_report_due_day,
        dues.visit_record_due_months,
        id,
        kind.value if kind else None,
        support_organization_id,
        employer_id,
        supervising_organization_id,
        due_before,
        status.value if status else None,
        after_due,
        after_id,
        limit,
    )
    return [owed_filing_document(row, day, months, dues) for row in rows]


async def find_owed_filing(
    conn: asyncpg.Connection, id: UUID, *, day: date, months: int, dues: FilingDues = FilingDues()
) -> FilingDocument | None:
    found = await list_owed_filings(conn, day=day, months=months, dues=dues, id=id, limit=1)
    return found[0] if found else None
