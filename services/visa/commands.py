"""The visa service's write side: its aggregates, and one function per command.

Routes, subscriptions, chores and tests change state only through these. Each takes a `UnitOfWork`
(the transaction, who asked, the If-Match) and decides on what the service knows inside it: other
services' facts from `projections/known.py`, locked where a decision depends on them.
"""

from datetime import date
from uuid import UUID, uuid5

from contracts.visa import evaluation_report_id
from services.visa.domain import certificate_of_eligibility as coe
from services.visa.domain import evaluation_report, residence
from services.visa.domain.rules import VisaRules
from services.visa.projections import known
from services.visa.projections.resources import (
    coe_applications_of_plan,
    esd_plans_held,
    project_coe_application,
    project_evaluation_report,
    project_status_change,
    project_visa,
    stages_held,
    training_plan_of_coe,
)
from shared.commands import Aggregate, Outcome, UnitOfWork, existing
from shared.errors import NotFound

COE_APPLICATION = Aggregate[coe.Coe]("coe-application", coe.NoApplication(), coe.evolve, project_coe_application)
VISA = Aggregate("visa", None, residence.evolve_visa, project_visa)
STATUS_CHANGE = Aggregate("status-change", None, residence.evolve_status_change, project_status_change)
EVALUATION_REPORT = Aggregate("evaluation-report", None, evaluation_report.evolve, project_evaluation_report)

# One change of status per plan: its id follows from the plan's, so a second one meets the first's stream.
_STATUS_CHANGE_IDS = UUID("6c8a0f4e-2f1b-5d3a-9e57-0b4f3c2d1a90")


def status_change_id(training_plan_id: UUID) -> UUID:
    return uuid5(_STATUS_CHANGE_IDS, str(training_plan_id))


# Certificates of eligibility


async def apply_for_coe(
    uow: UnitOfWork,
    id: UUID,
    *,
    training_plan_id: UUID,
    applied_on: date,
    departure: coe.Departure | None = None,
    rules: VisaRules | None = None,
) -> Outcome:
    """File an application for a certificate of eligibility for a certified plan to enter on: TITP stage i, TITP
    stage iii after a `departure` that calls for a new COE, or an ESD worker's first plan; the certificate will
    name the scheme's status of residence."""
    plan = await known.plan_for_update(uow.conn, training_plan_id)
    restrictions = await known.permit_restrictions(uow.conn, plan.supervising_organization_id if plan else None)
    others = list((await coe_applications_of_plan(uow.conn, training_plan_id)).values())
    # A new stream: an If-Match names none.
    return await uow.unpinned().decide(
        COE_APPLICATION,
        str(id),
        lambda s: coe.apply_for_coe(s, training_plan_id, plan, restrictions, others, applied_on, departure, rules),
    )


async def issue_coe(uow: UnitOfWork, id: UUID, *, issued_on: date, rules: VisaRules) -> Outcome:
    """Issue the certificate, while the plan is certified and its permit in force."""
    plan_id = await training_plan_of_coe(uow.conn, id)
    if plan_id is None:
        raise NotFound("COE application", id)
    plan = await known.plan_for_update(uow.conn, plan_id)
    restrictions = await known.permit_restrictions(uow.conn, plan.supervising_organization_id if plan else None)
    return await uow.decide(COE_APPLICATION, str(id), lambda s: coe.issue_coe(s, plan, restrictions, issued_on, rules))


async def deny_coe(uow: UnitOfWork, id: UUID, *, reason: str) -> Outcome:
    """Deny the application."""
    return await uow.decide(
        COE_APPLICATION, str(id), existing("COE application", id, lambda s: coe.deny_coe(s, reason))
    )


async def withdraw_coes_of_revoked_plan(
    uow: UnitOfWork, training_plan_id: UUID, *, revoked_on: date, reason: str
) -> list[Outcome]:
    """Policy: a revoked training plan cancels its pending applications and revokes its unused certificates."""
    return [
        await uow.decide(COE_APPLICATION, id, lambda s: coe.withdraw_for_revoked_plan(s, revoked_on, reason))
        for id in await coe_applications_of_plan(uow.conn, training_plan_id)
    ]


# Statuses of residence


async def issue_visa(
    uow: UnitOfWork, id: UUID, *, coe_id: UUID, post: str, issued_on: date, rules: VisaRules
) -> Outcome:
    """Issue a visa on a certificate that is valid, unused and not revoked; the certificate is then used.
    The certificate's stream version guards it: of two visas on one certificate, one commits."""
    certificate, version = await uow.load(COE_APPLICATION, str(coe_id))
    await uow.runner.apply(
        uow.conn,
        COE_APPLICATION,
        str(coe_id),
        certificate,
        version,
        coe.use_for_visa(certificate, id, issued_on),
        uow.context,
    )
    return await uow.unpinned().decide(
        VISA, str(id), lambda s: residence.issue_visa(s, coe_id, certificate, post, issued_on, rules)
    )


async def change_status(uow: UnitOfWork, training_plan_id: UUID, *, decided_on: date, rules: VisaRules) -> Outcome:
    """Grant the change of status to the plan: TITP from stage i to ii, or ii to iii, on the next stage's
    certified plan; ESD to the worker's new certified plan (a transfer, or the extension year). Its id is
    `status_change_id(training_plan_id)`."""
    plan = await known.plan_for_update(uow.conn, training_plan_id)
    held = await stages_held(uow.conn, plan.trainee_id) if plan else set()
    esd_held = await esd_plans_held(uow.conn, plan.trainee_id) if plan else []
    return await uow.unpinned().decide(
        STATUS_CHANGE,
        str(status_change_id(training_plan_id)),
        lambda s: residence.change_status(s, training_plan_id, plan, held, decided_on, rules, esd_held),
    )


# Evaluation reports


async def receive_evaluation_report(
    uow: UnitOfWork, training_plan_id: UUID, *, written_on: date, received_on: date
) -> Outcome:
    """Record the implementing organization's evaluation report (評価調書) on a trainee's TITP stage-ii plan: for
    SSW (i) it stands in for grade 3. Its id is `evaluation_report_id(training_plan_id)`."""
    plan = await known.plan_for_update(uow.conn, training_plan_id)
    return await uow.unpinned().decide(
        EVALUATION_REPORT,
        str(evaluation_report_id(training_plan_id)),
        lambda s: evaluation_report.receive_evaluation_report(s, training_plan_id, plan, written_on, received_on),
    )
