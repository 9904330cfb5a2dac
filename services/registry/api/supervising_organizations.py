"""Supervising organizations and their permits (DOMAIN §2, §10)."""

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request, Response

from contracts.registry import Officer, PermitType
from services.registry import commands
from services.registry.api.auth import Filer, OtitOfficer, Reader, own_organization_id
from services.registry.api.schemas import (
    ApplyForPermit,
    ApplyForTypeChange,
    BusinessReportDocument,
    ChangePermitType,
    CloseImprovementOrder,
    DenyPermit,
    DenyTypeChange,
    DowngradePermit,
    ExpiriesRecorded,
    FileBusinessReport,
    GrantPermit,
    IssueImprovementOrder,
    RecordExpiries,
    RenewPermit,
    RevokePermit,
    SupervisingOrganizationDocument,
    SuspendBusiness,
)
from services.registry.domain.supervising_organization import Lifecycle
from services.registry.projections import supervising_organizations as read
from shared.errors import NotFound
from shared.filings import FilingDues
from shared.web.app import PoolDep
from shared.web.http import (
    Accepted,
    AsOf,
    Command,
    Page,
    cursor_uuid,
    decode_cursor,
    document_response,
    page_of,
    today,
)

router = APIRouter(prefix="/v1/supervising-organizations", tags=["supervising organizations"])


async def revocation_bar_years(request: Request) -> int:
    years: int = request.app.state.revocation_bar_years
    return years


RevocationBar = Annotated[int, Depends(revocation_bar_years)]


async def business_report_rules(request: Request) -> FilingDues:
    """The business report's due day as configured (`TITP_REGISTRY_BUSINESS_REPORT_*`, services/registry/app.py)."""
    book: FilingDues = request.app.state.business_report_rules
    return book


BusinessReportBook = Annotated[FilingDues, Depends(business_report_rules)]


@router.post("", status_code=201, response_model=Accepted)
async def apply_for_permit(body: ApplyForPermit, command: Command, principal: Filer, bar: RevocationBar) -> Response:
    """Apply for a supervising-organization permit. An organization applies for itself: its record
    takes the organization id its token names, so that it can read it and no other. The application names the
    officers; a valid corporate number; the prefecture by code or name. Refused within 5 years (configurable) of the
    revocation of the same corporate number's permit or of an officer's organization's (Art. 26)."""
    id = own_organization_id(principal) if principal.is_organization_member else uuid4()
    return await command.execute(
        commands.apply_for_permit,
        id,
        application=body.application(),
        applied_on=body.applied_on,
        revocation_bar_years=bar,
        created_at=f"{router.prefix}/{id}",
    )


@router.post("/{id}/grant", response_model=Accepted)
async def grant_permit(id: UUID, body: GrantPermit, command: Command, _: OtitOfficer, bar: RevocationBar) -> Response:
    """Grant the permit, general (only with `meets_excellence_standard`) or specified; it is valid for 5 or 3
    years."""
    return await command.execute(
        commands.grant_permit,
        id,
        permit_type=body.permit_type,
        granted_on=body.granted_on,
        meets_excellence_standard=body.meets_excellence_standard,
        revocation_bar_years=bar,
    )


@router.post("/{id}/permit-type-changes", response_model=Accepted)
async def apply_for_type_change(id: UUID, body: ApplyForTypeChange, command: Command, principal: Filer) -> Response:
    """Apply to change the business category from specified to general (Art. 32). The organization files it for
    itself, or an officer of OTIT."""
    if not principal.may_see(id):
        raise NotFound("supervising organization", id)
    return await command.execute(
        commands.apply_for_type_change,
        id,
        applied_on=body.applied_on,
        officers=tuple(Officer(**o.model_dump()) for o in body.officers),
    )


@router.post("/{id}/business-reports", response_model=Accepted)
async def file_business_report(
    id: UUID, body: FileBusinessReport, command: Command, principal: Filer, book: BusinessReportBook
) -> Response:
    """File the annual business report for a fiscal year (Art. 43): the organization for itself, or an officer of
    OTIT. Only after the year ended (`filing.too_early`), once a year (`filing.duplicate`), for a year its permit
    was in force (`filing.no_permit_in_year`); due by 31 May after the year (configurable), a late one recorded
    with its lateness. Answers the organization's id and new version; the report shows under `business_reports`."""
    if not principal.may_see(id):
        raise NotFound("supervising organization", id)
    return await command.execute(
        commands.file_business_report, id, fiscal_year=body.fiscal_year, filed_on=body.filed_on, book=book
    )


@router.get("/{id}/business-reports", response_model=list[BusinessReportDocument])
async def list_business_reports(
    id: UUID, request: Request, pool: PoolDep, principal: Reader, as_of: AsOf = None
) -> list[dict[str, Any]]:
    """The organization's annual business reports by fiscal year, each with its due day and lateness; with
    `as_of`, as recorded then."""
    document = await read.read_supervising_organization(
        pool, request.app.state.runner, commands.SUPERVISING_ORGANIZATION, id, as_of.until if as_of else None, today()
    )
    if document is None or not principal.may_see(id):
        raise NotFound("supervising organization", id)
    reports: list[dict[str, Any]] = document["business_reports"]
    return reports


@router.post("/{id}/permit-type-changes/grant", response_model=Accepted)
async def change_permit_type(
    id: UUID, body: ChangePermitType, command: Command, _: OtitOfficer, bar: RevocationBar
) -> Response:
    """Grant the pending change of business category (Art. 32), decided like a new general permit: the excellence
    standard and the disqualification grounds (Art. 26). The permit keeps its last day."""
    return await command.execute(
        commands.change_permit_type,
        id,
        changed_on=body.changed_on,
        meets_excellence_standard=body.meets_excellence_standard,
        revocation_bar_years=bar,
    )


@router.post("/{id}/permit-type-changes/deny", response_model=Accepted)
async def deny_type_change(id: UUID, body: DenyTypeChange, command: Command, _: OtitOfficer) -> Response:
    """Deny the pending change of business category; the permit stays specified."""
    return await command.execute(commands.deny_type_change, id, denied_on=body.denied_on, reason=body.reason)


@router.post("/{id}/deny", response_model=Accepted)
async def deny_permit(id: UUID, body: DenyPermit, command: Command, _: OtitOfficer) -> Response:
    """Deny the application."""
    return await command.execute(commands.deny_permit, id, reason=body.reason)


@router.post("/{id}/renew", response_model=Accepted)
async def renew_permit(id: UUID, body: RenewPermit, command: Command, _: OtitOfficer) -> Response:
    """Renew an active permit applied for at least 3 months before it expires."""
    return await command.execute(
        commands.renew_permit,
        id,
        renewed_on=body.renewed_on,
        excellent_record=body.excellent_record,
        applied_on=body.applied_on,
    )


@router.post("/{id}/downgrade", response_model=Accepted)
async def downgrade_permit(id: UUID, body: DowngradePermit, command: Command, _: OtitOfficer) -> Response:
    """Downgrade a general permit to specified, ex officio, when the excellence standard is no longer met
    (Art. 37(2))."""
    return await command.execute(commands.downgrade_permit, id, effective_on=body.effective_on)


@router.post("/{id}/improvement-orders", response_model=Accepted)
async def issue_improvement_order(id: UUID, body: IssueImprovementOrder, command: Command, _: OtitOfficer) -> Response:
    """Order an improvement by a deadline (Art. 36)."""
    return await command.execute(
        commands.issue_improvement_order,
        id,
        order_id=uuid4(),
        issued_on=body.issued_on,
        deadline=body.deadline,
        reason=body.reason,
    )


@router.post("/{id}/improvement-orders/{order_id}/close", response_model=Accepted)
async def close_improvement_order(
    id: UUID, order_id: UUID, body: CloseImprovementOrder, command: Command, _: OtitOfficer
) -> Response:
    """Close an improvement order once the improvement is confirmed."""
    return await command.execute(commands.close_improvement_order, id, order_id=order_id, closed_on=body.closed_on)


@router.post("/{id}/suspend", response_model=Accepted)
async def suspend_business(id: UUID, body: SuspendBusiness, command: Command, _: OtitOfficer) -> Response:
    """Suspend all or part of the business from one date to another (Art. 37(3)), on ground 1, 3, 4 or 5 of
    Art. 37(1)."""
    return await command.execute(
        commands.suspend_business,
        id,
        suspension_id=uuid4(),
        from_date=body.from_date,
        until_date=body.until_date,
        scope=body.scope,
        part=body.part,
        reason=body.reason,
        ground=body.ground,
    )


@router.post("/{id}/revoke", response_model=Accepted)
async def revoke_permit(id: UUID, body: RevokePermit, command: Command, _: OtitOfficer) -> Response:
    """Revoke the permit on one of the five grounds of Art. 37(1); final. Its sending agreements end the same day."""
    return await command.execute(
        commands.revoke_permit, id, revoked_on=body.revoked_on, ground=body.ground, reason=body.reason
    )


@router.post("/expiries", response_model=ExpiriesRecorded)
async def record_expiries(body: RecordExpiries, command: Command, _: OtitOfficer) -> ExpiriesRecorded:
    """Record every permit that expired before `as_of` (run daily by the service; callable by operators); their
    sending agreements end."""
    outcome = await command.runner.transact(
        commands.record_expiries, as_of=body.as_of, context=command.context, if_match=command.if_match
    )
    return ExpiriesRecorded(as_of=body.as_of, expired=[UUID(event.subject) for event in outcome.events])


@router.get("/{id}", response_model=SupervisingOrganizationDocument)
async def get_supervising_organization(
    id: UUID, request: Request, pool: PoolDep, principal: Reader, as_of: AsOf = None
) -> Response:
    """One supervising organization and its permit; with `as_of`, as recorded and in force then."""
    document = None
    if principal.may_see(id):
        document = await read.read_supervising_organization(
            pool,
            request.app.state.runner,
            commands.SUPERVISING_ORGANIZATION,
            id,
            as_of.until if as_of else None,
            as_of.day if as_of else today(),
        )
    if document is None:
        raise NotFound("supervising organization", id)
    shown = SupervisingOrganizationDocument.model_validate(document)
    return document_response(shown.model_dump(mode="json"), shown.version)


@router.get("", response_model=Page[SupervisingOrganizationDocument])
async def list_supervising_organizations(
    pool: PoolDep,
    principal: Reader,
    status: Annotated[
        Lifecycle | None, Query(description="as recorded: applied, active, denied, revoked, expired")
    ] = None,
    permit_type: PermitType | None = None,
    prefecture: Annotated[
        str | None, Query(max_length=20, description="JIS X 0401 code (13) or name (Tokyo, 東京都)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """Supervising organizations, filtered, in id order, a page at a time."""
    items = await read.list_supervising_organizations(
        pool,
        day=today(),
        lifecycle=status,
        permit_type=permit_type,
        prefecture=prefecture,
        after=cursor_uuid(decode_cursor(cursor)),
        only=principal.only_organization,
        limit=limit + 1,
    )
    return page_of(items, limit, lambda item: [item["id"]])
