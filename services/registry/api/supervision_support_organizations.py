"""Supervision support organizations (監理支援機関) and their ESD permits, and the quarterly audit reports they
file about the employers they support (DOMAIN §9, §10)."""

from datetime import date
from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request, Response

from services.registry import commands
from services.registry.api.auth import Filer, OtitOfficer, Reader, own_organization_id
from services.registry.api.schemas import (
    ApplyForSupervisionSupportPermit,
    AuditReportDocument,
    CloseImprovementOrder,
    DenyPermit,
    ExpiriesRecorded,
    FileAuditReport,
    GrantSupervisionSupportPermit,
    IssueImprovementOrder,
    RecordExpiries,
    RenewSupervisionSupportPermit,
    RevokePermit,
    SupervisionSupportOrganizationDocument,
    SuspendBusiness,
)
from services.registry.api.supervising_organizations import RevocationBar
from services.registry.domain.permit import Lifecycle
from services.registry.domain.rules import SupervisionSupportRules
from services.registry.projections import supervision_support_organizations as read
from shared.errors import NotFound
from shared.web.app import PoolDep
from shared.web.http import (
    Accepted,
    AsOf,
    Command,
    Page,
    cursor_day_and_id,
    cursor_uuid,
    decode_cursor,
    document_response,
    page_of,
    today,
)

router = APIRouter(prefix="/v1/supervision-support-organizations", tags=["supervision support organizations"])


async def supervision_support_rules(request: Request) -> SupervisionSupportRules:
    """The ESD numbers as configured (`TITP_REGISTRY_ESD_*`, services/registry/app.py)."""
    book: SupervisionSupportRules = request.app.state.supervision_support_rules
    return book


Rules = Annotated[SupervisionSupportRules, Depends(supervision_support_rules)]


@router.post("", status_code=201, response_model=Accepted)
async def apply_for_supervision_support_permit(
    body: ApplyForSupervisionSupportPermit, command: Command, principal: Filer, bar: RevocationBar
) -> Response:
    """Apply for a supervision support organization permit (ESD). An organization applies for itself: its
    record takes the organization id its token names. A cooperative that holds a TITP permit applies again
    under ESD as an organization of its own (its own id; the same corporate number may be used)."""
    id = own_organization_id(principal) if principal.is_organization_member else uuid4()
    return await command.execute(
        commands.apply_for_supervision_support_permit,
        id,
        application=body.application(),
        applied_on=body.applied_on,
        revocation_bar_years=bar,
        created_at=f"{router.prefix}/{id}",
    )


@router.post("/{id}/grant", response_model=Accepted)
async def grant_supervision_support_permit(
    id: UUID, body: GrantSupervisionSupportPermit, command: Command, rules: Rules, _: OtitOfficer
) -> Response:
    """Grant the permit if the organization meets the standards: non-profit, an external auditor, at least 2
    full-time staff each supporting fewer than 8 employers and 40 workers, at least 2 member employers. Valid
    for 3 years, 5 if rated excellent."""
    return await command.execute(
        commands.grant_supervision_support_permit, id, granted_on=body.granted_on, excellent=body.excellent, rules=rules
    )


@router.post("/{id}/deny", response_model=Accepted)
async def deny_supervision_support_permit(id: UUID, body: DenyPermit, command: Command, _: OtitOfficer) -> Response:
    """Deny the application."""
    return await command.execute(commands.deny_supervision_support_permit, id, reason=body.reason)


@router.post("/{id}/renew", response_model=Accepted)
async def renew_supervision_support_permit(
    id: UUID, body: RenewSupervisionSupportPermit, command: Command, rules: Rules, _: OtitOfficer
) -> Response:
    """Renew an active permit applied for between 6 and 3 months before it expires; an expired permit cannot be
    renewed (apply anew)."""
    return await command.execute(
        commands.renew_supervision_support_permit,
        id,
        renewed_on=body.renewed_on,
        excellent=body.excellent,
        applied_on=body.applied_on,
        rules=rules,
    )


@router.post("/{id}/improvement-orders", response_model=Accepted)
async def issue_support_improvement_order(
    id: UUID, body: IssueImprovementOrder, command: Command, _: OtitOfficer
) -> Response:
    """Order an improvement by a deadline, as for a TITP permit."""
    return await command.execute(
        commands.issue_support_improvement_order,
        id,
        order_id=uuid4(),
        issued_on=body.issued_on,
        deadline=body.deadline,
        reason=body.reason,
    )


@router.post("/{id}/improvement-orders/{order_id}/close", response_model=Accepted)
async def close_support_improvement_order(
    id: UUID, order_id: UUID, body: CloseImprovementOrder, command: Command, _: OtitOfficer
) -> Response:
    """Close an improvement order once the improvement is confirmed."""
    return await command.execute(
        commands.close_support_improvement_order, id, order_id=order_id, closed_on=body.closed_on
    )


@router.post("/{id}/suspend", response_model=Accepted)
async def suspend_support_business(id: UUID, body: SuspendBusiness, command: Command, _: OtitOfficer) -> Response:
    """Suspend all or part of the business from one date to another, as for a TITP permit (Art. 37(3): ground
    1, 3, 4 or 5)."""
    return await command.execute(
        commands.suspend_support_business,
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
async def revoke_supervision_support_permit(id: UUID, body: RevokePermit, command: Command, _: OtitOfficer) -> Response:
    """Revoke the permit on one of the grounds a TITP permit is revoked on; final."""
    return await command.execute(
        commands.revoke_supervision_support_permit,
        id,
        revoked_on=body.revoked_on,
        ground=body.ground,
        reason=body.reason,
    )


@router.post("/expiries", response_model=ExpiriesRecorded)
async def record_supervision_support_expiries(
    body: RecordExpiries, command: Command, _: OtitOfficer
) -> ExpiriesRecorded:
    """Record every ESD permit that expired before `as_of` (run daily by the service; callable by operators)."""
    outcome = await command.runner.transact(
        commands.record_supervision_support_expiries,
        as_of=body.as_of,
        context=command.context,
        if_match=command.if_match,
    )
    return ExpiriesRecorded(as_of=body.as_of, expired=[UUID(event.subject) for event in outcome.events])


@router.post("/{id}/audit-reports", response_model=Accepted)
async def file_audit_report(
    id: UUID, body: FileAuditReport, command: Command, rules: Rules, principal: Filer
) -> Response:
    """File the quarterly audit report of an employer this organization supports under ESD (also
    `supervising_org`, for its own organization); at least a quarter of its ESD workers interviewed. Answers
    the organization's id and new version; the report is listed under `audit-reports` (one per employer and
    quarter)."""
    if not principal.may_see(id):
        raise NotFound("supervision support organization", id)
    return await command.execute(
        commands.file_audit_report,
        id,
        report_id=uuid4(),
        implementing_organization_id=body.implementing_organization_id,
        quarter_ending=body.quarter_ending,
        filed_on=body.filed_on,
        workers=body.workers,
        workers_interviewed=body.workers_interviewed,
        rules=rules,
    )


@router.get("/{id}/audit-reports", response_model=Page[AuditReportDocument])
async def list_audit_reports(
    id: UUID,
    pool: PoolDep,
    principal: Reader,
    rules: Rules,
    implementing_organization_id: UUID | None = None,
    quarter_ending: date | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """The organization's quarterly audit reports, newest quarter first, each with its due day and whether it
    was late (filed more than 3 months, configurable, after the quarter's end)."""
    if not principal.may_see(id):
        raise NotFound("supervision support organization", id)
    items = await read.list_audit_reports(
        pool,
        supervision_support_organization_id=id,
        implementing_organization_id=implementing_organization_id,
        quarter_ending=quarter_ending,
        after=cursor_day_and_id(cursor),
        limit=limit + 1,
        book=rules,
    )
    return page_of(items, limit, lambda item: [item["quarter_ending"].isoformat(), str(item["id"])])


@router.get("/{id}", response_model=SupervisionSupportOrganizationDocument)
async def get_supervision_support_organization(
    id: UUID, request: Request, pool: PoolDep, principal: Reader, as_of: AsOf = None
) -> Response:
    """One supervision support organization and its ESD permit; with `as_of`, as recorded and in force then."""
    document = None
    if principal.may_see(id):
        document = await read.read_supervision_support_organization(
            pool,
            request.app.state.runner,
            commands.SUPERVISION_SUPPORT_ORGANIZATION,
            id,
            as_of.until if as_of else None,
            as_of.day if as_of else today(),
        )
    if document is None:
        raise NotFound("supervision support organization", id)
    shown = SupervisionSupportOrganizationDocument.model_validate(document)
    return document_response(shown.model_dump(mode="json"), shown.version)


@router.get("", response_model=Page[SupervisionSupportOrganizationDocument])
async def list_supervision_support_organizations(
    request: Request,
    pool: PoolDep,
    principal: Reader,
    status: Annotated[
        Lifecycle | None, Query(description="as recorded: applied, active, denied, revoked, expired")
    ] = None,
    prefecture: str | None = None,
    corporate_number: Annotated[str | None, Query(pattern=r"^\d{13}$")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
    as_of: AsOf = None,
) -> Page[dict[str, Any]]:
    """Supervision support organizations, filtered, in id order, a page at a time; with `as_of`, each as
    recorded then (and `status` filters on that) with its status on that day."""
    items = await read.list_supervision_support_organizations(
        pool,
        day=as_of.day if as_of else today(),
        lifecycle=status,
        prefecture=prefecture,
        corporate_number=corporate_number,
        after=cursor_uuid(decode_cursor(cursor)),
        only=principal.only_organization,
        limit=limit + 1,
        recorded_by=(request.app.state.runner, commands.SUPERVISION_SUPPORT_ORGANIZATION, as_of.until)
        if as_of
        else None,
    )
    return page_of(items, limit, lambda item: [item["id"]])
