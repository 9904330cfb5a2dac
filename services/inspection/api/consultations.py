"""Trainees' consultations with OTIT (DOMAIN §7, issue 20): recorded and handled by OTIT officers, read by them and
auditors; no organization sees one (the trainee's protection), nor does an admin outside the audit log."""

from datetime import date
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Response

from contracts.inspection import ConsultationRecorded, ConsultationSubject, TargetType
from services.inspection import commands
from services.inspection.api.schemas import (
    ConsultationDocument,
    EscalateConsultation,
    HandleConsultation,
    RecordConsultation,
)
from services.inspection.domain.consultation import ConsultationStatus
from services.inspection.projections import consultations
from shared.errors import NotFound
from shared.web.app import PoolDep, StoreDep
from shared.web.auth import Principal, Role, require_roles
from shared.web.http import Accepted, AsOf, Command, Page, cursor_day_and_id, document_response, page_of, today
from shared.web.problems import InvalidParameter

ConsultationFiler = Annotated[Principal, Depends(require_roles(Role.OTIT))]
ConsultationReader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.AUDITOR))]

router = APIRouter(prefix="/v1/consultations", tags=["consultations"])


@router.post("", status_code=201, response_model=Accepted)
async def record_consultation(body: RecordConsultation, command: Command, _: ConsultationFiler) -> Response:
    """Record a trainee's consultation or complaint, in the trainee's language."""
    id = uuid4()
    return await command.execute(
        commands.record_consultation,
        id,
        recorded=ConsultationRecorded(consultation_id=id, **body.model_dump()),
        created_at=f"{router.prefix}/{id}",
    )


@router.post("/{id}/handling", response_model=Accepted)
async def handle_consultation(id: UUID, body: HandleConsultation, command: Command, _: ConsultationFiler) -> Response:
    """Record what OTIT did about it; `closed` ends the consultation."""
    return await command.execute(
        commands.handle_consultation, id, handled_on=body.handled_on, handling=body.handling, closed=body.closed
    )


@router.post("/{id}/inspection", response_model=Accepted)
async def escalate_consultation(
    id: UUID, body: EscalateConsultation, command: Command, _: ConsultationFiler
) -> Response:
    """Open an extraordinary inspection (reason: complaint) of the implementing or supervising organization the
    consultation names, once; the inspection's id is on the consultation (`escalation.inspection_id`)."""
    return await command.execute(
        commands.escalate_consultation,
        id,
        target_type=TargetType(body.target_type),
        escalated_on=body.escalated_on or today(),
        due_by=body.due_by,
    )


@router.get("/{id}", response_model=ConsultationDocument)
async def get_consultation(
    id: UUID, pool: PoolDep, store: StoreDep, _: ConsultationReader, as_of: AsOf = None
) -> Response:
    """One consultation; with `as_of`, as recorded by then."""
    async with pool.acquire() as conn:
        found = await consultations.find_consultation(conn, store, id, until=as_of.until if as_of else None)
    if found is None:
        raise NotFound("consultation", id)
    state, version = found
    document = consultations.consultation_document(str(id), state, version)
    return document_response(document.model_dump(mode="json"), version)


@router.get("")
async def list_consultations(
    pool: PoolDep,
    _: ConsultationReader,
    subject: ConsultationSubject | None = None,
    language: Annotated[str | None, Query(pattern=r"^[a-z]{2}$", description="ISO 639-1 code")] = None,
    status: ConsultationStatus | None = None,
    organization_id: Annotated[
        UUID | None, Query(description="named in the consultation as its implementing or supervising organization")
    ] = None,
    organization: Annotated[UUID | None, Query(description="the same as organization_id")] = None,
    received_from: Annotated[date | None, Query(description="received on or after this day")] = None,
    received_until: Annotated[date | None, Query(description="received on or before this day")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[ConsultationDocument]:
    """Consultations, filtered, ordered by the day received."""
    if organization_id and organization and organization_id != organization:
        raise InvalidParameter("query.organization", "names another organization than organization_id")
    after = cursor_day_and_id(cursor)
    async with pool.acquire() as conn:
        items = await consultations.list_consultations(
            conn,
            subject=subject,
            language=language,
            status=status,
            organization_id=organization_id or organization,
            received_from=received_from,
            received_until=received_until,
            after=after,
            limit=limit + 1,
        )
    return page_of(items, limit, lambda item: [item.received_on.isoformat(), str(item.id)])
