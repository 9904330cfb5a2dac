"""Supervising organizations and their permits (DOMAIN §2, §10)."""

from collections.abc import Callable
from datetime import date
from typing import Annotated, Literal
from uuid import UUID, uuid4

import asyncpg
from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field

from services.registry.domain import supervising_organization as so
from contracts.registry import PermitApplication, PermitType, RevocationGround
from services.registry.projections.supervising_organizations import (
    load_state,
    project_supervising_organization,
    supervising_organization_document,
)
from shared.web.auth import Principal, Role, require_roles
from shared.commands import Aggregate, CommandRunner, Outcome, existing
from shared.errors import NotFound
from shared.web.problems import Forbidden
from shared.events import EventContext
from shared.web.http import Accepted, AsOf, Body, Command, cursor_uuid, decode_cursor, document_response, Page, page_of, today
from shared.web.app import PoolDep

SUPERVISING_ORGANIZATION = Aggregate("supervising-organization", so.SupervisingOrganization(), so.evolve,
                                     project_supervising_organization)

Officer = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.ADMIN))]
Filer = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.ADMIN))]
Reader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.AUDITOR, Role.ADMIN))]


class ApplyForPermit(PermitApplication):
    applied_on: date


class GrantPermit(Body):
    permit_type: PermitType
    granted_on: date


class DenyPermit(Body):
    reason: str = Field(min_length=1, max_length=2000)


class RenewPermit(Body):
    renewed_on: date
    excellent_record: bool
    applied_on: date | None = Field(None, description="when the renewal was applied for; defaults to renewed_on")


class DowngradePermit(Body):
    effective_on: date


class IssueImprovementOrder(Body):
    issued_on: date
    deadline: date
    reason: str = Field(min_length=1, max_length=2000)


class CloseImprovementOrder(Body):
    closed_on: date


class SuspendBusiness(Body):
    from_date: date
    until_date: date
    scope: Literal["all", "part"]
    part: str | None = Field(None, max_length=500, description="which part of the business, when scope is part")
    reason: str = Field(min_length=1, max_length=2000)


class RevokePermit(Body):
    revoked_on: date
    ground: RevocationGround
    reason: str = Field(min_length=1, max_length=2000)


class RecordExpiries(Body):
    as_of: date


router = APIRouter(prefix="/v1/supervising-organizations", tags=["supervising organizations"])


@router.post("", status_code=201, response_model=Accepted)
async def apply_for_permit(body: ApplyForPermit, command: Command, principal: Filer) -> Response:
    """Apply for a supervising-organization permit. An organization applies for itself: its record
    takes the organization id its token names, so that it can read it and no other."""
    id = _own_id(principal) if principal.is_organization_member else str(uuid4())
    application = PermitApplication.model_validate(body.model_dump(exclude={"applied_on"}))
    return await command.run(SUPERVISING_ORGANIZATION, id,
                             lambda state: so.apply_for_permit(state, application, body.applied_on),
                             created_at=f"{router.prefix}/{id}")


def _own_id(principal: Principal) -> str:
    try:
        return str(UUID(principal.organization_id))
    except ValueError:
        raise Forbidden("the token's organization (org) is not a supervising organization's id") from None


async def _decide(command, id: UUID, decide: Callable[[so.SupervisingOrganization], list]) -> Response:
    return await command.run(SUPERVISING_ORGANIZATION, str(id), existing("supervising organization", id, decide))


@router.post("/{id}/grant", response_model=Accepted)
async def grant_permit(id: UUID, body: GrantPermit, command: Command, _: Officer) -> Response:
    """Grant the permit, general or specified; it is valid for 5 or 3 years."""
    return await _decide(command, id, lambda s: so.grant_permit(s, body.permit_type, body.granted_on))


@router.post("/{id}/deny", response_model=Accepted)
async def deny_permit(id: UUID, body: DenyPermit, command: Command, _: Officer) -> Response:
    """Deny the application."""
    return await _decide(command, id, lambda s: so.deny_permit(s, body.reason))


@router.post("/{id}/renew", response_model=Accepted)
async def renew_permit(id: UUID, body: RenewPermit, command: Command, _: Officer) -> Response:
    """Renew an active permit applied for at least 3 months before it expires."""
    return await _decide(command, id,
                         lambda s: so.renew_permit(s, body.renewed_on, body.excellent_record, body.applied_on))


@router.post("/{id}/downgrade", response_model=Accepted)
async def downgrade_permit(id: UUID, body: DowngradePermit, command: Command, _: Officer) -> Response:
    """Downgrade a general permit to specified when excellence is lost."""
    return await _decide(command, id, lambda s: so.downgrade_permit(s, body.effective_on))


@router.post("/{id}/improvement-orders", response_model=Accepted)
async def issue_improvement_order(id: UUID, body: IssueImprovementOrder, command: Command, _: Officer) -> Response:
    """Order an improvement by a deadline (Art. 36)."""
    order_id = uuid4()
    return await _decide(command, id, lambda s: so.issue_improvement_order(s, order_id, body.issued_on,
                                                                           body.deadline, body.reason))


@router.post("/{id}/improvement-orders/{order_id}/close", response_model=Accepted)
async def close_improvement_order(id: UUID, order_id: UUID, body: CloseImprovementOrder, command: Command,
                                  _: Officer) -> Response:
    """Close an improvement order once the improvement is confirmed."""
    return await _decide(command, id, lambda s: so.close_improvement_order(s, order_id, body.closed_on))


@router.post("/{id}/suspend", response_model=Accepted)
async def suspend_business(id: UUID, body: SuspendBusiness, command: Command, _: Officer) -> Response:
    """Suspend all or part of the business from one date to another (Art. 37(3))."""
    suspension_id = uuid4()
    return await _decide(command, id, lambda s: so.suspend_business(s, suspension_id, body.from_date,
                                                                    body.until_date, body.scope, body.part,
                                                                    body.reason))


@router.post("/{id}/revoke", response_model=Accepted)
async def revoke_permit(id: UUID, body: RevokePermit, command: Command, _: Officer) -> Response:
    """Revoke the permit on one of the five grounds of Art. 37(1); final."""
    return await _decide(command, id, lambda s: so.revoke_permit(s, body.revoked_on, body.ground, body.reason))


async def expire_permits(runner: CommandRunner, conn: asyncpg.Connection, as_of: date,
                         context: EventContext) -> list[str]:
    """Record the expiry of every active permit whose last day is before `as_of`."""
    ids = [str(r["id"]) for r in await conn.fetch(
        "SELECT id FROM supervising_organizations WHERE lifecycle = 'active' AND expires_on < $1 ORDER BY id",
        as_of)]
    for id in ids:
        await runner.decide_and_apply(conn, SUPERVISING_ORGANIZATION, id, lambda s: so.record_expiry(s, as_of),
                                      context)
    return ids


@router.post("/expiries")
async def record_expiries(body: RecordExpiries, command: Command, _: Officer) -> dict:
    """Record every permit that expired before `as_of` (run daily by the service; callable by operators)."""
    expired: list[str] = []

    async def work(conn: asyncpg.Connection) -> Outcome:
        expired[:] = await expire_permits(command.runner, conn, body.as_of, command.context)
        return Outcome("expiries", 0, [])

    await command.run_work(work)
    return {"as_of": body.as_of.isoformat(), "expired": expired}


def _visible_to(principal: Principal, id: str) -> bool:
    return not principal.is_organization_member or principal.acts_for(id)


@router.get("/{id}")
async def get_supervising_organization(id: UUID, request: Request, pool: PoolDep, principal: Reader,
                                       as_of: AsOf = None) -> Response:
    """One supervising organization and its permit; with `as_of`, as recorded and in force then."""
    if not _visible_to(principal, str(id)):
        raise NotFound("supervising organization", id)
    async with pool.acquire() as conn:
        if as_of is None:
            row = await conn.fetchrow("SELECT state, version FROM supervising_organizations WHERE id = $1", id)
            state, version = (load_state(row["state"]), row["version"]) if row else (None, 0)
        else:
            state, version = await request.app.state.runner.load(conn, SUPERVISING_ORGANIZATION, str(id),
                                                                 until=as_of.until)
    if state is None or not state.exists:
        raise NotFound("supervising organization", id)
    day = as_of.day if as_of else today()
    return document_response(supervising_organization_document(str(id), state, version, day), version)


@router.get("")
async def list_supervising_organizations(
    pool: PoolDep,
    principal: Reader,
    status: Annotated[so.Lifecycle | None, Query(description="as recorded: applied, active, denied, revoked,"
                                                             " expired")] = None,
    permit_type: PermitType | None = None,
    prefecture: str | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page:
    """Supervising organizations, filtered, in id order, a page at a time."""
    after = decode_cursor(cursor)
    only = principal.organization_id if principal.is_organization_member else None
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT id, state, version FROM supervising_organizations
             WHERE ($1::text IS NULL OR lifecycle = $1) AND ($2::text IS NULL OR permit_type = $2)
               AND ($3::text IS NULL OR prefecture = $3) AND ($4::uuid IS NULL OR id > $4)
               AND ($5::text IS NULL OR id::text = $5)
             ORDER BY id LIMIT $6
            """,
            status.value if status else None, permit_type.value if permit_type else None, prefecture,
            cursor_uuid(after), only, limit + 1,
        )
    day = today()
    return page_of([supervising_organization_document(str(r["id"]), load_state(r["state"]), r["version"], day)
                    for r in rows], limit, lambda item: [item["id"]])
