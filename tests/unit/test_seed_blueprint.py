"""`titp seed`'s blueprint: the same seed builds the same dataset, with DOMAIN §8's mix, every plan of which the
program's rules (DOMAIN §3-4, as the accreditation domain states them) allow; and its checkpoint file."""

from collections import Counter, defaultdict
from dataclasses import asdict
from datetime import date

import pytest

from contracts.accreditation import Stage
from services.accreditation.domain.rules import TRANSITION_JOB_CATEGORIES, QuotaRules, age_on
from services.registry.domain.sending_rules import MOC_COUNTRIES
from tools.seed import ESD_STARTS_ON, JOB_CATEGORIES, Checkpoint, SeedError, build_blueprint, corporate_number

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
    plans = blueprint.plans
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


def test_a_date_past_the_switch_to_esd_leaves_no_titp_plans():
    with pytest.raises(SeedError, match="2027-04-01"):
        build_blueprint(0.001, 42, date(2030, 6, 1))


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
