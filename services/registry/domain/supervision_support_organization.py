"""The supervision support organization (監理支援機関) and its ESD permit (DOMAIN §9): state, evolve, and one
decide function per command.

applied -> active | denied
active -> active (renewed, applied 6 to 3 months before the last day) | expired
active -> improvement ordered -> active (order closed) ; active -> suspended (from..until) -> active
active | suspended -> revoked (final)

Its own aggregate and stream, beside the TITP permit: a cooperative may hold both (the same corporate
number), each with its own history. What the law makes the same for both permits (improvement orders,
suspension, revocation, expiry, the status on a day, renewal timing) is decided in `permit.py` and recorded
with the TITP permit's events on this stream. The quarterly audit reports the organization files about each
employer it supports are recorded on its stream too.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from contracts.registry import (
    QuarterlyAuditReportFiled,
    Scheme,
    SupervisionSupportApplication,
    SupervisionSupportPermitApplied,
    SupervisionSupportPermitDenied,
    SupervisionSupportPermitGranted,
    SupervisionSupportPermitRenewed,
)
from services.registry.domain import permit as common
from services.registry.domain import rules
from services.registry.domain.identity import check_corporate_number, check_prefecture, prefecture_code
from services.registry.domain.implementing_organization import ImplementingOrganization
from services.registry.domain.permit import (
    Events,
    Lifecycle,
    PermitState,
    close_improvement_order,
    expiry_due,
    issue_improvement_order,
    permit_in_force,
    record_expiry,
    revoke_permit,
    status_on,
    suspend_business,
)
from services.registry.domain.rules import SupervisionSupportRules
from services.registry.domain.supervising_organization import RevokedPermit, check_disqualification
from shared.dates import quarter_start
from shared.errors import DomainRuleViolation
from shared.events import EventPayload

__all__ = [
    "AuditReport",
    "SupervisionSupportOrganization",
    "apply_for_permit",
    "check_standards",
    "close_improvement_order",
    "deny_permit",
    "evolve",
    "expiry_due",
    "file_audit_report",
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
class AuditReport:
    """A quarterly audit of one employer, as filed."""

    report_id: UUID
    implementing_organization_id: UUID
    quarter_ending: date
    filed_on: date
    workers: int
    workers_interviewed: int


@dataclass(frozen=True)
class SupervisionSupportOrganization(PermitState):
    """As recorded: the permit's common facts (`PermitState`), the application, the excellent rating of the
    grant or last renewal, and the audit reports filed."""

    application: SupervisionSupportApplication | None = None
    excellent: bool | None = None
    audit_reports: tuple[AuditReport, ...] = ()


def evolve(state: SupervisionSupportOrganization, event: EventPayload) -> SupervisionSupportOrganization:
    match event:
        case SupervisionSupportPermitApplied():
            application = event.application.model_copy(
                update={"prefecture": prefecture_code(event.application.prefecture)}
            )
            return replace(state, application=application, applied_on=event.applied_on, lifecycle=Lifecycle.APPLIED)
        case SupervisionSupportPermitGranted():
            return replace(common.granted(state, event.granted_on, event.expires_on), excellent=event.excellent)
        case SupervisionSupportPermitDenied():
            return replace(state, lifecycle=Lifecycle.DENIED, denial_reason=event.reason)
        case SupervisionSupportPermitRenewed():
            return replace(common.renewed(state, event.valid_from, event.expires_on), excellent=event.excellent)
        case QuarterlyAuditReportFiled():
            report = AuditReport(
                event.report_id,
                event.implementing_organization_id,
                event.quarter_ending,
                event.filed_on,
                event.workers,
                event.workers_interviewed,
            )
            return replace(state, audit_reports=(*state.audit_reports, report))
    return common.evolve_permit(state, event)


# Decisions. Each returns the events to record or raises DomainRuleViolation naming the rule.


def apply_for_permit(
    state: SupervisionSupportOrganization,
    application: SupervisionSupportApplication,
    applied_on: date,
    revoked: Iterable[RevokedPermit] = (),
    bar_years: int = rules.REVOCATION_BAR_YEARS,
) -> Events:
    """`revoked`: other ESD permits revoked, as recorded: the 5-year bar of Art. 26 applies as to a TITP permit."""
    if state.exists:
        raise DomainRuleViolation(
            "application.already_filed", "this supervision support organization has already applied"
        )
    check_corporate_number(application.corporate_number)
    application = application.model_copy(update={"prefecture": check_prefecture(application.prefecture)})
    check_disqualification(application.corporate_number, (), applied_on, revoked, bar_years)
    return [SupervisionSupportPermitApplied(application=application, applied_on=applied_on)]


def check_standards(application: SupervisionSupportApplication, book: SupervisionSupportRules) -> None:
    """The permit standards of DOMAIN §9, in this order; the first one not met refuses, naming its rule."""
    if not application.non_profit:
        raise DomainRuleViolation(
            "supervision_support.non_profit", "a supervision support organization must be a non-profit body"
        )
    if not application.external_auditor.strip():
        raise DomainRuleViolation(
            "supervision_support.external_auditor", "an external auditor is mandatory for a supervision support permit"
        )
    staff = application.full_time_staff
    if staff < book.min_full_time_staff:
        raise DomainRuleViolation(
            "supervision_support.full_time_staff",
            f"at least {book.min_full_time_staff} full-time staff are needed, not {staff}",
        )
    if application.member_employers > book.max_employers(staff):
        raise DomainRuleViolation(
            "supervision_support.employers_per_staff",
            f"each full-time staff member supports fewer than {book.employers_per_staff_below} employers:"
            f" {staff} staff support at most {book.max_employers(staff)}, not {application.member_employers}",
        )
    if application.workers > book.max_workers(staff):
        raise DomainRuleViolation(
            "supervision_support.workers_per_staff",
            f"each full-time staff member supports fewer than {book.workers_per_staff_below} workers:"
            f" {staff} staff support at most {book.max_workers(staff)}, not {application.workers}",
        )
    if application.member_employers < book.min_member_employers:
        raise DomainRuleViolation(
            "supervision_support.member_employers",
            f"at least {book.min_member_employers} member employers are needed, not {application.member_employers}",
        )


def grant_permit(
    state: SupervisionSupportOrganization, granted_on: date, excellent: bool, book: SupervisionSupportRules
) -> Events:
    common.require_grant_after_application(state, granted_on)
    assert state.application is not None, "a pending application has its facts"
    check_standards(state.application, book)
    return [
        SupervisionSupportPermitGranted(
            granted_on=granted_on,
            expires_on=rules.permit_expiry(granted_on, book.validity(excellent)),
            excellent=excellent,
        )
    ]


def deny_permit(state: SupervisionSupportOrganization, reason: str) -> Events:
    common.require_pending(state)
    return [SupervisionSupportPermitDenied(reason=reason)]


def renew_permit(
    state: SupervisionSupportOrganization,
    renewed_on: date,
    excellent: bool,
    book: SupervisionSupportRules,
    applied_on: date | None = None,
) -> Events:
    applied_on = applied_on or renewed_on
    validity = common.check_renewal(
        state,
        applied_on,
        renewed_on,
        latest_months=book.renewal_latest_months,
        earliest_months=book.renewal_earliest_months,
    )
    valid_from = rules.renewal_valid_from(validity.expires_on)
    return [
        SupervisionSupportPermitRenewed(
            applied_on=applied_on,
            renewed_on=renewed_on,
            excellent=excellent,
            valid_from=valid_from,
            expires_on=rules.permit_expiry(valid_from, book.validity(excellent)),
        )
    ]


def file_audit_report(
    state: SupervisionSupportOrganization,
    report: QuarterlyAuditReportFiled,
    own_id: UUID,
    employer: ImplementingOrganization,
    book: SupervisionSupportRules,
) -> Events:
    """Record the quarterly audit of an employer this organization supports under ESD (`employer`, as
    recorded; not registered, it is not one this organization supports), having interviewed at least
    `book.interview_share` of its ESD workers."""
    quarter_ending, first_day = report.quarter_ending, quarter_start(report.quarter_ending)
    if not rules.is_quarter_end(quarter_ending):
        raise DomainRuleViolation(
            "audit_report.not_a_quarter_end",
            f"quarter_ending {quarter_ending} is not the last day of a quarter (31 Mar, 30 Jun, 30 Sep, 31 Dec)",
        )
    if report.filed_on < first_day:
        raise DomainRuleViolation(
            "audit_report.filed_before_quarter",
            f"filed_on {report.filed_on} is before the quarter audited began ({first_day})",
        )
    validity = state.validity
    if validity is None or validity.granted_on > quarter_ending:
        raise DomainRuleViolation(
            "audit_report.no_permit", f"the organization held no supervision support permit by {quarter_ending}"
        )
    if report.workers_interviewed > report.workers:
        raise DomainRuleViolation(
            "audit_report.interviews_exceed_workers",
            f"{report.workers_interviewed} workers interviewed of {report.workers}",
        )
    if not (employer.exists and employer.supervised_during(Scheme.ESD, own_id, first_day, quarter_ending)):
        raise DomainRuleViolation(
            "audit_report.employer_not_supported",
            f"implementing organization {report.implementing_organization_id} was not supported by this"
            f" organization under ESD in the quarter ending {quarter_ending}",
        )
    if any(
        r.implementing_organization_id == report.implementing_organization_id and r.quarter_ending == quarter_ending
        for r in state.audit_reports
    ):
        raise DomainRuleViolation(
            "audit_report.already_filed",
            f"the audit of this employer for the quarter ending {quarter_ending} is already filed",
        )
    needed = book.min_interviews(report.workers)
    if report.workers_interviewed < needed:
        raise DomainRuleViolation(
            "audit_report.too_few_interviews",
            f"at least {book.interview_share} of the {report.workers} ESD workers ({needed}) must be interviewed,"
            f" not {report.workers_interviewed}",
        )
    return [report]
