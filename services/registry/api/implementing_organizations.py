"""Implementing organizations, their staff counts and excellent rating (DOMAIN §3, §10)."""

from collections.abc import Callable
from datetime import date
from typing import Annotated
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field, ValidationInfo, field_validator

from services.registry.api.reading import read_document
from services.registry.api.supervising_organizations import SUPERVISING_ORGANIZATION, Officer
from shared.web.http import Accepted, Body
from services.registry.domain import implementing_organization as io
from contracts.registry import CorporateNumber, ImplementingOrganizationRegistered, TrainingType
from services.registry.projections.implementing_organizations import (
    implementing_organization_document,
    project_implementing_organization,
)
from shared.web.auth import Principal, Role, require_roles
from shared.commands import Aggregate, Outcome, existing
from shared.errors import NotFound
from shared.web.http import AsOf, Command, Page, cursor_uuid, decode_cursor, document_response, page_of
from shared.web.app import PoolDep

IMPLEMENTING_ORGANIZATION = Aggregate("implementing-organization", io.ImplementingOrganization(), io.evolve,
                                      project_implementing_organization)

Reader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.IMPLEMENTING_ORG,
                                                    Role.AUDITOR, Role.ADMIN))]


class RegisterImplementingOrganization(Body):
    name: str = Field(min_length=1, max_length=200)
    corporate_number: str = CorporateNumber
    address: str = Field(min_length=1, max_length=500)
    prefecture: str = Field(min_length=1, max_length=20)
    industry: str = Field(min_length=1, max_length=200)
    training_type: TrainingType
    supervising_organization_id: UUID | None = Field(None, validate_default=True,
                                                     description="the supervising organization (type b only)")
    full_time_staff: int = Field(ge=0, le=10_000_000, description="full-time staff, trainees excluded")
    staff_as_of: date
    excellent: bool
    registered_on: date

    @field_validator("supervising_organization_id")
    @classmethod
    def _for_type_b_only(cls, value: UUID | None, info: ValidationInfo) -> UUID | None:
        training_type = info.data.get("training_type")
        if training_type is TrainingType.B and value is None:
            raise ValueError("a type b (supervised) implementing organization needs its supervising organization")
        if training_type is TrainingType.A and value is not None:
            raise ValueError("a type a (enterprise-sponsored) implementing organization has no supervising"
                             " organization")
        return value


class RecordStaffCount(Body):
    full_time_staff: int = Field(ge=0, le=10_000_000, description="full-time staff, trainees excluded")
    as_of: date


class RateExcellence(Body):
    excellent: bool
    as_of: date


router = APIRouter(prefix="/v1/implementing-organizations", tags=["implementing organizations"])


@router.post("", status_code=201, response_model=Accepted)
async def register_implementing_organization(body: RegisterImplementingOrganization, command: Command,
                                             _: Officer) -> Response:
    """Register an implementing organization; a type (b) one under a registered supervising organization."""
    id = str(uuid4())
    registration = ImplementingOrganizationRegistered(**body.model_dump())

    async def work(conn: asyncpg.Connection) -> Outcome:
        supervising_organization = None
        if registration.supervising_organization_id:
            supervising_organization, _ = await command.runner.load(
                conn, SUPERVISING_ORGANIZATION, str(registration.supervising_organization_id))
        return await command.runner.decide_and_apply(
            conn, IMPLEMENTING_ORGANIZATION, id,
            lambda state: io.register_implementing_organization(state, registration, supervising_organization),
            command.context)

    return await command.run_work(work, created_at=f"{router.prefix}/{id}")


async def _decide(command, id: UUID, decide: Callable[[io.ImplementingOrganization], list]) -> Response:
    return await command.run(IMPLEMENTING_ORGANIZATION, str(id), existing("implementing organization", id, decide))


@router.post("/{id}/staff", response_model=Accepted)
async def record_staff_count(id: UUID, body: RecordStaffCount, command: Command, _: Officer) -> Response:
    """Record the number of full-time staff on a date; the latest date's figure is the current one."""
    return await _decide(command, id, lambda s: io.record_staff_count(s, body.full_time_staff, body.as_of))


@router.post("/{id}/rating", response_model=Accepted)
async def rate_excellence(id: UUID, body: RateExcellence, command: Command, _: Officer) -> Response:
    """Rate the organization excellent or not from a date."""
    return await _decide(command, id, lambda s: io.rate_excellence(s, body.excellent, body.as_of))


def _visible_to(principal: Principal, document: dict) -> bool:
    """An implementing organization sees itself; a supervising organization, the ones under it."""
    if not principal.is_organization_member:
        return True
    return ((principal.has_role(Role.IMPLEMENTING_ORG) and principal.acts_for(document["id"]))
            or (principal.has_role(Role.SUPERVISING_ORG)
                and principal.acts_for(document["supervising_organization_id"] or "")))


@router.get("/{id}")
async def get_implementing_organization(id: UUID, request: Request, principal: Reader,
                                        as_of: AsOf = None) -> Response:
    """One implementing organization with its staff and rating histories; with `as_of`, as recorded then."""
    document = await read_document(request, "implementing_organizations", IMPLEMENTING_ORGANIZATION,
                                   implementing_organization_document, id, as_of)
    if document is None or not _visible_to(principal, document):
        raise NotFound("implementing organization", id)
    return document_response(document, document["version"])


@router.get("")
async def list_implementing_organizations(
    pool: PoolDep,
    principal: Reader,
    prefecture: str | None = None,
    supervising_organization_id: UUID | None = None,
    training_type: TrainingType | None = None,
    excellent: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page:
    """Implementing organizations, filtered, in id order, a page at a time."""
    org = principal.organization_id if principal.is_organization_member else None
    itself = org if principal.has_role(Role.IMPLEMENTING_ORG) else None
    members_of = org if principal.has_role(Role.SUPERVISING_ORG) else None
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT document FROM implementing_organizations
             WHERE ($1::text IS NULL OR prefecture = $1) AND ($2::uuid IS NULL OR supervising_organization_id = $2)
               AND ($3::text IS NULL OR training_type = $3) AND ($4::boolean IS NULL OR excellent = $4)
               AND ($5::uuid IS NULL OR id > $5)
               AND ($6::text IS NULL AND $7::text IS NULL
                    OR id::text = $6 OR supervising_organization_id::text = $7)
             ORDER BY id LIMIT $8
            """,
            prefecture, supervising_organization_id, training_type.value if training_type else None, excellent,
            cursor_uuid(decode_cursor(cursor)), itself, members_of, limit + 1,
        )
    return page_of([r["document"] for r in rows], limit, lambda item: [item["id"]])
