"""The sending organization (送出機関), until withdrawn (DOMAIN §1, §11): recommended by a public body of its country
(the Ordinance's standards for a foreign sending organization); from a country with a Memorandum of Cooperation
(MoC) also on that government's certified list. An MoC is no legal precondition: a country without one (e.g. CN)
may send through an organization with the recommendation."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from contracts.registry import SendingOrganizationApproved, SendingOrganizationWithdrawn
from services.registry.domain import sending_rules
from services.registry.domain.identity import violation
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
    if not (approval.recommendation_reference or "").strip():
        raise violation(
            "sending_organization.recommendation_required",
            "a sending organization needs the recommendation of a public body of its country"
            " (recommendation_reference)",
            "recommendation_reference",
        )
    if sending_rules.has_moc(approval.country, moc_countries) and not (approval.approval_reference or "").strip():
        raise violation(
            "sending_organization.approval_required",
            f"{approval.country} has a Memorandum of Cooperation with Japan: its sending organizations are on its"
            " government's certified list (approval_reference)",
            "approval_reference",
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
