"""An implementing organization's staff and rating histories: the latest by date is the current one."""

from datetime import date
from uuid import uuid4

import pytest

from contracts.registry import (
    ExcellenceRated,
    ImplementingOrganizationRegistered,
    StaffCountRecorded,
    TrainingType,
)
from services.registry.domain import implementing_organization as io
from services.registry.domain import supervising_organization as sup
from shared.errors import DomainRuleViolation
from tests.helpers import corporate_number

REGISTERED = ImplementingOrganizationRegistered(
    name="Kobe Precision Ltd",
    corporate_number=corporate_number(876543210987),  # with its check digit
    address="Kobe",
    prefecture="28",  # Hyogo's JIS X 0401 code, as recorded
    industry="machinery",
    training_type=TrainingType.A,
    supervising_organization_id=None,
    full_time_staff=40,
    staff_as_of=date(2026, 4, 1),
    excellent=False,
    registered_on=date(2026, 4, 10),
)


def folded(*events):
    state = io.ImplementingOrganization()
    for event in events:
        state = io.evolve(state, event)
    return state


@pytest.mark.parametrize(
    ("recorded", "current"),
    [
        ((), 40),
        ((StaffCountRecorded(full_time_staff=55, as_of=date(2026, 10, 1)),), 55),
        # A late report of an older date goes into the history, not over the current figure.
        (
            (
                StaffCountRecorded(full_time_staff=55, as_of=date(2026, 10, 1)),
                StaffCountRecorded(full_time_staff=38, as_of=date(2026, 7, 1)),
            ),
            55,
        ),
        # Two figures for one date: the one recorded later corrects the first.
        (
            (
                StaffCountRecorded(full_time_staff=55, as_of=date(2026, 10, 1)),
                StaffCountRecorded(full_time_staff=57, as_of=date(2026, 10, 1)),
            ),
            57,
        ),
    ],
)
def test_the_current_staff_count_is_the_latest_by_date(recorded, current):
    state = folded(REGISTERED, *recorded)
    assert state.staff.full_time_staff == current
    assert [s.as_of for s in state.staff_history] == sorted(s.as_of for s in state.staff_history)
    assert len(state.staff_history) == 1 + len(recorded)


def test_the_rating_is_the_latest_by_date():
    state = folded(
        REGISTERED,
        ExcellenceRated(excellent=True, as_of=date(2027, 4, 1)),
        ExcellenceRated(excellent=False, as_of=date(2026, 12, 1)),
    )
    assert (state.rating.excellent, state.rating.as_of) == (True, date(2027, 4, 1))
    assert [r.excellent for r in state.rating_history] == [False, False, True]


def test_a_type_b_organization_needs_a_registered_supervising_organization():
    type_b = REGISTERED.model_copy(update={"training_type": TrainingType.B, "supervising_organization_id": uuid4()})
    for unknown in (None, sup.SupervisingOrganization()):
        with pytest.raises(DomainRuleViolation) as refused:
            io.register_implementing_organization(io.ImplementingOrganization(), type_b, unknown)
        assert refused.value.rule == "implementing_organization.supervising_organization_unknown"
    assert io.register_implementing_organization(io.ImplementingOrganization(), REGISTERED, None) == [REGISTERED]
    with pytest.raises(DomainRuleViolation) as again:
        io.register_implementing_organization(folded(REGISTERED), REGISTERED, None)
    assert again.value.rule == "implementing_organization.already_registered"


@pytest.mark.parametrize("given", ["28", "Hyogo", "兵庫県"])
def test_a_registration_records_the_prefectures_code(given):
    registration = REGISTERED.model_copy(update={"prefecture": given})
    assert io.register_implementing_organization(io.ImplementingOrganization(), registration, None) == [REGISTERED]


@pytest.mark.parametrize(
    ("changes", "rule"),
    [
        ({"corporate_number": "9876543210987"}, "corporate_number.check_digit"),
        ({"corporate_number": "0000000000000"}, "corporate_number.check_digit"),
        ({"prefecture": "Atlantis"}, "prefecture.unknown"),
        ({"prefecture": "48"}, "prefecture.unknown"),
    ],
)
def test_a_registration_needs_a_corporate_number_with_its_check_digit_and_a_prefecture(changes, rule):
    with pytest.raises(DomainRuleViolation) as refused:
        io.register_implementing_organization(
            io.ImplementingOrganization(), REGISTERED.model_copy(update=changes), None
        )
    assert (refused.value.rule, refused.value.members.get("field")) == (rule, next(iter(changes)))
