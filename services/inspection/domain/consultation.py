"""One trainee consultation: state, evolve, and one decide function per command (DOMAIN §7, issue 20 item 5).

    received (recorded) -> in handling (handled, not closed) -> closed (handled with `closed`)

A trainee may consult OTIT in their own language; OTIT records what was said (no names), what it did about it,
and may open an extraordinary inspection (reason: complaint) of the implementing or the supervising organization
the consultation names, once. Consultations stay with OTIT: no organization reads them (the trainee's protection).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import NoReturn
from uuid import UUID

from contracts.inspection import (
    ConsultationChannel,
    ConsultationEscalated,
    ConsultationHandled,
    ConsultationRecorded,
    ConsultationSubject,
    TargetType,
)
from shared.errors import DomainRuleViolation
from shared.events import EventPayload

# ISO 639-1: the two-letter language codes (bh, deprecated, left out).
ISO_639_1 = frozenset(
    """
    aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ee el en
    eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ik io is it iu ja
    jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb
    nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq
    sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
    """.split()
)

ESCALATION_TARGETS = frozenset({TargetType.IMPLEMENTING_ORGANIZATION, TargetType.SUPERVISING_ORGANIZATION})


class ConsultationStatus(StrEnum):
    RECEIVED = "received"  # recorded, nothing done yet
    IN_HANDLING = "in_handling"  # handled at least once, not closed
    CLOSED = "closed"


@dataclass(frozen=True)
class Handling:
    handled_on: date
    handling: str
    closed: bool


@dataclass(frozen=True)
class Escalation:
    escalated_on: date
    inspection_id: UUID
    target_type: TargetType
    target_id: UUID


@dataclass(frozen=True)
class Consultation:
    """One consultation. `Consultation()` is one not recorded yet (`exists` is false)."""

    received_on: date = date.min
    language: str = ""
    channel: ConsultationChannel = ConsultationChannel.OTHER
    subject: ConsultationSubject = ConsultationSubject.OTHER
    summary: str = ""
    trainee_id: UUID | None = None
    training_plan_id: UUID | None = None
    implementing_organization_id: UUID | None = None
    supervising_organization_id: UUID | None = None
    status: ConsultationStatus | None = None
    handlings: tuple[Handling, ...] = ()
    closed_on: date | None = None
    escalation: Escalation | None = None

    @property
    def exists(self) -> bool:
        return self.status is not None

    def organization(self, target_type: TargetType) -> UUID | None:
        """The organization of `target_type` the consultation names, if any."""
        if target_type is TargetType.IMPLEMENTING_ORGANIZATION:
            return self.implementing_organization_id
        if target_type is TargetType.SUPERVISING_ORGANIZATION:
            return self.supervising_organization_id
        return None


def evolve(state: Consultation, event: EventPayload) -> Consultation:
    match event:
        case ConsultationRecorded():
            return replace(
                state,
                received_on=event.received_on,
                language=event.language,
                channel=event.channel,
                subject=event.subject,
                summary=event.summary,
                trainee_id=event.trainee_id,
                training_plan_id=event.training_plan_id,
                implementing_organization_id=event.implementing_organization_id,
                supervising_organization_id=event.supervising_organization_id,
                status=ConsultationStatus.RECEIVED,
            )
        case ConsultationHandled():
            return replace(
                state,
                handlings=(*state.handlings, Handling(event.handled_on, event.handling, event.closed)),
                status=ConsultationStatus.CLOSED if event.closed else ConsultationStatus.IN_HANDLING,
                closed_on=event.handled_on if event.closed else None,
            )
        case ConsultationEscalated():
            return replace(
                state,
                escalation=Escalation(event.escalated_on, event.inspection_id, event.target_type, event.target_id),
            )
    return state


def _refuse(rule: str, detail: str) -> NoReturn:
    raise DomainRuleViolation(rule, detail)


# Decisions. Each returns the events to record or raises DomainRuleViolation naming the rule.


def record(
    state: Consultation, recorded: ConsultationRecorded, *, plan_employer: UUID | None = None
) -> list[EventPayload]:
    """Record the consultation. `plan_employer`: the implementing organization of the training plan it names, if
    this service knows the plan (from its certification); the consultation names that organization, or none (then
    it is recorded as naming it, so an inspection of the employer can be opened from it)."""
    if state.exists:
        _refuse("consultation.already_recorded", "this consultation is already recorded")
    if recorded.language not in ISO_639_1:
        _refuse("consultation.language", f"language: {recorded.language!r} is no ISO 639-1 code (e.g. vi, zh, id)")
    if plan_employer is not None and recorded.implementing_organization_id is None:
        recorded = recorded.model_copy(update={"implementing_organization_id": plan_employer})
    if plan_employer is not None and recorded.implementing_organization_id != plan_employer:
        _refuse(
            "consultation.plan_of_another_employer",
            f"implementing_organization_id: training plan {recorded.training_plan_id} is implementing organization"
            f" {plan_employer}'s, not {recorded.implementing_organization_id}'s",
        )
    return [recorded]


def handle(state: Consultation, *, handled_on: date, handling: str, closed: bool) -> list[EventPayload]:
    """Record what OTIT did; `closed` ends the consultation."""
    if state.status is ConsultationStatus.CLOSED:
        _refuse("consultation.closed", f"this consultation was closed on {state.closed_on}")
    if handled_on < state.received_on:
        _refuse(
            "consultation.handled_before_received",
            f"handled_on {handled_on} is before the consultation was received on {state.received_on}",
        )
    if state.handlings and handled_on < state.handlings[-1].handled_on:
        _refuse(
            "consultation.handled_before_previous",
            f"handled_on {handled_on} is before the previous handling on {state.handlings[-1].handled_on}",
        )
    return [ConsultationHandled(handled_on=handled_on, handling=handling, closed=closed)]


def escalate(
    state: Consultation, *, escalated_on: date, inspection_id: UUID, target_type: TargetType
) -> list[EventPayload]:
    """Open an extraordinary inspection of an organization the consultation names (the inspection itself is
    scheduled beside this event, commands.escalate_consultation); once per consultation, closed or not (a
    consultation closed by OTIT's advice may still show a breach worth inspecting)."""
    if state.escalation is not None:
        _refuse(
            "consultation.inspection_open",
            f"inspection {state.escalation.inspection_id} was already opened from this consultation"
            f" on {state.escalation.escalated_on}",
        )
    if target_type not in ESCALATION_TARGETS:
        _refuse(
            "consultation.target_type",
            f"target_type: a consultation leads to an inspection of an implementing or a supervising organization,"
            f" not a {target_type}",
        )
    target_id = state.organization(target_type)
    if target_id is None:
        _refuse("consultation.organization_not_named", f"target_type: the consultation names no {target_type}")
    if escalated_on < state.received_on:
        _refuse(
            "consultation.escalated_before_received",
            f"escalated_on {escalated_on} is before the consultation was received on {state.received_on}",
        )
    return [
        ConsultationEscalated(
            escalated_on=escalated_on, inspection_id=inspection_id, target_type=target_type, target_id=target_id
        )
    ]
