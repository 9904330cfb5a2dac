"""Training plans over REST (DOMAIN §10): each command one call into `commands.py`, each read one
read from `projections/training_plans.py`."""

from datetime import date, timedelta
from typing import Annotated
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Query, Request, Response

from contracts.accreditation import ReportedBy, Stage
from contracts.registry import Scheme
from services.accreditation import commands
from services.accreditation.api.auth import Filer, OtitOfficer, Reader
from services.accreditation.api.schemas import (
    ApplyForCertification,
    Certify,
    CloseImprovementOrder,
    Complete,
    Discontinue,
    IssueImprovementOrder,
    PausePlan,
    Reassign,
    Reject,
    ResumePlan,
    Revoke,
    ShownStatus,
    TrainingPlanDocument,
)
from services.accreditation.domain.rules import RuleBook
from services.accreditation.projections import training_plans
from shared.errors import NotFound
from shared.web.app import PoolDep, StoreDep
from shared.web.http import Accepted, AsOf, Command, Page, cursor_uuid, decode_cursor, document_response, page_of, today


async def rule_book(request: Request) -> RuleBook:
    """The rules the app was created with (`create_app(settings, rule_book)`)."""
    rules: RuleBook = request.app.state.rule_book
    return rules


RuleBookDep = Annotated[RuleBook, Depends(rule_book)]

router = APIRouter(prefix="/v1/training-plans", tags=["training plans"])


@router.post("", status_code=201, response_model=Accepted)
async def apply_for_certification(
    body: ApplyForCertification, command: Command, rules: RuleBookDep, _: Filer
) -> Response:
    """Apply for the certification of a training plan: a TITP stage, or an ESD plan. The switch decides at once
    which scheme the application date and the trainee's status allow (409 naming the rule; nothing recorded).

    An organization files only its own plans: an implementing organization under the supervising (TITP) or
    supervision support (ESD) organization the registry has it under, that organization for its member
    employers; any other is answered 404 as not found, naming the rule (`filing.own_organization`,
    `filing.member_employer`, `filing.own_supervising_organization`). A trainee id stays with the person its
    first application named (name, date of birth, nationality): another person under it, or a trainee whose
    data was erased, is refused with 409 `trainee.identity`, the same answer either way."""
    id = uuid4()
    return await command.execute(
        commands.apply_for_certification,
        id,
        terms=body.terms(),
        applied_on=body.applied_on,
        rule_book=rules,
        filer=command.principal.only_organization,
        created_at=f"{router.prefix}/{id}",
    )


@router.post("/{id}/certify", response_model=Accepted)
async def certify(id: UUID, body: Certify, command: Command, rules: RuleBookDep, _: OtitOfficer) -> Response:
    """Certify the plan if every rule of its rule set holds; a refusal (409) names the rule."""
    return await command.execute(
        commands.certify, id, certified_on=body.certified_on, rule_book=rules, may_see=command.principal.may_see
    )


@router.post("/{id}/reject", response_model=Accepted)
async def reject(id: UUID, body: Reject, command: Command, _: OtitOfficer) -> Response:
    """Refuse the application."""
    return await command.execute(commands.reject, id, reason=body.reason, may_see=command.principal.may_see)


@router.post("/{id}/revoke", response_model=Accepted)
async def revoke(id: UUID, body: Revoke, command: Command, _: OtitOfficer) -> Response:
    """Revoke the certification (Art. 16)."""
    return await command.execute(
        commands.revoke, id, revoked_on=body.revoked_on, reason=body.reason, may_see=command.principal.may_see
    )


@router.post("/{id}/reassign", response_model=Accepted)
async def reassign(id: UUID, body: Reassign, command: Command, _: OtitOfficer) -> Response:
    """Move a plan flagged after its supervising organization's permit was revoked or expired to a new supervising
    organization (DOMAIN §11); the flag is cleared. Refused (409) naming the rule: `reassign.not_flagged`,
    `reassign.before_flag`, `reassign.same_supervising_organization`, `reassign.permit_not_active`,
    `reassign.permit_suspended`, `reassign.not_supervising_the_employer` (the registry's `SupervisionChanged` has the
    employer under the new organization from that day), `reassign.permit_covers_stage` (stage iii: a general
    permit)."""
    return await command.execute(
        commands.reassign,
        id,
        supervising_organization_id=body.supervising_organization_id,
        reassigned_on=body.reassigned_on,
        may_see=command.principal.may_see,
    )


@router.post("/{id}/complete", response_model=Accepted)
async def complete(id: UUID, body: Complete, command: Command, _: Filer) -> Response:
    """Record the end of the plan with the result of the stage's exam."""
    return await command.execute(
        commands.complete,
        id,
        completed_on=body.completed_on,
        exam_result=body.exam_result,
        may_see=command.principal.may_see,
    )


@router.post("/{id}/discontinue", response_model=Accepted)
async def discontinue(id: UUID, body: Discontinue, command: Command, _: Filer) -> Response:
    """The difficulty notice: the training cannot go on (bankruptcy, disappearance, death, transfer, other). A
    disappearance or a death names the day it was reported and who reported it (409 `discontinuation.reported`, on or
    after `on`: `discontinuation.reported_before`); the inspection service then opens an extraordinary inspection of
    the employer. An early return is never a reason here: it ends a plan through `.../early-return` (409
    `early_return.unconfirmed`, also for `other` while a flagged return awaits an officer's decision)."""
    reported_by = ReportedBy(**body.reported_by.model_dump()) if body.reported_by else None
    return await command.execute(
        commands.discontinue,
        id,
        on=body.on,
        reason=body.reason,
        detail=body.detail,
        reported_on=body.reported_on,
        reported_by=reported_by,
        may_see=command.principal.may_see,
    )


@router.post("/{id}/improvement-orders", response_model=Accepted)
async def issue_improvement_order(id: UUID, body: IssueImprovementOrder, command: Command, _: OtitOfficer) -> Response:
    """Order the implementing organization to improve the training by a deadline after the order (Art. 15)."""
    return await command.execute(
        commands.issue_improvement_order,
        id,
        issued_on=body.issued_on,
        deadline=body.deadline,
        reason=body.reason,
        may_see=command.principal.may_see,
    )


@router.post("/{id}/improvement-orders/{order_id}/close", response_model=Accepted)
async def close_improvement_order(
    id: UUID, order_id: UUID, body: CloseImprovementOrder, command: Command, _: OtitOfficer
) -> Response:
    """The order was complied with."""
    return await command.execute(
        commands.close_improvement_order, id, order_id, closed_on=body.closed_on, may_see=command.principal.may_see
    )


@router.get("/{id}", response_model=TrainingPlanDocument)
async def get_training_plan(
    id: UUID, pool: PoolDep, store: StoreDep, principal: Reader, as_of: AsOf = None
) -> Response:
    """One training plan; with `as_of`, as recorded by then, its status as of that day."""
    found = await training_plans.training_plan(
        pool, store, id, today=today(), until=as_of.until if as_of else None, as_of=as_of.day if as_of else None
    )
    plan = TrainingPlanDocument.model_validate(found) if found else None
    if plan is None or not principal.may_see(plan.implementing_organization_id, plan.supervising_organization_id):
        raise NotFound("training plan", id)
    return document_response(plan.model_dump(mode="json"), plan.version)


@router.get("", response_model=Page[TrainingPlanDocument])
async def list_training_plans(
    pool: PoolDep,
    principal: Reader,
    rules: RuleBookDep,
    implementing_organization_id: UUID | None = None,
    supervising_organization_id: UUID | None = None,
    trainee_id: UUID | None = None,
    status: ShownStatus | None = None,
    stage: Stage | None = None,
    scheme: Scheme | None = None,
    field: Annotated[str | None, Query(max_length=100, description="ESD: plans of this field")] = None,
    first_year_exams_missing: Annotated[
        bool | None, Query(description="ESD: certified plans whose first year passed without the basic grade and A1")
    ] = None,
    needs_new_supervising_organization: bool | None = None,
    unattended_as_of: Annotated[
        date | None,
        Query(
            description="The worklist: plans in force flagged for a new supervising organization at least the"
            " configured number of days (TITP_ACCREDITATION_UNATTENDED_FLAG_DAYS, 30 by default) before this day"
            " and not reassigned"
        ),
    ] = None,
    on: Annotated[date | None, Query(description="show statuses and flags as of this day (default: today)")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: str | None = None,
) -> Page[TrainingPlanDocument]:
    """Training plans, filtered, in id order, a page at a time. `in_progress`: certified and started.
    `unattended_as_of`: the flags for a new supervising organization nobody acted on (a worklist)."""
    found = await training_plans.training_plans(
        pool,
        today=on or today(),
        implementing_organization_id=implementing_organization_id,
        supervising_organization_id=supervising_organization_id,
        trainee_id=trainee_id,
        status=status,
        stage=stage,
        scheme=scheme,
        field=field,
        first_year_exams_missing=first_year_exams_missing,
        needs_new_supervising_organization=needs_new_supervising_organization,
        flagged_by=_flagged_by(unattended_as_of, rules.unattended_flag_days),
        after=cursor_uuid(decode_cursor(cursor)),
        organization=principal.only_organization,
        limit=limit + 1,
    )
    return page_of([TrainingPlanDocument.model_validate(d) for d in found], limit, lambda plan: [str(plan.id)])


def _flagged_by(unattended_as_of: date | None, days: int) -> date | None:
    """The last flag date that is `days` old on `unattended_as_of` (date.min near the calendar's start: none is)."""
    if unattended_as_of is None:
        return None
    return unattended_as_of - timedelta(days=days) if unattended_as_of - date.min > timedelta(days=days) else date.min


# Pauses (issue 25 item 3)


@router.post("/{id}/pause", response_model=Accepted)
async def pause(id: UUID, body: PausePlan, command: Command, rules: RuleBookDep, _: Filer) -> Response:
    """Pause a plan in progress without ending it: pregnancy, childbirth, illness or injury. Filed by the plan's
    supervising organization or implementing organization (another organization: 404) or an officer. The plan stays
    certified, shown `paused` (and `paused_since`) from `on`; the status of residence is not affected. Refused (409)
    naming the rule: `pause.plan_not_in_force`, `pause.reason`, `pause.already_paused`, `pause.before_start`,
    `pause.after_end`, `pause.before_resumption`. `detail` is kept sealed with the trainee's key."""
    return await command.execute(
        commands.pause,
        id,
        on=body.on,
        reason=body.reason,
        detail=body.detail,
        rule_book=rules,
        may_see=command.principal.may_see,
    )


@router.post("/{id}/resume", response_model=Accepted)
async def resume(id: UUID, body: ResumePlan, command: Command, _: Filer) -> Response:
    """Resume a paused plan with its remaining period: its end moves by the days paused (from the pause's first day
    to the day before `on`), so the stage counts only days in training. Refused (409): `pause.not_paused`,
    `pause.resumed_before_pause`. While paused, a completion is refused (`plan.paused`); a discontinuation or a
    transfer is not."""
    return await command.execute(commands.resume, id, on=body.on, may_see=command.principal.may_see)
