"""An application's terms agree with themselves (services/accreditation/domain/rules.py `check_terms`): one
rule, named, that the domain refuses with (409 through a command) and the request body answers with (422,
tests/integration/test_accreditation_service.py)."""

from datetime import date
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts.registry import TrainingType
from services.accreditation.api.schemas import ApplyForCertification
from services.accreditation.domain import training_plan as tp
from shared.errors import DomainRuleViolation
from tests.unit.test_accreditation_rules import plan
from tests.unit.test_accreditation_training_plan import APPLIED_ON, sealed

REFUSED = [
    ("ends before it starts", {"end_date": date(2026, 3, 31)}, "plan.end_not_before_start"),
    (
        "type (b) without its supervising organization",
        {"supervising_organization_id": None},
        "plan.type_b_names_its_organizations",
    ),
    (
        "type (b) without its sending organization",
        {"sending_organization_id": None},
        "plan.type_b_names_its_organizations",
    ),
    (
        "type (a) naming a supervising organization",
        {"training_type": TrainingType.A, "sending_organization_id": None},
        "plan.type_a_names_no_organizations",
    ),
    (
        "a return home stated by a stage-i plan",
        {"return_home": {"from_date": date(2026, 6, 1), "until_date": date(2026, 6, 30)}},
        "plan.return_home_stage_iii",
    ),
    (
        "a return home ending before it starts",
        {
            "stage": "iii",
            "operation": "construction.carpentry.building",
            "return_home": {"from_date": date(2026, 6, 1), "until_date": date(2026, 5, 31)},
        },
        "plan.return_home_dates",
    ),
]


@pytest.mark.parametrize(("changes", "rule"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED])
def test_terms_that_contradict_themselves_are_refused_by_the_domain_and_by_the_request_body(changes, rule):
    terms = plan(**changes)
    with pytest.raises(DomainRuleViolation) as refused:
        tp.apply_for_certification(tp.TrainingPlan(), sealed(terms), APPLIED_ON)
    assert refused.value.rule == rule
    with pytest.raises(ValidationError) as invalid:
        ApplyForCertification.model_validate({**terms.model_dump(mode="json"), "applied_on": APPLIED_ON.isoformat()})
    assert refused.value.detail in str(invalid.value)


def test_consistent_terms_pass_both_and_the_body_builds_the_contracts_terms():
    terms = plan(exams_passed=({"grade": "basic", "passed_on": date(2025, 3, 1)},))
    body = ApplyForCertification.model_validate({**terms.model_dump(mode="json"), "applied_on": "2025-11-20"})
    assert body.terms() == terms
    a = plan(
        training_type=TrainingType.A, supervising_organization_id=None, sending_organization_id=None, trainee_id=uuid4()
    )
    assert tp.apply_for_certification(tp.TrainingPlan(), sealed(a), APPLIED_ON)
