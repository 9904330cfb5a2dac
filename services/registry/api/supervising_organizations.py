"""The registry's REST routes (DOMAIN §10): request schema -> decide -> response."""

from datetime import date
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from services.registry.domain import supervising_organization as so
from services.registry.domain.events import PermitApplication, PermitType
from services.registry.projections.supervising_organizations import project_supervising_organization
from shared.auth import Principal, Role, require_roles
from shared.commands import Aggregate
from shared.errors import NotFound
from shared.http import Command, decode_cursor, document_response, encode_cursor
from shared.service import PoolDep

SUPERVISING_ORGANIZATION = Aggregate("supervising-organization", so.SupervisingOrganization(), so.evolve,
                                     project_supervising_organization)

Officer = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.ADMIN))]
Filer = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.ADMIN))]
Reader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.AUDITOR, Role.ADMIN))]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ApplyForPermit(PermitApplication):
    applied_on: date


class GrantPermit(Body):
    permit_type: PermitType
    granted_on: date


class DenyPermit(Body):
    reason: str = Field(min_length=1, max_length=2000)


class Accepted(BaseModel):
    id: UUID
    version: int


router = APIRouter(prefix="/v1/supervising-organizations", tags=["supervising organizations"])


@router.post("", status_code=201, response_model=Accepted)
async def apply_for_permit(body: ApplyForPermit, command: Command, _: Filer) -> Response:
    """Apply for a supervising-organization permit."""
    id = str(uuid4())
    application = PermitApplication.model_validate(body.model_dump(exclude={"applied_on"}))
    return await command.run(SUPERVISING_ORGANIZATION, id,
                             lambda state: so.apply_for_permit(state, application, body.applied_on),
                             created_at=f"{router.prefix}/{id}")


async def _decision(command, id: UUID, decide) -> Response:
    return await command.run(SUPERVISING_ORGANIZATION, str(id), lambda state: decide(_existing(state, id)))


def _existing(state: so.SupervisingOrganization, id: UUID) -> so.SupervisingOrganization:
    if not state.exists:
        raise NotFound("supervising organization", id)
    return state


@router.post("/{id}/grant", response_model=Accepted)
async def grant_permit(id: UUID, body: GrantPermit, command: Command, _: Officer) -> Response:
    """Grant the permit (general or specified); its validity follows the permit type."""
    return await _decision(command, id, lambda s: so.grant_permit(s, body.permit_type, body.granted_on))


@router.post("/{id}/deny", response_model=Accepted)
async def deny_permit(id: UUID, body: DenyPermit, command: Command, _: Officer) -> Response:
    """Deny the application."""
    return await _decision(command, id, lambda s: so.deny_permit(s, body.reason))


def _visible_to(principal: Principal, id: str) -> bool:
    return not principal.is_organization_member or principal.acts_for(id)


@router.get("/{id}")
async def get_supervising_organization(id: UUID, pool: PoolDep, principal: Reader) -> Response:
    """One supervising organization and its permit."""
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT document, version FROM supervising_organizations WHERE id = $1", id)
    if row is None or not _visible_to(principal, str(id)):
        raise NotFound("supervising organization", id)
    return document_response(row["document"], row["version"])


@router.get("")
async def list_supervising_organizations(
    pool: PoolDep,
    principal: Reader,
    status: str | None = None,
    permit_type: PermitType | None = None,
    prefecture: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> dict:
    """Supervising organizations, filtered, in id order, a page at a time."""
    after = decode_cursor(cursor)
    only = principal.organization_id if principal.is_organization_member else None
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT id, document FROM supervising_organizations
             WHERE ($1::text IS NULL OR status = $1) AND ($2::text IS NULL OR permit_type = $2)
               AND ($3::text IS NULL OR prefecture = $3) AND ($4::uuid IS NULL OR id > $4)
               AND ($5::uuid IS NULL OR id = $5)
             ORDER BY id LIMIT $6
            """,
            status, permit_type.value if permit_type else None, prefecture,
            UUID(after[0]) if after else None, UUID(only) if only else None, limit + 1,
        )
    page = rows[:limit]
    return {"items": [r["document"] for r in page],
            "next_cursor": encode_cursor([str(page[-1]["id"])]) if len(rows) > limit else None}
