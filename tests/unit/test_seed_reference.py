"""`titp seed` uses only real codes (DOMAIN §11): JIS prefecture codes, corporate numbers with their check digit,
operations of the reference data that go as far as each plan's stage; and its requests carry what the contracts of
issue 19 ask for (officers, a recommendation's reference, the operation)."""

import asyncio
from collections import defaultdict
from datetime import date
from typing import Any

import pytest

from contracts.accreditation import Stage
from services.accreditation.domain.rules import STAGE_EXAM, TRANSITION_JOB_CATEGORIES, TitpRules
from shared import reference
from shared.dates import add_months
from tools.seed import (
    JOB_CATEGORIES,
    OPERATIONS,
    PREFECTURES,
    SERVICES_USED,
    Seeder,
    build_blueprint,
    titp_exam_results,
)

TITP = TitpRules()


@pytest.fixture(scope="module", params=[date(2026, 11, 24), date(2028, 3, 1)], ids=["before-esd", "across-esd"])
def blueprint(request):
    return build_blueprint(0.01, 42, request.param)


def test_the_generators_tables_use_reference_codes():
    assert set(PREFECTURES) == set(reference.prefectures())
    categories = {category for categories in JOB_CATEGORIES.values() for category in categories}
    assert categories <= reference.job_categories() and categories <= TRANSITION_JOB_CATEGORIES
    assert set(OPERATIONS) == categories
    for category, codes in OPERATIONS.items():
        assert codes and all(reference.operation(code).job_category == category for code in codes)


def test_every_organization_has_a_jis_prefecture_and_a_valid_corporate_number(blueprint):
    organizations = [*blueprint.supervising, *blueprint.implementing, *blueprint.support]
    assert all(o.prefecture in reference.prefectures() for o in organizations)
    assert all(reference.valid_corporate_number(o.corporate_number) for o in organizations)


def test_every_titp_plan_names_an_operation_of_its_job_category_that_goes_as_far_as_its_stage(blueprint):
    titp = [p for p in blueprint.plans if p.stage is not None]
    assert titp and all(p.operation is None for p in blueprint.plans if p.stage is None)
    chains: dict[Any, set] = defaultdict(set)
    for plan in titp:
        op = reference.operation(plan.operation)
        assert op is not None, plan.operation
        assert op.job_category == plan.job_category
        assert op.reaches(plan.stage), (plan.operation, plan.stage)
        assert plan.operation in blueprint.implementing[plan.implementing].operations
        chains[plan.trainee_id].add(plan.operation)
    assert all(len(operations) == 1 for operations in chains.values())  # the same operation at every stage
    stages = {p.stage for p in titp}
    assert {"i", "ii", "iii"} <= stages or blueprint.as_of >= date(2028, 1, 1)
    assert any(reference.operation(p.operation).last_stage == "ii" for p in titp)  # stage-ii-only operations too


def test_every_organizations_operations_are_of_its_job_category(blueprint):
    for io in blueprint.implementing:
        assert 1 <= len(io.operations) <= 3
        assert all(reference.operation(code).job_category == io.job_category for code in io.operations)


def test_titp_plans_are_filed_within_the_filing_window_and_exams_precede_the_next_stage(blueprint):
    for plan in blueprint.plans:
        if plan.stage is None:
            continue
        stage = Stage(plan.stage)
        earliest = add_months(plan.start_date, -TITP.filing_earliest_months)
        latest = add_months(plan.start_date, -TITP.filing_latest_months[stage])
        assert earliest <= plan.applied_on <= latest < plan.certified_on < plan.start_date
        if stage is not Stage.I:
            before = list(Stage)[list(Stage).index(stage) - 1]
            assert plan.exams_passed[-1]["grade"] == STAGE_EXAM[before].value
            assert date.fromisoformat(plan.exams_passed[-1]["passed_on"]) <= plan.certified_on


def test_field_limited_organizations_have_staff_for_all_their_trainees(blueprint):
    by_organization = defaultdict(list)
    for plan in blueprint.plans:
        if plan.operation and reference.operation(plan.operation).field_limit:
            by_organization[plan.implementing].append(plan)
    assert by_organization
    for j, plans in by_organization.items():
        most = max(sum(1 for o in plans if o.start_date <= p.end_date and p.start_date <= o.end_date) for p in plans)
        assert most <= blueprint.implementing[j].full_time_staff


class Recorder(Seeder):
    """A seeder that records its requests instead of sending them."""

    def __init__(self, blueprint):
        super().__init__(blueprint, dict.fromkeys(SERVICES_USED), {}, None, show_progress=False)
        self.sent: list[tuple[str, str, dict[str, Any]]] = []

    async def create(self, service, path, body, step):
        self.sent.append((service, path, body))
        return f"id-of-{step}"

    async def send(self, service, path, body, step, *, remember=True):
        self.sent.append((service, path, body))

    def id(self, key):
        return f"id-of-{key}"


def test_the_requests_carry_officers_codes_recommendations_and_operations(blueprint):
    recorder = Recorder(blueprint)

    async def everything():
        for sending in blueprint.sending:
            await recorder.approve_sending_organization(sending)
        for so in blueprint.supervising:
            await recorder.permit(so)
        for io in blueprint.implementing:
            await recorder.register(io)
        for plan in blueprint.plans[:300]:
            await recorder.certify(plan)

    asyncio.run(everything())
    bodies = defaultdict(list)
    for _, path, body in recorder.sent:
        bodies[path].append(body)
    for body in bodies["/v1/sending-organizations"]:
        assert body["recommendation_reference"] and body["approval_reference"]
    for body in bodies["/v1/supervising-organizations"]:
        assert body["prefecture"] in reference.prefectures()
        assert reference.valid_corporate_number(body["corporate_number"])
        assert body["officers"] and all(
            set(officer) == {"name", "address", "position"} and officer["name"] and officer["address"]
            for officer in body["officers"]
        )
        assert body["officers"][0]["name"] == body["representative"]
    for body in bodies["/v1/implementing-organizations"]:
        assert body["prefecture"] in reference.prefectures()
        assert reference.valid_corporate_number(body["corporate_number"])
    plans = bodies["/v1/training-plans"]
    assert plans
    for body in plans:
        if body.get("scheme") == "esd":
            assert "operation" not in body
        else:
            op = reference.operation(body["operation"])
            assert op.job_category == body["job_category"] and op.reaches(body["stage"])


@pytest.mark.parametrize("stage", ["ii", "iii"])
def test_each_stage_ii_and_iii_trainee_has_the_stage_befores_exam_recorded_before_certification(blueprint, stage):
    results = titp_exam_results(blueprint, stage)
    plans = [p for p in blueprint.plans if p.stage == stage and not p.transfer_from]  # a transfer's: its source's
    assert len(results) == len(plans) and (plans or stage == "iii")
    before = list(Stage)[list(Stage).index(Stage(stage)) - 1]
    for plan, grade, taken_on in results:
        assert plan.stage == stage and grade == STAGE_EXAM[before].value and taken_on <= plan.certified_on
    steps = [f"{plan.key}:exam:{grade}" for plan, grade, _ in results]
    assert len(steps) == len(set(steps))


def test_type_a_organizations_have_staff_for_their_share_of_trainees(blueprint):
    quota = TITP.quota
    by_stage = defaultdict(list)
    for plan in blueprint.plans:
        if plan.stage is not None and blueprint.implementing[plan.implementing].training_type == "a":
            by_stage[(plan.implementing, Stage(plan.stage))].append(plan)
    assert by_stage
    for (j, stage), plans in by_stage.items():
        io = blueprint.implementing[j]
        most = max(sum(1 for o in plans if o.start_date <= p.end_date and p.start_date <= o.end_date) for p in plans)
        assert most <= quota.limit(stage, io.full_time_staff, io.excellent, True)[0], (io.key, stage)
