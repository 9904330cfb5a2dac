"""Everything that changes the registry's state: its aggregates and one function per command.

Routes, the inspection-referral policy (subscriptions.py), the daily expiry chore, tests and tools all
come through here, each with a `UnitOfWork` (one transaction, who asked, the If-Match pinned).
"""

from collections.abc import Callable
from datetime import date
from typing import Any, Literal
from uuid import UUID

from contracts.registry import (
    SENDING_AGREEMENT_END_PERMIT_EXPIRED,
    SENDING_AGREEMENT_END_PERMIT_REVOKED,
    ImplementingOrganizationRegistered,
    Officer,
    PermitApplication,
    PermitType,
    QuarterlyAuditReportFiled,
    RevocationGround,
    Scheme,
    SendingAgreementSigned,
    SendingOrganizationApproved,
    SupervisionChanged,
    SupervisionEnded,
    SupervisionSupportApplication,
)
from services.registry.domain import implementing_organization as io
from services.registry.domain import permit
from services.registry.domain import sending_agreement as sa
from services.registry.domain import sending_organization as sending
from services.registry.domain import supervising_organization as so
from services.registry.domain import supervision_support_organization as sso
from services.registry.domain.permit import PermitState
from services.registry.domain.rules import (
    ALONGSIDE_ALLOWED,
    FILING_DUES,
    REVOCATION_BAR_YEARS,
    SupervisionSupportRules,
)
from services.registry.projections.implementing_organizations import project_implementing_organization
from services.registry.projections.sending import (
    agreements_in_force,
    lock_permit_holder,
    lock_sending_organization,
    project_sending_agreement,
    project_sending_organization,
)
from services.registry.projections.supervising_organizations import (
    expiry_due_ids,
    project_supervising_organization,
    revoked_permits,
)
from services.registry.projections.supervision_support_organizations import (
    project_supervision_support_organization,
    support_expiry_due_ids,
)
from shared.commands import Aggregate, Outcome, UnitOfWork, existing
from shared.errors import DomainRuleViolation, NotFound
from shared.events import RecordedEvent
from shared.filings import FilingDues

SUPERVISING_ORGANIZATION = Aggregate(
    "supervising-organization", so.SupervisingOrganization(), so.evolve, project_supervising_organization
)
IMPLEMENTING_ORGANIZATION = Aggregate(
    "implementing-organization", io.ImplementingOrganization(), io.evolve, project_implementing_organization
)
SENDING_ORGANIZATION = Aggregate(
    "sending-organization", sending.SendingOrganization(), sending.evolve, project_sending_organization
)
SENDING_AGREEMENT = Aggregate("sending-agreement", sa.SendingAgreement(), sa.evolve, project_sending_agreement)
SUPERVISION_SUPPORT_ORGANIZATION = Aggregate(
    "supervision-support-organization",
    sso.SupervisionSupportOrganization(),
    sso.evolve,
    project_supervision_support_organization,
)


# Supervising organizations and their permits


async def _require_id_unused_by(uow: UnitOfWork, other: Aggregate[Any], id: UUID) -> None:
    """A TITP and an ESD permit are two records (two streams) even for one cooperative: an id that names
    one cannot name the other."""
    state, _ = await uow.load(other, str(id))
    if state.exists:
        raise DomainRuleViolation(
            "application.id_in_use",
            f"{id} is a {other.name.replace('-', ' ')}'s record; a permit of the other scheme is its own record,"
            " filed under an id of its own",
        )


async def _revoked_others(
    uow: UnitOfWork, id: UUID, day: date, bar_years: int, table: str = "supervising_organizations"
) -> list[so.RevokedPermit]:
    """Other organizations' permits revoked in the `bar_years` before `day`, as recorded (Art. 26)."""
    return [r for r in await revoked_permits(uow.conn, day, bar_years, table=table) if r.organization_id != id]


async def apply_for_permit(
    uow: UnitOfWork,
    id: UUID,
    *,
    application: PermitApplication,
    applied_on: date,
    revocation_bar_years: int = REVOCATION_BAR_YEARS,
) -> Outcome:
    """File an application for a supervising-organization permit under the id `id`; refused within 5 years of a
    revocation of the same corporate number's permit or of one of its officers' organization (Art. 26)."""
    await _require_id_unused_by(uow, SUPERVISION_SUPPORT_ORGANIZATION, id)
    revoked = await _revoked_others(uow, id, applied_on, revocation_bar_years)
    return await uow.decide(
        SUPERVISING_ORGANIZATION,
        str(id),
        lambda s: so.apply_for_permit(s, application, applied_on, revoked, revocation_bar_years),
    )


async def _on_permit(uow: UnitOfWork, id: UUID, decide: Callable[[so.SupervisingOrganization], so.Events]) -> Outcome:
    return await uow.decide(SUPERVISING_ORGANIZATION, str(id), existing("supervising organization", id, decide))


async def grant_permit(
    uow: UnitOfWork,
    id: UUID,
    *,
    permit_type: PermitType,
    granted_on: date,
    meets_excellence_standard: bool | None = None,
    revocation_bar_years: int = REVOCATION_BAR_YEARS,
) -> Outcome:
    """Grant the permit, general (only to an organization meeting the excellence standard) or specified; it is
    valid for 5 or 3 years."""
    revoked = await _revoked_others(uow, id, granted_on, revocation_bar_years)
    return await _on_permit(
        uow,
        id,
        lambda s: so.grant_permit(s, permit_type, granted_on, meets_excellence_standard, revoked, revocation_bar_years),
    )


async def deny_permit(uow: UnitOfWork, id: UUID, *, reason: str) -> Outcome:
    return await _on_permit(uow, id, lambda s: so.deny_permit(s, reason))


async def renew_permit(
    uow: UnitOfWork, id: UUID, *, renewed_on: date, excellent_record: bool, applied_on: date | None = None
) -> Outcome:
    """Renew an active permit applied for at least 3 months before it expires."""
    return await _on_permit(uow, id, lambda s: so.renew_permit(s, renewed_on, excellent_record, applied_on))


async def downgrade_permit(uow: UnitOfWork, id: UUID, *, effective_on: date) -> Outcome:
    """Ex officio, general -> specified, when the excellence standard is no longer met (Art. 37(2))."""
    return await _on_permit(uow, id, lambda s: so.downgrade_permit(s, effective_on))


async def apply_for_type_change(
    uow: UnitOfWork, id: UUID, *, applied_on: date, officers: tuple[Officer, ...] = ()
) -> Outcome:
    """Apply to change the business category from specified to general (Art. 32)."""
    return await _on_permit(uow, id, lambda s: so.apply_for_type_change(s, applied_on, officers))


async def change_permit_type(
    uow: UnitOfWork,
    id: UUID,
    *,
    changed_on: date,
    meets_excellence_standard: bool,
    revocation_bar_years: int = REVOCATION_BAR_YEARS,
) -> Outcome:
    """Grant the change of business category (Art. 32), decided like a new general permit."""
    revoked = await _revoked_others(uow, id, changed_on, revocation_bar_years)
    return await _on_permit(
        uow,
        id,
        lambda s: so.change_permit_type(s, changed_on, meets_excellence_standard, revoked, revocation_bar_years),
    )


async def deny_type_change(uow: UnitOfWork, id: UUID, *, denied_on: date, reason: str) -> Outcome:
    return await _on_permit(uow, id, lambda s: so.deny_type_change(s, denied_on, reason))


async def issue_improvement_order(
    uow: UnitOfWork, id: UUID, *, order_id: UUID, issued_on: date, deadline: date, reason: str
) -> Outcome:
    """Order an improvement by a deadline (Art. 36)."""
    return await _on_permit(uow, id, lambda s: so.issue_improvement_order(s, order_id, issued_on, deadline, reason))


async def close_improvement_order(uow: UnitOfWork, id: UUID, *, order_id: UUID, closed_on: date) -> Outcome:
    return await _on_permit(uow, id, lambda s: so.close_improvement_order(s, order_id, closed_on))


async def suspend_business(
    uow: UnitOfWork,
    id: UUID,
    *,
    suspension_id: UUID,
    from_date: date,
    until_date: date,
    scope: Literal["all", "part"],
    part: str | None,
    reason: str,
    ground: RevocationGround | None = None,
) -> Outcome:
    """Suspend all or part of the business from one date to another (Art. 37(3)), on ground 1, 3, 4 or 5."""
    return await _on_permit(
        uow, id, lambda s: so.suspend_business(s, suspension_id, from_date, until_date, scope, part, reason, ground)
    )


async def end_agreements_of(uow: UnitOfWork, id: UUID, *, ended_on: date, reason: str) -> None:
    """End every sending agreement in force under organization `id`'s permit (revoked or expired: DOMAIN §11)."""
    for agreement_id in await agreements_in_force(uow.conn, supervising_organization_id=id):
        await uow.unpinned().decide(
            SENDING_AGREEMENT, str(agreement_id), lambda s: sa.end_sending_agreement(s, ended_on, reason)
        )


async def revoke_permit(
    uow: UnitOfWork, id: UUID, *, revoked_on: date, ground: RevocationGround, reason: str
) -> Outcome:
    """Revoke the permit on one of the five grounds of Art. 37(1); final. Its sending agreements end that day."""
    await lock_permit_holder(uow.conn, id)
    outcome = await _on_permit(uow, id, lambda s: so.revoke_permit(s, revoked_on, ground, reason))
    await end_agreements_of(uow, id, ended_on=revoked_on, reason=SENDING_AGREEMENT_END_PERMIT_REVOKED)
    return outcome


async def _record_expiry(uow: UnitOfWork, aggregate: Aggregate[Any], id: UUID, as_of: date) -> list[RecordedEvent]:
    """One permit's expiry, and the end of its sending agreements on its first day without a permit."""
    await lock_permit_holder(uow.conn, id)
    outcome = await uow.unpinned().decide(aggregate, str(id), lambda s: permit.record_expiry(s, as_of))
    for expiry in outcome.events:  # PermitExpired: none when the expiry was recorded meanwhile
        ended_on = date.fromisoformat(expiry.data["expired_on"])
        await end_agreements_of(uow, id, ended_on=ended_on, reason=SENDING_AGREEMENT_END_PERMIT_EXPIRED)
    return outcome.events


async def record_expiries(uow: UnitOfWork, *, as_of: date) -> Outcome:
    """Record the expiry of every active permit whose last day is before `as_of` (`so.expiry_due`); each one's
    sending agreements end on its first day without a permit.

    The outcome's events are the expiries recorded, one per organization (its stream, the event's subject)."""
    recorded: list[RecordedEvent] = []
    for id in await expiry_due_ids(uow.conn, as_of):
        recorded += await _record_expiry(uow, SUPERVISING_ORGANIZATION, id, as_of)
    return Outcome("expiries", 0, recorded)


async def file_business_report(
    uow: UnitOfWork, id: UUID, *, fiscal_year: int, filed_on: date, book: FilingDues = FILING_DUES
) -> Outcome:
    """Record the supervising organization's annual business report for a fiscal year (Art. 43), due by 31 May
    after it (`book`); once per year, after the year ended."""
    return await _on_permit(uow, id, lambda s: so.file_business_report(s, id, fiscal_year, filed_on, book))


# Supervision support organizations (ESD) and their permits


async def apply_for_supervision_support_permit(
    uow: UnitOfWork,
    id: UUID,
    *,
    application: SupervisionSupportApplication,
    applied_on: date,
    revocation_bar_years: int = REVOCATION_BAR_YEARS,
) -> Outcome:
    """File an application for a supervision support organization permit (ESD) under the id `id`; refused within 5
    years of the revocation of an ESD permit of the same corporate number (Art. 26, as for TITP)."""
    await _require_id_unused_by(uow, SUPERVISING_ORGANIZATION, id)
    revoked = await _revoked_others(uow, id, applied_on, revocation_bar_years, "supervision_support_organizations")
    return await uow.decide(
        SUPERVISION_SUPPORT_ORGANIZATION,
        str(id),
        lambda s: sso.apply_for_permit(s, application, applied_on, revoked, revocation_bar_years),
    )


async def _on_support_permit(
    uow: UnitOfWork, id: UUID, decide: Callable[[sso.SupervisionSupportOrganization], permit.Events]
) -> Outcome:
    return await uow.decide(
        SUPERVISION_SUPPORT_ORGANIZATION, str(id), existing("supervision support organization", id, decide)
    )


async def grant_supervision_support_permit(
    uow: UnitOfWork, id: UUID, *, granted_on: date, excellent: bool, rules: SupervisionSupportRules
) -> Outcome:
    """Grant the permit if the organization meets the standards (non-profit, external auditor, staffing, member
    employers); valid for 3 years, 5 if rated excellent (`rules`)."""
    return await _on_support_permit(uow, id, lambda s: sso.grant_permit(s, granted_on, excellent, rules))


async def deny_supervision_support_permit(uow: UnitOfWork, id: UUID, *, reason: str) -> Outcome:
    return await _on_support_permit(uow, id, lambda s: sso.deny_permit(s, reason))


async def renew_supervision_support_permit(
    uow: UnitOfWork,
    id: UUID,
    *,
    renewed_on: date,
    excellent: bool,
    rules: SupervisionSupportRules,
    applied_on: date | None = None,
) -> Outcome:
    """Renew an active permit applied for between 6 and 3 months before it expires (`rules`)."""
    return await _on_support_permit(uow, id, lambda s: sso.renew_permit(s, renewed_on, excellent, rules, applied_on))


async def issue_support_improvement_order(
    uow: UnitOfWork, id: UUID, *, order_id: UUID, issued_on: date, deadline: date, reason: str
) -> Outcome:
    """Order an improvement by a deadline, as for a TITP permit."""
    return await _on_support_permit(
        uow, id, lambda s: sso.issue_improvement_order(s, order_id, issued_on, deadline, reason)
    )


async def close_support_improvement_order(uow: UnitOfWork, id: UUID, *, order_id: UUID, closed_on: date) -> Outcome:
    return await _on_support_permit(uow, id, lambda s: sso.close_improvement_order(s, order_id, closed_on))


async def suspend_support_business(
    uow: UnitOfWork,
    id: UUID,
    *,
    suspension_id: UUID,
    from_date: date,
    until_date: date,
    scope: Literal["all", "part"],
    part: str | None,
    reason: str,
    ground: RevocationGround | None = None,
) -> Outcome:
    """Suspend all or part of the business from one date to another, as for a TITP permit (Art. 37(3))."""
    return await _on_support_permit(
        uow, id, lambda s: sso.suspend_business(s, suspension_id, from_date, until_date, scope, part, reason, ground)
    )


async def revoke_supervision_support_permit(
    uow: UnitOfWork, id: UUID, *, revoked_on: date, ground: RevocationGround, reason: str
) -> Outcome:
    """Revoke the permit on one of the grounds of a TITP permit's revocation; final. Its sending agreements end."""
    await lock_permit_holder(uow.conn, id)
    outcome = await _on_support_permit(uow, id, lambda s: sso.revoke_permit(s, revoked_on, ground, reason))
    await end_agreements_of(uow, id, ended_on=revoked_on, reason=SENDING_AGREEMENT_END_PERMIT_REVOKED)
    return outcome


async def record_supervision_support_expiries(uow: UnitOfWork, *, as_of: date) -> Outcome:
    """Record the expiry of every active ESD permit whose last day is before `as_of` (`permit.expiry_due`)."""
    recorded: list[RecordedEvent] = []
    for id in await support_expiry_due_ids(uow.conn, as_of):
        recorded += await _record_expiry(uow, SUPERVISION_SUPPORT_ORGANIZATION, id, as_of)
    return Outcome("expiries", 0, recorded)


async def file_audit_report(
    uow: UnitOfWork,
    id: UUID,
    *,
    report_id: UUID,
    implementing_organization_id: UUID,
    quarter_ending: date,
    filed_on: date,
    workers: int,
    workers_interviewed: int,
    rules: SupervisionSupportRules,
) -> Outcome:
    """Record the quarterly audit report of an employer this organization supports under ESD."""
    # An employer not registered is, to this organization, one it does not support (it learns no more).
    employer, _ = await uow.load(IMPLEMENTING_ORGANIZATION, str(implementing_organization_id))
    report = QuarterlyAuditReportFiled(
        report_id=report_id,
        implementing_organization_id=implementing_organization_id,
        quarter_ending=quarter_ending,
        filed_on=filed_on,
        workers=workers,
        workers_interviewed=workers_interviewed,
    )
    return await _on_support_permit(uow, id, lambda s: sso.file_audit_report(s, report, id, employer, rules))


# Implementing organizations


async def register_implementing_organization(
    uow: UnitOfWork, id: UUID, *, registration: ImplementingOrganizationRegistered
) -> Outcome:
    """Register an implementing organization; a type (b) one under a registered supervising organization."""
    supervising_organization = None
    if registration.supervising_organization_id:
        supervising_organization, _ = await uow.load(
            SUPERVISING_ORGANIZATION, str(registration.supervising_organization_id)
        )
    return await uow.unpinned().decide(
        IMPLEMENTING_ORGANIZATION,
        str(id),
        lambda s: io.register_implementing_organization(s, registration, supervising_organization),
    )


async def change_supervision(
    uow: UnitOfWork,
    id: UUID,
    *,
    supervising_organization_id: UUID,
    scheme: Scheme,
    effective_from: date,
    alongside: bool = False,
    alongside_allowed: dict[Scheme, bool] = ALONGSIDE_ALLOWED,
) -> Outcome:
    """From a date the implementing organization is supervised (TITP) or supported (ESD) by this organization,
    which holds that scheme's permit in force that day; its supervision under the other scheme is unchanged.
    `alongside`: it joins this organization besides those it has (where the scheme allows), instead of moving."""
    supervisor: permit.PermitState = (
        (await uow.load(SUPERVISING_ORGANIZATION, str(supervising_organization_id)))[0]
        if scheme is Scheme.TITP
        else (await uow.load(SUPERVISION_SUPPORT_ORGANIZATION, str(supervising_organization_id)))[0]
    )
    change = SupervisionChanged(
        supervising_organization_id=supervising_organization_id,
        scheme=scheme,
        effective_from=effective_from,
        alongside=alongside,
    )
    return await uow.decide(
        IMPLEMENTING_ORGANIZATION,
        str(id),
        existing(
            "implementing organization",
            id,
            lambda s: io.change_supervision(s, change, supervisor, alongside_allowed),
        ),
    )


async def end_supervision(
    uow: UnitOfWork, id: UUID, *, supervising_organization_id: UUID, scheme: Scheme, until: date
) -> Outcome:
    """The implementing organization's supervision (TITP) or support (ESD) by this organization ends: `until` is
    its last day; its other supervisions carry on."""
    end = SupervisionEnded(
        supervising_organization_id=supervising_organization_id, scheme=scheme, effective_until=until
    )
    return await uow.decide(
        IMPLEMENTING_ORGANIZATION,
        str(id),
        existing("implementing organization", id, lambda s: io.end_supervision(s, end)),
    )


async def record_staff_count(uow: UnitOfWork, id: UUID, *, full_time_staff: int, as_of: date) -> Outcome:
    """Record the number of full-time staff on a date; the latest date's figure is the current one."""
    return await uow.decide(
        IMPLEMENTING_ORGANIZATION,
        str(id),
        existing("implementing organization", id, lambda s: io.record_staff_count(s, full_time_staff, as_of)),
    )


async def record_stability_recognition(uow: UnitOfWork, id: UUID, *, recognised: bool, as_of: date) -> Outcome:
    """Type (a): record whether the Ministers recognise the company as stable, from a date."""
    return await uow.decide(
        IMPLEMENTING_ORGANIZATION,
        str(id),
        existing("implementing organization", id, lambda s: io.record_stability_recognition(s, recognised, as_of)),
    )


async def rate_excellence(uow: UnitOfWork, id: UUID, *, excellent: bool, as_of: date) -> Outcome:
    """Rate the organization excellent or not from a date."""
    return await uow.decide(
        IMPLEMENTING_ORGANIZATION,
        str(id),
        existing("implementing organization", id, lambda s: io.rate_excellence(s, excellent, as_of)),
    )


# Sending organizations and sending agreements


async def approve_sending_organization(
    uow: UnitOfWork, id: UUID, *, approval: SendingOrganizationApproved, moc_countries: frozenset[str]
) -> Outcome:
    """Record a sending organization recommended by a public body of its country; one from a country with a
    Memorandum of Cooperation (`moc_countries`) also on its government's certified list."""
    return await uow.decide(
        SENDING_ORGANIZATION, str(id), lambda s: sending.approve_sending_organization(s, approval, moc_countries)
    )


async def withdraw_sending_organization(uow: UnitOfWork, id: UUID, *, reason: str, withdrawn_on: date) -> Outcome:
    """Withdraw the approval; every agreement with the organization ends the same day, in this transaction."""
    await lock_sending_organization(uow.conn, id)
    outcome = await uow.decide(
        SENDING_ORGANIZATION,
        str(id),
        existing("sending organization", id, lambda s: sending.withdraw_sending_organization(s, reason, withdrawn_on)),
    )
    why = f"the sending organization's approval was withdrawn: {reason}"
    for agreement_id in await agreements_in_force(uow.conn, sending_organization_id=id):
        await uow.unpinned().decide(
            SENDING_AGREEMENT, str(agreement_id), lambda s: sa.end_sending_agreement(s, withdrawn_on, why)
        )
    return outcome


async def sign_sending_agreement(
    uow: UnitOfWork,
    id: UUID,
    *,
    supervising_organization_id: UUID,
    sending_organization_id: UUID,
    signed_on: date,
    scheme: Scheme = Scheme.TITP,
) -> Outcome:
    """Register agreement `id` with an approved sending organization, signed while the permit is in force: a
    supervising organization's (TITP) or a supervision support organization's (ESD)."""
    # Taken before reading the permit: a revocation or expiry running now ends this agreement or refuses it.
    await lock_permit_holder(uow.conn, supervising_organization_id)
    supervising_organization: PermitState
    if scheme is Scheme.TITP:
        titp, _ = await uow.load(SUPERVISING_ORGANIZATION, str(supervising_organization_id))
        supervising_organization = titp
    else:
        esd, _ = await uow.load(SUPERVISION_SUPPORT_ORGANIZATION, str(supervising_organization_id))
        supervising_organization = esd
    if not supervising_organization.exists:
        noun = "supervising organization" if scheme is Scheme.TITP else "supervision support organization"
        raise NotFound(noun, supervising_organization_id)
    # Taken before reading the approval: a withdrawal running now ends this agreement or refuses it.
    await lock_sending_organization(uow.conn, sending_organization_id)
    sending_organization, _ = await uow.load(SENDING_ORGANIZATION, str(sending_organization_id))
    in_force = await agreements_in_force(
        uow.conn,
        sending_organization_id=sending_organization_id,
        supervising_organization_id=supervising_organization_id,
    )
    signature = SendingAgreementSigned(
        supervising_organization_id=supervising_organization_id,
        sending_organization_id=sending_organization_id,
        signed_on=signed_on,
    )
    return await uow.unpinned().decide(
        SENDING_AGREEMENT,
        str(id),
        lambda s: sa.sign_sending_agreement(
            s, signature, supervising_organization, sending_organization, in_force[0] if in_force else None
        ),
    )
