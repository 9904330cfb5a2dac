"""The implementing organization's evaluation report (評価調書) on a trainee's TITP stage ii, as immigration
receives it (DOMAIN §11): for Specified Skilled Worker (i) it stands in for grade 3 passed.

One stream per stage-ii plan (`evaluation_report_id`); the state is its one event, or None before it.
"""

from datetime import date
from uuid import UUID

from contracts.registry import Scheme
from contracts.visa import EvaluationReportReceived
from services.visa.domain.known import KnownPlan
from services.visa.domain.rules import SSW_QUALIFYING_STAGE
from shared.errors import DomainRuleViolation
from shared.events import EventPayload


def evolve(state: EvaluationReportReceived | None, event: EventPayload) -> EvaluationReportReceived | None:
    return event if isinstance(event, EvaluationReportReceived) else state


def receive_evaluation_report(
    state: EvaluationReportReceived | None, plan_id: UUID, plan: KnownPlan | None, written_on: date, received_on: date
) -> list[EventPayload]:
    """A report on a known TITP stage-ii plan, written before it was received; one per plan."""
    if state is not None:
        raise DomainRuleViolation(
            "evaluation_report.already_received",
            f"the evaluation report on plan {plan_id} was received on {state.received_on}",
        )
    if plan is None:
        raise DomainRuleViolation(
            "evaluation_report.plan_unknown", f"no training plan {plan_id} is known from titp.accreditation.v1 (yet)"
        )
    if plan.scheme is not Scheme.TITP or plan.stage is not SSW_QUALIFYING_STAGE:
        raise DomainRuleViolation(
            "evaluation_report.stage_ii_only",
            f"an evaluation report is on a TITP stage-{SSW_QUALIFYING_STAGE} plan; this one is"
            f" {plan.scheme} {plan.stage or ''}".rstrip(),
        )
    if written_on > received_on:
        raise DomainRuleViolation(
            "evaluation_report.received_before_written",
            f"received_on {received_on} is before the report was written on {written_on}",
        )
    return [
        EvaluationReportReceived(
            training_plan_id=plan_id, trainee_id=plan.trainee_id, written_on=written_on, received_on=received_on
        )
    ]
