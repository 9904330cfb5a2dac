"""The filings worklist of the life of a plan (issue 20), from the events as the inspection's subscription receives
them, against a real PostgreSQL: accreditation's certified plans make an employer owe its start notice and annual
reports and its supervising organization the stage-i visit records; the registry's permit makes the organization owe
its business reports; the filings received clear them. The SQL behind `GET /v1/filings` answers as the domain does
(domain/filings.py) on the boundary days; an overdue filing opens one inspection of who owes it."""

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.accreditation import (
    AnnualImplementationReportFiled,
    ImplementationStartNoticeFiled,
    TrainingPlanCertified,
    TrainingPlanDiscontinued,
    TrainingPlanReassigned,
    VisitRecordFiled,
    accreditation_events,
)
from contracts.inspection import TargetType, inspection_events
from contracts.registry import (
    BusinessReportFiled,
    ImplementingOrganizationRegistered,
    PermitGranted,
    PermitRevoked,
    SupervisionChanged,
    SupervisionEnded,
    registry_events,
)
from services.inspection import commands, subscriptions
from services.inspection.app import DEFINITION
from services.inspection.domain.filings import (
    FilingKind,
    FilingStatus,
    annual_report_duty_id,
    business_report_duty_id,
    filing_due_on,
    filing_status,
    start_notice_duty_id,
    visit_record_duty_id,
)
from services.inspection.domain.rules import Cadence
from services.inspection.projections.filings import list_owed_filings
from services.inspection.projections.inspections import list_inspections
from shared.commands import CommandRunner
from shared.db import create_pool, migrate
from shared.errors import DomainRuleViolation
from shared.events import EventContext, EventPayload, RecordedEvent
from shared.filings import FilingDues
from shared.store import EventStore

D = date.fromisoformat
CADENCE = Cadence()
DUES = FilingDues()
OFFICER = EventContext(actor="inspector-kato")


@pytest.fixture
async def service(fresh_database):
    pool = await create_pool(fresh_database, max_size=2)
    await migrate(pool, DEFINITION.migrations)
    yield pool, CommandRunner(pool, EventStore(inspection_events))
    await pool.close()


async def deliver(service, subject: UUID, payload: EventPayload) -> None:
    pool, runner = service
    types = registry_events if registry_events.knows(registry_events.type_name(payload)) else accreditation_events
    event = RecordedEvent(
        id=uuid4(),
        source=types.source,
        type=types.type_name(payload),
        subject=str(subject),
        time=datetime.now(UTC),
        data=payload.model_dump(mode="json"),
        streamversion=1,
        position=1,
        prevhash="0" * 64,
        hash="0" * 64,
    )
    async with pool.acquire() as conn, conn.transaction():
        await subscriptions.on_event(runner, conn, event, cadence=CADENCE)


def certified(employer: UUID, supervisor: UUID, start: str, end: str, stage: str = "i") -> TrainingPlanCertified:
    return TrainingPlanCertified(
        trainee_id=uuid4(),
        scheme="titp",
        stage=stage,
        training_type="b",
        job_category="construction",
        implementing_organization_id=employer,
        supervising_organization_id=supervisor,
        start_date=D(start),
        end_date=D(end),
        certified_on=D(start) - timedelta(days=60),
        rule_set="titp",
    )


def registered(supervisor: UUID) -> ImplementingOrganizationRegistered:
    return ImplementingOrganizationRegistered(
        name="Sakura Koumuten",
        corporate_number="3010401000000",
        address="2-1 Ginza, Chuo-ku, Tokyo",
        prefecture="13",
        industry="construction",
        training_type="b",
        supervising_organization_id=supervisor,
        full_time_staff=40,
        staff_as_of=D("2026-04-01"),
        excellent=False,
        registered_on=D("2026-04-01"),
    )


RECEIPT = "S-2026-000001"


async def listed(pool, day: date, **filters) -> dict[UUID, object]:
    async with pool.acquire() as conn:
        return {
            f.id: f
            for f in await list_owed_filings(conn, day=day, months=3, dues=DUES, limit=500, **filters)
            if f.kind is not FilingKind.QUARTERLY_AUDIT_REPORT
        }


async def test_the_filings_worklist_follows_plans_permits_and_filings(service):
    pool, runner = service
    supervisor, employer = uuid4(), uuid4()
    await deliver(
        service,
        supervisor,
        PermitGranted(permit_type="general", granted_on=D("2026-05-01"), expires_on=D("2031-04-30")),
    )
    await deliver(service, employer, registered(supervisor))
    first = uuid4()
    await deliver(service, first, certified(employer, supervisor, "2026-10-01", "2027-09-30"))
    # A plan discontinued on 15 November: it is in force until then, no later.
    short = uuid4()
    await deliver(service, short, certified(employer, supervisor, "2026-11-01", "2027-10-31"))
    await deliver(
        service,
        short,
        TrainingPlanDiscontinued(
            **certified(employer, supervisor, "2026-11-01", "2027-10-31").model_dump(
                exclude={"certified_on", "rule_set"}
            ),
            discontinued_on=D("2026-11-15"),
            reason="disappearance",
        ),
    )
    # The filings: the start notice late (due 31 Oct), October's visit record on time, November's late, the
    # annual report for FY2026 late (due 31 May 2027), the business report for FY2026 on time.
    await deliver(
        service,
        uuid4(),
        ImplementationStartNoticeFiled(
            implementing_organization_id=employer,
            training_plan_id=first,
            started_on=D("2026-10-01"),
            filed_on=D("2026-11-03"),
            due_on=D("2026-10-31"),
            receipt_number=RECEIPT,
        ),
    )
    for month, filed_on in (("2026-10-01", "2026-11-30"), ("2026-11-01", "2027-01-05")):
        await deliver(
            service,
            uuid4(),
            VisitRecordFiled(
                supervising_organization_id=supervisor,
                implementing_organization_id=employer,
                month=D(month),
                visited_on=D(month) + timedelta(days=9),
                filed_on=D(filed_on),
                due_on=filing_due_on(FilingKind.VISIT_RECORD, D(month)),
            ),
        )
    await deliver(
        service,
        uuid4(),
        AnnualImplementationReportFiled(
            implementing_organization_id=employer,
            fiscal_year=2026,
            filed_on=D("2027-06-10"),
            due_on=D("2027-05-31"),
            receipt_number=RECEIPT,
            trainees=2,
        ),
    )
    await deliver(
        service,
        supervisor,
        BusinessReportFiled(
            supervising_organization_id=supervisor, fiscal_year=2026, filed_on=D("2027-05-20"), due_on=D("2027-05-31")
        ),
    )
    # The permit is revoked on 1 August 2027: the organization owes nothing more from that day (what it filed stays).
    await deliver(
        service, supervisor, PermitRevoked(revoked_on=D("2027-08-01"), ground="law_breached", reason="no visits")
    )

    notice = start_notice_duty_id(employer)
    fy2026, fy2027 = annual_report_duty_id(employer, 2026), annual_report_duty_id(employer, 2027)
    business = {y: business_report_duty_id(supervisor, y) for y in (2026, 2027)}
    months = [f"{y}-{m:02d}-01" for y, m in [(2026, 10), (2026, 11), (2026, 12)] + [(2027, m) for m in range(1, 10)]]
    visits = {m: visit_record_duty_id(supervisor, employer, D(m)) for m in months}
    # What the domain says of each, by (kind, basis, owed_from, filed_on, ended_on).
    expected = {
        notice: (FilingKind.START_NOTICE, "2026-10-01", "2026-10-01", "2026-11-03", None),
        fy2026: (FilingKind.ANNUAL_REPORT, "2026-04-01", "2026-10-01", "2027-06-10", None),
        fy2027: (FilingKind.ANNUAL_REPORT, "2027-04-01", "2027-04-01", None, None),
        business[2026]: (FilingKind.BUSINESS_REPORT, "2026-04-01", "2026-05-01", "2027-05-20", "2027-08-01"),
        business[2027]: (FilingKind.BUSINESS_REPORT, "2027-04-01", "2027-04-01", None, "2027-08-01"),
        visits["2026-10-01"]: (FilingKind.VISIT_RECORD, "2026-10-01", "2026-10-01", "2026-11-30", "2027-08-01"),
        visits["2026-11-01"]: (FilingKind.VISIT_RECORD, "2026-11-01", "2026-11-01", "2027-01-05", "2027-08-01"),
    }
    for month in months[2:]:  # every month of the first plan, none filed; the permit's end ends them
        expected[visits[month]] = (FilingKind.VISIT_RECORD, month, month, None, "2027-08-01")

    def domain_says(id: UUID, day: date) -> tuple[date, FilingStatus] | None:
        kind, basis, owed_from, filed_on, ended_on = expected[id]
        if D(owed_from) > day:
            return None
        due_on = filing_due_on(kind, D(basis), DUES)
        status = filing_status(
            day, due_on=due_on, filed_on=D(filed_on) if filed_on else None, ended_on=D(ended_on) if ended_on else None
        )
        return None if status is None else (due_on, status)

    days = sorted(
        {
            D(d) + timedelta(days=n)
            for d in ("2026-10-31", "2026-11-03", "2026-12-31", "2027-01-05", "2027-05-31", "2027-06-10", "2027-08-01")
            for n in (-1, 0, 1)
        }
    )
    for day in days:
        shown = await listed(pool, day)
        want = {id: said for id in expected if (said := domain_says(id, day)) is not None}
        # Check: every month of the plans in force and nothing else (no visit record for August: the permit ended).
        assert {id: (f.due_on, f.status) for id, f in shown.items() if id in expected} == want, day
        assert set(shown) <= set(expected), day
        overdue = await listed(pool, day, status=FilingStatus.OVERDUE)
        assert set(overdue) == {id for id, (_, status) in want.items() if status is FilingStatus.OVERDUE}, day
        filed = await listed(pool, day, status=FilingStatus.FILED)
        assert set(filed) == {id for id, (_, status) in want.items() if status is FilingStatus.FILED}, day
    assert visits["2027-08-01"] not in await listed(pool, D("2027-08-01"))
    assert visits["2026-12-01"] not in await listed(pool, D("2027-08-01"))  # owed no more once the permit ended

    # Check: the boundaries themselves, and what an item says.
    assert (await listed(pool, D("2027-05-31")))[fy2026].status is FilingStatus.DUE
    late = (await listed(pool, D("2027-06-09")))[fy2026]
    assert (late.status, late.overdue, late.late_days, late.filed_on) == (FilingStatus.OVERDUE, True, 9, None)
    filed_late = (await listed(pool, D("2027-06-10")))[fy2026]
    assert (filed_late.status, filed_late.late_days, filed_late.filed_on, filed_late.receipt_number) == (
        FilingStatus.FILED,
        10,
        D("2027-06-10"),
        RECEIPT,
    )
    assert (
        filed_late.fiscal_year,
        filed_late.implementing_organization_id,
        filed_late.supervising_organization_id,
    ) == (
        2026,
        employer,
        None,
    )
    by_employer = await listed(pool, D("2027-06-01"), employer_id=employer)
    assert business[2026] not in by_employer and fy2026 in by_employer
    by_supervisor = await listed(pool, D("2027-06-01"), supervising_organization_id=supervisor)
    assert fy2026 not in by_supervisor and business[2026] in by_supervisor
    assert set(await listed(pool, D("2027-06-01"), kind=FilingKind.ANNUAL_REPORT)) == {fy2026, fy2027}
    assert set(await listed(pool, D("2027-06-01"), due_before=D("2027-01-31"))) == {
        notice,
        visits["2026-10-01"],
        visits["2026-11-01"],
    }

    # An overdue filing opens one inspection of the organization owing it; not a filing that is not overdue.
    async def open_inspection(filing_id: UUID, day: str):
        id = uuid4()
        await runner.transact(
            commands.open_inspection_for_overdue_filing,
            id,
            filing_id=filing_id,
            scheduled_on=D(day),
            due_by=D("2027-08-31"),
            reason="no report after a reminder",
            cadence=CADENCE,
            dues=DUES,
            context=OFFICER,
        )
        return id

    with pytest.raises(DomainRuleViolation) as on_time:
        await open_inspection(fy2026, "2027-05-31")
    assert on_time.value.rule == "filing.not_overdue"
    inspection = await open_inspection(fy2026, "2027-06-01")
    with pytest.raises(DomainRuleViolation) as twice:
        await open_inspection(fy2026, "2027-06-02")
    assert twice.value.rule == "filing.inspection_open"
    async with pool.acquire() as conn:
        (opened,) = [
            i
            for i in await list_inspections(conn, day=D("2027-06-01"), target_id=employer, limit=10)
            if i.reason == "overdue_filing"
        ]
    assert (opened.id, opened.target_type, opened.reason, opened.kind) == (
        inspection,
        TargetType.IMPLEMENTING_ORGANIZATION,
        "overdue_filing",
        "extraordinary",
    )
    assert str(fy2026) in opened.detail
    assert (await listed(pool, D("2027-06-12")))[fy2026].inspection_id == inspection


async def test_the_esd_audit_duty_honours_membership_alongside_and_its_end(service):
    pool, _ = service
    first, second, employer = uuid4(), uuid4(), uuid4()
    await deliver(
        service,
        employer,
        SupervisionChanged(supervising_organization_id=first, scheme="esd", effective_from=D("2027-04-01")),
    )
    await deliver(
        service,
        employer,
        SupervisionChanged(
            supervising_organization_id=second, scheme="esd", effective_from=D("2027-05-01"), alongside=True
        ),
    )

    async def owing(day: str) -> set[UUID]:
        async with pool.acquire() as conn:
            return {
                f.supervision_support_organization_id
                for f in await list_owed_filings(
                    conn, day=D(day), months=3, kind=FilingKind.QUARTERLY_AUDIT_REPORT, employer_id=employer
                )
            }

    assert await owing("2027-06-01") == {first, second}  # alongside: the first carries on
    await deliver(
        service,
        employer,
        SupervisionEnded(supervising_organization_id=first, scheme="esd", effective_until=D("2027-06-30")),
    )
    assert await owing("2027-06-30") == {first, second}  # its last day
    assert await owing("2027-07-01") == {second}


async def test_a_reassigned_plans_visit_records_follow_the_organization_supervising_it(service):
    pool, _ = service
    first, second, employer, plan_id = uuid4(), uuid4(), uuid4(), uuid4()
    plan = certified(employer, first, "2026-10-01", "2027-09-30")
    await deliver(service, plan_id, plan)
    header = plan.model_dump(exclude={"certified_on", "rule_set"})
    await deliver(
        service,
        plan_id,
        TrainingPlanReassigned(
            **{**header, "supervising_organization_id": second},
            previous_supervising_organization_id=first,
            reassigned_on=D("2026-11-15"),
        ),
    )
    async with pool.acquire() as conn:
        visits = await list_owed_filings(
            conn, day=D("2026-12-15"), months=3, kind=FilingKind.VISIT_RECORD, employer_id=employer
        )
    assert sorted((f.supervising_organization_id == second, f.month, f.owed_from) for f in visits) == [
        (False, D("2026-10-01"), D("2026-10-01")),
        (False, D("2026-11-01"), D("2026-11-01")),
        (True, D("2026-11-01"), D("2026-11-15")),
        (True, D("2026-12-01"), D("2026-12-01")),
    ]
    assert {f.id for f in visits} >= {
        visit_record_duty_id(first, employer, D("2026-11-01")),
        visit_record_duty_id(second, employer, D("2026-11-01")),
    }
