"""Request and response models of early returns home and of the disappearance and death counts per employer
(issue 25 items 1 and 4)."""

from datetime import date
from typing import Literal, Self
from uuid import UUID

from pydantic import ConfigDict, Field, model_validator

from contracts.accreditation import EarlyReturnConfirmation, EarlyReturnFlag, EarlyReturnReason
from services.accreditation.api.schemas import Document
from shared.web.http import Body

EarlyReturnStatus = Literal["confirmed", "flagged", "accepted", "refused"]


class TraineeConfirmation(Body):
    """The trainee's confirmation of their wish to go home, taken in their language before the return."""

    confirmed_on: date
    language: str = Field(pattern=r"^[a-z]{2}$", description="ISO 639-1: vi, id, zh, tl, my, ...")
    taken_by: str = Field(
        min_length=1, max_length=200, description="An office and a title (an interpreter, an officer), not a name"
    )
    wish_stated: bool = Field(description="The trainee stated their wish in their own words, and they were recorded")
    contested: bool = Field(description="The trainee contests the return")
    statement: str | None = Field(
        default=None,
        min_length=1,
        max_length=4000,
        description="The trainee's own words, in their language: kept sealed with the trainee's key",
    )

    @model_validator(mode="after")
    def _words_are_a_stated_wish(self) -> Self:
        if self.statement is not None and not self.wish_stated:
            raise ValueError("a statement is the trainee's own words: give wish_stated true with it")
        return self

    def confirmation(self) -> EarlyReturnConfirmation:
        return EarlyReturnConfirmation(**self.model_dump(exclude={"statement"}))


class FileEarlyReturn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "returned_on": "2027-02-10",
                    "reason": "family",
                    "detail": "the trainee's mother is ill",
                    "confirmation": {
                        "confirmed_on": "2027-02-03",
                        "language": "vi",
                        "taken_by": "Sakura Cooperative, Vietnamese interpreter",
                        "wish_stated": True,
                        "contested": False,
                        "statement": "Tôi muốn về nhà để chăm sóc mẹ.",
                    },
                },
                {"returned_on": "2027-02-10", "reason": "own_wish"},
            ]
        },
    )

    returned_on: date = Field(description="The day the trainee left Japan")
    reason: EarlyReturnReason
    detail: str | None = Field(
        default=None, min_length=1, max_length=2000, description="The filer's detail: kept sealed"
    )
    confirmation: TraineeConfirmation | None = Field(
        default=None,
        description="Without it (or contested, or without the trainee's stated wish) the return is flagged",
    )
    difficulty_notice_id: UUID | None = Field(
        default=None, description="The notice of difficulty about this plan the return follows, if one was filed"
    )
    filed_on: date | None = Field(default=None, description="The day the agency received it; default today (Japan)")


class DecideEarlyReturn(Body):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"decision": "accept", "reason": "the trainee confirmed their wish to OTIT by phone"}]
        },
    )

    decision: Literal["accept", "refuse"]
    reason: str = Field(min_length=1, max_length=2000)
    decided_on: date | None = Field(default=None, description="Default today (Japan)")


class EarlyReturnDecisionShown(Document):
    decided_on: date
    decision: Literal["accepted", "refused"]
    reason: str


class EarlyReturnDocument(Document):
    id: UUID
    training_plan_id: UUID
    trainee_id: UUID
    implementing_organization_id: UUID
    supervising_organization_id: UUID | None
    scheme: str
    returned_on: date
    filed_on: date
    reason: EarlyReturnReason
    confirmation: EarlyReturnConfirmation | None
    flags: list[EarlyReturnFlag] = Field(description="Empty: confirmed by the trainee; else why it is flagged")
    status: EarlyReturnStatus = Field(
        description="confirmed (the plan ended with it), flagged (awaits an officer's decision), accepted (the plan"
        " ended with it), refused"
    )
    difficulty_notice_id: UUID | None
    decision: EarlyReturnDecisionShown | None
    words_recorded: bool = Field(description="The filer's detail or the trainee's words were recorded (sealed)")
    detail: str | None = Field(description="Opened for the agency only; null for organizations and once erased")
    statement: str | None = Field(description="The trainee's own words: opened for the agency only")


class EarlyReturnOrganizationCounts(Document):
    organization_id: UUID | None = Field(description="null: returns from direct-hire plans (no supervising org)")
    returns: int
    flagged: int = Field(description="Unwilling or unexplained: filed without a confirmed, uncontested wish")
    confirmed: int
    by_reason: dict[EarlyReturnReason, int]


class EarlyReturnCounts(Document):
    per: Literal["implementing_organization", "supervising_organization"]
    from_month: str
    to_month: str
    where: dict[str, str] = Field(description="The filters given")
    returns: int
    flagged: int
    confirmed: int
    by_reason: dict[EarlyReturnReason, int]
    organizations: list[EarlyReturnOrganizationCounts] = Field(description="Most returns first")


class EmployerLosses(Document):
    implementing_organization_id: UUID
    disappearances: int
    deaths: int


class FiscalYearLosses(Document):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    fiscal_year: int = Field(description="Named by the year it starts (FY2026: 1 Apr 2026 - 31 Mar 2027)")
    from_: date = Field(alias="from")
    to: date
    disappearances: int
    deaths: int
    implementing_organizations: list[EmployerLosses] = Field(description="Those with one at least; most first")


class LossesPerEmployer(Document):
    where: dict[str, str] = Field(description="The filters given")
    fiscal_years: list[FiscalYearLosses]
