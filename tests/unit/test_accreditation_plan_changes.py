"""A certified plan's changes (issue 20, DOMAIN §11, Art. 11): change certification decided by the plan's own rules,
notices of minor changes, one pending change at a time; each rule at its boundary, and what the plan looks like
after. The base plan (tests/unit/test_accreditation_rules.py) is a stage-i plan from 1 Apr 2026 to 31 Mar 2027,
certified on 1 Mar 2026, at an employer with 40 full-time staff (a stage-i quota of 4)."""

from dataclasses import replace
from datetime import date, timedelta
from uuid import uuid4

import pytest

from contracts.accreditation import (
    PlanChanges,
    PlanStatus,
    ReturnHome,
    Stage,
    TrainingPlanChangeApplied,
    TrainingPlanChangeCertified,
    TrainingPlanChangeRejected,
    TrainingPlanMinorChangeNotified,
    TransferReason,
)
from contracts.registry import Scheme
from services.accreditation.app import AccreditationSettings
from services.accreditation.domain import plan_changes as pc
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.rules import MINOR_CHANGE_TERMS, OtherPlan, RuleBook
from shared.errors import DomainRuleViolation, NotFound
from shared.web.problems import status_of
from tests.unit.test_accreditation_rules import IMPLEMENTING, SUPERVISING, earlier, facts
from tests.unit.test_accreditation_training_plan import COMPLETED, REVOKED, certified, history

CHANGE, OTHER = uuid4(), uuid4()
APPLIED_ON = date(2026, 3, 10)  # before the plan starts (1 Apr 2026)
IN_PROGRESS_ON = date(2026, 9, 1)
END, START = date(2027, 3, 31), date(2026, 4, 1)
RULES = RuleBook()


def changes(**terms) -> PlanChanges:
    return PlanChanges(**terms)


def apply(on=APPLIED_ON, change_id=CHANGE, unchangeable=None, **terms):
    return lambda s: pc.apply_for_change(
        s, change_id, on, "an injury delays the training", changes(**terms), unchangeable
    )


def certify(on=date(2026, 3, 20), change_id=CHANGE, rules=RULES, **known):
    return lambda s: pc.certify_change(s, change_id, facts(certified_on=on, **known), rules)


def notify(on=IN_PROGRESS_ON, minor_terms=MINOR_CHANGE_TERMS, unchangeable=None, **terms):
    return lambda s: pc.notify_minor_change(
        s, OTHER, on, "a new life instructor", changes(**terms), minor_terms, unchangeable
    )


CERTIFIED = history(certified)
LATER = {"start_date": date(2026, 5, 1), "end_date": date(2027, 4, 30)}  # a month later: still one year
PENDING = history(certified, apply(**LATER))


# Applying for a change


APPLY_REFUSED = [
    ("an application not certified", history(), apply(end_date=date(2027, 2, 28)), "change.plan_in_force"),
    ("a completed plan", COMPLETED, apply(on=date(2027, 4, 1), end_date=date(2027, 5, 1)), "change.plan_in_force"),
    ("a revoked plan", REVOKED, apply(on=date(2026, 10, 1), end_date=date(2027, 2, 1)), "change.plan_in_force"),
    (
        "before the certification",
        CERTIFIED,
        apply(on=date(2026, 2, 28), end_date=END - timedelta(1)),
        "change.plan_in_force",
    ),
    (
        "after the plan's end",
        CERTIFIED,
        apply(on=END + timedelta(1), end_date=END + timedelta(5)),
        "change.plan_in_force",
    ),
    ("a change pending", PENDING, apply(change_id=OTHER, monthly_wage=150_000), "change.pending"),
    ("nothing stated", CERTIFIED, apply(), "change.nothing_changed"),
    ("the same end date", CERTIFIED, apply(end_date=END), "change.nothing_changed"),
    (
        "another stage",
        CERTIFIED,
        apply(unchangeable={"stage": "ii"}, end_date=END - timedelta(1)),
        "change.not_changeable",
    ),
    (
        "another employer",
        CERTIFIED,
        apply(unchangeable={"implementing_organization_id": str(uuid4())}, end_date=END - timedelta(1)),
        "change.not_changeable",
    ),
    (
        "another supervising organization",
        CERTIFIED,
        apply(unchangeable={"supervising_organization_id": str(uuid4())}, end_date=END - timedelta(1)),
        "change.not_changeable",
    ),
    (
        "another scheme",
        CERTIFIED,
        apply(unchangeable={"scheme": "esd"}, end_date=END - timedelta(1)),
        "change.not_changeable",
    ),
    (
        "the trainee",
        CERTIFIED,
        apply(unchangeable={"trainee": {"name": "x"}}, end_date=END - timedelta(1)),
        "change.not_changeable",
    ),
    (
        "the start once started",
        CERTIFIED,
        apply(on=START, start_date=START + timedelta(1)),
        "change.start_date_started",
    ),
    ("a start on the day applied", CERTIFIED, apply(start_date=APPLIED_ON), "change.start_date_past"),
    (
        "an end before the day",
        CERTIFIED,
        apply(on=IN_PROGRESS_ON, end_date=IN_PROGRESS_ON - timedelta(1)),
        "change.end_date_past",
    ),
    ("an end before the start", CERTIFIED, apply(end_date=START - timedelta(1)), "plan.end_not_before_start"),
    (
        "a return home in stage i",
        CERTIFIED,
        apply(return_home=ReturnHome(from_date=date(2026, 8, 1), until_date=date(2026, 9, 15))),
        "plan.return_home_stage_iii",
    ),
]


@pytest.mark.parametrize(("state", "decide", "rule"), [r[1:] for r in APPLY_REFUSED], ids=[r[0] for r in APPLY_REFUSED])
def test_an_application_for_a_change_is_refused_naming_its_rule(state, decide, rule):
    with pytest.raises(DomainRuleViolation) as refused:
        decide(state)
    assert refused.value.rule == rule
    assert status_of(refused.value) == 409


APPLY_ALLOWED = [
    ("a start the day after", CERTIFIED, apply(start_date=APPLIED_ON + timedelta(1))),
    ("an end on the day, in progress", CERTIFIED, apply(on=IN_PROGRESS_ON, end_date=IN_PROGRESS_ON)),
    ("on the certification day", CERTIFIED, apply(on=date(2026, 3, 1), end_date=END - timedelta(1))),
    ("on the plan's last day", CERTIFIED, apply(on=END, monthly_wage=150_000)),
    (
        "unchangeable terms restated as they are",
        CERTIFIED,
        apply(
            unchangeable={"stage": "i", "implementing_organization_id": str(IMPLEMENTING)}, end_date=END - timedelta(1)
        ),
    ),
    (
        "a change after a rejected one",
        history(certified, apply(**LATER), lambda s: pc.reject_change(s, CHANGE, "no")),
        apply(change_id=OTHER, **LATER),
    ),
]


@pytest.mark.parametrize(("state", "decide"), [r[1:] for r in APPLY_ALLOWED], ids=[r[0] for r in APPLY_ALLOWED])
def test_an_application_for_a_change_is_recorded_pending(state, decide):
    [event] = decide(state)
    assert isinstance(event, TrainingPlanChangeApplied)
    after = tp.evolve(state, event)
    assert isinstance(after, tp.AppliedPlan)
    assert pc.pending_change(after) is not None
    assert after.application == state.application  # nothing changes before the certification
    assert event.end_date == state.application.end_date


# Certifying a change: the plan's own rules on the changed terms


def other_plan(**changes) -> OtherPlan:
    return replace(earlier(Stage.II, date(2027, 5, 1), date(2029, 4, 30)), status=PlanStatus.CERTIFIED, **changes)


CERTIFY_REFUSED = [
    (
        "a year and a day",
        history(certified, apply(start_date=date(2026, 5, 1), end_date=date(2027, 5, 1))),
        certify(),
        "plan.stage_length",
    ),
    ("the quota full over the new period", PENDING, certify(plans_in_force=4), "quota.stage_limit"),
    (
        "a wage cut below a Japanese worker's",
        history(certified, apply(monthly_wage=194_999)),
        certify(),
        "wage.at_least_japanese_equivalent",
    ),
    (
        "an unknown operation",
        history(certified, apply(operation="construction.unknown")),
        certify(),
        "plan.operation_known",
    ),
    (
        "the permit revoked by then",
        PENDING,
        certify(permit=replace(facts().permit, status="revoked")),
        "supervising_organization.permit_active",
    ),
    (
        "the next plan overlapping",
        history(certified, apply(start_date=date(2026, 6, 1), end_date=date(2027, 5, 31))),
        certify(trainee_plans=(other_plan(),)),
        "change.overlaps_other_plan",
    ),
    (
        "before it was applied for",
        PENDING,
        certify(on=APPLIED_ON - timedelta(1)),
        "change.certified_before_application",
    ),
    ("the plan started in the meantime", PENDING, certify(on=START), "change.start_date_started"),
    (
        "the plan revoked in the meantime",
        history(certified, apply(**LATER), lambda s: tp.revoke(s, date(2026, 3, 15), "x")),
        certify(),
        "change.plan_in_force",
    ),
    ("already certified", history(certified, apply(**LATER), certify()), certify(), "change.not_pending"),
    (
        "already rejected",
        history(certified, apply(**LATER), lambda s: pc.reject_change(s, CHANGE, "no")),
        certify(),
        "change.not_pending",
    ),
    ("the personal data erased", PENDING, certify(personal_data=None), "trainee.personal_data_erased"),
]


@pytest.mark.parametrize(
    ("state", "decide", "rule"), [r[1:] for r in CERTIFY_REFUSED], ids=[r[0] for r in CERTIFY_REFUSED]
)
def test_a_change_is_refused_naming_the_plans_rule(state, decide, rule):
    with pytest.raises(DomainRuleViolation) as refused:
        decide(state)
    assert refused.value.rule == rule


def test_an_unknown_change_is_not_found():
    with pytest.raises(NotFound):
        certify(change_id=uuid4())(PENDING)
    with pytest.raises(NotFound):
        pc.reject_change(PENDING, OTHER, "no")


def test_a_certified_change_is_the_plans_new_terms_and_header():
    # Check: a quota one below the limit, the period a full year: the boundary holds.
    [event] = certify(plans_in_force=3)(PENDING)
    assert isinstance(event, TrainingPlanChangeCertified)
    assert (event.start_date, event.end_date, event.terms_version) == (LATER["start_date"], LATER["end_date"], 2)
    after = tp.evolve(PENDING, event)
    assert isinstance(after, tp.AppliedPlan)
    assert (after.application.start_date, after.application.end_date) == (LATER["start_date"], LATER["end_date"])
    assert after.header()["end_date"] == LATER["end_date"]  # every later event carries the changed header
    assert after.terms_version == 2 and pc.pending_change(after) is None
    [entry] = after.change_history
    assert (entry.status, entry.certified_on, entry.terms_version) == ("certified", date(2026, 3, 20), 2)
    # ... and the next change makes version 3.
    again = history(
        certified,
        apply(**LATER),
        certify(),
        apply(change_id=OTHER, monthly_wage=190_000, comparable_japanese_wage=180_000),
        certify(change_id=OTHER),
    )
    assert isinstance(again, tp.AppliedPlan)
    assert (again.terms_version, again.application.monthly_wage, again.application.end_date) == (
        3,
        190_000,
        LATER["end_date"],
    )


def test_a_rejected_change_leaves_the_terms():
    [event] = pc.reject_change(PENDING, CHANGE, "not justified")
    assert isinstance(event, TrainingPlanChangeRejected)
    after = tp.evolve(PENDING, event)
    assert isinstance(after, tp.AppliedPlan)
    assert after.application == PENDING.application and after.terms_version == 1
    assert [(c.status, c.rejection_reason) for c in after.change_history] == [("rejected", "not justified")]


def test_a_transfers_start_date_does_not_change():
    moved = history(certified)
    assert isinstance(moved, tp.AppliedPlan)
    transfer = replace(moved, application=moved.application.model_copy(update={"transfer_from": uuid4()}))
    with pytest.raises(DomainRuleViolation) as refused:
        apply(start_date=START + timedelta(1))(transfer)
    assert refused.value.rule == "change.transfer_start_date"
    assert apply(end_date=END - timedelta(1))(transfer)


def test_a_titp_transfers_change_is_decided_by_the_transfer_rules_again():
    """A stage-i trainee moved on 1 Oct 2026 after a bankruptcy: the stage, begun on 1 Apr 2026, ends by 31 Mar 2027
    across both plans, whatever a change of the new plan says."""
    source = replace(
        earlier(Stage.I, START, END, status=PlanStatus.TRANSFERRED),
        ended_on=date(2026, 10, 1),
        id=uuid4(),
        implementing_organization_id=uuid4(),
        operation=CERTIFIED.application.operation,
    )
    moved = {"transfer_from": source.id, "transfer_reason": TransferReason.BANKRUPTCY, "start_date": date(2026, 10, 1)}
    transfer = replace(CERTIFIED, application=CERTIFIED.application.model_copy(update=moved))
    known = {"trainee_plans": (source,), "transfer_from_supervising_organization_id": SUPERVISING}
    shorter = tp.evolve(transfer, apply(end_date=END - timedelta(1))(transfer)[0])
    [event] = certify(**known)(shorter)
    assert event.end_date == END - timedelta(1)
    longer = tp.evolve(transfer, apply(end_date=END + timedelta(1))(transfer)[0])
    with pytest.raises(DomainRuleViolation) as refused:
        certify(**known)(longer)
    assert refused.value.rule == "transfer.stage_length"


def test_an_esd_transfer_is_changed_on_its_source_as_it_stood_at_the_transfer():
    source = OtherPlan(
        None,
        "construction",
        date(2027, 4, 1),
        date(2030, 3, 31),
        PlanStatus.TRANSFERRED,
        ended_on=date(2028, 4, 1),
        scheme=Scheme.ESD,
        id=uuid4(),
        implementing_organization_id=uuid4(),
        field="construction",
    )
    terms = CERTIFIED.application.model_copy(
        update={"transfer_from": source.id, "start_date": date(2028, 4, 1), "scheme": Scheme.ESD, "stage": None}
    )
    [restored] = pc.as_certified(facts(trainee_plans=(source,)), terms).trainee_plans
    assert (restored.status, restored.last_day) == (PlanStatus.CERTIFIED, date(2028, 3, 31))
    titp = terms.model_copy(update={"scheme": Scheme.TITP, "stage": Stage.I})  # TITP's rules judge it themselves
    assert pc.as_certified(facts(trainee_plans=(source,)), titp).trainee_plans == (source,)
    unrelated = CERTIFIED.application
    assert pc.as_certified(facts(trainee_plans=(source,)), unrelated).trainee_plans == (source,)


# Notices of minor changes


NOTICE_REFUSED = [
    ("a wage cut", CERTIFIED, notify(monthly_wage=199_999), "change.material_needs_certification"),
    ("a longer period", CERTIFIED, notify(end_date=END - timedelta(1)), "change.material_needs_certification"),
    (
        "another operation",
        CERTIFIED,
        notify(operation="construction.carpentry.other"),
        "change.material_needs_certification",
    ),
    ("the comparable wage", CERTIFIED, notify(comparable_japanese_wage=190_000), "change.material_needs_certification"),
    (
        "nothing minor configured",
        CERTIFIED,
        notify(minor_terms=frozenset(), monthly_wage=210_000),
        "change.material_needs_certification",
    ),
    ("a completed plan", COMPLETED, notify(on=date(2027, 4, 2)), "change.plan_in_force"),
    ("after its end", CERTIFIED, notify(on=END + timedelta(1)), "change.plan_in_force"),
    (
        "another employer",
        CERTIFIED,
        notify(unchangeable={"implementing_organization_id": str(uuid4())}),
        "change.not_changeable",
    ),
    (
        "a configured minor comparable wage above the wage",
        CERTIFIED,
        notify(minor_terms=frozenset({"comparable_japanese_wage"}), comparable_japanese_wage=200_001),
        "wage.at_least_japanese_equivalent",
    ),
]


@pytest.mark.parametrize(
    ("state", "decide", "rule"), [r[1:] for r in NOTICE_REFUSED], ids=[r[0] for r in NOTICE_REFUSED]
)
def test_a_notice_of_minor_changes_is_refused_naming_its_rule(state, decide, rule):
    with pytest.raises(DomainRuleViolation) as refused:
        decide(state)
    assert refused.value.rule == rule


def test_a_notice_is_in_force_as_notified():
    # Check: a raise (one yen is enough) is minor: a new version of the terms, the header unchanged.
    [raised] = notify(monthly_wage=200_001)(CERTIFIED)
    assert isinstance(raised, TrainingPlanMinorChangeNotified)
    assert raised.terms_version == 2 and raised.changes == changes(monthly_wage=200_001)
    after = tp.evolve(CERTIFIED, raised)
    assert isinstance(after, tp.AppliedPlan)
    assert (after.application.monthly_wage, after.terms_version) == (200_001, 2)
    # ... a notice changing no term (only what the plan states beside them) makes no new version ...
    [described] = notify()(after)
    assert described.terms_version is None
    assert tp.evolve(after, described).terms_version == 2
    # ... a term restated as it is is no change; a notice goes in while a change is pending.
    [same] = notify(monthly_wage=200_000, end_date=END)(PENDING)
    assert same.changes == changes() and same.terms_version is None
    # ... and a configured minor term is a notice's.
    [longer] = notify(minor_terms=MINOR_CHANGE_TERMS | {"end_date"}, end_date=END - timedelta(10))(CERTIFIED)
    assert longer.changes == changes(end_date=END - timedelta(10))


MATERIAL = [
    ({"monthly_wage": 200_001}, []),
    ({"monthly_wage": 200_000}, []),
    ({"monthly_wage": 199_999}, ["monthly_wage"]),
    ({"start_date": START, "end_date": END}, []),
    ({"end_date": END + timedelta(1)}, ["end_date"]),
    ({"start_date": START + timedelta(1), "monthly_wage": 250_000}, ["start_date"]),
    ({"job_category": "food manufacturing"}, ["job_category"]),
    ({"return_home": ReturnHome(from_date=START, until_date=END)}, ["return_home"]),
]


@pytest.mark.parametrize(("terms", "material"), MATERIAL)
def test_which_changed_terms_are_material(terms, material):
    assert pc.material_terms(CERTIFIED.application, changes(**terms), MINOR_CHANGE_TERMS) == material


def test_the_minor_terms_are_configurable(monkeypatch):
    assert RuleBook().minor_change_terms == MINOR_CHANGE_TERMS == frozenset({"monthly_wage"})
    monkeypatch.setenv("TITP_ACCREDITATION_MINOR_CHANGE_TERMS", "monthly_wage, end_date")
    assert AccreditationSettings().rule_book().minor_change_terms == {"monthly_wage", "end_date"}
    monkeypatch.setenv("TITP_ACCREDITATION_MINOR_CHANGE_TERMS", "stage")
    with pytest.raises(ValueError, match="stage"):
        AccreditationSettings()


def test_the_not_changeable_terms():
    assert pc.NOT_CHANGEABLE >= {
        "trainee_id",
        "trainee",
        "scheme",
        "stage",
        "training_type",
        "implementing_organization_id",
        "supervising_organization_id",
        "sending_organization_id",
        "field",
        "transfer_from",
        "transfer_reason",
    }
    assert not pc.NOT_CHANGEABLE & pc.CHANGEABLE
