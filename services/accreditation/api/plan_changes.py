"""Changes of a certified plan over REST (issue 20, Art. 11): change certification and notices of minor changes,
each one call into `commands.py`; the history read from the plan's read model (as recorded by `as_of`, if given)."""

from uuid import UUID, uuid4

from fastapi import APIRouter, Response

from services.accreditation import commands
from services.accreditation.api.auth import Filer, OtitOfficer, Reader
from services.accreditation.api.schemas import (
    ApplyForPlanChange,
    CertifyPlanChange,
    NotifyMinorChange,
    PlanChangeHistory,
    RejectPlanChange,
    TrainingPlanDocument,
)
from services.accreditation.api.training_plans import RuleBookDep
from services.accreditation.projections import training_plans
from shared.errors import NotFound
from shared.web.app import PoolDep, StoreDep
from shared.web.auth import Principal
from shared.web.http import Accepted, AsOf, Command, document_response, today

router = APIRouter(prefix="/v1/training-plans", tags=["training plans"])


@router.post("/{id}/changes", status_code=201, response_model=Accepted)
async def apply_for_plan_change(id: UUID, body: ApplyForPlanChange, command: Command, _: Filer) -> Response:
    """Apply for change certification of a plan in force (the employer, its supervising organization, or an
    officer); 201 with the change's id. One pending change at a time (`change.pending`)."""
    change_id = uuid4()
    return await command.execute(
        commands.apply_for_plan_change,
        id,
        applied_on=body.applied_on,
        reason=body.reason,
        changes=body.changes.plan_changes(),
        unchangeable=body.changes.unchangeable(),
        change_id=change_id,
        may_see=command.principal.may_see,
        created_at=f"{router.prefix}/{id}/changes",
    )


@router.post("/{id}/changes/{change_id}/certify", response_model=Accepted)
async def certify_plan_change(
    id: UUID, change_id: UUID, body: CertifyPlanChange, command: Command, rules: RuleBookDep, _: OtitOfficer
) -> Response:
    """Certify the pending change: the plan's terms are the changed ones, a new `terms_version`; a refusal (409)
    names the plan's rule the changed terms break."""
    return await command.execute(
        commands.certify_plan_change,
        id,
        change_id,
        certified_on=body.certified_on,
        rule_book=rules,
        may_see=command.principal.may_see,
    )


@router.post("/{id}/changes/{change_id}/reject", response_model=Accepted)
async def reject_plan_change(
    id: UUID, change_id: UUID, body: RejectPlanChange, command: Command, _: OtitOfficer
) -> Response:
    """Refuse the pending change: the plan's terms stay as they are."""
    return await command.execute(
        commands.reject_plan_change, id, change_id, reason=body.reason, may_see=command.principal.may_see
    )


@router.post("/{id}/minor-changes", status_code=201, response_model=Accepted)
async def notify_minor_change(
    id: UUID, body: NotifyMinorChange, command: Command, rules: RuleBookDep, _: Filer
) -> Response:
    """A notice of minor changes of a plan in force (the employer, its supervising organization, or an officer);
    201 with the notice's id. A material term in it is refused (`change.material_needs_certification`)."""
    return await command.execute(
        commands.notify_minor_change,
        id,
        notified_on=body.notified_on,
        description=body.description,
        changes=body.changes.plan_changes(),
        rule_book=rules,
        unchangeable=body.changes.unchangeable(),
        may_see=command.principal.may_see,
        created_at=f"{router.prefix}/{id}/changes",
    )


@router.get("/{id}/changes", response_model=PlanChangeHistory)
async def plan_change_history(
    id: UUID, pool: PoolDep, store: StoreDep, principal: Reader, as_of: AsOf = None
) -> Response:
    """The plan's changes and notices of minor changes, oldest first, each with its status and the terms version
    it made; with `as_of`, as recorded by then."""
    plan = await _plan(id, pool, store, principal, as_of)
    history = PlanChangeHistory(
        training_plan_id=plan.id, terms_version=plan.terms_version, changes=plan.changes, version=plan.version
    )
    return document_response(history.model_dump(mode="json"), plan.version)


async def _plan(id: UUID, pool: PoolDep, store: StoreDep, principal: Principal, as_of: AsOf) -> TrainingPlanDocument:
    found = await training_plans.training_plan(
        pool, store, id, today=today(), until=as_of.until if as_of else None, as_of=as_of.day if as_of else None
    )
    plan = TrainingPlanDocument.model_validate(found) if found else None
    if plan is None or not principal.may_see(plan.implementing_organization_id, plan.supervising_organization_id):
        raise NotFound("training plan", id)
    return plan
