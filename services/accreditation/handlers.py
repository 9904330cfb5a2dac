"""The write path of training plans: the aggregate, and a certification decided on a snapshot
of the local read models taken under locks in the command's transaction."""

from datetime import date

import asyncpg

from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.events import PlanTerms
from services.accreditation.domain.rules import CertificationFacts, RuleBook
from services.accreditation.projections import registry
from services.accreditation.projections.training_plans import plans_in_force, project_training_plan, trainee_plans
from shared.commands import Aggregate, CommandRunner, Outcome
from shared.errors import NotFound
from shared.events import EventContext

TRAINING_PLAN = Aggregate("training-plan", tp.TrainingPlan(), tp.evolve, project_training_plan)

# Advisory lock classes (two-key form, apart from the one-key locks of shared/): certifications
# that count the same implementing organization's plans, or the same trainee's, run one at a time.
IMPLEMENTING_ORGANIZATION_LOCK = 7_340_010
TRAINEE_LOCK = 7_340_011


async def lock(conn: asyncpg.Connection, lock_class: int, id: object) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", lock_class, str(id))


async def certification_facts(conn: asyncpg.Connection, plan_id: str, plan: PlanTerms,
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
    )


async def certify(runner: CommandRunner, conn: asyncpg.Connection, plan_id: str, certified_on: date,
                  rule_book: RuleBook, context: EventContext, *, if_match: int | None = None) -> Outcome:
    state, _ = await runner.load(conn, TRAINING_PLAN, plan_id)
    if not state.exists:
        raise NotFound("training plan", plan_id)
    facts = await certification_facts(conn, plan_id, state.application, certified_on)
    return await runner.decide_and_apply(conn, TRAINING_PLAN, plan_id, lambda s: tp.certify(s, facts, rule_book),
                                         context, if_match=if_match)
