"""Every change of the accreditation service's state: its aggregates, and one function per command.

Routes, subscriptions, tests and tools all change state through these functions, each inside the
transaction of its `UnitOfWork`. A certification is decided on a snapshot of the local read models
taken under locks in the command's transaction.

`may_see` is the caller's visibility (an HTTP route passes `principal.may_see`): a plan it may not see
is answered as not found. By default everyone may see every plan (subscriptions, tools, tests). A new
application is bound tighter: to the filer's own organization as the registry knows it (`filer`).
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any
from uuid import UUID, uuid4, uuid5

import asyncpg

from contracts.accreditation import (
    DifficultyCause,
    DiscontinuationReason,
    EarlyReturnConfirmation,
    EarlyReturnDecision,
    EarlyReturnReason,
    EarlyReturnWords,
    ExamGrade,
    ExamResult,
    FeeItem,
    PauseDetail,
    PauseReason,
    PlanChanges,
    PlanTerms,
    ReportedBy,
    SealedPlanTerms,
    early_return_rate_stream_id,
    employer_stream_id,
    trainee_stream_id,
)
from contracts.registry import Scheme
from services.accreditation.domain import employer, pauses, plan_changes, trainee
from services.accreditation.domain import fees as plan_fees
from services.accreditation.domain import filings as fl
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.early_returns import (
    EarlyReturnRate,
    decide_early_return,
    evolve_rate,
    file_early_return,
    flag_rate,
)
from services.accreditation.domain.rules import CertificationFacts, ReassignmentFacts, RuleBook
from services.accreditation.projections import early_returns as early_return_views
from services.accreditation.projections import employers, exam_results, personal_data, registry
from services.accreditation.projections import filings as filing_views
from services.accreditation.projections.pauses import own_paused_days
from services.accreditation.projections.training_plans import (
    esd_workers_on,
    field_trainees,
    field_workers,
    latest_revocation,
    plans_in_force,
    plans_in_force_of,
    project_training_plan,
    trainee_known,
    trainee_plans,
    transfer_source_supervising_organization,
)
from shared.commands import Aggregate, Outcome, UnitOfWork
from shared.errors import NotFound
from shared.events import EventPayload

TRAINING_PLAN = Aggregate("training-plan", tp.TrainingPlan(), tp.evolve, project_training_plan)
TRAINEE = Aggregate("trainee", trainee.TraineeRecord(), trainee.evolve, exam_results.project_trainee)
EMPLOYER = Aggregate("employer", employer.EmployerRecord(), employer.evolve, employers.project_employer)

# Advisory lock classes (two-key form, apart from the one-key locks of shared/): certifications
# that count the same implementing organization's plans, the same trainee's, or (ESD) the same
# field's, run one at a time; always taken in this order.
IMPLEMENTING_ORGANIZATION_LOCK = 7_340_010
TRAINEE_LOCK = 7_340_011
FIELD_LOCK = 7_340_012

MaySee = Callable[..., bool]


def anyone(*organization_ids: object) -> bool:
    return True


# Training plans


async def apply_for_certification(
    uow: UnitOfWork,
    id: UUID,
    *,
    terms: PlanTerms,
    applied_on: date,
    rule_book: RuleBook = tp.DEFAULT_RULES,
    filer: str | None = None,
) -> Outcome:
    """Apply for the certification of a training plan; the trainee's personal data is sealed with their key.
    The switch decides here which scheme the application date and the trainee's status allow: a refused
    application records nothing.

    `filer` is the organization the caller acts for (an HTTP route passes `principal.only_organization`;
    None for officers, tools and tests): it files only its own plans, as the registry binds it
    (`tp.check_filer`). The trainee id must name the person it was first recorded with (`personal_data`)."""
    if filer is not None:
        employer = await registry.implementing_organization(uow.conn, terms.implementing_organization_id)
        tp.check_filer(filer, terms, employer)
    others = await trainee_plans(uow.conn, str(id), terms.trainee_id)
    sealed = await personal_data.sealed_terms(uow.conn, terms)
    return await uow.decide(
        TRAINING_PLAN,
        str(id),
        lambda state: tp.apply_for_certification(state, sealed, applied_on, rule_book, others),
    )


async def certify(
    uow: UnitOfWork, id: UUID, *, certified_on: date, rule_book: RuleBook, may_see: MaySee = anyone
) -> Outcome:
    """Certify the plan if every rule of its rule set holds on what the service knows now. A certified transfer
    (TITP or ESD) ends the plan it continues as transferred, in the same transaction."""
    state, _ = await uow.load(TRAINING_PLAN, str(id))
    plan = _visible(state, id, may_see)
    facts = await certification_facts(uow.conn, str(id), plan.application, certified_on, rule_book)
    outcome = await uow.decide(TRAINING_PLAN, str(id), lambda state: tp.certify(state, facts, rule_book))
    application = plan.application
    if application.transfer_from is not None and application.transfer_reason is not None:
        reason = application.transfer_reason
        await uow.unpinned().decide(
            TRAINING_PLAN,
            str(application.transfer_from),
            lambda first: tp.transfer(first, application.start_date, id, reason),
        )
    return outcome


async def reject(uow: UnitOfWork, id: UUID, *, reason: str, may_see: MaySee = anyone) -> Outcome:
    return await uow.decide(TRAINING_PLAN, str(id), _existing(id, may_see, lambda s: tp.reject(s, reason)))


async def revoke(uow: UnitOfWork, id: UUID, *, revoked_on: date, reason: str, may_see: MaySee = anyone) -> Outcome:
    return await uow.decide(TRAINING_PLAN, str(id), _existing(id, may_see, lambda s: tp.revoke(s, revoked_on, reason)))


async def complete(
    uow: UnitOfWork, id: UUID, *, completed_on: date, exam_result: ExamResult, may_see: MaySee = anyone
) -> Outcome:
    return await uow.decide(
        TRAINING_PLAN, str(id), _existing(id, may_see, lambda s: tp.complete(s, completed_on, exam_result))
    )


async def discontinue(
    uow: UnitOfWork,
    id: UUID,
    *,
    on: date,
    reason: DiscontinuationReason,
    detail: str | None,
    reported_on: date | None = None,
    reported_by: ReportedBy | None = None,
    may_see: MaySee = anyone,
) -> Outcome:
    """The plan ends (the difficulty notice); a disappearance or a death with the day reported and who reported it."""
    return await uow.decide(
        TRAINING_PLAN,
        str(id),
        _existing(id, may_see, lambda s: tp.discontinue(s, on, reason, detail, reported_on, reported_by)),
    )


async def issue_improvement_order(
    uow: UnitOfWork, id: UUID, *, issued_on: date, deadline: date, reason: str, may_see: MaySee = anyone
) -> Outcome:
    """Order an improvement by a deadline (Art. 15); the order gets an id of its own."""
    order_id = uuid4()
    return await uow.decide(
        TRAINING_PLAN,
        str(id),
        _existing(id, may_see, lambda s: tp.issue_improvement_order(s, order_id, issued_on, deadline, reason)),
    )


async def close_improvement_order(
    uow: UnitOfWork, id: UUID, order_id: UUID, *, closed_on: date, may_see: MaySee = anyone
) -> Outcome:
    return await uow.decide(
        TRAINING_PLAN, str(id), _existing(id, may_see, lambda s: tp.close_improvement_order(s, order_id, closed_on))
    )


async def require_new_supervising_organization(
    uow: UnitOfWork, supervising_organization_id: UUID, *, since: date, reason: str
) -> list[Outcome]:
    """Flag the plans in force under a supervising organization whose permit was revoked (new plans under
    it are refused by certification itself)."""
    return [
        await uow.decide(
            TRAINING_PLAN, plan_id, lambda state: tp.require_new_supervising_organization(state, since, reason)
        )
        for plan_id in await plans_in_force_of(uow.conn, "supervising_organization_id", supervising_organization_id)
    ]


async def reassign(
    uow: UnitOfWork,
    id: UUID,
    *,
    supervising_organization_id: UUID,
    reassigned_on: date,
    may_see: MaySee = anyone,
) -> Outcome:
    """Move a plan flagged after its supervising organization's permit was revoked or expired to a new supervising
    organization (§11), decided on the registry's view: the employer's supervision and the new permit."""
    state, _ = await uow.load(TRAINING_PLAN, str(id))
    plan = _visible(state, id, may_see)
    facts = ReassignmentFacts(
        reassigned_on=reassigned_on,
        implementing_organization=await registry.implementing_organization(
            uow.conn, plan.application.implementing_organization_id
        ),
        permit=await registry.permit(uow.conn, supervising_organization_id),
    )
    return await uow.decide(
        TRAINING_PLAN,
        str(id),
        _existing(id, may_see, lambda s: tp.reassign(s, supervising_organization_id, facts)),
    )


async def revoke_on_referral(
    uow: UnitOfWork,
    implementing_organization_id: UUID,
    *,
    revoked_on: date,
    reason: str,
    referral_id: UUID | None,
    improvement_order_id: UUID | None = None,
) -> list[Outcome]:
    """Art. 16: revoke the certification of the implementing organization's plans in force on `revoked_on` (on an
    inspection referral, or for the breach of an Art. 15 order)."""
    await lock(uow.conn, IMPLEMENTING_ORGANIZATION_LOCK, implementing_organization_id)
    return [
        await uow.decide(
            TRAINING_PLAN,
            plan_id,
            lambda state: tp.revoke_on_referral(state, revoked_on, reason, referral_id, improvement_order_id),
        )
        for plan_id in await plans_in_force_of(uow.conn, "implementing_organization_id", implementing_organization_id)
    ]


# Implementing organizations: Art. 15 improvement orders (§11)


async def issue_employer_improvement_order(
    uow: UnitOfWork,
    implementing_organization_id: UUID,
    *,
    issued_on: date,
    deadline: date,
    reason: str,
    referral_id: UUID | None = None,
    require_registered: bool = True,
) -> Outcome:
    """Art. 15: order the implementing organization to improve by a deadline; the answer names the order. An
    officer's order needs the organization known from the registry's topic (404 otherwise); a referral's is
    issued as the inspection decided it, once (its id derives from the referral's)."""
    if require_registered and await registry.implementing_organization(uow.conn, implementing_organization_id) is None:
        raise NotFound("implementing organization", implementing_organization_id)
    order_id = uuid5(referral_id, "employer-improvement-order") if referral_id else uuid4()
    outcome = await uow.decide(
        EMPLOYER,
        employer_stream_id(implementing_organization_id),
        lambda state: employer.issue_improvement_order(
            state, implementing_organization_id, order_id, issued_on, deadline, reason, referral_id
        ),
    )
    return replace(outcome, stream_id=str(order_id))


async def close_employer_improvement_order(
    uow: UnitOfWork, implementing_organization_id: UUID, order_id: UUID, *, closed_on: date
) -> Outcome:
    outcome = await uow.decide(
        EMPLOYER,
        employer_stream_id(implementing_organization_id),
        lambda state: employer.close_improvement_order(state, order_id, closed_on),
    )
    return replace(outcome, stream_id=str(order_id))


async def revoke_for_breach(
    uow: UnitOfWork, implementing_organization_id: UUID, order_id: UUID, *, revoked_on: date
) -> Outcome:
    """Art. 16(1): the order's deadline passed without it being complied with; the implementing organization's
    plans in force lose their certification, each revocation naming the order as its ground."""
    state, version = await uow.load(EMPLOYER, employer_stream_id(implementing_organization_id))
    order = employer.breached_order(state, order_id, revoked_on)
    revoked = await revoke_on_referral(
        uow.unpinned(),
        implementing_organization_id,
        revoked_on=revoked_on,
        reason=f"breach of the Art. 15 improvement order {order_id} of {order.issued_on} (deadline {order.deadline}):"
        f" {order.reason}",
        referral_id=None,
        improvement_order_id=order_id,
    )
    return Outcome(str(order_id), version, [event for outcome in revoked for event in outcome.events])


# Trainees


async def erase_personal_data(uow: UnitOfWork, trainee_id: UUID, *, reason: str) -> Outcome:
    """Destroy the trainee's key, and record who did it and why on the trainee's own stream."""
    if await personal_data.erase(uow.conn, trainee_id) is None:
        raise NotFound("trainee", trainee_id)
    outcome = await uow.decide(
        TRAINEE, trainee_stream_id(trainee_id), lambda state: trainee.erase_personal_data(state, trainee_id, reason)
    )
    return replace(outcome, stream_id=str(trainee_id))


async def record_exam_result(
    uow: UnitOfWork, trainee_id: UUID, *, grade: ExamGrade, result: ExamResult, taken_on: date
) -> Outcome:
    """Record an exam result the exam body reported, on the trainee's own stream (a trainee with a plan)."""
    if not await trainee_known(uow.conn, trainee_id):
        raise NotFound("trainee", trainee_id)
    outcome = await uow.decide(
        TRAINEE,
        trainee_stream_id(trainee_id),
        lambda state: trainee.record_exam_result(state, trainee_id, grade, result, taken_on),
    )
    return replace(outcome, stream_id=str(trainee_id))


# What a certification is decided on


async def lock(conn: asyncpg.Connection, lock_class: int, id: object) -> None:
    await conn.execute("SELECT pg_advisory_xact_lock($1, hashtext($2))", lock_class, str(id))


async def certification_facts(
    conn: asyncpg.Connection, plan_id: str, plan: SealedPlanTerms, certified_on: date, rule_book: RuleBook
) -> CertificationFacts:
    """What the service knows, as plain data, for deciding this plan's certification."""
    # Without the locks, two certifications could each count the other's plan as not yet
    # certified and together exceed a quota or a national cap, or give one trainee two plans of a stage.
    await lock(conn, IMPLEMENTING_ORGANIZATION_LOCK, plan.implementing_organization_id)
    await lock(conn, TRAINEE_LOCK, plan.trainee_id)
    if plan.scheme is Scheme.ESD:
        await lock(conn, FIELD_LOCK, plan.field)
    supervising, sending = plan.supervising_organization_id, plan.sending_organization_id
    others = await trainee_plans(conn, plan_id, plan.trainee_id)
    operation = rule_book.titp.operations.get(plan.operation) if plan.operation else None
    field_limit = operation.field_limit if operation is not None and plan.scheme is Scheme.TITP else None
    same_field = [o for o in rule_book.titp.operations.values() if field_limit and o.field_limit == field_limit]
    facts = CertificationFacts(
        certified_on=certified_on,
        implementing_organization=await registry.implementing_organization(conn, plan.implementing_organization_id),
        permit=await registry.permit(conn, supervising) if supervising else None,
        sending_organization_approved=sending is not None
        and await registry.sending_organization_approved(conn, sending),
        sending_agreement_in_force=supervising is not None
        and sending is not None
        and await registry.sending_agreement_in_force(conn, supervising, sending, certified_on),
        trainee_plans=others,
        plans_in_force=await plans_in_force(conn, plan_id, plan),
        personal_data=await personal_data.opened(conn, plan.trainee_id, plan.trainee),
        exams=await exam_results.exams(conn, plan.trainee_id),
        certification_revoked_on=await latest_revocation(conn, plan.implementing_organization_id, certified_on),
        paused_days=await own_paused_days(conn, plan_id),
        field_trainees=await field_trainees(
            conn, plan_id, plan, [o.code for o in same_field], sorted({o.job_category for o in same_field})
        )
        if same_field
        else 0,
    )
    if plan.scheme is not Scheme.ESD and plan.transfer_from is not None:  # a TITP transfer: the source's organization
        facts = replace(
            facts,
            transfer_from_supervising_organization_id=await transfer_source_supervising_organization(
                conn, plan.transfer_from
            ),
        )
    if plan.scheme is not Scheme.ESD:
        return facts
    esd = rule_book.esd
    source = next((p for p in others if p.id is not None and p.id == plan.transfer_from), None)
    workers, own_wish, from_designated = await esd_workers_on(
        conn, plan_id, plan.implementing_organization_id, plan.start_date, esd.metropolitan_prefectures
    )
    return replace(
        facts,
        transfer_from_employer=await registry.implementing_organization(conn, source.implementing_organization_id)
        if source is not None and source.implementing_organization_id is not None
        else None,
        esd_workers=workers,
        own_wish_transfers=own_wish,
        from_designated_areas=from_designated,
        field_workers=await field_workers(conn, plan.field, plan.trainee_id, esd.fiscal_years(plan))
        if plan.field is not None
        else {},
    )


def _visible(state: tp.TrainingPlan, id: UUID, may_see: MaySee) -> tp.AppliedPlan:
    """The plan, if it exists and the caller may see it; not found otherwise."""
    if not isinstance(state, tp.AppliedPlan) or not may_see(
        state.application.implementing_organization_id, state.application.supervising_organization_id
    ):
        raise NotFound("training plan", id)
    return state


def _existing(
    id: UUID, may_see: MaySee, decide: Callable[[tp.AppliedPlan], Sequence[EventPayload]]
) -> Callable[[tp.TrainingPlan], Sequence[EventPayload]]:
    return lambda state: decide(_visible(state, id, may_see))


# Plan changes (issue 20, Art. 11): change certification and notices of minor changes


async def apply_for_plan_change(
    uow: UnitOfWork,
    id: UUID,
    *,
    applied_on: date,
    reason: str,
    changes: PlanChanges,
    unchangeable: Mapping[str, Any] | None = None,
    change_id: UUID | None = None,
    may_see: MaySee = anyone,
) -> Outcome:
    """Apply for the change certification of a plan in force; the answer names the change (its own id, `change_id`
    when given). `unchangeable`: the terms a caller restated that no change may touch (refused if another value)."""
    change_id = change_id or uuid4()
    outcome = await uow.decide(
        TRAINING_PLAN,
        str(id),
        _existing(
            id,
            may_see,
            lambda s: plan_changes.apply_for_change(s, change_id, applied_on, reason, changes, unchangeable),
        ),
    )
    return replace(outcome, stream_id=str(change_id))


async def certify_plan_change(
    uow: UnitOfWork, id: UUID, change_id: UUID, *, certified_on: date, rule_book: RuleBook, may_see: MaySee = anyone
) -> Outcome:
    """Certify the pending change if the changed terms pass the plan's rules on what the service knows now (the
    same snapshot, under the same locks, as a certification: this plan counted with its changed terms only)."""
    state, _ = await uow.load(TRAINING_PLAN, str(id))
    plan = _visible(state, id, may_see)
    changed = plan.application.model_copy(update=plan_changes.change_of(plan, change_id).changes.stated())
    facts = await certification_facts(uow.conn, str(id), changed, certified_on, rule_book)
    outcome = await uow.decide(
        TRAINING_PLAN,
        str(id),
        _existing(id, may_see, lambda s: plan_changes.certify_change(s, change_id, facts, rule_book)),
    )
    return replace(outcome, stream_id=str(change_id))


async def reject_plan_change(
    uow: UnitOfWork, id: UUID, change_id: UUID, *, reason: str, may_see: MaySee = anyone
) -> Outcome:
    outcome = await uow.decide(
        TRAINING_PLAN, str(id), _existing(id, may_see, lambda s: plan_changes.reject_change(s, change_id, reason))
    )
    return replace(outcome, stream_id=str(change_id))


async def notify_minor_change(
    uow: UnitOfWork,
    id: UUID,
    *,
    notified_on: date,
    description: str,
    changes: PlanChanges,
    rule_book: RuleBook = tp.DEFAULT_RULES,
    unchangeable: Mapping[str, Any] | None = None,
    may_see: MaySee = anyone,
) -> Outcome:
    """Record a notice of minor changes of a plan in force; the answer names the notice (its own id)."""
    notice_id = uuid4()
    outcome = await uow.decide(
        TRAINING_PLAN,
        str(id),
        _existing(
            id,
            may_see,
            lambda s: plan_changes.notify_minor_change(
                s, notice_id, notified_on, description, changes, rule_book.minor_change_terms, unchangeable
            ),
        ),
    )
    return replace(outcome, stream_id=str(notice_id))


# Filings received from employers and supervising organizations (issue 20 item 4): a stream each

FILING = Aggregate("filing", fl.Filing(), fl.evolve, filing_views.project_filing)
# Receipt numbers are issued one at a time per year (the serial counts the year's start notices).
FILING_RECEIPT_LOCK = 7_340_130


async def filing_supervisors(conn: asyncpg.Connection, implementing_organization_id: UUID) -> set[str]:
    """The organizations that file and read an employer's filings besides itself: every organization supervising
    (TITP) or supporting (ESD) it now in the registry, and every one named on its plans."""
    employer = await registry.implementing_organization(conn, implementing_organization_id)
    supervisors = await filing_views.supervisors_of(conn, implementing_organization_id)
    return supervisors | {str(s) for s in (employer.every_supervisor() if employer else ())}


async def _check_filing_filer(conn: asyncpg.Connection, filer: str | None, implementing_organization_id: UUID) -> None:
    """The employer itself, a supervising organization it belongs to or one named on its plans, or an officer."""
    if filer is None or filer == str(implementing_organization_id):
        return
    fl.check_filer(filer, implementing_organization_id, await filing_supervisors(conn, implementing_organization_id))


async def file_start_notice(
    uow: UnitOfWork,
    implementing_organization_id: UUID,
    *,
    training_plan_id: UUID,
    started_on: date,
    filed_on: date,
    rule_book: RuleBook = tp.DEFAULT_RULES,
    filer: str | None = None,
) -> Outcome:
    """Art. 17: the employer's implementation-start notice, answered with a receipt number its later filings quote
    (on the event). `filer` as for applications: the organization the caller acts for, None for officers."""
    await _check_filing_filer(uow.conn, filer, implementing_organization_id)
    plan = await filing_views.plan_facts(uow.conn, training_plan_id)
    first = await filing_views.first_plan_start(uow.conn, implementing_organization_id)
    await lock(uow.conn, FILING_RECEIPT_LOCK, filed_on.year)
    receipt = fl.receipt_number(filed_on.year, await filing_views.receipts_issued(uow.conn, filed_on.year) + 1)
    return await uow.decide(
        FILING,
        str(fl.start_notice_id(implementing_organization_id)),
        lambda state: fl.file_start_notice(
            state,
            implementing_organization_id,
            plan,
            training_plan_id,
            first,
            started_on,
            filed_on,
            receipt,
            rule_book.filings,
        ),
    )


async def file_difficulty_notice(
    uow: UnitOfWork,
    implementing_organization_id: UUID,
    id: UUID,
    *,
    training_plan_id: UUID,
    occurred_on: date,
    filed_on: date,
    cause: DifficultyCause,
    measures: str,
    receipt_number: str,
    rule_book: RuleBook = tp.DEFAULT_RULES,
    filer: str | None = None,
) -> Outcome:
    """Art. 19: continuing a plan's training became difficult; the plan stays as it is. Type (b): through the
    plan's supervising organization."""
    await _check_filing_filer(uow.conn, filer, implementing_organization_id)
    plan = await filing_views.plan_facts(uow.conn, training_plan_id)
    if plan is not None and plan.implementing_organization_id == implementing_organization_id:
        fl.check_difficulty_filer(filer, plan)
    issued = await filing_views.issued_receipt(uow.conn, implementing_organization_id)
    return await uow.decide(
        FILING,
        str(id),
        lambda state: fl.file_difficulty_notice(
            state,
            implementing_organization_id,
            plan,
            training_plan_id,
            occurred_on,
            filed_on,
            cause,
            measures,
            receipt_number,
            issued,
            rule_book.filings,
        ),
    )


async def file_annual_report(
    uow: UnitOfWork,
    implementing_organization_id: UUID,
    *,
    fiscal_year: int,
    filed_on: date,
    receipt_number: str,
    trainees: int,
    rule_book: RuleBook = tp.DEFAULT_RULES,
    filer: str | None = None,
) -> Outcome:
    """Art. 21: the employer's annual implementation report on a fiscal year, once."""
    await _check_filing_filer(uow.conn, filer, implementing_organization_id)
    issued = await filing_views.issued_receipt(uow.conn, implementing_organization_id)
    had_plans = await filing_views.had_plans_in_year(uow.conn, implementing_organization_id, fiscal_year)
    return await uow.decide(
        FILING,
        str(fl.annual_report_id(implementing_organization_id, fiscal_year)),
        lambda state: fl.file_annual_report(
            state,
            implementing_organization_id,
            fiscal_year,
            filed_on,
            receipt_number,
            issued,
            trainees,
            had_plans,
            rule_book.filings,
        ),
    )


async def file_visit_record(
    uow: UnitOfWork,
    implementing_organization_id: UUID,
    *,
    month: date,
    visited_on: date,
    filed_on: date,
    supervising_organization_id: UUID | None = None,
    rule_book: RuleBook = tp.DEFAULT_RULES,
    filer: str | None = None,
) -> Outcome:
    """The supervising organization's record of its monthly visit to an employer with a stage-i plan under it. A
    supervising organization files its own (`filer`); an officer names the organization, or it is the one
    organization the employer had a stage-i plan under in the month."""
    await _check_filing_filer(uow.conn, filer, implementing_organization_id)
    under = await filing_views.stage_i_supervisors(uow.conn, implementing_organization_id, month)
    supervisor = fl.visit_supervisor(filer, supervising_organization_id, implementing_organization_id, under)
    return await uow.decide(
        FILING,
        str(fl.visit_record_id(supervisor, implementing_organization_id, month)),
        lambda state: fl.file_visit_record(
            state,
            supervisor,
            implementing_organization_id,
            month,
            visited_on,
            filed_on,
            under.get(str(supervisor), 0),
            rule_book.filings,
        ),
    )


# Fees and debt (issue 25 item 2): what the trainee paid before coming, declared on the plan


async def declare_fees(
    uow: UnitOfWork,
    id: UUID,
    *,
    declared_on: date,
    items: Sequence[FeeItem],
    borrowed_yen: int | None = None,
    employer_share_yen: int | None = None,
    rule_book: RuleBook = tp.DEFAULT_RULES,
    may_see: MaySee = anyone,
) -> Outcome:
    """Record the declaration of what the trainee paid before coming (it replaces the plan's earlier one); above the
    ceiling, the plan's sending organization is flagged in the same transaction. The answer names the declaration.
    A deposit or a penalty contract is refused by its rule (nothing recorded)."""
    declaration_id = uuid4()
    outcome = await uow.decide(
        TRAINING_PLAN,
        str(id),
        _existing(
            id,
            may_see,
            lambda s: plan_fees.declare_fees(
                s,
                declaration_id,
                declared_on,
                items,
                rule_book.fees,
                borrowed_yen=borrowed_yen,
                employer_share_yen=employer_share_yen,
            ),
        ),
    )
    return replace(outcome, stream_id=str(declaration_id))


# Pauses (issue 25 item 3): a plan in progress paused without ending it, and resumed with its remaining period


async def pause(
    uow: UnitOfWork,
    id: UUID,
    *,
    on: date,
    reason: PauseReason,
    detail: str | None = None,
    rule_book: RuleBook = tp.DEFAULT_RULES,
    may_see: MaySee = anyone,
) -> Outcome:
    """Pause the plan from `on`; the filer's `detail` is sealed with the trainee's key (ADR 0002)."""
    state, _ = await uow.load(TRAINING_PLAN, str(id))
    plan = _visible(state, id, may_see)
    trainee_id = plan.application.trainee_id
    sealed = (
        await personal_data.sealed_for_trainee(uow.conn, trainee_id, PauseDetail(detail=detail), "a pause's detail")
        if detail
        else None
    )
    return await uow.decide(
        TRAINING_PLAN,
        str(id),
        _existing(id, may_see, lambda s: pauses.pause(s, on, reason, sealed, rule_book.pause_reasons)),
    )


async def resume(uow: UnitOfWork, id: UUID, *, on: date, may_see: MaySee = anyone) -> Outcome:
    """Resume the paused plan on `on`: its end moves by the days paused."""
    return await uow.decide(TRAINING_PLAN, str(id), _existing(id, may_see, lambda s: pauses.resume(s, on)))


# Early returns home (issue 25 item 1): on the plan's stream; the employer's rate of flagged returns on its own

EARLY_RETURN_RATE_FLAGS = Aggregate("employer-early-return-rate", EarlyReturnRate(), evolve_rate)


async def file_early_return_home(
    uow: UnitOfWork,
    id: UUID,
    early_return_id: UUID,
    *,
    returned_on: date,
    filed_on: date,
    reason: EarlyReturnReason,
    confirmation: EarlyReturnConfirmation | None = None,
    detail: str | None = None,
    statement: str | None = None,
    difficulty_notice_id: UUID | None = None,
    rule_book: RuleBook = tp.DEFAULT_RULES,
    filer: str | None = None,
    may_see: MaySee = anyone,
) -> Outcome:
    """The trainee's return home before the plan's end, filed as the notice of difficulty for this cause: by the
    plan's supervising organization (type (b)) or its employer (type (a)), or an officer (`filer` None); the filer's
    `detail` and the trainee's `statement` sealed with the trainee's key. Confirmed, the plan ends with it; flagged,
    the employer's rate of flagged returns is decided again (`EmployerEarlyReturnRateExceeded` above it)."""
    state, _ = await uow.load(TRAINING_PLAN, str(id))
    plan = _visible(state, id, may_see)
    if filer is not None:
        facts = await filing_views.plan_facts(uow.conn, id)
        assert facts is not None, "a plan the filer may see is in the read model"
        fl.check_difficulty_filer(filer, facts)
    words = await early_return_views.sealed_words(
        uow.conn, plan.application.trainee_id, EarlyReturnWords(detail=detail, statement=statement)
    )
    notice_plan = (
        await early_return_views.difficulty_notice_plan(uow.conn, difficulty_notice_id)
        if difficulty_notice_id
        else None
    )
    outcome = await uow.decide(
        TRAINING_PLAN,
        str(id),
        _existing(
            id,
            may_see,
            lambda s: file_early_return(
                s,
                id,
                early_return_id,
                returned_on=returned_on,
                filed_on=filed_on,
                reason=reason,
                confirmation=confirmation,
                words=words,
                difficulty_notice_id=difficulty_notice_id,
                notice_plan_id=notice_plan,
            ),
        ),
    )
    if len(outcome.events) == 1:  # flagged: the plan goes on
        await flag_early_return_rate(
            uow.unpinned(), plan.application.implementing_organization_id, on=returned_on, rule_book=rule_book
        )
    return replace(outcome, stream_id=str(early_return_id))


async def decide_flagged_early_return(
    uow: UnitOfWork,
    id: UUID,
    *,
    decided_on: date,
    decision: EarlyReturnDecision,
    reason: str,
    may_see: MaySee = anyone,
) -> Outcome:
    """An officer accepts the flagged early return (the plan ends on the day of the return) or refuses it."""
    return await uow.decide(
        TRAINING_PLAN,
        str(id),
        _existing(
            id, may_see, lambda s: decide_early_return(s, decided_on=decided_on, decision=decision, reason=reason)
        ),
    )


async def flag_early_return_rate(
    uow: UnitOfWork, implementing_organization_id: UUID, *, on: date, rule_book: RuleBook = tp.DEFAULT_RULES
) -> Outcome:
    """Put the employer on the inspection worklist when its flagged early returns in the window ending `on` are above
    the rule book's rate (once per window)."""
    rules = rule_book.early_returns
    await lock(uow.conn, IMPLEMENTING_ORGANIZATION_LOCK, implementing_organization_id)
    returns, plans = await early_return_views.employer_rate(
        uow.conn, implementing_organization_id, rules.window_from(on), on
    )
    return await uow.decide(
        EARLY_RETURN_RATE_FLAGS,
        early_return_rate_stream_id(implementing_organization_id),
        lambda state: flag_rate(state, implementing_organization_id, on=on, returns=returns, plans=plans, rules=rules),
    )
