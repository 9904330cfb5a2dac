"""Sealing personal data, the write rate limit, and what an erased trainee means to the domain (issue 8)."""

from datetime import date

import pytest

from contracts.accreditation import PersonalData, accreditation_events
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.rules import RuleBook
from shared.crypto import CannotUnseal, new_data_key, seal_model, unseal_model
from shared.errors import DomainRuleViolation
from shared.web.problems import TooManyRequests
from shared.web.security import WriteRateLimiter
from tests.unit.test_accreditation_rules import facts, plan
from tests.unit.test_accreditation_training_plan import APPLIED_ON, sealed

PERSON = PersonalData(name="Nguyen Van An", date_of_birth=date(2000, 5, 1), passport_number="C1234567")


def test_sealed_personal_data_opens_only_with_its_key_for_its_trainee():
    key = new_data_key()
    sealed_data = seal_model(key, PERSON, "trainee/1")
    assert "Nguyen" not in sealed_data and "C1234567" not in sealed_data
    assert unseal_model(key, sealed_data, PersonalData, "trainee/1") == PERSON
    # Check: the same data sealed twice looks different (a fresh nonce each time).
    assert seal_model(key, PERSON, "trainee/1") != sealed_data
    for wrong_key, subject, data in (
        (new_data_key(), "trainee/1", sealed_data),
        (key, "trainee/2", sealed_data),
        (key, "trainee/1", sealed_data[:-4] + "AAAA"),
    ):
        with pytest.raises(CannotUnseal):
            unseal_model(wrong_key, data, PersonalData, subject)


def test_a_plan_whose_trainee_was_erased_cannot_be_certified_but_its_history_stands():
    state = tp.TrainingPlan()
    for event in tp.apply_for_certification(state, sealed(plan()), APPLIED_ON):
        state = tp.evolve(state, event)
    with pytest.raises(DomainRuleViolation) as refused:
        tp.certify(state, facts(personal_data=None), RuleBook())
    assert refused.value.rule == "trainee.personal_data_erased"
    assert tp.reject(state, "the trainee withdrew")  # decisions that need no personal data still can be made


def test_an_application_recorded_before_sealing_is_read_without_its_personal_data():
    terms = plan()
    v1 = {**terms.model_dump(mode="json"), "applied_on": "2026-02-01"}
    event = accreditation_events.parse("titp.accreditation.TrainingPlanApplied.v1", v1)
    assert event.trainee.model_dump() == {"nationality": "VN", "personal_data": None}
    assert event.trainee_id == terms.trainee_id


def test_each_client_gets_a_burst_then_a_steady_rate_of_writes():
    now = [0.0]
    limiter = WriteRateLimiter(per_second=0.5, burst=2, clock=lambda: now[0])
    limiter.take("clerk")
    limiter.take("clerk")
    with pytest.raises(TooManyRequests) as refused:
        limiter.take("clerk")
    assert refused.value.headers["Retry-After"] == "2"
    limiter.take("officer")  # another client has an allowance of its own
    now[0] = 2.0
    limiter.take("clerk")  # one write back after 2 s at 0.5 per second
    with pytest.raises(TooManyRequests):
        limiter.take("clerk")
