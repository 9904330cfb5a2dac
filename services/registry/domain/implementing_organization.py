"""The implementing organization (実習実施者): the employer that trains the interns (DOMAIN §3), and under
Employment for Skill Development employs the workers (育成就労実施者, DOMAIN §9).

Staff numbers, the excellent rating and the supervision per scheme change over time; each is kept as a
history in date order, and the latest by date is the current one (quotas use it). A type (b) registration
names its TITP supervising organization from the day it registers; `SupervisionChanged` moves it to another
one, or puts the employer under a supervision support organization for ESD, from a date.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TypeVar
from uuid import UUID

from contracts.registry import (
    ExcellenceRated,
    ImplementingOrganizationRegistered,
    Scheme,
    StabilityRecognitionRecorded,
    StaffCountRecorded,
    Supervision,
    SupervisionChanged,
    SupervisionEnded,
    SupervisionStep,
    TrainingType,
    supervision_periods,
)
from services.registry.domain.identity import check_corporate_number, check_prefecture, prefecture_code, violation
from services.registry.domain.permit import PermitState, permit_in_force
from services.registry.domain.rules import ALONGSIDE_ALLOWED
from services.registry.domain.supervising_organization import SupervisingOrganization
from shared.errors import DomainRuleViolation
from shared.events import EventPayload

Events = list[EventPayload]  # what a decision records
Dated = TypeVar("Dated", StaffCountRecorded, ExcellenceRated, StabilityRecognitionRecorded)
SUPERVISOR = {Scheme.TITP: "supervising organization", Scheme.ESD: "supervision support organization"}


# One supervision (TITP) or support (ESD) of the employer by one organization, from its first day to its last
# (`until`; None: not ended): the contract's reading of the supervision events (contracts.registry).
Membership = Supervision


def memberships(changes: tuple[SupervisionChanged, ...], ends: tuple[SupervisionEnded, ...]) -> tuple[Membership, ...]:
    """The memberships the recorded changes and ends make (`supervision_periods`), in order of their first day."""
    found = supervision_periods(
        [
            SupervisionStep(c.scheme, c.supervising_organization_id, c.effective_from, alongside=c.alongside)
            for c in changes
        ]
        + [SupervisionStep(e.scheme, e.supervising_organization_id, e.effective_until, ended=True) for e in ends]
    )
    return tuple(sorted(found, key=lambda m: (m.from_date or date.min, m.until is None, m.until or date.min)))


@dataclass(frozen=True)
class ImplementingOrganization:
    registration: ImplementingOrganizationRegistered | None = None
    staff_history: tuple[StaffCountRecorded, ...] = ()
    rating_history: tuple[ExcellenceRated, ...] = ()
    supervision_history: tuple[SupervisionChanged, ...] = ()  # both schemes, in date order
    stability_history: tuple[StabilityRecognitionRecorded, ...] = ()  # type (a), in date order
    supervision_ends: tuple[SupervisionEnded, ...] = ()  # both schemes, in date order

    @property
    def exists(self) -> bool:
        return self.registration is not None

    @property
    def memberships(self) -> tuple[Membership, ...]:
        """Every supervision (both schemes) with its first and last day, in order of the first."""
        return memberships(self.supervision_history, self.supervision_ends)

    def current(self, scheme: Scheme) -> tuple[Membership, ...]:
        """The scheme's supervisions not ended (more than one where the employer joined one alongside)."""
        return tuple(m for m in self.memberships if m.scheme is scheme and m.until is None)

    def member_on(self, scheme: Scheme, organization_id: UUID, day: date) -> Membership | None:
        return next(
            (
                m
                for m in self.memberships
                if m.scheme is scheme and m.organization_id == organization_id and m.covers(day)
            ),
            None,
        )

    def supervision(self, scheme: Scheme) -> SupervisionChanged | None:
        """The scheme's supervision not ended that began last (the current one, as with staff counts)."""
        current = self.current(scheme)
        if not current:
            return None
        latest = current[-1]
        return SupervisionChanged(
            supervising_organization_id=latest.organization_id,
            scheme=scheme,
            effective_from=latest.from_date,
            alongside=latest.alongside,
        )

    def supervised_during(self, scheme: Scheme, organization_id: UUID, first: date, last: date) -> bool:
        """Was the employer supervised (TITP) or supported (ESD) by `organization_id` on some day from `first`
        to `last`? Each supervision lasts until it ends, or until a move to another organization of the scheme."""
        return any(
            m.scheme is scheme and m.organization_id == organization_id and m.overlaps(first, last)
            for m in self.memberships
        )

    @property
    def staff(self) -> StaffCountRecorded:
        return self.staff_history[-1]

    @property
    def rating(self) -> ExcellenceRated:
        return self.rating_history[-1]

    @property
    def stability(self) -> StabilityRecognitionRecorded:
        """Type (a): whether the Ministers recognise the company as stable, the latest by date."""
        return self.stability_history[-1]


def _in_date_order(history: tuple[Dated, ...], entry: Dated) -> tuple[Dated, ...]:
    # A stable sort: of two entries for one date, the one recorded later counts.
    return tuple(sorted(history + (entry,), key=lambda e: e.as_of))


def _supervision_in_date_order(
    history: tuple[SupervisionChanged, ...], entry: SupervisionChanged
) -> tuple[SupervisionChanged, ...]:
    return tuple(sorted(history + (entry,), key=lambda e: e.effective_from))


def evolve(state: ImplementingOrganization, event: EventPayload) -> ImplementingOrganization:
    match event:
        case ImplementingOrganizationRegistered():
            return replace(
                state,
                registration=event.model_copy(update={"prefecture": prefecture_code(event.prefecture)}),
                staff_history=(StaffCountRecorded(full_time_staff=event.full_time_staff, as_of=event.staff_as_of),),
                rating_history=(ExcellenceRated(excellent=event.excellent, as_of=event.registered_on),),
                stability_history=(
                    StabilityRecognitionRecorded(recognised=event.stability_recognised, as_of=event.registered_on),
                ),
                supervision_history=()
                if event.supervising_organization_id is None
                else (
                    SupervisionChanged(
                        supervising_organization_id=event.supervising_organization_id,
                        scheme=Scheme.TITP,
                        effective_from=event.registered_on,
                    ),
                ),
            )
        case StaffCountRecorded():
            return replace(state, staff_history=_in_date_order(state.staff_history, event))
        case ExcellenceRated():
            return replace(state, rating_history=_in_date_order(state.rating_history, event))
        case StabilityRecognitionRecorded():
            return replace(state, stability_history=_in_date_order(state.stability_history, event))
        case SupervisionChanged():
            return replace(state, supervision_history=_supervision_in_date_order(state.supervision_history, event))
        case SupervisionEnded():
            ends = tuple(sorted(state.supervision_ends + (event,), key=lambda e: e.effective_until))
            return replace(state, supervision_ends=ends)
    return state


def register_implementing_organization(
    state: ImplementingOrganization,
    registration: ImplementingOrganizationRegistered,
    supervising_organization: SupervisingOrganization | None,
) -> Events:
    """`supervising_organization`: the one named by a type (b) registration, as recorded."""
    if state.exists:
        raise DomainRuleViolation(
            "implementing_organization.already_registered", "this implementing organization is already registered"
        )
    if registration.training_type is TrainingType.B and not (
        supervising_organization and supervising_organization.exists
    ):
        raise DomainRuleViolation(
            "implementing_organization.supervising_organization_unknown",
            f"no supervising organization {registration.supervising_organization_id} is registered",
        )
    check_corporate_number(registration.corporate_number)
    registration = registration.model_copy(update={"prefecture": check_prefecture(registration.prefecture)})
    if registration.stability_recognised and registration.training_type is not TrainingType.A:
        raise _stability_type_a_only()
    return [registration]


def record_staff_count(state: ImplementingOrganization, full_time_staff: int, as_of: date) -> Events:
    return [StaffCountRecorded(full_time_staff=full_time_staff, as_of=as_of)]


def rate_excellence(state: ImplementingOrganization, excellent: bool, as_of: date) -> Events:
    return [ExcellenceRated(excellent=excellent, as_of=as_of)]


def _stability_type_a_only() -> DomainRuleViolation:
    return violation(
        "stability.type_a_only",
        "the Ministers' recognition of a stable company concerns type (a) (enterprise-sponsored) quotas only",
        "stability_recognised",
    )


def record_stability_recognition(state: ImplementingOrganization, recognised: bool, as_of: date) -> Events:
    """Type (a): from `as_of` the company is (or is no longer) recognised as stable (DOMAIN §11, §3)."""
    registration = state.registration
    assert registration is not None, "an implementing organization that never registered"
    if registration.training_type is not TrainingType.A:
        raise _stability_type_a_only()
    if as_of < registration.registered_on:
        raise violation(
            "stability.before_registration",
            f"as_of {as_of} is before the registration on {registration.registered_on}",
            "as_of",
        )
    return [StabilityRecognitionRecorded(recognised=recognised, as_of=as_of)]


def change_supervision(
    state: ImplementingOrganization,
    change: SupervisionChanged,
    supervisor: PermitState,
    alongside_allowed: dict[Scheme, bool] = ALONGSIDE_ALLOWED,
) -> Events:
    """From `change.effective_from` the employer is supervised (TITP) or supported (ESD) by the organization
    `supervisor` (its permit as recorded, of the scheme's kind), which must hold that scheme's permit in force
    on that day. A type (a) organization trains its own interns under TITP: it has no supervising organization.
    With `alongside` the employer joins the organization besides those it has (where the scheme allows more than
    one: `alongside_allowed`), else it moves to it."""
    registration = state.registration
    assert registration is not None, "an implementing organization that never registered"
    noun = SUPERVISOR[change.scheme]
    if change.alongside and not alongside_allowed.get(change.scheme, False):
        raise violation(
            "supervision.one_at_a_time",
            f"under {change.scheme.value.upper()} an employer has one {noun} at a time: move to it (alongside false)",
            "alongside",
        )
    if change.alongside and (
        member := state.member_on(change.scheme, change.supervising_organization_id, change.effective_from)
    ):
        raise violation(
            "supervision.already_member",
            f"the employer is already under the {noun} {change.supervising_organization_id} on"
            f" {change.effective_from} (since {member.from_date})",
            "supervising_organization_id",
        )
    if change.effective_from < registration.registered_on:
        raise DomainRuleViolation(
            "supervision.before_registration",
            f"from {change.effective_from} is before the registration on {registration.registered_on}",
        )
    if change.scheme is Scheme.TITP and registration.training_type is TrainingType.A:
        raise DomainRuleViolation(
            "supervision.enterprise_sponsored",
            "a type a (enterprise-sponsored) implementing organization has no supervising organization under TITP",
        )
    if not supervisor.exists:
        raise DomainRuleViolation(
            "supervision.organization_unknown", f"no {noun} {change.supervising_organization_id} is registered"
        )
    if not permit_in_force(supervisor, change.effective_from):
        raise DomainRuleViolation(
            "supervision.permit_not_in_force",
            f"the {noun} {change.supervising_organization_id} holds no {change.scheme.value.upper()} permit in force"
            f" on {change.effective_from}",
        )
    return [change]


def end_supervision(state: ImplementingOrganization, end: SupervisionEnded) -> Events:
    """The employer's supervision (TITP) or support (ESD) by one organization ends on `end.effective_until` (its
    last day): only one it has, not ended, begun by then. Its other supervisions carry on."""
    noun = SUPERVISOR[end.scheme]
    member = next(
        (m for m in state.current(end.scheme) if m.organization_id == end.supervising_organization_id),
        None,
    )
    if member is None:
        raise violation(
            "supervision.not_member",
            f"the employer has no {end.scheme.value.upper()} supervision by the {noun}"
            f" {end.supervising_organization_id} to end",
            "supervising_organization_id",
        )
    if member.from_date is not None and end.effective_until < member.from_date:
        raise violation(
            "supervision.end_before_start",
            f"until {end.effective_until} is before the supervision's first day {member.from_date}",
            "until",
        )
    return [end]
