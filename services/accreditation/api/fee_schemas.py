"""Request and response models of the fees routes (issue 25 item 2): a module of their own beside schemas.py, which
imports `PlanFees` for the plan's document."""

from datetime import date
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from contracts.accreditation import FeeDeclarant, FeeItem, FeeKind, FeeRecipient
from shared.web.http import Body


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid")


# Requests


class DeclaredFee(Body):
    """One payment the trainee made before coming, in yen (a payment in another currency converted at the rate of the
    day it was paid). `deposit` and `penalty_contract` are forbidden: 409 `fees.deposit_forbidden` /
    `fees.penalty_contract_forbidden`, nothing recorded."""

    model_config = ConfigDict(extra="forbid")

    kind: FeeKind
    recipient: FeeRecipient
    recipient_name: str | None = Field(
        default=None, max_length=200, description="The receiving organization's or business's name; never a person's"
    )
    purpose: str = Field(min_length=1, max_length=500)
    amount_yen: int = Field(ge=0, le=100_000_000)
    declared_by: FeeDeclarant = Field(
        description="Whose statement it is: the sending organization's, or the supervising organization's own"
    )

    def item(self) -> FeeItem:
        return FeeItem(**self.model_dump())


class DeclareFees(Body):
    """What the trainee paid before coming, complete as known on `declared_on`: it replaces the plan's earlier
    declaration (an empty `items`: nothing paid). Above the ceiling (configurable; default ¥700,000, ESD two months of
    the plan's wage) the plan's sending organization is flagged."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "declared_on": "2026-11-20",
                    "items": [
                        {
                            "kind": "sending_fee",
                            "recipient": "sending_organization",
                            "purpose": "placement fee",
                            "amount_yen": 320000,
                            "declared_by": "sending_organization",
                        },
                        {
                            "kind": "pre_entry_training",
                            "recipient": "language_school",
                            "recipient_name": "Hanoi Japanese Center",
                            "purpose": "4 months of Japanese before entry",
                            "amount_yen": 95000,
                            "declared_by": "supervising_organization",
                        },
                    ],
                    "borrowed_yen": 300000,
                }
            ]
        },
    )

    declared_on: date
    items: list[DeclaredFee] = Field(max_length=50)
    borrowed_yen: int | None = Field(
        default=None, ge=0, description="Of the total, what the trainee borrowed to pay (their debt on coming)"
    )
    employer_share_yen: int | None = Field(
        default=None,
        ge=0,
        description="ESD: what the employer bears of the sending organization's fees for this worker (recorded, never"
        " refused; for a TITP plan 409 `fees.employer_share_esd_only`)",
    )


# Responses


class EarlierDeclaration(_Document):
    declaration_id: UUID
    declared_on: date
    total_yen: int
    above_ceiling: bool


class PlanFees(_Document):
    """What the trainee paid before coming, by the declaration that stands."""

    declaration_id: UUID
    declared_on: date
    sending_organization_id: UUID | None
    items: list[FeeItem]
    total_yen: int
    borrowed_yen: int | None
    employer_share_yen: int | None = Field(description="ESD: the employer's share of the sending organization's fees")
    employer_share_expected_yen: int | None = Field(description="ESD: the share the rule book expects (configurable)")
    ceiling_yen: int = Field(description="The ceiling it was judged by")
    above_ceiling: bool
    sending_organization_flagged_on: date | None = Field(
        description="The day a declaration above the ceiling flagged the plan's sending organization (once per plan)"
    )
    earlier: list[EarlierDeclaration] = Field(description="The declarations it replaced, oldest first")


class PlanFeesDocument(_Document):
    training_plan_id: UUID
    fees: PlanFees | None = Field(description="null: no declaration (yet)")
    version: int = Field(description="The plan's version; also the ETag")


class FeeGroup(_Document):
    key: str = Field(description="The sending organization's id (`none`: plans naming none, type a), or the country")
    country: str | None = Field(default=None, description="By sending organization: its country (null by country)")
    plans: int = Field(description="Plans with a declaration")
    total_yen: int
    mean_yen: int = Field(description="Per plan, rounded to the yen")
    max_yen: int
    plans_above_ceiling: int
    borrowed_yen: int = Field(description="What the trainees declared borrowed, in all")
    flagged_on: date | None = Field(description="The first day a plan of the group flagged its sending organization")


class FeeTotals(_Document):
    plans: int
    total_yen: int
    mean_yen: int
    max_yen: int
    plans_above_ceiling: int
    borrowed_yen: int
    flagged_on: date | None


class FeeStatistics(_Document):
    by: Literal["sending_organization", "country"]
    where: dict[str, str] = Field(description="The filters given (from, to: months of the plans' start; scheme)")
    groups: list[FeeGroup] = Field(description="With `flagged`, only the groups with (or without) a flag")
    all: FeeTotals = Field(description="Every plan of the months and scheme, whatever `flagged`")
