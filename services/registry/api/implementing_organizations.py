"""Implementing organizations, their staff counts, excellent rating and supervision per scheme (DOMAIN §3, §9,
§10)."""

from typing import Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request, Response

from contracts.registry import Scheme, TrainingType
from services.registry import commands
from services.registry.api.auth import ImplementingReader, OtitOfficer
from services.registry.api.schemas import (
    ChangeSupervision,
    EndSupervision,
    ImplementingOrganizationDocument,
    RateExcellence,
    RecordStabilityRecognition,
    RecordStaffCount,
    RegisterImplementingOrganization,
)
from services.registry.projections.implementing_organizations import (
    implementing_organization_document,
    supervisors,
)
from services.registry.projections.implementing_organizations import (
    list_implementing_organizations as listed,
)
from services.registry.projections.reading import read_document
from shared.errors import NotFound
from shared.web.app import PoolDep
from shared.web.http import Accepted, AsOf, Command, Page, cursor_uuid, decode_cursor, document_response, page_of

router = APIRouter(prefix="/v1/implementing-organizations", tags=["implementing organizations"])


async def alongside_allowed(request: Request) -> dict[Scheme, bool]:
    """Per scheme, whether an employer may join an organization alongside another (`TITP_REGISTRY_ESD_ALONGSIDE`)."""
    allowed: dict[Scheme, bool] = request.app.state.alongside_allowed
    return allowed


AlongsideAllowed = Annotated[dict[Scheme, bool], Depends(alongside_allowed)]


@router.post("", status_code=201, response_model=Accepted)
async def register_implementing_organization(
    body: RegisterImplementingOrganization, command: Command, _: OtitOfficer
) -> Response:
    """Register an implementing organization; a type (b) one under a registered supervising organization. A valid
    corporate number; the prefecture by code or name, recorded as its code."""
    id = uuid4()
    return await command.execute(
        commands.register_implementing_organization,
        id,
        registration=body.registration(),
        created_at=f"{router.prefix}/{id}",
    )


@router.post("/{id}/staff", response_model=Accepted)
async def record_staff_count(id: UUID, body: RecordStaffCount, command: Command, _: OtitOfficer) -> Response:
    """Record the number of full-time staff on a date; the latest date's figure is the current one."""
    return await command.execute(
        commands.record_staff_count, id, full_time_staff=body.full_time_staff, as_of=body.as_of
    )


@router.post("/{id}/supervision", response_model=Accepted)
async def change_supervision(
    id: UUID, body: ChangeSupervision, command: Command, _: OtitOfficer, allowed: AlongsideAllowed
) -> Response:
    """From a date the organization is supervised by a supervising organization (TITP) or supported by a
    supervision support organization (ESD), which holds that scheme's permit in force that day; its
    supervision under the other scheme is unchanged. With `alongside` it joins the organization besides the ones
    it has (TITP; ESD only when configured: `supervision.one_at_a_time`; not one it already has:
    `supervision.already_member`); without, it moves to it (the others of the scheme end the day before)."""
    return await command.execute(
        commands.change_supervision,
        id,
        supervising_organization_id=body.supervising_organization_id,
        scheme=body.scheme,
        effective_from=body.from_,
        alongside=body.alongside,
        alongside_allowed=allowed,
    )


@router.post("/{id}/supervision/end", response_model=Accepted)
async def end_supervision(id: UUID, body: EndSupervision, command: Command, _: OtitOfficer) -> Response:
    """The organization's supervision (TITP) or support (ESD) by one organization ends; `until` is its last day.
    Only one it has, not ended (`supervision.not_member`), and not before its first day
    (`supervision.end_before_start`); its other supervisions carry on."""
    return await command.execute(
        commands.end_supervision,
        id,
        supervising_organization_id=body.supervising_organization_id,
        scheme=body.scheme,
        until=body.until,
    )


@router.post("/{id}/stability", response_model=Accepted)
async def record_stability_recognition(
    id: UUID, body: RecordStabilityRecognition, command: Command, _: OtitOfficer
) -> Response:
    """Type (a): record whether the Ministers recognise the company as stable, from a date (the §3 table applies
    to type (a) quotas only then)."""
    return await command.execute(
        commands.record_stability_recognition, id, recognised=body.recognised, as_of=body.as_of
    )


@router.post("/{id}/rating", response_model=Accepted)
async def rate_excellence(id: UUID, body: RateExcellence, command: Command, _: OtitOfficer) -> Response:
    """Rate the organization excellent or not from a date."""
    return await command.execute(commands.rate_excellence, id, excellent=body.excellent, as_of=body.as_of)


@router.get("/{id}", response_model=ImplementingOrganizationDocument)
async def get_implementing_organization(
    id: UUID, request: Request, pool: PoolDep, principal: ImplementingReader, as_of: AsOf = None
) -> Response:
    """One implementing organization with its staff, rating and supervision histories; with `as_of`, as recorded
    then. An implementing organization sees itself; a supervising or supervision support organization, the
    ones under it."""
    document = await read_document(
        pool,
        request.app.state.runner,
        "implementing_organizations",
        commands.IMPLEMENTING_ORGANIZATION,
        implementing_organization_document,
        id,
        as_of.until if as_of else None,
    )
    if document is None or not principal.may_see(document["id"], *supervisors(document)):
        raise NotFound("implementing organization", id)
    shown = ImplementingOrganizationDocument.model_validate(document)
    return document_response(shown.model_dump(mode="json", by_alias=True), shown.version)


@router.get("", response_model=Page[ImplementingOrganizationDocument])
async def list_implementing_organizations(
    pool: PoolDep,
    principal: ImplementingReader,
    prefecture: Annotated[
        str | None, Query(max_length=20, description="JIS X 0401 code (13) or name (Tokyo, 東京都)")
    ] = None,
    supervising_organization_id: UUID | None = None,
    training_type: TrainingType | None = None,
    excellent: bool | None = None,
    supervision_support_organization_id: UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[dict[str, Any]]:
    """Implementing organizations, filtered, in id order, a page at a time (`supervising_organization_id`: one of
    the TITP ones not ended; `supervision_support_organization_id`: one of the ESD ones not ended)."""
    items = await listed(
        pool,
        prefecture=prefecture,
        supervising_organization_id=supervising_organization_id,
        supervision_support_organization_id=supervision_support_organization_id,
        training_type=training_type,
        excellent=excellent,
        after=cursor_uuid(decode_cursor(cursor)),
        only=principal.only_organization,
        limit=limit + 1,
    )
    return page_of(items, limit, lambda item: [item["id"]])
