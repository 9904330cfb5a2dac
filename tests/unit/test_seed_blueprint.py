"""`titp seed`'s blueprint: the same seed builds the same dataset, with DOMAIN §8's mix, every plan of which the
program's rules (DOMAIN §3-4, as the accreditation domain states them) allow; and its checkpoint file."""

import hashlib
from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import date, timedelta

import orjson
import pytest

from contracts.accreditation import PlanStatus, Stage
from contracts.registry import Scheme
from services.accreditation.domain.rules import (
    TRANSITION_JOB_CATEGORIES,
    EsdRules,
    OtherPlan,
    QuotaRules,
    Switch,
    age_on,
)
from services.registry.domain.rules import SupervisionSupportRules, is_quarter_end
from services.registry.domain.sending_rules import MOC_COUNTRIES
from shared.dates import add_months
from tools.seed import (
    ESD_STARTS_ON,
    GROUP_FIELDS,
    JOB_CATEGORIES,
    JOB_GROUPS,
    Checkpoint,
    Plan,
    SeedError,
    build_blueprint,
    corporate_number,
    titp_continuation_allowed,
)

AS_OF = date(2026, 11, 24)


@pytest.fixture(scope="module")
def blueprint():
    return build_blueprint(0.01, 42, AS_OF)


def test_the_same_seed_builds_the_same_dataset_and_another_seed_another(blueprint):
    assert asdict(build_blueprint(0.01, 42, AS_OF)) == asdict(blueprint)
    other = build_blueprint(0.01, 43, AS_OF)
    assert [so.corporate_number for so in other.supervising] != [so.corporate_number for so in blueprint.supervising]
    assert [p.start_date for p in other.plans] != [p.start_date for p in blueprint.plans]


def test_scale_001_has_domain_8s_numbers_and_mix(blueprint):
    plans = [p for p in blueprint.plans if not p.transfer_reason]  # a TITP transfer is the rest of a stage
    assert (len(blueprint.supervising), len(blueprint.implementing), len(plans)) == (38, 630, 4000)
    assert 0.3 <= sum(so.permit_type == "general" for so in blueprint.supervising) / 38 <= 0.7
    nationalities = Counter(p.nationality for p in plans)
    assert [n for n, _ in nationalities.most_common(5)] == ["VN", "ID", "PH", "CN", "MM"]
    assert abs(nationalities["VN"] / len(plans) - 0.53) < 0.04
    groups = Counter(p.job_group for p in plans)
    for group, share in {
        "construction": 0.22,
        "food": 0.20,
        "machinery_metal": 0.15,
        "agriculture": 0.09,
        "textiles": 0.06,
        "other": 0.28,
    }.items():
        assert abs(groups[group] / len(plans) - share) < 0.04, group
    revoked = [so for so in blueprint.supervising if so.revocation]
    assert 1 <= len(revoked) <= 3 and any(io.plans_revoked_on for io in blueprint.implementing)


def test_corporate_numbers_are_unique_with_their_check_digit(blueprint):
    numbers = [o.corporate_number for o in (*blueprint.supervising, *blueprint.implementing)]
    assert len(set(numbers)) == len(numbers) and all(len(n) == 13 and n.isdigit() for n in numbers)
    assert corporate_number(12050002) == "7000012050002"  # the National Tax Agency's own number


def test_every_plan_is_one_the_programs_rules_allow(blueprint):
    bp = blueprint
    quota = QuotaRules()
    by_trainee = defaultdict(list)
    for plan in bp.plans:
        if not plan.transfer_reason:  # a transfer continues its trainee's stage (test_titp_transfers_...)
            by_trainee[plan.trainee_id].append(plan)
        io = bp.implementing[plan.implementing]
        assert plan.start_date < ESD_STARTS_ON and plan.applied_on < plan.certified_on < plan.start_date
        assert age_on(date.fromisoformat(plan.trainee["date_of_birth"]), plan.start_date) >= 18
        assert io.registered_on <= plan.certified_on
        if io.plans_revoked_on:
            assert plan.certified_on < io.plans_revoked_on
        if io.training_type == "a":
            assert plan.sending is None and plan.nationality == "CN"
            continue
        so = bp.supervising[plan.supervising]
        assert plan.supervising == io.supervising and so.granted_on <= plan.certified_on
        assert bp.sending[plan.sending].country == plan.nationality and so.partners[plan.nationality] == plan.sending
        assert not (so.revocation and plan.certified_on >= so.revocation[0])
        assert not (so.suspension and so.suspension[0] <= plan.certified_on <= so.suspension[1])
        if plan.stage == "iii":
            assert so.permit_type == "general" and io.excellent
            assert not (so.downgraded_on and plan.certified_on >= so.downgraded_on)

    # A trainee's stages follow one another, each with the exam before it passed; all within 5 years.
    for chain in by_trainee.values():
        assert [p.stage for p in chain] == ["i", "ii", "iii"][: len(chain)]
        for before, after in zip(chain, chain[1:], strict=False):
            assert before.end_date < after.start_date and before.ending in (
                None,
                ("completed", before.end_date, "passed"),
            )
            assert len(after.exams_passed) == len(before.exams_passed) + 1
        assert sum((p.end_date - p.start_date).days + 1 for p in chain) <= 5 * 366

    # Quotas (DOMAIN §3): whatever order they are certified in, the plans of a stage in force together fit.
    for (j, stage), same in _by_organization_and_stage(bp).items():
        io = bp.implementing[j]
        excellent = io.excellent and (
            io.training_type == "a" or bp.supervising[io.supervising].permit_type == "general"
        )
        limit, _ = quota.limit(Stage(stage), io.full_time_staff, excellent)
        for plan in same:
            assert sum(1 for o in same if o.start_date <= plan.end_date and plan.start_date <= o.end_date) <= limit


def _by_organization_and_stage(bp):
    found = defaultdict(list)
    for plan in bp.plans:
        found[(plan.implementing, plan.stage)].append(plan)
    return found


def test_the_seeders_job_categories_may_all_go_past_stage_i_and_its_partners_are_moc_countries(blueprint):
    assert {category for categories in JOB_CATEGORIES.values() for category in categories} <= TRANSITION_JOB_CATEGORIES
    assert {sending.country for sending in blueprint.sending} <= MOC_COUNTRIES


# Across the switch to ESD (DOMAIN §9, issue 17)

ESD_FIELDS_ADDED = {"support", "esd_support", "esd_from", "esd_field", "scheme", "transfer_from", "exam_results"}


ISSUE_20_FIELDS_ADDED = {
    "transfer_reason",
    "difficulty",
    "change",
    "business_reports",
    "start_notice",
    "annual_reports",
    "visit_records",
    "new_supervising",
    "consultations",
}


def _before_issue_20(dumped):
    """The blueprint as it was before issue 20: without its TITP transfers (their plans, and the plans they continue
    as they were, in training) and the members it added."""
    plans = []
    for plan in dumped["plans"]:
        if plan["transfer_reason"]:
            continue
        if plan["scheme"] == "titp" and plan["ending"] and plan["ending"][0] == "transferred":
            plan = {**plan, "ending": None}
        plans.append(plan)
    return {k: v for k, v in {**dumped, "plans": plans}.items() if k not in ISSUE_20_FIELDS_ADDED} | {
        "supervising": [_without(so) for so in dumped["supervising"]],
        "implementing": [_without(io) for io in dumped["implementing"]],
        "plans": [_without(plan) for plan in plans],
    }


def _without(record):
    return {k: v for k, v in record.items() if k not in ISSUE_20_FIELDS_ADDED}


def _titp_view(value):
    """The blueprint as it was before ESD: without the members ESD added."""
    if isinstance(value, dict):
        return {k: _titp_view(v) for k, v in value.items() if k not in ESD_FIELDS_ADDED}
    if isinstance(value, list):
        return [_titp_view(v) for v in value]
    return value


@pytest.mark.parametrize(
    ("scale", "seed", "as_of", "fingerprint"),
    [
        (0.01, 42, AS_OF, "06ad4342bfb06e152816660ef0711c7f09ed82c80cb73f522ca26f1470a671f7"),
        (0.001, 42, date(2027, 1, 31), "f26d3f69392cf85725b691529eab8cd503b6b29339b2b51748e888330c2824cf"),
    ],
)
def test_a_dataset_that_ends_before_the_switch_is_the_one_it_always_was(scale, seed, as_of, fingerprint):
    # The fingerprints of the seeder's pre-switch datasets, taken again when issue 19 made its codes real (JIS
    # prefecture codes, operations, the filing window): ESD's additions still leave them alone.
    blueprint = build_blueprint(scale, seed, as_of)
    assert not blueprint.support and all(p.scheme == "titp" for p in blueprint.plans)
    dumped = orjson.dumps(_titp_view(_before_issue_20(asdict(blueprint))), option=orjson.OPT_NON_STR_KEYS)
    assert hashlib.sha256(dumped).hexdigest() == fingerprint


ESD = EsdRules()
SWITCH = Switch()
SUPPORT = SupervisionSupportRules()


@pytest.fixture(scope="module", params=[date(2027, 10, 1), date(2028, 9, 1)], ids=str)
def across(request):
    return build_blueprint(0.01, 42, request.param)


def _other(plan: Plan) -> OtherPlan:
    return OtherPlan(
        Stage(plan.stage),
        plan.job_category,
        plan.start_date,
        plan.end_date,
        PlanStatus.CERTIFIED,
        scheme=Scheme.TITP,
        applied_on=plan.applied_on,
    )


def test_after_the_switch_new_workers_come_under_esd_in_several_fields(across):
    esd = [p for p in across.plans if p.scheme == "esd"]
    assert len(esd) > 300 and all(p.stage is None and p.esd_field in ESD.fields for p in esd)
    fields = Counter(p.esd_field for p in esd)
    assert len(fields) >= 12
    # Weighted by the national caps: the two largest caps are the two largest fields.
    biggest = sorted(ESD.national_caps[2027], key=ESD.national_caps[2027].__getitem__)[-2:]
    assert {f for f, _ in fields.most_common(2)} == set(biggest)
    # ESD applications are filed before ESD starts for plans starting on or after it.
    assert all(p.start_date >= ESD_STARTS_ON for p in esd)
    assert any(p.applied_on < ESD_STARTS_ON for p in esd)


def test_titp_takes_applications_until_the_switch_and_trainees_in_it_move_on_as_the_rules_allow(across):
    titp = [p for p in across.plans if p.scheme == "titp"]
    stage_i = [p for p in titp if p.stage == "i"]
    assert all(p.applied_on < ESD_STARTS_ON and p.start_date <= SWITCH.titp_last_start for p in stage_i)
    assert any(p.start_date >= ESD_STARTS_ON for p in stage_i)  # applied for before, certified after
    by_trainee = defaultdict(list)
    for plan in titp:
        by_trainee[plan.trainee_id].append(plan)
    moved_on = 0
    for chain in by_trainee.values():
        for n, plan in enumerate(chain):
            if plan.applied_on < ESD_STARTS_ON and plan.start_date <= SWITCH.titp_last_start:
                continue
            moved_on += 1
            earlier = [_other(p) for p in chain[:n]]
            assert plan.stage != "i" and SWITCH.in_titp_on(ESD_STARTS_ON, earlier), plan.key
            if plan.stage == "iii":
                assert SWITCH.year_of_stage_ii(ESD_STARTS_ON, earlier), plan.key
    assert moved_on > 100


def _plan(stage: str, start: date, months: int) -> Plan:
    end = add_months(start, months) - timedelta(days=1)
    return Plan(stage, None, {}, stage, "welding", "other", 0, 0, 0, start, end, add_months(start, -2),
                add_months(start, -1), [])  # fmt: skip


def test_the_seeder_moves_a_trainee_on_after_the_switch_only_as_the_switch_rules_allow():
    late = add_months(SWITCH.titp_last_start, 2)  # applied for after the switch, starting after the last TITP start
    # Stage ii: for a trainee in TITP on the day ESD starts.
    assert titp_continuation_allowed([_plan("i", add_months(late, -12), 12)], "ii", late)
    assert not titp_continuation_allowed([_plan("i", add_months(ESD_STARTS_ON, -12), 12)], "ii", late)
    # Stage iii: with the year of stage ii done by then (12 months allowed, a day less refused).
    year_before = add_months(ESD_STARTS_ON, -12 * SWITCH.stage_ii_years_before_iii)
    for stage_ii_from, allowed in ((year_before, True), (year_before + timedelta(days=1), False)):
        chain = [_plan("i", add_months(stage_ii_from, -12), 12), _plan("ii", stage_ii_from, 24)]
        assert titp_continuation_allowed(chain, "iii", late) is allowed


def test_every_esd_plan_is_supported_by_a_granted_support_organization(across):
    bp = across
    assert bp.support
    for plan in (p for p in bp.plans if p.scheme == "esd"):
        io = bp.implementing[plan.implementing]
        sso = bp.support[plan.support]
        assert io.training_type == "b" and io.esd_support == plan.support and io.esd_from <= plan.start_date
        assert sso.granted_on <= plan.certified_on and sso.certifies(plan.certified_on)
        assert bp.supervising[sso.cooperative].corporate_number == sso.corporate_number
        assert bp.sending[plan.sending].country == plan.nationality and plan.sending in sso.partners.values()
        assert plan.applied_on < plan.certified_on < plan.start_date and plan.esd_field == io.esd_field
        assert any(
            e["grade"] == "japanese_a1" and date.fromisoformat(e["passed_on"]) < plan.start_date
            for e in plan.exams_passed
        )
        assert age_on(date.fromisoformat(plan.trainee["date_of_birth"]), plan.start_date) >= ESD.minimum_age
    # Each application meets the registry's standards for the permit.
    for sso in bp.support:
        assert sso.full_time_staff >= SUPPORT.min_full_time_staff
        assert SUPPORT.min_member_employers <= sso.member_employers <= SUPPORT.max_employers(sso.full_time_staff)
        assert sso.workers <= SUPPORT.max_workers(sso.full_time_staff)
    # Quotas: the ESD plans of an employer in force together fit its quota.
    quota = QuotaRules()
    for (j, scheme), same in _by_organization_and_scheme(bp).items():
        if scheme != "esd":
            continue
        io = bp.implementing[j]
        limit = quota.basic(io.full_time_staff) * (ESD.quota_multiple_excellent if io.excellent else ESD.quota_multiple)
        for plan in same:
            assert sum(1 for o in same if o.start_date <= plan.end_date and plan.start_date <= o.end_date) <= limit


def _by_organization_and_scheme(bp):
    found = defaultdict(list)
    for plan in bp.plans:
        found[(plan.implementing, plan.scheme)].append(plan)
    return found


def test_a_few_esd_workers_transfer_after_their_fields_period_and_audits_are_filed_each_quarter():
    bp = build_blueprint(0.01, 42, date(2028, 9, 1))
    plans = {p.key: p for p in bp.plans}
    moved = [p for p in bp.plans if p.transfer_from and p.scheme == "esd"]
    assert moved
    for plan in moved:
        source = plans[plan.transfer_from]
        assert source.ending == ("transferred", plan.start_date, None) and source.trainee_id == plan.trainee_id
        assert plan.start_date >= add_months(source.start_date, 12 * ESD.fields[source.esd_field].transfer_years)
        assert (plan.esd_field, plan.job_category) == (source.esd_field, source.job_category)
        assert plan.implementing != source.implementing and plan.end_date == source.end_date
        assert any(grade == "basic" and on < plan.start_date for grade, on in source.exam_results)
    reports = [(sso_index, *r) for sso_index, sso in enumerate(bp.support) for r in sso.audit_reports]
    assert reports
    for sso_index, employer, quarter_ending, filed_on, workers in reports:
        assert is_quarter_end(quarter_ending) and quarter_ending < filed_on <= bp.as_of and workers > 0
        assert bp.implementing[employer].esd_support == sso_index
    assert any(SUPPORT.audit_report_late(q, filed) for _, _, q, filed, _ in reports)


def test_every_esd_field_has_a_job_group_whose_employers_work_in_it():
    assert set(GROUP_FIELDS) == set(JOB_GROUPS)
    assert {name for names in GROUP_FIELDS.values() for name in names} == set(ESD.fields)


def test_a_date_long_after_the_switch_holds_esd_workers_and_the_last_titp_trainees():
    bp = build_blueprint(0.001, 42, date(2030, 6, 1))
    assert Counter(p.scheme for p in bp.plans)["esd"] > 200
    assert all(p.start_date <= SWITCH.titp_last_start for p in bp.plans if p.stage == "i")


def test_the_checkpoint_reads_back_what_was_recorded_and_refuses_another_dataset(tmp_path):
    path, identity = tmp_path / "seed.jsonl", {"seed": 42, "scale": 0.01, "as_of": "2026-11-24"}
    checkpoint = Checkpoint(path, identity)
    checkpoint.record("so-0:create", "0b8f6c52-6a8e-4f4e-9d43-2b9c1b0e7a11")
    checkpoint.record("inspection:so-0:2026-05-01", {"inspected_on": "2026-04-20", "findings": True})
    checkpoint.close()
    with path.open("ab") as file:
        file.write(b'{"step": "so-0:gra')  # an interruption in the middle of a line

    resumed = Checkpoint(path, identity)
    assert resumed["so-0:create"] == "0b8f6c52-6a8e-4f4e-9d43-2b9c1b0e7a11" and "so-0:grant" not in resumed
    assert resumed.inspections() == [{"inspected_on": "2026-04-20", "findings": True}]
    resumed.close()
    with pytest.raises(SeedError, match="another dataset"):
        Checkpoint(path, {**identity, "seed": 43})
