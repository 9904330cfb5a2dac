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
    SupervisionChanged,
    TrainingType,
)
from services.registry.domain.identity import check_corporate_number, check_prefecture, prefecture_code, violation
from services.registry.domain.permit import PermitState, permit_in_force
from services.registry.domain.supervising_organization import SupervisingOrganization
from shared.errors import DomainRuleViolation
from shared.events import EventPayload

Events = list[EventPayload]  # what a decision records
Dated = TypeVar("Dated", StaffCountRecorded, ExcellenceRated, StabilityRecognitionRecorded)
SUPERVISOR = {Scheme.TITP: "supervising organization", Scheme.ESD: "supervision support organization"}


@dataclass(frozen=True)
class ImplementingOrganization:
    registration: ImplementingOrganizationRegistered | None = None
    staff_history: tuple[StaffCountRecorded, ...] = ()
    rating_history: tuple[ExcellenceRated, ...] = ()
    supervision_history: tuple[SupervisionChanged, ...] = ()  # both schemes, in date order
    stability_history: tuple[StabilityRecognitionRecorded, ...] = ()  # type (a), in date order

    @property
    def exists(self) -> bool:
        return self.registration is not None

    def supervision(self, scheme: Scheme) -> SupervisionChanged | None:
        """The latest supervision by date for the scheme (the current one, as with staff counts)."""
        return next((s for s in reversed(self.supervision_history) if s.scheme is scheme), None)

    def supervised_during(self, scheme: Scheme, organization_id: UUID, first: date, last: date) -> bool:
        """Was the employer supervised (TITP) or supported (ESD) by `organization_id` on some day from `first`
        to `last`? Each supervision lasts until the scheme's next one begins."""
        entries = [s for s in self.supervision_history if s.scheme is scheme]
        for i, entry in enumerate(entries):
            ends_before = entries[i + 1].effective_from if i + 1 < len(entries) else None
            if (
                entry.supervising_organization_id == organization_id
                and entry.effective_from <= last
                and (ends_before is None or first < ends_before)
            ):
                return True
        return False

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


def change_supervision(state: ImplementingOrganization, change: SupervisionChanged, supervisor: PermitState) -> Events:
    """From `change.effective_from` the employer is supervised (TITP) or supported (ESD) by the organization
    `supervisor` (its permit as recorded, of the scheme's kind), which must hold that scheme's permit in force
    on that day. A type (a) organization trains its own interns under TITP: it has no supervising organization."""
    registration = state.registration
    assert registration is not None, "an implementing organization that never registered"
    noun = SUPERVISOR[change.scheme]
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
