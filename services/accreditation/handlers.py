"""The write path of training plans: the aggregate, and a certification decided on a snapshot
of the local read models taken under locks in the command's transaction."""

from dataclasses import replace
from datetime import date
from uuid import UUID

import asyncpg

from services.accreditation import personal_data
from services.accreditation.domain import trainee
from services.accreditation.domain import training_plan as tp
from contracts.accreditation import PlanTerms, SealedPlanTerms, trainee_stream_id
from services.accreditation.domain.rules import CertificationFacts, RuleBook
from services.accreditation.projections import registry
from services.accreditation.projections.training_plans import plans_in_force, project_training_plan, trainee_plans
from shared.commands import Aggregate, CommandRunner, Outcome
from shared.errors import NotFound
from shared.events import EventContext

TRAINING_PLAN = Aggregate("training-plan", tp.TrainingPlan(), tp.evolve, project_training_plan)
TRAINEE = Aggregate("trainee", False, trainee.evolve)

# Advisory lock classes (two-key form, apart from the one-key locks of shared/): certifications
# that count the same implementing organization's plans, or the same trainee's, run one at a time.
IMPLEMENTING_ORGANIZATION_LOCK = 7_340_010
TRAINEE_LOCK = 7_340_011


async def lock(conn: asyncpg.Connection, lock_class: int, id: object) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", lock_class, str(id))


async def certification_facts(conn: asyncpg.Connection, plan_id: str, plan: SealedPlanTerms,
                              certified_on: date) -> CertificationFacts:
    """What the service knows, as plain data, for deciding this plan's certification."""
    # Without the locks, two certifications could each count the other's plan as not yet
    # certified and together exceed a quota or give one trainee two plans of a stage.
    await lock(conn, IMPLEMENTING_ORGANIZATION_LOCK, plan.implementing_organization_id)
    await lock(conn, TRAINEE_LOCK, plan.trainee_id)
    supervising, sending = plan.supervising_organization_id, plan.sending_organization_id
    return CertificationFacts(
        certified_on=certified_on,
        implementing_organization=await registry.implementing_organization(conn, plan.implementing_organization_id),
        permit=await registry.permit(conn, supervising) if supervising else None,
        sending_organization_approved=bool(sending) and await registry.sending_organization_approved(conn, sending),
        sending_agreement_in_force=bool(supervising and sending) and await registry.sending_agreement_in_force(
            conn, supervising, sending, certified_on),
        trainee_plans=await trainee_plans(conn, plan_id, plan.trainee_id),
        plans_in_force=await plans_in_force(conn, plan_id, plan),
        personal_data=await personal_data.opened(conn, plan.trainee_id, plan.trainee),
    )


async def apply_for_certification(runner: CommandRunner, conn: asyncpg.Connection, plan_id: str, terms: PlanTerms,
                                  applied_on: date, context: EventContext) -> Outcome:
    sealed = await personal_data.sealed_terms(conn, terms)
    return await runner.decide_and_apply(conn, TRAINING_PLAN, plan_id,
                                         lambda state: tp.apply_for_certification(state, sealed, applied_on), context)


async def erase_personal_data(runner: CommandRunner, conn: asyncpg.Connection, trainee_id: UUID, reason: str,
                              context: EventContext) -> Outcome:
    """Destroy the trainee's key, and record who did it and why on the trainee's own stream."""
    if await personal_data.TRAINEE_KEYS.erase(conn, trainee_id) is None:
        raise NotFound("trainee", trainee_id)
    outcome = await runner.decide_and_apply(conn, TRAINEE, trainee_stream_id(trainee_id),
                                            lambda erased: trainee.erase_personal_data(erased, trainee_id, reason),
                                            context)
    return replace(outcome, stream_id=str(trainee_id))


async def certify(runner: CommandRunner, conn: asyncpg.Connection, plan_id: str, certified_on: date,
                  rule_book: RuleBook, context: EventContext, *, if_match: int | None = None) -> Outcome:
    state, _ = await runner.load(conn, TRAINING_PLAN, plan_id)
    if not state.exists:
        raise NotFound("training plan", plan_id)
    facts = await certification_facts(conn, plan_id, state.application, certified_on)
    return await runner.decide_and_apply(conn, TRAINING_PLAN, plan_id, lambda s: tp.certify(s, facts, rule_book),
                                         context, if_match=if_match)
