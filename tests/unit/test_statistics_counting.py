"""What plans and inspections count in (the statistics projections' pure halves), as tables and properties."""

from dataclasses import replace
from datetime import date, timedelta
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from contracts.inspection import Finding, InspectionReason, TargetType
from contracts.registry import Scheme
from services.accreditation.projections.statistics import job_group, plan_keys
from services.inspection.domain.inspection import Inspection, Status
from services.inspection.projections.statistics import inspection_facts, inspection_keys
from shared.dates import add_months, last_day

D = date.fromisoformat
ORG = str(uuid4())
DIMENSIONS = ("VN", "construction", "i", "b", "Aichi")


def facts(certified_on="2025-03-20", start="2025-04-01", end="2026-03-31", ended_on=None, revoked=False):
    return {
        "dimensions": list(DIMENSIONS),
        "implementing_organization_id": ORG,
        "certified_on": certified_on,
        "start_date": start,
        "end_date": end,
        "ended_on": ended_on,
        "revoked": revoked,
    }


def months_in_progress(keys) -> list[str]:
    return sorted(
        period.strftime("%Y-%m")
        for (measure, period, _), n in keys.items()
        if measure == "trainees_in_progress" and n == 1
    )


def months(first: str, last: str) -> list[str]:
    found = [D(f"{first}-01")]
    while found[-1] < D(f"{last}-01"):
        found.append(add_months(found[-1], 1))
    return [m.strftime("%Y-%m") for m in found]


@pytest.mark.parametrize(
    ("plan", "in_progress"),
    [
        # A year-long plan is in progress on the last day of each of its twelve months, its last day included.
        (facts(), months("2025-04", "2026-03")),
        # Completed on its last day: not in progress on that day any more.
        (facts(ended_on="2026-03-31"), months("2025-04", "2026-02")),
        # Started mid-month: in progress on that month's last day.
        (facts(start="2025-04-10", end="2026-04-09"), months("2025-04", "2026-03")),
        # Discontinued on the first of a month: in progress on the last day of the month before.
        (facts(ended_on="2025-06-01"), months("2025-04", "2025-05")),
        # Revoked before it started: never in progress.
        (facts(ended_on="2025-03-25", revoked=True), []),
    ],
)
def test_a_certified_plan_counts_in_its_month_and_the_month_ends_it_is_in_progress_on(plan, in_progress):
    keys = plan_keys(plan)
    assert keys[("plans_certified", D("2025-03-01"), DIMENSIONS)] == 1
    assert months_in_progress(keys) == in_progress


def test_a_revoked_plan_counts_in_the_fiscal_year_of_its_revocation_with_its_organization():
    keys = plan_keys(facts(ended_on="2026-02-10", revoked=True))
    assert keys[("plans_revoked", D("2025-04-01"), DIMENSIONS)] == 1
    assert keys[("implementing_organizations_with_plans_revoked", D("2025-04-01"), (ORG,))] == 1
    assert not any(m.startswith("plans_revoked") for m, _, _ in plan_keys(facts(ended_on="2026-02-10")))


def test_job_categories_fall_into_domain_8s_job_groups():
    assert [
        job_group(c)
        for c in (
            "construction",
            "food manufacturing",
            "machinery and metal",
            "agriculture",
            "textiles and clothing",
            "nursing care",
            "welding",
        )
    ] == ["construction", "food", "machinery_metal", "agriculture", "textiles", "other", "other"]


days = st.dates(min_value=D("2023-01-01"), max_value=D("2027-12-31"))


@given(start=days, length=st.integers(0, 800), ended_after=st.none() | st.integers(0, 900))
def test_the_months_in_progress_are_those_whose_last_day_the_plan_is_in_progress_on(start, length, ended_after):
    end = start + timedelta(days=length)
    ended = start + timedelta(days=ended_after) if ended_after is not None else None
    keys = plan_keys(
        facts(
            certified_on=start.isoformat(),
            start=start.isoformat(),
            end=end.isoformat(),
            ended_on=ended.isoformat() if ended else None,
        )
    )
    month, expected = start.replace(day=1), []
    while month <= end:
        day = last_day(month, 1)
        if start <= day <= end and (ended is None or day < ended):
            expected.append(month.strftime("%Y-%m"))
        month = add_months(month, 1)
    assert months_in_progress(keys) == expected


def inspection(scheduled_on: date, due_by: date, closed: str | None, closed_on: date | None) -> Inspection:
    return Inspection(
        target_type=TargetType.IMPLEMENTING_ORGANIZATION,
        target_id=uuid4(),
        reason=InspectionReason.FIRST_CERTIFIED_PLAN,
        scheduled_on=scheduled_on,
        due_by=due_by,
        status={None: Status.SCHEDULED, "inspected": Status.COMPLETED, "cancelled": Status.CANCELLED}[closed],
        inspected_on=closed_on if closed == "inspected" else None,
        cancelled_on=closed_on if closed == "cancelled" else None,
        findings=(Finding(code="records_not_kept", legal_breach=False, description="diary"),)
        if closed == "inspected"
        else (),
    )


@given(
    scheduled_on=days,
    due_after=st.integers(0, 400),
    closed=st.sampled_from([None, "inspected", "cancelled"]),
    closed_after=st.integers(-30, 800),
)
def test_the_overdue_changes_up_to_a_day_add_up_to_whether_the_inspection_is_overdue_then(
    scheduled_on, due_after, closed, closed_after
):
    due_by = scheduled_on + timedelta(days=due_after)
    state = inspection(scheduled_on, due_by, closed, scheduled_on + timedelta(days=closed_after) if closed else None)
    changes = {
        period: n
        for (measure, period, _), n in inspection_keys(inspection_facts(state)).items()
        if measure == "inspections_overdue_change"
    }
    for offset in range(-5, 1000, 7):
        day = scheduled_on + timedelta(days=offset)
        assert sum(n for period, n in changes.items() if period <= day) == int(state.overdue_on(day)), day


def test_an_inspection_counts_as_done_and_with_findings_in_the_quarter_it_was_inspected_in():
    state = inspection(D("2025-05-01"), D("2026-05-01"), "inspected", D("2026-02-20"))
    keys = inspection_keys(inspection_facts(state))
    quarter = ("implementing_organization", "titp")
    assert keys[("inspections_done", D("2026-01-01"), quarter)] == 1
    assert keys[("inspections_with_findings", D("2026-01-01"), quarter)] == 1
    assert not any(m == "inspections_overdue_change" for m, _, _ in keys)


@pytest.mark.parametrize("scheme", [Scheme.TITP, Scheme.ESD])
def test_an_inspection_counts_under_its_target_type_and_scheme(scheme):
    state = replace(inspection(D("2025-05-01"), D("2025-08-31"), None, None), scheme=scheme)
    keys = inspection_keys(inspection_facts(state))
    assert keys == {("inspections_overdue_change", D("2025-09-01"), ("implementing_organization", scheme.value)): 1}


def test_facts_recorded_before_the_scheme_was_counted_count_as_titp():
    """What migration 003 gave the counters kept before: re-projecting an old inspection changes nothing."""
    facts = inspection_facts(inspection(D("2025-05-01"), D("2026-05-01"), "inspected", D("2026-02-20")))
    old = {k: v for k, v in facts.items() if k != "scheme"}
    assert facts["scheme"] == "titp" and inspection_keys(old) == inspection_keys(facts)
