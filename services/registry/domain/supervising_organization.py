"""The supervising organization and its TITP permit: state, evolve, and one decide function per command.

applied -> active | denied
active -> active (renewed) | expired ; general -> specified (downgrade, Art. 37(2))
active(specified) -> type change applied -> active(general) | type change denied   (Art. 32)
active -> improvement ordered -> active (order closed) ; active -> suspended (from..until) -> active
active | suspended -> revoked (final)

What the TITP permit shares with the ESD permit (lifecycle, status on a day, improvement orders, suspension,
revocation, expiry, renewal timing) is in `permit.py`, and named here as before.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Literal
from uuid import UUID

from contracts.registry import (
    BusinessReportFiled,
    Officer,
    PermitApplication,
    PermitApplied,
    PermitDenied,
    PermitDowngraded,
    PermitGranted,
    PermitRenewed,
    PermitType,
    PermitTypeChangeApplied,
    PermitTypeChanged,
    PermitTypeChangeDenied,
)
from services.registry.domain import permit as common
from services.registry.domain import rules
from services.registry.domain.identity import check_corporate_number, check_prefecture, prefecture_code, violation
from services.registry.domain.permit import (
    RECORDED_STATUS,
    Events,
    Lifecycle,
    PermitState,
    Revocation,
    Status,
    Suspension,
    close_improvement_order,
    expiry_due,
    issue_improvement_order,
    permit_in_force,
    record_expiry,
    revoke_permit,
    status_on,
    suspend_business,
)
from shared.dates import fiscal_year_end, fiscal_year_start
from shared.errors import DomainRuleViolation
from shared.events import EventPayload
from shared.filings import FilingDues, late_days

__all__ = [
    "RECORDED_STATUS",
    "Events",
    "Lifecycle",
    "Permit",
    "Revocation",
    "Status",
    "SupervisingOrganization",
    "Suspension",
    "RevokedPermit",
    "TypeChange",
    "apply_for_permit",
    "apply_for_type_change",
    "change_permit_type",
    "check_disqualification",
    "close_improvement_order",
    "deny_type_change",
    "deny_permit",
    "downgrade_permit",
    "evolve",
    "expiry_due",
    "file_business_report",
    "grant_permit",
    "issue_improvement_order",
    "permit_in_force",
    "record_expiry",
    "renew_permit",
    "revoke_permit",
    "status_on",
    "suspend_business",
]


@dataclass(frozen=True)
class Permit:
    """The permit as granted, renewed and downgraded since: what the decisions on it read."""

    permit_type: PermitType
    granted_on: date
    expires_on: date


@dataclass(frozen=True)
class TypeChange:
    """An application to change the business category, specified -> general (Art. 32), and its decision."""

    applied_on: date
    requested_permit_type: PermitType
    officers: tuple[Officer, ...] = ()
    outcome: Literal["pending", "changed", "denied"] = "pending"
    decided_on: date | None = None
    denial_reason: str | None = None


@dataclass(frozen=True)
class BusinessReport:
    """An annual business report as filed (Art. 43): its fiscal year, when it was filed and due."""

    fiscal_year: int
    filed_on: date
    due_on: date

    @property
    def late_days(self) -> int:
        return late_days(self.due_on, self.filed_on)


@dataclass(frozen=True)
class SupervisingOrganization(PermitState):
    """As recorded: the permit's common facts (`PermitState`), the application, and the permit type.
    Read models keep this shape as JSON, so its fields stay (new ones with defaults)."""

    application: PermitApplication | None = None
    permit_type: PermitType | None = None
    downgraded_on: date | None = None
    meets_excellence_standard: bool | None = None  # as stated at the grant or the type change; None before
    downgrade_legal_basis: str | None = None
    type_change: TypeChange | None = None  # the latest application under Art. 32
    business_reports: tuple[BusinessReport, ...] = ()  # Art. 43, in fiscal-year order (issue 20)

    @property
    def officers(self) -> tuple[Officer, ...]:
        """The officers as last stated: at a type change application, else at the permit application."""
        if self.type_change and self.type_change.officers:
            return self.type_change.officers
        return self.application.officers if self.application else ()

    @property
    def permit(self) -> Permit | None:
        """The permit, once granted (also after it was revoked or expired); None before."""
        if self.permit_type is None or self.granted_on is None or self.expires_on is None:
            return None
        return Permit(self.permit_type, self.granted_on, self.expires_on)


def evolve(state: SupervisingOrganization, event: EventPayload) -> SupervisingOrganization:
    match event:
        case PermitApplied():
            application = event.application.model_copy(
                update={"prefecture": prefecture_code(event.application.prefecture)}
            )
            return replace(state, application=application, applied_on=event.applied_on, lifecycle=Lifecycle.APPLIED)
        case PermitGranted():
            return replace(
                common.granted(state, event.granted_on, event.expires_on),
                permit_type=event.permit_type,
                meets_excellence_standard=event.meets_excellence_standard,
            )
        case PermitDenied():
            return replace(state, lifecycle=Lifecycle.DENIED, denial_reason=event.reason)
        case PermitRenewed():
            return common.renewed(state, event.valid_from, event.expires_on)
        case PermitDowngraded():
            return replace(
                state,
                permit_type=PermitType.SPECIFIED,
                downgraded_on=event.effective_on,
                downgrade_legal_basis=event.legal_basis,
                meets_excellence_standard=False,
            )
        case PermitTypeChangeApplied():
            change = TypeChange(event.applied_on, event.requested_permit_type, event.officers)
            return replace(state, type_change=change)
        case PermitTypeChanged() if state.type_change:
            return replace(
                state,
                permit_type=event.permit_type,
                expires_on=event.expires_on,
                meets_excellence_standard=event.meets_excellence_standard,
                type_change=replace(state.type_change, outcome="changed", decided_on=event.changed_on),
            )
        case BusinessReportFiled():
            report = BusinessReport(event.fiscal_year, event.filed_on, event.due_on)
            reports = tuple(sorted((*state.business_reports, report), key=lambda r: r.fiscal_year))
            return replace(state, business_reports=reports)
        case PermitTypeChangeDenied() if state.type_change:
            return replace(
                state,
                type_change=replace(
                    state.type_change, outcome="denied", decided_on=event.denied_on, denial_reason=event.reason
                ),
            )
    return common.evolve_permit(state, event)


# Art. 26: disqualification by an earlier revocation, from the registry's own records.


@dataclass(frozen=True)
class RevokedPermit:
    """Another organization's revoked permit, as the registry recorded it: what Art. 26 looks at."""

    organization_id: UUID
    corporate_number: str
    revoked_on: date
    officers: tuple[Officer, ...] = ()


def _person(officer: Officer) -> tuple[str, str]:
    """The registry knows a person only as filed: by name and address, compared without case or spacing."""
    return (" ".join(officer.name.casefold().split()), " ".join(officer.address.casefold().split()))


def check_disqualification(
    corporate_number: str,
    officers: Iterable[Officer],
    day: date,
    revoked: Iterable[RevokedPermit],
    bar_years: int = rules.REVOCATION_BAR_YEARS,
) -> None:
    """Art. 26: no permit on `day` to an organization whose own permit (its corporate number) was revoked, or with
    an officer who was an officer of an organization whose permit was revoked, less than `bar_years` before
    (`rules.revocation_bar_last_day`); once they have passed, it may apply again."""
    within = [r for r in revoked if day <= rules.revocation_bar_last_day(r.revoked_on, bar_years)]
    for earlier in within:
        if earlier.corporate_number == corporate_number:
            raise violation(
                "permit.revoked_within_bar",
                f"the permit of corporate number {corporate_number} was revoked on {earlier.revoked_on}: no permit"
                f" until {bar_years} years have passed (Art. 26): it may apply from"
                f" {rules.revocation_bar_last_day(earlier.revoked_on, bar_years) + timedelta(days=1)}",
                "corporate_number",
            )
    people = {_person(o): o for o in officers}
    for earlier in within:
        if shared := [people[p].name for p in map(_person, earlier.officers) if p in people]:
            raise violation(
                "permit.officer_disqualified",
                f"officer {', '.join(sorted(shared))} was an officer of organization {earlier.organization_id},"
                f" whose permit was revoked on {earlier.revoked_on}: disqualified for {bar_years} years (Art. 26)",
                "officers",
            )


# Decisions. Each returns the events to record or raises DomainRuleViolation naming the rule.


def check_application(application: PermitApplication) -> PermitApplication:
    """What every application must say (DOMAIN §2, §11): a valid corporate number, a prefecture (recorded as its
    code), its officers. Answers the application as recorded."""
    check_corporate_number(application.corporate_number)
    prefecture = check_prefecture(application.prefecture)
    if not application.officers:
        raise violation(
            "application.officers_required",
            "an application names the organization's officers (役員), at least one, for the disqualification"
            " checks (Art. 26)",
            "officers",
        )
    return application.model_copy(update={"prefecture": prefecture})


def apply_for_permit(
    state: SupervisingOrganization,
    application: PermitApplication,
    applied_on: date,
    revoked: Iterable[RevokedPermit] = (),
    bar_years: int = rules.REVOCATION_BAR_YEARS,
) -> Events:
    """`revoked`: the permits of other organizations revoked, as recorded (Art. 26)."""
    if state.exists:
        raise DomainRuleViolation("application.already_filed", "this supervising organization has already applied")
    application = check_application(application)
    check_disqualification(application.corporate_number, application.officers, applied_on, revoked, bar_years)
    return [PermitApplied(application=application, applied_on=applied_on)]


def require_excellence(permit_type: PermitType, meets_excellence_standard: bool | None) -> None:
    """A general permit only for an organization meeting the excellence standard (DOMAIN §2, §11)."""
    if permit_type is PermitType.GENERAL and not meets_excellence_standard:
        raise violation(
            "permit.excellence_required",
            "a general permit is granted only to an organization meeting the excellence standard"
            " (meets_excellence_standard); grant a specified permit otherwise",
            "meets_excellence_standard",
        )


def grant_permit(
    state: SupervisingOrganization,
    permit_type: PermitType,
    granted_on: date,
    meets_excellence_standard: bool | None = None,
    revoked: Iterable[RevokedPermit] = (),
    bar_years: int = rules.REVOCATION_BAR_YEARS,
) -> Events:
    common.require_grant_after_application(state, granted_on)
    require_excellence(permit_type, meets_excellence_standard)
    assert state.application is not None, "a pending application"
    check_disqualification(state.application.corporate_number, state.officers, granted_on, revoked, bar_years)
    return [
        PermitGranted(
            permit_type=permit_type,
            granted_on=granted_on,
            expires_on=rules.permit_expiry(granted_on, rules.new_permit_years(permit_type)),
            meets_excellence_standard=meets_excellence_standard,
        )
    ]


def deny_permit(state: SupervisingOrganization, reason: str) -> Events:
    common.require_pending(state)
    return [PermitDenied(reason=reason)]


def renew_permit(
    state: SupervisingOrganization, renewed_on: date, excellent_record: bool, applied_on: date | None = None
) -> Events:
    applied_on = applied_on or renewed_on
    validity = common.check_renewal(state, applied_on, renewed_on, latest_months=rules.RENEWAL_LEAD_MONTHS)
    permit = state.permit
    assert permit is not None, "an active permit has a type"
    valid_from = rules.renewal_valid_from(validity.expires_on)
    years = rules.renewed_permit_years(permit.permit_type, excellent_record)
    return [
        PermitRenewed(
            applied_on=applied_on,
            renewed_on=renewed_on,
            excellent_record=excellent_record,
            valid_from=valid_from,
            expires_on=rules.permit_expiry(valid_from, years),
        )
    ]


def downgrade_permit(state: SupervisingOrganization, effective_on: date) -> Events:
    """Ex officio, when the organization no longer meets the excellence standard (Art. 37(2))."""
    common.require_permit(state, effective_on, "downgrade")
    if state.permit_type is not PermitType.GENERAL:
        raise DomainRuleViolation("downgrade.not_general", "only a general permit can be downgraded to specified")
    return [PermitDowngraded(effective_on=effective_on, legal_basis="Art. 37(2)")]


# Art. 32: specified -> general is an application to change the business category, decided like a new permit.


def apply_for_type_change(
    state: SupervisingOrganization,
    applied_on: date,
    officers: tuple[Officer, ...] = (),
    requested_permit_type: PermitType = PermitType.GENERAL,
) -> Events:
    common.require_permit(state, applied_on, "change the business category of")
    if requested_permit_type is not PermitType.GENERAL or state.permit_type is PermitType.GENERAL:
        raise violation(
            "permit_type_change.not_specified_to_general",
            f"a change of business category goes from specified to general; this permit is {state.permit_type}"
            " (general -> specified is a downgrade, Art. 37(2))",
            "requested_permit_type",
        )
    if state.type_change and state.type_change.outcome == "pending":
        raise violation(
            "permit_type_change.already_pending",
            f"a change of business category applied for on {state.type_change.applied_on} is not decided yet",
        )
    return [
        PermitTypeChangeApplied(requested_permit_type=requested_permit_type, applied_on=applied_on, officers=officers)
    ]


def _pending_type_change(state: SupervisingOrganization, day: date) -> TypeChange:
    change = state.type_change
    if change is None or change.outcome != "pending":
        raise violation(
            "permit_type_change.not_pending", "there is no pending application to change the business category"
        )
    if day < change.applied_on:
        raise violation(
            "permit_type_change.decided_before_application",
            f"{day} is before the application on {change.applied_on}",
        )
    return change


def change_permit_type(
    state: SupervisingOrganization,
    changed_on: date,
    meets_excellence_standard: bool,
    revoked: Iterable[RevokedPermit] = (),
    bar_years: int = rules.REVOCATION_BAR_YEARS,
) -> Events:
    """Grant the change like a new general permit: the excellence standard and Art. 26; the permit keeps its last
    day (the change is no renewal)."""
    change = _pending_type_change(state, changed_on)
    validity = common.require_permit(state, changed_on, "change the business category of")
    require_excellence(change.requested_permit_type, meets_excellence_standard)
    assert state.application is not None, "a granted permit"
    check_disqualification(state.application.corporate_number, state.officers, changed_on, revoked, bar_years)
    return [
        PermitTypeChanged(
            permit_type=change.requested_permit_type,
            changed_on=changed_on,
            meets_excellence_standard=meets_excellence_standard,
            expires_on=validity.expires_on,
        )
    ]


def deny_type_change(state: SupervisingOrganization, denied_on: date, reason: str) -> Events:
    _pending_type_change(state, denied_on)
    return [PermitTypeChangeDenied(denied_on=denied_on, reason=reason)]


def file_business_report(
    state: SupervisingOrganization,
    id: UUID,
    fiscal_year: int,
    filed_on: date,
    book: FilingDues = rules.FILING_DUES,
) -> Events:
    """The annual business report for a fiscal year (Art. 43): filed after the year ended, once, by an organization
    whose TITP permit was in force on some day of the year. It is due by 31 May after the year (`book`); a late one
    is recorded with its lateness."""
    first, last = fiscal_year_start(fiscal_year), fiscal_year_end(fiscal_year)
    if filed_on <= last:
        raise violation(
            "filing.too_early",
            f"the business report for fiscal year {fiscal_year} is filed after the year ends on {last}, not on"
            f" {filed_on}",
            "filed_on",
        )
    if any(r.fiscal_year == fiscal_year for r in state.business_reports):
        raise violation(
            "filing.duplicate",
            f"the business report for fiscal year {fiscal_year} was already filed",
            "fiscal_year",
        )
    ended = state.revocation.revoked_on if state.revocation else state.expires_on
    if state.granted_on is None or state.granted_on > last or (ended is not None and ended < first):
        raise violation(
            "filing.no_permit_in_year",
            f"the organization held no TITP permit in force during fiscal year {fiscal_year} ({first} to {last}):"
            " it owes no business report for it",
            "fiscal_year",
        )
    return [
        BusinessReportFiled(
            supervising_organization_id=id,
            fiscal_year=fiscal_year,
            filed_on=filed_on,
            due_on=book.business_report_due(fiscal_year),
        )
    ]
