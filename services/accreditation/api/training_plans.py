"""Training plans over REST (DOMAIN §10): request schema -> decide -> response."""

from datetime import date
from typing import Annotated, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import Field, model_validator

from services.accreditation import handlers, personal_data
from services.accreditation.domain import training_plan as tp
from contracts.accreditation import DiscontinuationReason, ExamResult, PlanTerms, Stage
from services.accreditation.domain.rules import RuleBook
from services.accreditation.handlers import TRAINING_PLAN
from services.accreditation.projections.training_plans import SHOWN_STATUS, training_plan_document
from contracts.registry import TrainingType
from shared.web.auth import Principal, Role, require_roles
from shared.errors import NotFound
from shared.web.http import (
    Accepted,
    AsOf,
    Body,
    Command,
    CommandRequest,
    Page,
    cursor_uuid,
    decode_cursor,
    document_response,
    page_of,
    today,
)
from shared.web.app import PoolDep

Officer = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.ADMIN))]
Filer = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.IMPLEMENTING_ORG, Role.ADMIN))]
Reader = Annotated[Principal, Depends(require_roles(Role.OTIT, Role.SUPERVISING_ORG, Role.IMPLEMENTING_ORG,
                                                    Role.AUDITOR, Role.ADMIN))]
ShownStatus = Literal["applied", "certified", "in_progress", "rejected", "completed", "discontinued", "revoked"]


def rule_book(request: Request) -> RuleBook:
    return request.app.state.rule_book


RuleBookDep = Annotated[RuleBook, Depends(rule_book)]


Reason = Annotated[str, Field(min_length=1, max_length=2000)]


class ApplyForCertification(PlanTerms):
    applied_on: date

    @model_validator(mode="after")
    def _consistent(self) -> "ApplyForCertification":
        if self.end_date < self.start_date:
            raise ValueError("end_date is before start_date")
        named = (self.supervising_organization_id is not None, self.sending_organization_id is not None)
        if self.training_type is TrainingType.B and named != (True, True):
            raise ValueError("a type (b) plan names its supervising and sending organizations")
        if self.training_type is TrainingType.A and any(named):
            raise ValueError("a type (a) plan has no supervising or sending organization")
        return self


class Certify(Body):
    certified_on: date


class Reject(Body):
    reason: Reason


class Revoke(Body):
    revoked_on: date
    reason: Reason


class Complete(Body):
    completed_on: date
    exam_result: ExamResult


class Discontinue(Body):
    on: date
    reason: DiscontinuationReason
    detail: str | None = Field(default=None, max_length=2000)


class IssueImprovementOrder(Body):
    issued_on: date
    deadline: date
    reason: Reason

    @model_validator(mode="after")
    def _deadline_after_issue(self) -> "IssueImprovementOrder":
        if self.deadline < self.issued_on:
            raise ValueError("deadline is before issued_on")
        return self


class CloseImprovementOrder(Body):
    closed_on: date


router = APIRouter(prefix="/v1/training-plans", tags=["training plans"])


def _visible_to(principal: Principal, plan: PlanTerms | dict) -> bool:
    """Organizations see the plans they implement or supervise, and no others."""
    if not principal.is_organization_member:
        return True
    parties = plan if isinstance(plan, dict) else plan.model_dump(mode="json", include=_PARTIES)
    return ((principal.has_role(Role.IMPLEMENTING_ORG) and principal.acts_for(parties["implementing_organization_id"]))
            or (principal.has_role(Role.SUPERVISING_ORG)
                and principal.acts_for(parties["supervising_organization_id"] or "")))


_PARTIES = {"implementing_organization_id", "supervising_organization_id"}


@router.post("", status_code=201, response_model=Accepted)
async def apply_for_certification(body: ApplyForCertification, command: Command, _: Filer) -> Response:
    """Apply for the certification of a training plan (one trainee, one stage)."""
    if not _visible_to(command.principal, body):
        raise NotFound("implementing organization", body.implementing_organization_id)
    id = str(uuid4())
    return await command.run_work(lambda conn: handlers.apply_for_certification(
        command.runner, conn, id, body, body.applied_on, command.context), created_at=f"{router.prefix}/{id}")


async def _decision(command: CommandRequest, id: UUID, decide) -> Response:
    def existing(state: tp.TrainingPlan) -> tp.TrainingPlan:
        if not state.exists or not _visible_to(command.principal, state.application):
            raise NotFound("training plan", id)
        return state

    return await command.run(TRAINING_PLAN, str(id), lambda state: decide(existing(state)))


@router.post("/{id}/certify", response_model=Accepted)
async def certify(id: UUID, body: Certify, command: Command, rules: RuleBookDep, _: Officer) -> Response:
    """Certify the plan if every rule of its rule set holds; a refusal (409) names the rule."""
    return await command.run_work(lambda conn: handlers.certify(
        command.runner, conn, str(id), body.certified_on, rules, command.context, if_match=command.if_match))


@router.post("/{id}/reject", response_model=Accepted)
async def reject(id: UUID, body: Reject, command: Command, _: Officer) -> Response:
    """Refuse the application."""
    return await _decision(command, id, lambda s: tp.reject(s, body.reason))


@router.post("/{id}/revoke", response_model=Accepted)
async def revoke(id: UUID, body: Revoke, command: Command, _: Officer) -> Response:
    """Revoke the certification (Art. 16)."""
    return await _decision(command, id, lambda s: tp.revoke(s, body.revoked_on, body.reason))


@router.post("/{id}/complete", response_model=Accepted)
async def complete(id: UUID, body: Complete, command: Command, _: Filer) -> Response:
    """Record the end of the plan with the result of the stage's exam."""
    return await _decision(command, id, lambda s: tp.complete(s, body.completed_on, body.exam_result))


@router.post("/{id}/discontinue", response_model=Accepted)
async def discontinue(id: UUID, body: Discontinue, command: Command, _: Filer) -> Response:
    """The difficulty notice: the training cannot go on (bankruptcy, disappearance, transfer)."""
    return await _decision(command, id, lambda s: tp.discontinue(s, body.on, body.reason, body.detail))


@router.post("/{id}/improvement-orders", response_model=Accepted)
async def issue_improvement_order(id: UUID, body: IssueImprovementOrder, command: Command, _: Officer) -> Response:
    """Order the implementing organization to improve the training by a deadline (Art. 15)."""
    order_id = uuid4()
    return await _decision(command, id, lambda s: tp.issue_improvement_order(
        s, order_id, body.issued_on, body.deadline, body.reason))


@router.post("/{id}/improvement-orders/{order_id}/close", response_model=Accepted)
async def close_improvement_order(id: UUID, order_id: UUID, body: CloseImprovementOrder, command: Command,
                                  _: Officer) -> Response:
    """The order was complied with."""
    return await _decision(command, id, lambda s: tp.close_improvement_order(s, order_id, body.closed_on))


@router.get("/{id}")
async def get_training_plan(id: UUID, request: Request, principal: Reader, as_of: AsOf = None) -> Response:
    """One training plan; with `as_of`, as recorded by then, its status as of that day."""
    async with request.app.state.pool.acquire() as conn:
        if as_of is None:
            row = await conn.fetchrow(f"SELECT document || jsonb_build_object('status', {SHOWN_STATUS}) AS document"
                                      " FROM training_plans WHERE id = $2", today(), id)
            document = row["document"] if row else None
        else:
            state, version = await request.app.state.runner.load(conn, TRAINING_PLAN, str(id), until=as_of.until)
            document = training_plan_document(str(id), state, version, as_of=as_of.day) if version else None
        if document is None or not _visible_to(principal, document):
            raise NotFound("training plan", id)
        [document] = await personal_data.shown(conn, [document])
    return document_response(document, document["version"])


@router.get("")
async def list_training_plans(
    pool: PoolDep,
    principal: Reader,
    implementing_organization_id: UUID | None = None,
    supervising_organization_id: UUID | None = None,
    trainee_id: UUID | None = None,
    status: ShownStatus | None = None,
    stage: Stage | None = None,
    needs_new_supervising_organization: bool | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page:
    """Training plans, filtered, in id order, a page at a time. `in_progress`: certified and started."""
    org = principal.organization_id if principal.is_organization_member else None
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            f"""
            SELECT document || jsonb_build_object('status', {SHOWN_STATUS}) AS document FROM training_plans
             WHERE ($2::uuid IS NULL OR implementing_organization_id = $2)
               AND ($3::uuid IS NULL OR supervising_organization_id = $3)
               AND ($4::uuid IS NULL OR trainee_id = $4)
               AND ($5::text IS NULL OR {SHOWN_STATUS} = $5)
               AND ($6::text IS NULL OR stage = $6)
               AND ($7::bool IS NULL OR (document->>'new_supervising_organization_required' IS NOT NULL) = $7)
               AND ($8::uuid IS NULL OR id > $8)
               AND ($9::text IS NULL AND $10::text IS NULL
                    OR implementing_organization_id::text = $9 OR supervising_organization_id::text = $10)
             ORDER BY id LIMIT $11
            """,
            today(), implementing_organization_id, supervising_organization_id, trainee_id, status,
            stage.value if stage else None, needs_new_supervising_organization, cursor_uuid(decode_cursor(cursor)),
            org if principal.has_role(Role.IMPLEMENTING_ORG) else None,
            org if principal.has_role(Role.SUPERVISING_ORG) else None, limit + 1,
        )
        documents = await personal_data.shown(conn, [r["document"] for r in rows])
    return page_of(documents, limit, lambda item: [item["id"]])
