"""What a trainee paid before coming, and the debt it left (issue 25 item 2; DOMAIN §7): pure.

A plan's fees are a declaration of their own (`TrainingPlanFeesDeclared`, `POST /v1/training-plans/{id}/fees`),
not a field of the application: the application's sealed shape and the plans recorded before stay as they are, and
the fees can be declared or corrected after the application (each declaration is complete and replaces the one
before; the history stays on the plan's stream).

Rules (409, nothing recorded):
- `fees.deposit_forbidden`, `fees.penalty_contract_forbidden`: an item of kind `deposit` (保証金) or
  `penalty_contract` (違約金). Forbidden by Act Art. 47 and the ordinance's standards for sending organizations.
- `fees.plan_rejected`: a rejected application (the trainee never came on it).
- `fees.declared_before_application`: a declaration dated before the plan's application.
- `fees.borrowed_above_total`: more borrowed than paid.
- `fees.employer_share_esd_only`: an employer's share stated for a TITP plan (only ESD has employers share the fees).
- `fees.sending_organization_named`: an item paid to the sending organization of a plan that names none (type a).

Judged, recorded, never refused: the total against the ceiling (`FeeRules.ceiling`), above which the plan's sending
organization is flagged (`SendingOrganizationFeesFlagged`, once per plan); under ESD the employer's share against
the share expected (`FeeRules.employer_share_expected`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING
from uuid import UUID

from contracts.accreditation import (
    FeeItem,
    FeeKind,
    FeeRecipient,
    PlanDetails,
    PlanHeader,
    PlanStatus,
    SendingOrganizationFeesFlagged,
    TrainingPlanFeesDeclared,
)
from contracts.registry import Scheme
from shared.errors import DomainRuleViolation
from shared.events import EventPayload

if TYPE_CHECKING:
    from services.accreditation.domain.training_plan import AppliedPlan

FeeEvent = TrainingPlanFeesDeclared | SendingOrganizationFeesFlagged

# (c) The ceiling on what a TITP trainee pays before coming, per plan. The law sets none for TITP; the Immigration
# Services Agency's survey of 2,184 trainees (Dec 2021 - Apr 2022, published 26 Jul 2022) found ¥542,311 paid on
# average to sending organizations and brokers, ¥688,143 by Vietnamese trainees (the highest of six countries).
# The default flags a plan above the highest country's average: a default, not a figure of the law.
FEE_CEILING_YEN = 700_000
# (c) ESD: the worker's fees are capped at this many months of the plan's monthly wage (the figure reported from the
# 2025 ordinance discussions; not confirmed here, hence configurable). None: ESD uses FEE_CEILING_YEN as TITP does.
ESD_FEE_CEILING_WAGE_MONTHS: int | None = 2
# (c) ESD: the share of the sending organization's fees (the worker's payments to it plus the employer's share) the
# employer is expected to bear. The law says the two share them "appropriately"; half is a default, not a figure.
ESD_EMPLOYER_SHARE_EXPECTED = Fraction(1, 2)


FORBIDDEN = {
    FeeKind.DEPOSIT: ("fees.deposit_forbidden", "a deposit (保証金)"),
    FeeKind.PENALTY_CONTRACT: ("fees.penalty_contract_forbidden", "a penalty contract (違約金)"),
}


@dataclass(frozen=True)
class FeeRules:
    """The configurable numbers of fees (`RuleBook.fees`)."""

    ceiling_yen: int = FEE_CEILING_YEN
    esd_ceiling_wage_months: int | None = ESD_FEE_CEILING_WAGE_MONTHS
    esd_employer_share_expected: Fraction = ESD_EMPLOYER_SHARE_EXPECTED

    def ceiling(self, plan: PlanDetails) -> int:
        """The most a trainee may have paid before coming without flagging the sending organization, in yen."""
        if plan.scheme is Scheme.ESD and self.esd_ceiling_wage_months is not None:
            return self.esd_ceiling_wage_months * plan.monthly_wage
        return self.ceiling_yen

    def employer_share_expected(self, plan: PlanDetails, items: Sequence[FeeItem], employer_share: int) -> int | None:
        """ESD: the share of the sending organization's fees the employer is expected to bear, in yen (rounded
        up); None for TITP."""
        if plan.scheme is not Scheme.ESD:
            return None
        to_sending = sum(i.amount_yen for i in items if i.recipient is FeeRecipient.SENDING_ORGANIZATION)
        expected = (to_sending + employer_share) * self.esd_employer_share_expected
        return -(-expected.numerator // expected.denominator)


@dataclass(frozen=True)
class PlanFees:
    """A plan's fees: the declarations, oldest first (the last one stands), and the flag, once raised."""

    declarations: tuple[TrainingPlanFeesDeclared, ...] = ()
    flag: SendingOrganizationFeesFlagged | None = None

    @property
    def latest(self) -> TrainingPlanFeesDeclared | None:
        return self.declarations[-1] if self.declarations else None


def evolve(plan: AppliedPlan, event: FeeEvent) -> AppliedPlan:
    match event:
        case TrainingPlanFeesDeclared():
            return replace(plan, fees=replace(plan.fees, declarations=(*plan.fees.declarations, event)))
        case SendingOrganizationFeesFlagged():
            return replace(plan, fees=replace(plan.fees, flag=event))


def check_items(items: Sequence[FeeItem]) -> None:
    """Deposits and penalty contracts are forbidden: the first one named is refused with its rule and field."""
    for index, item in enumerate(items):
        if item.kind in FORBIDDEN:
            rule, what = FORBIDDEN[item.kind]
            raise DomainRuleViolation(
                rule,
                f"items[{index}] is {what}: forbidden (Act Art. 47; the standards for sending organizations);"
                " nothing was recorded",
                field=f"items[{index}].kind",
            )


def declare_fees(
    plan: AppliedPlan,
    declaration_id: UUID,
    declared_on: date,
    items: Sequence[FeeItem],
    rules: FeeRules,
    *,
    borrowed_yen: int | None = None,
    employer_share_yen: int | None = None,
) -> list[EventPayload]:
    """Record what the trainee paid; above the ceiling, flag the plan's sending organization (once per plan)."""
    check_items(items)
    application = plan.application
    if plan.status is PlanStatus.REJECTED:
        raise DomainRuleViolation("fees.plan_rejected", "the application was rejected: the trainee never came on it")
    if declared_on < application.applied_on:
        raise DomainRuleViolation(
            "fees.declared_before_application",
            f"declared_on {declared_on} is before the application on {application.applied_on}",
            field="declared_on",
        )
    total = sum(item.amount_yen for item in items)
    if borrowed_yen is not None and borrowed_yen > total:
        raise DomainRuleViolation(
            "fees.borrowed_above_total",
            f"borrowed_yen {borrowed_yen} is more than the {total} yen declared paid",
            field="borrowed_yen",
        )
    if employer_share_yen is not None and application.scheme is not Scheme.ESD:
        raise DomainRuleViolation(
            "fees.employer_share_esd_only",
            "an employer's share of the fees is recorded for ESD plans only",
            field="employer_share_yen",
        )
    sending = application.sending_organization_id
    if sending is None:
        for index, item in enumerate(items):
            if item.recipient is FeeRecipient.SENDING_ORGANIZATION:
                raise DomainRuleViolation(
                    "fees.sending_organization_named",
                    f"items[{index}] was paid to the sending organization, but this plan names none (type a)",
                    field=f"items[{index}].recipient",
                )
    ceiling = rules.ceiling(application)
    above = total > ceiling
    header = {name: getattr(application, name) for name in PlanHeader.model_fields}
    events: list[EventPayload] = [
        TrainingPlanFeesDeclared(
            **header,
            declaration_id=declaration_id,
            declared_on=declared_on,
            sending_organization_id=sending,
            items=tuple(items),
            total_yen=total,
            borrowed_yen=borrowed_yen,
            employer_share_yen=employer_share_yen,
            employer_share_expected_yen=rules.employer_share_expected(application, items, employer_share_yen or 0),
            ceiling_yen=ceiling,
            above_ceiling=above,
        )
    ]
    if above and sending is not None and plan.fees.flag is None:
        events.append(
            SendingOrganizationFeesFlagged(
                **header,
                sending_organization_id=sending,
                declaration_id=declaration_id,
                flagged_on=declared_on,
                total_yen=total,
                ceiling_yen=ceiling,
            )
        )
    return events
