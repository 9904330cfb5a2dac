""" "Overdue" for the quarterly audit reports has one definition (services/inspection/domain/filings.py): the
SQL behind `GET /v1/filings` (projections/filings.py), against a real PostgreSQL, answers as it does on the
boundary days: the due day, the day after, the day a late report arrives, the day another organization takes
over, the day the permit ends, a due day clamped to a month's end; whatever order the events arrived in."""

from datetime import date, timedelta
from uuid import uuid4

import pytest

from contracts.inspection import TargetType
from services.inspection.app import DEFINITION
from services.inspection.domain.filings import AuditReport, QuarterlyAuditDuty, support_ended
from services.inspection.projections.filings import list_filings, record_audit_report, support_from
from services.inspection.projections.organizations import end_schedule
from shared.db import create_pool, migrate

D = date.fromisoformat
SUPPORT = TargetType.SUPERVISION_SUPPORT_ORGANIZATION
START = D("2027-04-01")


@pytest.fixture
async def pool(fresh_database):
    pool = await create_pool(fresh_database, max_size=2)
    await migrate(pool, DEFINITION.migrations)
    yield pool
    await pool.close()


def days_around(*days: str) -> list[date]:
    return sorted({D(d) + timedelta(days=n) for d in days for n in (-1, 0, 1)})


DAYS = days_around(
    "2027-02-28",
    "2027-04-01",
    "2027-07-01",
    "2027-07-02",
    "2027-07-10",
    "2027-09-30",
    "2027-10-02",
    "2027-10-05",
    "2027-12-30",
)


async def test_the_filings_worklist_says_overdue_when_the_domain_does(pool):
    duties: dict[str, QuarterlyAuditDuty] = {}
    async with pool.acquire() as conn, conn.transaction():

        async def supported(name: str, since: date = START, reports=(), *, reports_first=False, until=None, org=None):
            org, employer = org or uuid4(), uuid4()
            if not reports_first:
                await support_from(conn, org, employer, since)
            for quarter_ending, filed_on in reports:
                await record_audit_report(
                    conn,
                    uuid4(),
                    support_organization_id=org,
                    employer_id=employer,
                    quarter_ending=D(quarter_ending),
                    filed_on=D(filed_on),
                )
            if reports_first:
                await support_from(conn, org, employer, since)
            duties[name] = QuarterlyAuditDuty(
                org, employer, since, until, tuple(AuditReport(D(q), D(f)) for q, f in reports)
            )
            return org, employer

        await supported("nothing reported")
        await supported("on time, then none", reports=[("2027-06-30", "2027-07-01")])
        await supported("a late report", reports=[("2027-06-30", "2027-07-10")])
        await supported(
            "reported before the support was heard of", reports=[("2027-06-30", "2027-06-30")], reports_first=True
        )
        await supported(
            "an older quarter reported later", reports=[("2027-09-30", "2027-10-01"), ("2027-06-30", "2027-10-05")]
        )
        await supported("due on a month's end", D("2026-11-30"))
        # Another organization takes the employer over on 2 July: the first owes nothing from that day.
        first, employer = await supported("taken over on 2 July", until=D("2027-07-02"))
        successor = uuid4()
        await support_from(conn, successor, employer, D("2027-07-02"))
        duties["the successor"] = QuarterlyAuditDuty(successor, employer, D("2027-07-02"))
        # The same organization again, from a later day: the support it already had stands.
        await support_from(conn, successor, employer, D("2027-08-01"))
        # The organization's permit is revoked on 2 July (the subscription ends its schedule then).
        revoked, _ = await supported("permit revoked on 2 July", until=D("2027-07-02"))
        await end_schedule(conn, revoked, SUPPORT, D("2027-07-02"), "permit_revoked")

    names = {duty.id: name for name, duty in duties.items()}
    async with pool.acquire() as conn:

        async def listed(day: date, **filters):
            return {names[f.id]: f for f in await list_filings(conn, day=day, months=3, limit=100, **filters)}

        for day in DAYS:
            overdue = {name for name, duty in duties.items() if duty.overdue_on(day)}
            assert set(await listed(day, overdue_as_of=day)) == overdue, day
            shown = await listed(day)
            assert set(shown) == {
                name for name, duty in duties.items() if not support_ended(day, duty.supported_until)
            }, day
            for name, filing in shown.items():
                assert (filing.due_on, filing.overdue) == (duties[name].due_on(day), duties[name].overdue_on(day)), (
                    name,
                    day,
                )
            for before in (D("2027-07-01"), D("2027-07-02"), D("2027-09-30"), D("2027-10-01")):
                assert set(await listed(day, due_before=before)) == {
                    name for name in shown if duties[name].due_on(day) < before
                }, (day, before)

        async def overdue_on(day: str) -> set[str]:
            return set(await listed(D(day), overdue_as_of=D(day)))

        # Check: the boundaries themselves, so that agreeing cannot mean agreeing on nothing.
        assert (await listed(D("2027-09-30")))["on time, then none"].due_on == D("2027-09-30")
        assert "on time, then none" not in await overdue_on("2027-09-30")
        assert "on time, then none" in await overdue_on("2027-10-01")
        assert "a late report" in await overdue_on("2027-07-09")
        assert "a late report" not in await overdue_on("2027-07-10")
        assert "due on a month's end" not in await overdue_on("2027-02-28")
        assert "due on a month's end" in await overdue_on("2027-03-01")
        on_2_july = await overdue_on("2027-07-02")
        assert "nothing reported" in on_2_july
        assert not {"taken over on 2 July", "permit revoked on 2 July"} & on_2_july
        assert "the successor" in await overdue_on("2027-10-03")  # from 2 July (not 1 August): due 2 October
        later = (await listed(D("2027-10-06")))["an older quarter reported later"]
        assert (later.last_quarter_ending, later.last_filed_on, later.reports_filed) == (
            D("2027-09-30"),
            D("2027-10-05"),
            2,
        )
