"""Who may file a plan (services/accreditation/domain/training_plan.py `check_filer`) and what identifies a trainee
(domain/trainee.py `identity`), issue 18: the pure decisions; over REST and Kafka in
tests/e2e/test_organization_binding.py."""

from datetime import date
from uuid import uuid4

import pytest

from contracts.registry import Scheme, TrainingType
from services.accreditation.domain import trainee
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.rules import ImplementingOrganization
from shared.errors import NotFound
from tests.unit.test_accreditation_rules import IMPLEMENTING, SUPERVISING, plan

SUPPORT, OTHER = uuid4(), uuid4()
MEMBER = ImplementingOrganization(TrainingType.B, SUPERVISING, 40, False, "Aichi", SUPPORT, date(2027, 4, 1))
ESD = {"scheme": Scheme.ESD, "stage": None, "supervising_organization_id": SUPPORT, "field": "agriculture"}
DIRECT = {"training_type": TrainingType.A, "supervising_organization_id": None, "sending_organization_id": None}

ALLOWED = [
    ("the employer, under its supervising organization", IMPLEMENTING, {}),
    ("the supervising organization, for its member", SUPERVISING, {}),
    ("ESD: the employer, under its support organization", IMPLEMENTING, ESD),
    ("ESD: the support organization, for its member", SUPPORT, ESD),
    ("direct hire: the employer", IMPLEMENTING, DIRECT),
]
REFUSED = [
    ("neither of the plan's organizations", OTHER, {}, MEMBER, "implementing organization", "filing.own_organization"),
    ("a supervisor not the employer's", OTHER, {"supervising_organization_id": OTHER}, MEMBER,
     "implementing organization", "filing.member_employer"),
    ("the employer under another supervisor", IMPLEMENTING, {"supervising_organization_id": OTHER}, MEMBER,
     "supervising organization", "filing.own_supervising_organization"),
    ("an employer not known yet, by the supervisor", SUPERVISING, {}, None, "implementing organization",
     "filing.member_employer"),
    ("ESD: the TITP supervisor as if the supporter", SUPERVISING, {**ESD, "supervising_organization_id": SUPERVISING},
     MEMBER, "implementing organization", "filing.member_employer"),
    ("ESD: the employer under its TITP supervisor", IMPLEMENTING, {**ESD, "supervising_organization_id": SUPERVISING},
     MEMBER, "supervision support organization", "filing.own_supervising_organization"),
    ("direct hire: a supervising organization", SUPERVISING, DIRECT, MEMBER, "implementing organization",
     "filing.own_organization"),
]  # fmt: skip


@pytest.mark.parametrize(("filer", "changes"), [a[1:] for a in ALLOWED], ids=[a[0] for a in ALLOWED])
def test_an_organization_files_for_its_own(filer, changes):
    tp.check_filer(str(filer), plan(**changes), MEMBER)


@pytest.mark.parametrize(
    ("filer", "changes", "employer", "resource", "rule"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_any_other_filing_is_not_found_naming_the_rule(filer, changes, employer, resource, rule):
    terms = plan(**changes)
    with pytest.raises(NotFound) as refused:
        tp.check_filer(str(filer), terms, employer)
    named = terms.supervising_organization_id if rule == "filing.own_supervising_organization" else IMPLEMENTING
    assert refused.value.members == {"resource": resource, "id": str(named), "rule": rule}


def test_a_trainee_is_the_same_person_whatever_the_typing_and_the_passport():
    born = date(2001, 5, 1)
    assert trainee.identity("Nguyen Van An", born, "VN") == trainee.identity("  NGUYEN  van\tan ", born, "VN")
    assert trainee.identity("Ｎｇｕｙｅｎ Van An", born, "VN") == trainee.identity("Nguyen Van An", born, "VN")
    assert len({
        trainee.identity("Nguyen Van An", born, "VN"),
        trainee.identity("Nguyen Van Binh", born, "VN"),
        trainee.identity("Nguyen Van An", date(2001, 5, 2), "VN"),
        trainee.identity("Nguyen Van An", born, "PH"),
    }) == 4  # fmt: skip
