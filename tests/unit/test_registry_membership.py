"""An employer in more than one supervising organization, and the supervising organization's business report
(issue 20), as tables at their boundaries: the supervisions a history of moves, joins alongside and ends makes;
who may join alongside (TITP; ESD only when configured); ending one; accreditation's view of the same history
(plans, filers and reassignments accept any organization supervising the employer on the day); the business
report's due day, lateness, and its refusals."""

from datetime import date
from uuid import UUID, uuid4

import pytest

from contracts.registry import (
    BusinessReportFiled,
    ImplementingOrganizationRegistered,
    Officer,
    PermitApplication,
    PermitRevoked,
    PermitType,
    RevocationGround,
    Scheme,
    SupervisingOffice,
    SupervisionChanged,
    SupervisionEnded,
    SupervisionStep,
    TrainingType,
    registry_events,
    supervision_periods,
)
from services.accreditation.domain import rules as accreditation
from services.registry.app import RegistrySettings
from services.registry.domain import implementing_organization as io
from services.registry.domain import rules
from services.registry.domain import supervising_organization as so
from shared.errors import DomainRuleViolation
from tests.helpers import corporate_number

D = date.fromisoformat
A, B, C = (UUID(int=i) for i in (1, 2, 3))
TITP, ESD = Scheme.TITP, Scheme.ESD


def refused(decide) -> tuple[str, str | None]:
    with pytest.raises(DomainRuleViolation) as refusal:
        decide()
    return refusal.value.rule, refusal.value.members.get("field")


def change(organization: UUID, since: str, alongside: bool = False, scheme: Scheme = TITP) -> SupervisionChanged:
    return SupervisionChanged(
        supervising_organization_id=organization, scheme=scheme, effective_from=D(since), alongside=alongside
    )


def end(organization: UUID, until: str, scheme: Scheme = TITP) -> SupervisionEnded:
    return SupervisionEnded(supervising_organization_id=organization, scheme=scheme, effective_until=D(until))


def employer(*steps: SupervisionChanged | SupervisionEnded) -> io.ImplementingOrganization:
    """Registered on 2026-05-10, type (b) under A; then each step in turn."""
    state = io.evolve(
        io.ImplementingOrganization(),
        ImplementingOrganizationRegistered(
            name="Fuji Construction",
            corporate_number=corporate_number(876543210987),
            address="Nagoya",
            prefecture="23",
            industry="construction",
            training_type=TrainingType.B,
            supervising_organization_id=A,
            full_time_staff=35,
            staff_as_of=D("2026-04-01"),
            excellent=False,
            registered_on=D("2026-05-10"),
        ),
    )
    for step in steps:
        state = io.evolve(state, step)
    return state


def periods(state: io.ImplementingOrganization, scheme: Scheme = TITP) -> list[tuple[UUID, str, str | None]]:
    return [
        (m.organization_id, m.from_date.isoformat(), m.until.isoformat() if m.until else None)
        for m in state.memberships
        if m.scheme is scheme
    ]


@pytest.mark.parametrize(
    "steps, expected",
    [
        ((), [(A, "2026-05-10", None)]),
        # a move ends the others the day before
        ((change(B, "2027-01-01"),), [(A, "2026-05-10", "2026-12-31"), (B, "2027-01-01", None)]),
        # a join alongside keeps them
        ((change(B, "2027-01-01", True),), [(A, "2026-05-10", None), (B, "2027-01-01", None)]),
        # an end: its last day
        (
            (change(B, "2027-01-01", True), end(A, "2027-06-30")),
            [(A, "2026-05-10", "2027-06-30"), (B, "2027-01-01", None)],
        ),
        # a move after a join ends both others
        (
            (change(B, "2027-01-01", True), change(C, "2027-04-01")),
            [(A, "2026-05-10", "2027-03-31"), (B, "2027-01-01", "2027-03-31"), (C, "2027-04-01", None)],
        ),
        # recorded out of date order: the end of A, then a move of an earlier day (A is no longer there to end)
        ((end(A, "2027-06-30"), change(B, "2027-03-01")), [(A, "2026-05-10", "2027-02-28"), (B, "2027-03-01", None)]),
        # a move on the registration day replaces the registration's (no day under A)
        ((change(B, "2026-05-10"),), [(B, "2026-05-10", None)]),
        # ended, then joined again from the next day
        (
            (end(A, "2027-06-30"), change(A, "2027-07-01", True)),
            [(A, "2026-05-10", "2027-06-30"), (A, "2027-07-01", None)],
        ),
        # the other scheme's are apart
        ((change(B, "2027-04-01", scheme=ESD),), [(A, "2026-05-10", None)]),
    ],
)
def test_the_supervisions_a_history_makes(steps, expected):
    state = employer(*steps)
    assert periods(state) == expected
    # accreditation makes the same from the same events (its local view keeps them as steps)
    view = supervision_periods(
        [SupervisionStep(TITP, A, None)]
        + [
            SupervisionStep(
                s.scheme,
                s.supervising_organization_id,
                s.effective_until if isinstance(s, SupervisionEnded) else s.effective_from,
                ended=isinstance(s, SupervisionEnded),
                alongside=getattr(s, "alongside", False),
            )
            for s in steps
        ]
    )
    titp = sorted(
        (s.organization_id, (s.from_date or D("2026-05-10")).isoformat(), s.until.isoformat() if s.until else None)
        for s in view
        if s.scheme is TITP and (s.until is None or s.until >= D("2026-05-10"))  # its registration: since always
    )
    assert titp == sorted(expected)


def test_the_current_supervisions_and_the_latest():
    state = employer(change(B, "2027-01-01", True))
    assert [m.organization_id for m in state.current(TITP)] == [A, B]
    latest = state.supervision(TITP)
    assert latest is not None and latest.supervising_organization_id == B and latest.alongside
    ended = employer(change(B, "2027-01-01", True), end(B, "2027-03-31"))
    latest = ended.supervision(TITP)
    assert latest is not None and latest.supervising_organization_id == A
    assert ended.supervised_during(TITP, B, D("2027-03-31"), D("2027-05-01"))
    assert not ended.supervised_during(TITP, B, D("2027-04-01"), D("2027-05-01"))
    assert employer(end(A, "2027-03-31")).supervision(TITP) is None


def permit(
    granted_on: str = "2026-05-01", permit_type: PermitType = PermitType.SPECIFIED
) -> so.SupervisingOrganization:
    state = so.SupervisingOrganization()
    for decide in (
        lambda s: so.apply_for_permit(s, application(), min(D(granted_on), D("2026-04-01"))),
        lambda s: so.grant_permit(s, permit_type, D(granted_on), permit_type is PermitType.GENERAL),
    ):
        for event in decide(state):
            state = so.evolve(state, event)
    return state


def application() -> PermitApplication:
    return PermitApplication(
        name="Sakura Cooperative",
        corporate_number="5010005000007",
        address="Tokyo",
        prefecture="13",
        representative="Yamada",
        supervising_offices=(SupervisingOffice(name="HQ", address="Tokyo", supervision_manager="Suzuki"),),
        job_categories=("construction",),
        requested_permit_type=PermitType.GENERAL,
        external_auditor="Tanaka",
        officers=(Officer(name="Yamada Taro", address="Tokyo"),),
    )


@pytest.mark.parametrize(
    "history, step, allowed, rule",
    [
        ((), change(B, "2027-01-01", True), rules.ALONGSIDE_ALLOWED, None),  # TITP: alongside
        (
            (),
            change(A, "2027-01-01", True),
            rules.ALONGSIDE_ALLOWED,
            ("supervision.already_member", "supervising_organization_id"),
        ),
        ((end(A, "2026-12-31"),), change(A, "2027-01-01", True), rules.ALONGSIDE_ALLOWED, None),  # ended the day before
        (
            (end(A, "2027-01-01"),),
            change(A, "2027-01-01", True),
            rules.ALONGSIDE_ALLOWED,
            ("supervision.already_member", "supervising_organization_id"),
        ),
        ((), change(A, "2027-01-01"), rules.ALONGSIDE_ALLOWED, None),  # a move to the same one: as before
        ((), change(B, "2027-04-01", True, ESD), rules.ALONGSIDE_ALLOWED, ("supervision.one_at_a_time", "alongside")),
        ((), change(B, "2027-04-01", True, ESD), rules.alongside_allowed(esd=True), None),  # as configured
        ((), change(B, "2027-04-01", False, ESD), rules.ALONGSIDE_ALLOWED, None),  # a move under ESD
    ],
)
def test_who_may_join_alongside(history, step, allowed, rule):
    state = employer(*history)
    decide = lambda: io.change_supervision(state, step, permit(), allowed)  # noqa: E731
    if rule is None:
        assert decide() == [step]
    else:
        assert refused(decide) == rule


@pytest.mark.parametrize(
    "history, step, rule",
    [
        ((), end(A, "2027-06-30"), None),
        ((), end(A, "2026-05-10"), None),  # its first day is its last
        ((), end(A, "2026-05-09"), ("supervision.end_before_start", "until")),
        ((), end(B, "2027-06-30"), ("supervision.not_member", "supervising_organization_id")),
        ((change(B, "2027-01-01", True),), end(B, "2026-12-31"), ("supervision.end_before_start", "until")),
        ((change(B, "2027-01-01", True),), end(B, "2027-01-01"), None),
        ((end(A, "2027-06-30"),), end(A, "2027-09-30"), ("supervision.not_member", "supervising_organization_id")),
        ((change(B, "2027-01-01"),), end(A, "2026-12-31"), ("supervision.not_member", "supervising_organization_id")),
        ((), end(A, "2027-06-30", ESD), ("supervision.not_member", "supervising_organization_id")),
    ],
)
def test_ending_a_supervision(history, step, rule):
    state = employer(*history)
    decide = lambda: io.end_supervision(state, step)  # noqa: E731
    if rule is None:
        assert decide() == [step]
    else:
        assert refused(decide) == rule


def test_old_supervision_changes_read_as_moves():
    old = {"supervising_organization_id": str(B), "scheme": "titp", "effective_from": "2027-01-01"}
    assert SupervisionChanged.model_validate(old).alongside is False
    assert {"titp.registry.SupervisionEnded.v1", "titp.registry.BusinessReportFiled.v1"} <= set(registry_events.models)


# Accreditation's view: any organization supervising the employer on the day.


def view(*supervisions: accreditation.Supervision) -> accreditation.ImplementingOrganization:
    return accreditation.ImplementingOrganization(
        TrainingType.B, supervisions[-1].organization_id, 40, False, supervisions=supervisions
    )


@pytest.mark.parametrize(
    "organization, day, expected",
    [
        (A, "2026-01-01", True),  # since the registration
        (B, "2026-12-31", False),
        (B, "2027-01-01", True),
        (A, "2027-06-30", True),
        (A, "2027-07-01", False),  # ended
        (C, "2027-01-01", False),
    ],
)
def test_accreditation_sees_every_supervision(organization, day, expected):
    employer_view = view(
        accreditation.Supervision(TITP, A, None, D("2027-06-30")), accreditation.Supervision(TITP, B, D("2027-01-01"))
    )
    assert employer_view.supervised_by(TITP, organization, D(day)) is expected
    assert employer_view.current_supervisors(TITP) == (B,)
    assert employer_view.every_supervisor() == (B,)


def test_the_legacy_view_stands_for_one_supervision_per_scheme():
    legacy = accreditation.ImplementingOrganization(TrainingType.B, A, 40, False, supervised_from=D("2027-01-01"))
    assert legacy.supervised_by(TITP, A, D("2027-01-01")) and not legacy.supervised_by(TITP, A, D("2026-12-31"))
    assert legacy.every_supervisor() == (A,)


# The business report (Art. 43).


def filed(state: so.SupervisingOrganization, fiscal_year: int, on: str, book=rules.FILING_DUES):
    return so.file_business_report(state, A, fiscal_year, D(on), book)


@pytest.mark.parametrize(
    "on, rule",
    [
        ("2027-03-31", ("filing.too_early", "filed_on")),  # the fiscal year's last day
        ("2027-04-01", None),
        ("2027-05-31", None),
        ("2027-06-01", None),  # late, recorded
    ],
)
def test_a_business_report_is_filed_after_its_year(on, rule):
    state = permit()
    if rule is not None:
        assert refused(lambda: filed(state, 2026, on)) == rule
        return
    [event] = filed(state, 2026, on)
    assert event == BusinessReportFiled(
        supervising_organization_id=A, fiscal_year=2026, filed_on=D(on), due_on=D("2027-05-31")
    )


@pytest.mark.parametrize("on, late_days", [("2027-05-31", 0), ("2027-06-01", 1), ("2027-07-01", 31), ("2027-04-01", 0)])
def test_lateness_counts_from_31_may(on, late_days):
    state = permit()
    for event in filed(state, 2026, on):
        state = so.evolve(state, event)
    [report] = state.business_reports
    assert (report.due_on, report.late_days) == (D("2027-05-31"), late_days)


def test_one_report_a_year():
    state = permit()
    for event in filed(state, 2026, "2027-05-01"):
        state = so.evolve(state, event)
    assert refused(lambda: filed(state, 2026, "2027-05-02")) == ("filing.duplicate", "fiscal_year")
    assert filed(state, 2027, "2028-05-02")


@pytest.mark.parametrize(
    "granted_on, revoked_on, fiscal_year, rule",
    [
        ("2026-05-01", None, 2026, None),
        ("2027-03-31", None, 2026, None),  # the year's last day
        ("2027-04-01", None, 2026, ("filing.no_permit_in_year", "fiscal_year")),
        ("2026-05-01", "2027-04-01", 2027, None),  # revoked on the year's first day: in force that day
        ("2026-05-01", "2027-03-31", 2027, ("filing.no_permit_in_year", "fiscal_year")),
        ("2020-04-01", None, 2024, ("filing.no_permit_in_year", "fiscal_year")),  # expired 2023-03-31
    ],
)
def test_a_report_only_for_a_year_the_permit_was_in_force(granted_on, revoked_on, fiscal_year, rule):
    state = permit(granted_on)
    if revoked_on:
        state = so.evolve(
            state, PermitRevoked(revoked_on=D(revoked_on), ground=RevocationGround.LAW_BREACHED, reason="wages")
        )
    decide = lambda: filed(state, fiscal_year, f"{fiscal_year + 1}-05-01")  # noqa: E731
    if rule is None:
        assert decide()
    else:
        assert refused(decide) == rule


@pytest.mark.parametrize(
    "month, day, due",
    [(5, 31, "2027-05-31"), (6, 30, "2027-06-30"), (4, 30, "2027-04-30")],
)
def test_the_due_day_is_configurable(month, day, due):
    settings = RegistrySettings(business_report_due_month=month, business_report_due_day=day)
    assert settings.business_report_rules().business_report_due(2026) == D(due)
    assert RegistrySettings().business_report_rules() == rules.FILING_DUES
    with pytest.raises(ValueError):  # a due day not every year has (31 June) is refused at start
        RegistrySettings(business_report_due_month=6, business_report_due_day=31).business_report_rules()
    assert RegistrySettings(esd_alongside=True).esd_alongside


# Accreditation's rules on that view: a plan, its filer and a reassignment accept any organization supervising the
# employer on the day (certification: on the plan's start; reassignment: on its day).

S1, S2 = uuid4(), uuid4()
IN_BOTH = accreditation.ImplementingOrganization(
    TrainingType.B,
    S2,
    40,
    False,
    supervisions=(
        accreditation.Supervision(TITP, S1, None),
        accreditation.Supervision(TITP, S2, D("2026-03-01")),
    ),
)


@pytest.mark.parametrize(
    "organization, start, rule",
    [
        (S1, "2026-04-01", None),
        (S2, "2026-04-01", None),
        (S2, "2026-03-01", None),  # its first day
        (S2, "2026-02-28", "implementing_organization.supervised_by"),
        (uuid4(), "2026-04-01", "implementing_organization.supervised_by"),
    ],
)
def test_a_plan_names_any_organization_supervising_the_employer_on_its_start(organization, start, rule):
    from tests.unit.test_accreditation_rules import plan

    terms = plan(supervising_organization_id=organization, start_date=D(start))
    facts = accreditation.CertificationFacts(certified_on=D("2026-01-10"), implementing_organization=IN_BOTH)
    if rule is None:
        assert accreditation._organizations(terms, facts) is IN_BOTH
    else:
        with pytest.raises(DomainRuleViolation) as refusal:
            accreditation._organizations(terms, facts)
        assert refusal.value.rule == rule


@pytest.mark.parametrize("filer", ["implementing", "supervising"])
@pytest.mark.parametrize("organization", [S1, S2])
def test_either_organization_files_for_its_member(filer, organization):
    from services.accreditation.domain import training_plan as tp
    from tests.unit.test_accreditation_rules import IMPLEMENTING, plan

    terms = plan(implementing_organization_id=IMPLEMENTING, supervising_organization_id=organization)
    tp.check_filer(str(IMPLEMENTING if filer == "implementing" else organization), terms, IN_BOTH)


@pytest.mark.parametrize(
    "organization, day, rule",
    [
        (S2, "2026-07-01", None),  # the employer's remaining organization: no new supervision needed
        (S2, "2026-02-28", "reassign.not_supervising_the_employer"),
        (uuid4(), "2026-07-01", "reassign.not_supervising_the_employer"),
    ],
)
def test_a_flagged_plan_moves_to_any_organization_supervising_the_employer(organization, day, rule):
    from tests.unit.test_accreditation_rules import plan

    terms = plan(supervising_organization_id=S1)
    facts = accreditation.ReassignmentFacts(
        D(day), IN_BOTH, accreditation.Permit("active", "general", D("2025-01-06"), D("2030-01-05"))
    )
    if rule is None:
        accreditation.check_reassignment(terms, organization, facts)
    else:
        with pytest.raises(DomainRuleViolation) as refusal:
            accreditation.check_reassignment(terms, organization, facts)
        assert refusal.value.rule == rule
