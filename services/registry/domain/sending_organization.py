"""The sending organization (送出機関): approved by its government under an MoC, until withdrawn."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from contracts.registry import SendingOrganizationApproved, SendingOrganizationWithdrawn
from services.registry.domain import sending_rules
from shared.errors import DomainRuleViolation
from shared.events import EventPayload

Events = list[EventPayload]  # what a decision records
Status = Literal["approved", "withdrawn"]


@dataclass(frozen=True)
class SendingOrganization:
    approval: SendingOrganizationApproved | None = None
    withdrawal: SendingOrganizationWithdrawn | None = None

    @property
    def exists(self) -> bool:
        return self.approval is not None

    @property
    def status(self) -> Status:
        return "withdrawn" if self.withdrawal else "approved"


def evolve(state: SendingOrganization, event: EventPayload) -> SendingOrganization:
    match event:
        case SendingOrganizationApproved():
            return replace(state, approval=event)
        case SendingOrganizationWithdrawn():
            return replace(state, withdrawal=event)
    return state


def approve_sending_organization(
    state: SendingOrganization, approval: SendingOrganizationApproved, moc_countries: frozenset[str]
) -> Events:
    if state.exists:
        raise DomainRuleViolation(
            "sending_organization.already_approved", "this sending organization is already approved"
        )
    if not sending_rules.has_moc(approval.country, moc_countries):
        raise DomainRuleViolation(
            "sending_organization.no_moc",
            f"{approval.country} has no Memorandum of Cooperation with Japan"
            f" (MoC countries: {', '.join(sorted(moc_countries))})",
        )
    return [approval]


def withdraw_sending_organization(state: SendingOrganization, reason: str, withdrawn_on: date) -> Events:
    if state.withdrawal:
        raise DomainRuleViolation(
            "sending_organization.already_withdrawn",
            f"the approval was already withdrawn on {state.withdrawal.withdrawn_on}",
        )
    approval = state.approval
    if approval is None:
        raise DomainRuleViolation("sending_organization.not_approved", "this sending organization was never approved")
    if withdrawn_on < approval.approved_on:
        raise DomainRuleViolation(
            "sending_organization.withdrawn_before_approval",
            f"withdrawn_on {withdrawn_on} is before the approval on {approval.approved_on}",
        )
    return [SendingOrganizationWithdrawn(reason=reason, withdrawn_on=withdrawn_on)]
