"""The schedule builds itself for ESD too (issue 17 item 5), from the registry's and accreditation's events as
the inspection's subscription receives them, against a real PostgreSQL: an ESD permit granted -> the support
organization's first inspection; an employer's first certified plan of either scheme -> its one schedule (an
employer with both schemes is not scheduled twice; its inspections turn ESD with its first ESD plan); completed
-> next, by the scheme's cadence; the support organization's permit revoked or expired -> its open inspections
cancelled and the audit reports it owes ended."""

from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from contracts.accreditation import TrainingPlanCertified, accreditation_events
from contracts.inspection import InspectionReason, TargetType, inspection_events
from contracts.registry import (
    PermitExpired,
    PermitRevoked,
    QuarterlyAuditReportFiled,
    SupervisingOffice,
    SupervisionChanged,
    SupervisionSupportApplication,
    SupervisionSupportPermitApplied,
    SupervisionSupportPermitGranted,
    registry_events,
)
from services.inspection import commands, subscriptions
from services.inspection.app import DEFINITION
from services.inspection.domain.inspection import Status
from services.inspection.domain.rules import Cadence
from services.inspection.projections.filings import list_filings
from services.inspection.projections.inspections import list_inspections
from shared.commands import CommandRunner
from shared.db import create_pool, migrate
from shared.events import EventContext, EventPayload, RecordedEvent
from shared.store import EventStore

D = date.fromisoformat
# The ESD numbers set apart from TITP's, so that each due date shows which cadence made it.
CADENCE = Cadence(esd_support_organization_years=2, esd_implementing_organization_years=4)
OFFICER = EventContext(actor="inspector-kato")


@pytest.fixture
async def service(fresh_database):
    pool = await create_pool(fresh_database, max_size=2)
    await migrate(pool, DEFINITION.migrations)
    yield pool, CommandRunner(pool, EventStore(inspection_events))
    await pool.close()


async def deliver(service, subject: UUID, payload: EventPayload) -> None:
    """The event as the subscription receives it from the registry's or accreditation's topic."""
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


def certified(employer: UUID, scheme: str, on: str) -> TrainingPlanCertified:
    return TrainingPlanCertified(
        trainee_id=uuid4(),
        scheme=scheme,
        stage="i" if scheme == "titp" else None,
        training_type="b",
        job_category="construction",
        implementing_organization_id=employer,
        supervising_organization_id=uuid4(),
        start_date=D(on),
        end_date=D(on).replace(year=D(on).year + 1),
        certified_on=D(on),
        rule_set=scheme,
    )


APPLICATION = SupervisionSupportApplication(
    name="Kanto Skills Support Cooperative",
    corporate_number="7010405000001",
    address="1-2-3 Chiyoda, Chiyoda-ku, Tokyo",
    prefecture="13",
    representative="Yamada Taro",
    offices=(SupervisingOffice(name="Head office", address="1-2-3 Chiyoda, Tokyo", supervision_manager="Suzuki"),),
    job_categories=("construction",),
    non_profit=True,
    external_auditor="Sato Accounting",
    full_time_staff=4,
    member_employers=6,
    workers=30,
)


async def inspections_of(pool, target_id: UUID, **filters):
    async with pool.acquire() as conn:
        return await list_inspections(conn, day=D("2027-04-01"), target_id=target_id, limit=100, **filters)


async def test_an_esd_permit_and_an_employers_plans_of_both_schemes_build_the_schedule(service):
    pool, runner = service

    # An ESD permit granted: the support organization's first inspection, under ESD, by the ESD cadence.
    support = uuid4()
    await deliver(
        service, support, SupervisionSupportPermitApplied(application=APPLICATION, applied_on=D("2026-04-10"))
    )
    await deliver(
        service,
        support,
        SupervisionSupportPermitGranted(granted_on=D("2026-06-01"), expires_on=D("2029-05-31"), excellent=False),
    )
    (first,) = await inspections_of(pool, support)
    assert (first.target_type, first.scheme, first.reason, first.due_by) == (
        "supervision_support_organization",
        "esd",
        "permit_granted",
        D("2028-06-01"),
    )

    # Completed: the next, two years on; an extraordinary one of the known support organization is ESD too.
    await runner.transact(
        commands.complete_inspection,
        first.id,
        inspected_on=D("2027-05-10"),
        inspector="Kato",
        findings=(),
        outcome="no_finding",
        referral_id=uuid4(),
        cadence=CADENCE,
        context=OFFICER,
    )
    (second,) = await inspections_of(pool, support, status=Status.SCHEDULED)
    assert (second.scheme, second.due_by, second.follows) == ("esd", D("2029-05-10"), first.id)
    complaint = uuid4()
    await runner.transact(
        commands.schedule_extraordinary_inspection,
        complaint,
        target_type=TargetType.SUPERVISION_SUPPORT_ORGANIZATION,
        target_id=support,
        reason=InspectionReason.COMPLAINT,
        scheduled_on=D("2027-06-01"),
        due_by=D("2027-07-31"),
        context=OFFICER,
    )
    assert {i.scheme for i in await inspections_of(pool, support, status=Status.SCHEDULED)} == {"esd"}

    # An employer with TITP plans, then its first ESD plan: one schedule, its next inspection under ESD.
    employer = uuid4()
    await deliver(service, uuid4(), certified(employer, "titp", "2026-07-15"))
    await deliver(service, uuid4(), certified(employer, "esd", "2027-04-01"))
    (titp_first,) = await inspections_of(pool, employer)
    assert (titp_first.scheme, titp_first.reason, titp_first.due_by) == (
        "titp",
        "first_certified_plan",
        D("2029-07-15"),
    )
    await runner.transact(
        commands.complete_inspection,
        titp_first.id,
        inspected_on=D("2028-03-01"),
        inspector="Kato",
        findings=(),
        outcome="no_finding",
        referral_id=uuid4(),
        cadence=CADENCE,
        context=OFFICER,
    )
    (esd_next,) = await inspections_of(pool, employer, status=Status.SCHEDULED)
    assert (esd_next.scheme, esd_next.due_by) == ("esd", D("2032-03-01"))

    # An employer whose first plan is an ESD plan (and a TITP one after): one schedule, under ESD.
    esd_employer = uuid4()
    await deliver(service, uuid4(), certified(esd_employer, "esd", "2027-04-01"))
    await deliver(service, uuid4(), certified(esd_employer, "titp", "2027-05-01"))
    (esd_first,) = await inspections_of(pool, esd_employer)
    assert (esd_first.scheme, esd_first.reason, esd_first.due_by) == (
        "esd",
        InspectionReason.FIRST_CERTIFIED_PLAN,
        D("2031-04-01"),
    )

    # The support organization supports the employer from 1 April 2027 and reports once.
    await deliver(
        service,
        employer,
        SupervisionChanged(supervising_organization_id=support, scheme="esd", effective_from=D("2027-04-01")),
    )
    await deliver(
        service,
        employer,
        SupervisionChanged(supervising_organization_id=uuid4(), scheme="titp", effective_from=D("2027-05-01")),
    )  # TITP's: unchanged
    await deliver(
        service,
        support,
        QuarterlyAuditReportFiled(
            report_id=uuid4(),
            implementing_organization_id=employer,
            quarter_ending=D("2027-06-30"),
            filed_on=D("2027-07-01"),
            workers=8,
            workers_interviewed=2,
        ),
    )
    async with pool.acquire() as conn:
        (owed,) = await list_filings(conn, day=D("2027-10-01"), months=3, overdue_as_of=D("2027-10-01"))
        assert (owed.supervision_support_organization_id, owed.implementing_organization_id, owed.due_on) == (
            support,
            employer,
            D("2027-09-30"),
        )

    # Its permit revoked on 1 November 2027: its open inspections are cancelled, and it owes no more reports.
    await deliver(
        service,
        support,
        PermitRevoked(revoked_on=D("2027-11-01"), ground="law_breached", reason="audits not performed"),
    )
    cancelled = await inspections_of(pool, support, status=Status.CANCELLED)
    assert {(i.id, i.cancellation_reason, i.cancelled_on) for i in cancelled} == {
        (second.id, "permit_revoked", D("2027-11-01")),
        (complaint, "permit_revoked", D("2027-11-01")),
    }
    assert {i.target_type for i in cancelled} == {"supervision_support_organization"}
    async with pool.acquire() as conn:
        assert [
            f.id for f in await list_filings(conn, day=D("2027-10-31"), months=3, overdue_as_of=D("2027-10-31"))
        ] == [owed.id]
        assert await list_filings(conn, day=D("2027-11-01"), months=3, overdue_as_of=D("2027-11-01")) == []

    # Another support organization's permit expires: the same, with the expiry.
    other = uuid4()
    await deliver(
        service,
        other,
        SupervisionSupportPermitGranted(granted_on=D("2026-06-01"), expires_on=D("2029-05-31"), excellent=False),
    )
    await deliver(service, other, PermitExpired(expired_on=D("2029-06-01")))
    (expired,) = await inspections_of(pool, other)
    assert (expired.target_type, expired.status, expired.cancellation_reason) == (
        "supervision_support_organization",
        "cancelled",
        "permit_expired",
    )
