"""The implementing organization (実習実施者): the employer that trains the interns (DOMAIN §3).

Staff numbers and the excellent rating change over time; each is kept as a history in date order,
and the latest by date is the current one (quotas use it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import TypeVar

from contracts.registry import (
    ExcellenceRated,
    ImplementingOrganizationRegistered,
    StaffCountRecorded,
    TrainingType,
)
from services.registry.domain.supervising_organization import SupervisingOrganization
from shared.errors import DomainRuleViolation
from shared.events import EventPayload

Events = list[EventPayload]  # what a decision records
Dated = TypeVar("Dated", StaffCountRecorded, ExcellenceRated)


@dataclass(frozen=True)
class ImplementingOrganization:
    registration: ImplementingOrganizationRegistered | None = None
    staff_history: tuple[StaffCountRecorded, ...] = ()
    rating_history: tuple[ExcellenceRated, ...] = ()

    @property
    def exists(self) -> bool:
        return self.registration is not None

    @property
    def staff(self) -> StaffCountRecorded:
        return self.staff_history[-1]

    @property
    def rating(self) -> ExcellenceRated:
        return self.rating_history[-1]


def _in_date_order(history: tuple[Dated, ...], entry: Dated) -> tuple[Dated, ...]:
    # A stable sort: of two entries for one date, the one recorded later counts.
    return tuple(sorted(history + (entry,), key=lambda e: e.as_of))


def evolve(state: ImplementingOrganization, event: EventPayload) -> ImplementingOrganization:
    match event:
        case ImplementingOrganizationRegistered():
            return replace(
                state,
                registration=event,
                staff_history=(StaffCountRecorded(full_time_staff=event.full_time_staff, as_of=event.staff_as_of),),
                rating_history=(ExcellenceRated(excellent=event.excellent, as_of=event.registered_on),),
            )
        case StaffCountRecorded():
            return replace(state, staff_history=_in_date_order(state.staff_history, event))
        case ExcellenceRated():
            return replace(state, rating_history=_in_date_order(state.rating_history, event))
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
    return [registration]


def record_staff_count(state: ImplementingOrganization, full_time_staff: int, as_of: date) -> Events:
    return [StaffCountRecorded(full_time_staff=full_time_staff, as_of=as_of)]


def rate_excellence(state: ImplementingOrganization, excellent: bool, as_of: date) -> Events:
    return [ExcellenceRated(excellent=excellent, as_of=as_of)]
