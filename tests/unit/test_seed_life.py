"""`titp seed` after certification (issue 20): the blueprint's TITP transfers, moves to a new supervising organization,
plan changes, filings and consultations come in realistic shares, each one the services' rules allow."""

from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import date, timedelta

import pytest

from contracts.accreditation import DifficultyCause, TransferReason
from contracts.inspection import ConsultationChannel, ConsultationSubject
from services.accreditation.domain.rules import MINOR_CHANGE_TERMS, RuleBook
from shared.dates import add_months, fiscal_year_start
from tools.seed import (
    CONSULTATIONS_PER_TRAINEE_YEAR,
    LANGUAGES,
    TITP_APPLIED_MONTHS_BEFORE,
    VISIT_MONTHS,
    _in_force,
    build_blueprint,
)

AS_OF = date(2026, 11, 24)
FILINGS = RuleBook().filings
TITP = RuleBook().titp


@pytest.fixture(scope="module")
def blueprint():
    return build_blueprint(0.01, 42, AS_OF)


@pytest.fixture(scope="module")
def plans(blueprint):
    return {p.key: p for p in blueprint.plans}


def _titp(bp):
    return [p for p in bp.plans if p.scheme == "titp"]


def test_the_same_seed_decides_the_same_life_of_its_plans(blueprint):
    again = build_blueprint(0.01, 42, AS_OF)
    assert asdict(again)["consultations"] == asdict(blueprint)["consultations"]
    assert [(p.change, p.difficulty, p.transfer_reason) for p in again.plans] == [
        (p.change, p.difficulty, p.transfer_reason) for p in blueprint.plans
    ]


def test_about_one_percent_of_titp_trainees_move_for_an_unavoidable_reason_mostly_bankruptcy(blueprint, plans):
    titp = _titp(blueprint)
    moved = [p for p in titp if p.transfer_from]
    assert 0.007 <= len(moved) / len(titp) <= 0.02
    reasons = Counter(p.transfer_reason for p in moved)
    assert reasons.most_common(1)[0][0] == "bankruptcy" and set(reasons) <= set(TransferReason) - {"own_wish"}
    for plan in moved:
        source = plans[plan.transfer_from]
        receiver = blueprint.implementing[plan.implementing]
        # The same trainee, stage, job and operation, with another employer of the same supervising organization.
        assert (source.trainee_id, source.stage, source.job_category, source.operation) == (
            plan.trainee_id,
            plan.stage,
            plan.job_category,
            plan.operation,
        )
        assert plan.implementing != source.implementing and plan.supervising == source.supervising
        assert plan.supervising == receiver.supervising and plan.operation in receiver.operations
        assert plan.stage != "iii" or receiver.excellent
        # The rest of the stage: the old plan ends as transferred on the new start, its end is the new plan's.
        assert source.start_date < plan.start_date <= source.end_date == plan.end_date
        assert source.ending == ("transferred", plan.start_date, None) and plan.start_date <= blueprint.as_of
        # Applied for in the filing window, after a notice of difficulty about the old plan.
        assert plan.applied_on == add_months(plan.start_date, -TITP_APPLIED_MONTHS_BEFORE[plan.stage])
        assert plan.applied_on < plan.certified_on < plan.start_date
        if source.difficulty:
            assert source.difficulty.cause == plan.transfer_reason
            assert source.start_date <= source.difficulty.occurred_on < plan.applied_on
    assert sum(1 for p in moved if plans[p.transfer_from].difficulty) >= 0.8 * len(moved)


def test_most_employers_of_a_revoked_organization_move_to_another_before_the_datasets_date(blueprint):
    moved = [(j, io) for j, io in enumerate(blueprint.implementing) if io.new_supervising]
    assert moved
    for j, io in moved:
        old = blueprint.supervising[io.supervising]
        k, joined_on, reassigned_on = io.new_supervising
        new = blueprint.supervising[k]
        assert old.revocation and old.revocation[0] < joined_on <= reassigned_on <= blueprint.as_of
        assert new is not old and not new.revocation and new.granted_on <= joined_on
        flagged = [p for p in blueprint.plans if p.implementing == j and p.ending is None]
        assert flagged and all(new.certifies(reassigned_on, p.stage) for p in flagged)
    employers = [
        io
        for j, io in enumerate(blueprint.implementing)
        if io.supervising is not None
        and blueprint.supervising[io.supervising].revocation
        and not io.plans_revoked_on
        and any(p.implementing == j and p.ending is None for p in blueprint.plans)
    ]
    assert 0.5 <= len(moved) / len(employers) < 1  # a few flags nobody acts on


def test_changes_of_plans_in_force_a_few_certifications_and_more_minor_notices(blueprint):
    titp = _titp(blueprint)
    changed = [p for p in titp if p.change]
    certifications = [p for p in changed if not p.change.minor]
    minor = [p for p in changed if p.change.minor]
    assert 0.02 <= len(certifications) / len(titp) <= 0.04 and 0.08 <= len(minor) / len(titp) <= 0.12
    assert 0 < sum(p.change.rejected for p in certifications) < 0.3 * len(certifications)
    assert MINOR_CHANGE_TERMS == {"monthly_wage"}  # what the seeder's notices change (a raise), if anything
    assert {p.change.raises_wage for p in minor} == {True, False} and all(p.change.raises_wage for p in certifications)
    for plan in changed:
        last = plan.ending[1] - timedelta(days=1) if plan.ending else plan.end_date
        assert plan.certified_on < plan.change.on and plan.start_date < plan.change.on <= last
        assert plan.change.wage_raise > 0 and not plan.transfer_from
        if not plan.change.minor:
            so = blueprint.supervising[plan.supervising] if plan.supervising is not None else None
            assert plan.change.on < plan.change.decided_on <= min(last, blueprint.as_of)
            assert so is None or so.certifies(plan.change.decided_on, plan.stage)


def test_start_notices_annual_reports_and_business_reports_mostly_on_time(blueprint):
    by_employer = defaultdict(list)
    for plan in _titp(blueprint):
        by_employer[plan.implementing].append(plan)
    noticed, late = 0, 0
    for j, io in enumerate(blueprint.implementing):
        started = [p for p in by_employer[j] if p.start_date <= blueprint.as_of]
        if not io.start_notice:
            continue
        noticed += 1
        key, filed_on = io.start_notice
        first = next(p for p in started if p.key == key)
        assert first.start_date == min(p.start_date for p in started) and first.start_date <= filed_on
        late += filed_on > FILINGS.start_notice_due(first.start_date)
        years = [year for year, _, _ in io.annual_reports]
        assert len(set(years)) == len(years)
        for year, report_filed, trainees in io.annual_reports:
            assert fiscal_year_start(year + 1) <= report_filed <= blueprint.as_of and report_filed >= filed_on
            in_force = {
                p.trainee_id for p in by_employer[j] if _in_force(p, fiscal_year_start(year), date(year + 1, 3, 31))
            }
            assert trainees == len(in_force) > 0
    assert noticed >= 0.9 * len(blueprint.implementing) and 0 < late < 0.1 * noticed
    reports = [(year, filed) for io in blueprint.implementing for year, filed, _ in io.annual_reports]
    late_reports = sum(filed > FILINGS.annual_report_due(year) for year, filed in reports)
    assert 0.02 <= late_reports / len(reports) <= 0.1
    business = [(so, year, filed) for so in blueprint.supervising for year, filed in so.business_reports]
    assert len(business) >= 2 * len(blueprint.supervising)
    for so, year, filed in business:
        assert fiscal_year_start(year + 1) <= filed <= blueprint.as_of and so.granted_on < fiscal_year_start(year + 1)
        assert not (so.revocation and so.revocation[0] <= filed)


def test_visit_records_of_the_last_months_for_employers_with_stage_i_trainees(blueprint):
    months = {add_months(blueprint.as_of.replace(day=1), -n) for n in range(1, VISIT_MONTHS + 1)}
    records = [(j, r) for j, io in enumerate(blueprint.implementing) for r in io.visit_records]
    assert len(records) > 100
    for j, (month, visited_on, filed_on) in records:
        io = blueprint.implementing[j]
        assert month in months and (visited_on.year, visited_on.month) == (month.year, month.month)
        assert visited_on < filed_on <= blueprint.as_of and not blueprint.supervising[io.supervising].revocation
        assert any(
            p.implementing == j and p.stage == "i" and _in_force(p, visited_on, visited_on) for p in blueprint.plans
        )


def test_notices_of_difficulty_about_two_percent_some_followed_by_a_transfer_or_a_discontinuation(blueprint, plans):
    titp = _titp(blueprint)
    noticed = [p for p in titp if p.difficulty]
    assert 0.015 <= len(noticed) / len(titp) <= 0.03
    causes = Counter(p.difficulty.cause for p in noticed)
    assert set(causes) <= set(DifficultyCause) and len(causes) >= 4
    followed = {p.transfer_from for p in titp if p.transfer_from} | {
        p.key for p in noticed if p.ending and p.ending[0] == "discontinued"
    }
    assert 0 < len(followed & {p.key for p in noticed}) < len(noticed)
    for plan in noticed:
        notice, io = plan.difficulty, blueprint.implementing[plan.implementing]
        assert plan.start_date <= notice.occurred_on <= plan.end_date and notice.occurred_on < notice.filed_on
        assert notice.filed_on <= blueprint.as_of and io.start_notice and io.start_notice[1] <= notice.filed_on


def test_consultations_about_three_a_year_per_hundred_trainees_in_their_language(blueprint, plans):
    consultations = blueprint.consultations
    first = add_months(AS_OF, -40)
    years = sum(
        max(0, (min(p.end_date, AS_OF) - max(p.start_date, first)).days)
        for p in blueprint.plans
        if p.start_date < AS_OF
    )
    expected = CONSULTATIONS_PER_TRAINEE_YEAR * years / 365
    assert 0.7 * expected <= len(consultations) <= 1.3 * expected
    subjects = Counter(c.subject for c in consultations)
    assert set(subjects) <= set(ConsultationSubject) and subjects.most_common(1)[0][0] in ("wages", "working_hours")
    assert {c.channel for c in consultations} <= set(ConsultationChannel)
    assert 0 < sum(1 for c in consultations if c.escalated) < 0.15 * len(consultations)
    assert any(c.anonymous for c in consultations) and not all(c.anonymous for c in consultations)
    for c in consultations:
        plan = plans[c.plan]
        assert c.language == LANGUAGES[plan.nationality] and plan.start_date <= c.received_on < AS_OF
        if c.handled:
            assert c.received_on < c.handled[0] <= AS_OF
        if c.escalated:  # the inspection opened from it is done by its due day, before the dataset's date
            assert c.received_on < c.escalated[0] < c.inspected[0] <= c.escalated[1] <= AS_OF


def test_a_tiny_dataset_still_has_one_of_each_kind_it_can():
    bp = build_blueprint(0.0005, 1, date(2027, 1, 15))
    assert any(p.transfer_reason for p in bp.plans) and any(io.new_supervising for io in bp.implementing)
    assert any(p.change and not p.change.minor and not p.change.rejected for p in bp.plans)
    assert any(p.change and p.change.minor for p in bp.plans) and any(p.difficulty for p in bp.plans)
    assert all(io.start_notice for io in bp.implementing if io.annual_reports or io.visit_records)
    assert any(so.business_reports for so in bp.supervising) and any(c.escalated for c in bp.consultations)
