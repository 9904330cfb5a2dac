"""A plan flagged after its supervising organization's permit was revoked or expired moves to a new supervising
organization (DOMAIN §11, issue 20): which reassignments the rules allow, and what the plan looks like after."""

from dataclasses import replace
from datetime import date, timedelta
from uuid import uuid4

import pytest

from contracts.accreditation import (
    DiscontinuationReason,
    ExamResult,
    Stage,
    TrainingPlanCompleted,
    TrainingPlanReassigned,
)
from contracts.registry import Scheme, TrainingType
from services.accreditation.app import AccreditationSettings
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.rules import (
    UNATTENDED_FLAG_DAYS,
    ImplementingOrganization,
    Period,
    Permit,
    ReassignmentFacts,
)
from shared.errors import DomainRuleViolation
from tests.unit.test_accreditation_rules import IMPLEMENTING, SUPERVISING
from tests.unit.test_accreditation_training_plan import CERTIFIED, COMPLETED, certified, history

NEW = uuid4()
FLAGGED_ON = date(2026, 6, 1)
FLAGGED = history(certified, lambda s: tp.require_new_supervising_organization(s, FLAGGED_ON, "permit revoked"))
ON = date(2026, 7, 1)
SPECIFIED = Permit("active", "specified", date(2025, 1, 6), date(2030, 1, 5))
GENERAL = Permit("active", "general", date(2025, 1, 6), date(2030, 1, 5))
UNDER_NEW = ImplementingOrganization(TrainingType.B, NEW, 40, False, supervised_from=date(2026, 6, 15))


def facts(**changes) -> ReassignmentFacts:
    return ReassignmentFacts(
        **{"reassigned_on": ON, "implementing_organization": UNDER_NEW, "permit": SPECIFIED, **changes}
    )


def stage_iii(state: tp.TrainingPlan) -> tp.TrainingPlan:
    assert isinstance(state, tp.AppliedPlan)
    return replace(state, application=state.application.model_copy(update={"stage": Stage.III}))


def esd(state: tp.TrainingPlan) -> tp.TrainingPlan:
    assert isinstance(state, tp.AppliedPlan)
    return replace(state, application=state.application.model_copy(update={"scheme": Scheme.ESD, "stage": None}))


REFUSED = [
    ("an application", history(), facts(), "reassign.not_flagged"),
    ("a certified plan nobody flagged", CERTIFIED, facts(), "reassign.not_flagged"),
    ("a completed plan", COMPLETED, facts(), "reassign.not_flagged"),
    (
        "a flagged plan that ended since",
        history(
            certified,
            lambda s: tp.require_new_supervising_organization(s, FLAGGED_ON, "permit revoked"),
            lambda s: tp.discontinue(s, date(2026, 6, 10), DiscontinuationReason.BANKRUPTCY, None),
        ),
        facts(),
        "reassign.not_flagged",
    ),
    ("a day before the flag", FLAGGED, facts(reassigned_on=FLAGGED_ON - timedelta(days=1)), "reassign.before_flag"),
    ("the permit's unknown", FLAGGED, facts(permit=None), "reassign.permit_not_active"),
    ("the permit revoked", FLAGGED, facts(permit=replace(SPECIFIED, status="revoked")), "reassign.permit_not_active"),
    (
        "the permit expired by then",
        FLAGGED,
        facts(permit=replace(SPECIFIED, expires_on=date(2026, 6, 30))),
        "reassign.permit_not_active",
    ),
    (
        "granted after the day",
        FLAGGED,
        facts(permit=replace(SPECIFIED, granted_on=date(2026, 7, 2))),
        "reassign.permit_not_active",
    ),
    (
        "an ESD permit for a TITP plan",
        FLAGGED,
        facts(permit=replace(SPECIFIED, scheme=Scheme.ESD)),
        "reassign.permit_not_active",
    ),
    (
        "the business suspended",
        FLAGGED,
        facts(permit=replace(SPECIFIED, suspensions=(Period(date(2026, 6, 20), date(2026, 7, 20)),))),
        "reassign.permit_suspended",
    ),
    ("the employer unknown", FLAGGED, facts(implementing_organization=None), "reassign.not_supervising_the_employer"),
    (
        "the employer still under the old organization",
        FLAGGED,
        facts(
            implementing_organization=replace(UNDER_NEW, supervising_organization_id=SUPERVISING, supervised_from=None)
        ),
        "reassign.not_supervising_the_employer",
    ),
    (
        "before the new supervision starts",
        FLAGGED,
        facts(reassigned_on=date(2026, 6, 14)),
        "reassign.not_supervising_the_employer",
    ),
    (
        "the ESD supporter is not the TITP supervisor",
        FLAGGED,
        facts(
            implementing_organization=replace(
                UNDER_NEW, supervising_organization_id=None, esd_supervising_organization_id=NEW
            )
        ),
        "reassign.not_supervising_the_employer",
    ),
    ("stage iii under a specified permit", stage_iii(FLAGGED), facts(), "reassign.permit_covers_stage"),
]


@pytest.mark.parametrize(("story", "state", "given", "rule"), REFUSED, ids=[r[0] for r in REFUSED])
def test_a_reassignment_is_refused_naming_the_rule(story, state, given, rule):
    with pytest.raises(DomainRuleViolation) as refused:
        tp.reassign(state, NEW, given)
    assert refused.value.rule == rule


def test_to_the_same_organization_is_refused():
    with pytest.raises(DomainRuleViolation) as refused:
        tp.reassign(
            FLAGGED,
            SUPERVISING,
            facts(implementing_organization=replace(UNDER_NEW, supervising_organization_id=SUPERVISING)),
        )
    assert refused.value.rule == "reassign.same_supervising_organization"


ALLOWED = [
    ("from the day the employer moved", FLAGGED, facts(reassigned_on=date(2026, 6, 15))),
    (
        "an employer supervised since its registration",
        FLAGGED,
        facts(implementing_organization=replace(UNDER_NEW, supervised_from=None)),
    ),
    ("stage iii under a general permit", stage_iii(FLAGGED), facts(permit=GENERAL)),
    (
        "the day the flag was raised",
        FLAGGED,
        facts(reassigned_on=FLAGGED_ON, implementing_organization=replace(UNDER_NEW, supervised_from=FLAGGED_ON)),
    ),
    (
        "ESD: to the employer's new supervision support organization",
        esd(FLAGGED),
        facts(
            permit=replace(SPECIFIED, scheme=Scheme.ESD, permit_type=None),
            implementing_organization=replace(
                UNDER_NEW,
                supervising_organization_id=None,
                esd_supervising_organization_id=NEW,
                esd_supervised_from=FLAGGED_ON,
            ),
        ),
    ),
]


@pytest.mark.parametrize(("story", "state", "given"), ALLOWED, ids=[a[0] for a in ALLOWED])
def test_a_reassignment_names_the_new_organization_and_clears_the_flag(story, state, given):
    [event] = tp.reassign(state, NEW, given)
    assert isinstance(event, TrainingPlanReassigned)
    assert (event.supervising_organization_id, event.previous_supervising_organization_id) == (NEW, SUPERVISING)
    assert event.reassigned_on == given.reassigned_on and event.implementing_organization_id == IMPLEMENTING
    after = tp.evolve(state, event)
    assert isinstance(after, tp.AppliedPlan)
    assert after.new_supervising_organization_required is None and after.reassignments == (event,)
    assert after.header()["supervising_organization_id"] == NEW


def test_every_later_event_names_the_new_organization_and_a_new_revocation_flags_it_again():
    [moved] = tp.reassign(FLAGGED, NEW, facts())
    after = tp.evolve(FLAGGED, moved)
    [flag] = tp.require_new_supervising_organization(after, date(2026, 9, 1), "the new permit revoked too")
    assert flag.supervising_organization_id == NEW
    [completed] = tp.complete(after, date(2027, 3, 31), ExamResult.PASSED)
    assert isinstance(completed, TrainingPlanCompleted) and completed.supervising_organization_id == NEW
    with pytest.raises(DomainRuleViolation) as twice:
        tp.reassign(after, uuid4(), facts())
    assert twice.value.rule == "reassign.not_flagged"


def test_unattended_flags_show_after_30_days_by_default_and_the_setting_changes_it(monkeypatch):
    assert UNATTENDED_FLAG_DAYS == 30
    assert AccreditationSettings().rule_book().unattended_flag_days == 30
    monkeypatch.setenv("TITP_ACCREDITATION_UNATTENDED_FLAG_DAYS", "14")
    assert AccreditationSettings().rule_book().unattended_flag_days == 14
