"""A sending agreement: the only way a supervising organization (TITP) or a supervision support
organization (ESD) may accept trainees or workers from a sending organization (DOMAIN §2, §9). Signed
under a permit in force with an approved sending organization; ended when that approval is withdrawn."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal
from uuid import UUID

from contracts.registry import SendingAgreementEnded, SendingAgreementSigned
from services.registry.domain.permit import PermitState, permit_in_force
from services.registry.domain.sending_organization import SendingOrganization
from shared.errors import DomainRuleViolation
from shared.events import EventPayload

Events = list[EventPayload]  # what a decision records
Status = Literal["in_force", "ended"]


@dataclass(frozen=True)
class SendingAgreement:
    signature: SendingAgreementSigned | None = None
    end: SendingAgreementEnded | None = None

    @property
    def exists(self) -> bool:
        return self.signature is not None

    @property
    def status(self) -> Status:
        return "ended" if self.end else "in_force"


def evolve(state: SendingAgreement, event: EventPayload) -> SendingAgreement:
    match event:
        case SendingAgreementSigned():
            return replace(state, signature=event)
        case SendingAgreementEnded():
            return replace(state, end=event)
    return state


def sign_sending_agreement(
    state: SendingAgreement,
    signature: SendingAgreementSigned,
    supervising_organization: PermitState,
    sending_organization: SendingOrganization,
    agreement_in_force: UUID | None,
) -> Events:
    """`agreement_in_force`: an agreement between the same two organizations that has not ended."""
    signed_on = signature.signed_on
    if state.exists:
        raise DomainRuleViolation("sending_agreement.already_signed", "this sending agreement is already signed")
    if not permit_in_force(supervising_organization, signed_on):
        raise DomainRuleViolation(
            "sending_agreement.permit_not_in_force",
            f"the supervising organization has no permit in force on {signed_on}",
        )
    approval = sending_organization.approval
    if approval is None or approval.approved_on > signed_on:
        raise DomainRuleViolation(
            "sending_agreement.sending_organization_not_approved",
            f"sending organization {signature.sending_organization_id} is not approved"
            + (f" before {approval.approved_on}" if approval else ""),
        )
    if sending_organization.withdrawal:
        raise DomainRuleViolation(
            "sending_agreement.sending_organization_withdrawn",
            f"the sending organization's approval was withdrawn on {sending_organization.withdrawal.withdrawn_on}",
        )
    if agreement_in_force:
        raise DomainRuleViolation(
            "sending_agreement.already_in_force",
            f"these organizations already have sending agreement {agreement_in_force}",
        )
    return [signature]


def end_sending_agreement(state: SendingAgreement, ended_on: date, reason: str) -> Events:
    if state.end:
        raise DomainRuleViolation("sending_agreement.already_ended", f"the agreement ended on {state.end.ended_on}")
    signature = state.signature
    if signature is None:
        raise DomainRuleViolation("sending_agreement.not_signed", "this sending agreement was never signed")
    if ended_on < signature.signed_on:
        raise DomainRuleViolation(
            "sending_agreement.ended_before_signed",
            f"ended_on {ended_on} is before the signing on {signature.signed_on}",
        )
    return [SendingAgreementEnded(ended_on=ended_on, reason=reason)]
