"""A trainee's consultation with OTIT (DOMAIN §7, issue 20) as tables: recorded in the trainee's language, handled
until closed, and escalated to an extraordinary inspection of an organization it names, once."""

from datetime import date
from uuid import uuid4

import pytest
from pydantic import ValidationError

from contracts.inspection import ConsultationEscalated, ConsultationRecorded, TargetType
from services.inspection.domain import consultation as con
from services.inspection.projections.consultations import CONSULTATIONS_RECEIVED, consultation_facts, consultation_keys
from shared.errors import DomainRuleViolation

D = date.fromisoformat
IO, SO = TargetType.IMPLEMENTING_ORGANIZATION, TargetType.SUPERVISING_ORGANIZATION
EMPLOYER, COOPERATIVE = uuid4(), uuid4()


def recorded(**overrides) -> ConsultationRecorded:
    return ConsultationRecorded(
        **{
            "consultation_id": uuid4(),
            "received_on": D("2027-05-12"),
            "language": "vi",
            "channel": "phone",
            "subject": "abuse_or_harassment",
            "summary": "Tổ trưởng thường xuyên quát mắng thực tập sinh.",
            "trainee_id": uuid4(),
            "implementing_organization_id": EMPLOYER,
            **overrides,
        }
    )


def then(state, events):
    for event in events:
        state = con.evolve(state, event)
    return state


def received(**overrides) -> con.Consultation:
    return then(con.Consultation(), con.record(con.Consultation(), recorded(**overrides)))


def refused(decide) -> str:
    with pytest.raises(DomainRuleViolation) as refusal:
        decide()
    return refusal.value.rule


@pytest.mark.parametrize(
    "language, rule", [("vi", None), ("zh", None), ("tl", None), ("my", None), ("xx", "consultation.language")]
)
def test_the_language_is_an_iso_639_1_code(language, rule):
    if rule is None:
        assert received(language=language).language == language
    else:
        assert refused(lambda: received(language=language)) == rule


@pytest.mark.parametrize("language", ["VI", "vie", "v", ""])
def test_a_language_not_two_small_letters_is_no_contract(language):
    with pytest.raises(ValidationError):
        recorded(language=language)


def test_a_trainee_may_stay_anonymous():
    anonymous = received(trainee_id=None)
    assert (anonymous.status, anonymous.trainee_id) == ("received", None)


PLAN = uuid4()


@pytest.mark.parametrize(
    "named, plan_employer, recorded_employer, rule",
    [
        (EMPLOYER, None, EMPLOYER, None),  # a plan this service has not heard of: as given
        (None, None, None, None),
        (EMPLOYER, EMPLOYER, EMPLOYER, None),
        (None, EMPLOYER, EMPLOYER, None),  # the plan names its employer
        (COOPERATIVE, EMPLOYER, None, "consultation.plan_of_another_employer"),
    ],
)
def test_a_training_plan_named_is_its_employers(named, plan_employer, recorded_employer, rule):
    decide = lambda: con.record(  # noqa: E731
        con.Consultation(),
        recorded(training_plan_id=PLAN, implementing_organization_id=named),
        plan_employer=plan_employer,
    )
    if rule is None:
        assert then(con.Consultation(), decide()).implementing_organization_id == recorded_employer
    else:
        assert refused(decide) == rule


def test_a_consultation_is_recorded_once():
    state = received()
    assert refused(lambda: con.record(state, recorded())) == "consultation.already_recorded"


@pytest.mark.parametrize(
    "handled_on, rule",
    [
        (D("2027-05-11"), "consultation.handled_before_received"),
        (D("2027-05-12"), None),  # the day it was received
        (D("2027-05-13"), None),
    ],
)
def test_handling_starts_on_the_day_received(handled_on, rule):
    state = received()
    decide = lambda: con.handle(state, handled_on=handled_on, handling="advised the trainee", closed=False)  # noqa: E731
    if rule is None:
        assert then(state, decide()).status == "in_handling"
    else:
        assert refused(decide) == rule


@pytest.mark.parametrize(
    "second_on, rule",
    [(D("2027-05-14"), "consultation.handled_before_previous"), (D("2027-05-15"), None), (D("2027-05-20"), None)],
)
def test_handlings_follow_each_other(second_on, rule):
    state = then(received(), con.handle(received(), handled_on=D("2027-05-15"), handling="called", closed=False))
    decide = lambda: con.handle(state, handled_on=second_on, handling="visited", closed=True)  # noqa: E731
    if rule is None:
        closed = then(state, decide())
        assert (closed.status, closed.closed_on, len(closed.handlings)) == ("closed", second_on, 2)
    else:
        assert refused(decide) == rule


def test_a_closed_consultation_takes_no_more_handling():
    state = received()
    state = then(state, con.handle(state, handled_on=D("2027-05-13"), handling="resolved", closed=True))
    assert refused(lambda: con.handle(state, handled_on=D("2027-05-14"), handling="again", closed=False)) == (
        "consultation.closed"
    )


@pytest.mark.parametrize(
    "names, target_type, escalated_on, rule",
    [
        ({"implementing_organization_id": EMPLOYER}, IO, D("2027-05-12"), None),
        (
            {"implementing_organization_id": EMPLOYER, "supervising_organization_id": COOPERATIVE},
            SO,
            D("2027-06-01"),
            None,
        ),
        ({"implementing_organization_id": EMPLOYER}, SO, D("2027-05-12"), "consultation.organization_not_named"),
        ({"implementing_organization_id": None}, IO, D("2027-05-12"), "consultation.organization_not_named"),
        ({"implementing_organization_id": EMPLOYER}, IO, D("2027-05-11"), "consultation.escalated_before_received"),
        (
            {"implementing_organization_id": EMPLOYER},
            TargetType.SUPERVISION_SUPPORT_ORGANIZATION,
            D("2027-05-12"),
            "consultation.target_type",
        ),
    ],
)
def test_an_inspection_is_opened_of_an_organization_the_consultation_names(names, target_type, escalated_on, rule):
    state = received(**names)
    inspection_id = uuid4()
    decide = lambda: con.escalate(  # noqa: E731
        state, escalated_on=escalated_on, inspection_id=inspection_id, target_type=target_type
    )
    if rule is None:
        [event] = decide()
        assert isinstance(event, ConsultationEscalated)
        expected = EMPLOYER if target_type is IO else COOPERATIVE
        assert (event.target_type, event.target_id, event.inspection_id) == (target_type, expected, inspection_id)
    else:
        assert refused(decide) == rule


def test_an_inspection_is_opened_once_even_from_a_closed_consultation():
    state = received()
    state = then(state, con.handle(state, handled_on=D("2027-05-13"), handling="advised", closed=True))
    state = then(state, con.escalate(state, escalated_on=D("2027-05-14"), inspection_id=uuid4(), target_type=IO))
    assert state.status == "closed" and state.escalation is not None
    again = lambda: con.escalate(state, escalated_on=D("2027-05-15"), inspection_id=uuid4(), target_type=IO)  # noqa: E731
    assert refused(again) == "consultation.inspection_open"


@pytest.mark.parametrize(
    "received_on, month",
    [(D("2027-05-01"), D("2027-05-01")), (D("2027-05-31"), D("2027-05-01")), (D("2027-06-01"), D("2027-06-01"))],
)
def test_a_consultation_counts_in_the_month_received_by_subject_and_language(received_on, month):
    keys = consultation_keys(consultation_facts(received(received_on=received_on, language="id", subject="wages")))
    assert keys == {(CONSULTATIONS_RECEIVED, month, ("wages", "id")): 1}
