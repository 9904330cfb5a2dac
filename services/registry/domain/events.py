"""What happens to a supervising organization's permit, in the registry's own words."""

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from shared.events import EventPayload, EventTypes

registry_events = EventTypes("registry")


class PermitType(StrEnum):
    GENERAL = "general"  # 一般監理事業: stages i-iii, excellent organizations only
    SPECIFIED = "specified"  # 特定監理事業: stages i and ii


class SupervisingOffice(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=500)
    supervision_manager: str = Field(min_length=1, max_length=200)


class PermitApplication(BaseModel):
    """What an application for a supervising-organization permit records (DOMAIN §2)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(min_length=1, max_length=200)
    corporate_number: str = Field(pattern=r"^\d{13}$", description="13-digit corporate number")
    address: str = Field(min_length=1, max_length=500)
    prefecture: str = Field(min_length=1, max_length=20)
    representative: str = Field(min_length=1, max_length=200)
    supervising_offices: tuple[SupervisingOffice, ...] = Field(min_length=1, max_length=100)
    job_categories: tuple[str, ...] = Field(min_length=1, max_length=200)
    requested_permit_type: PermitType
    external_auditor: str = Field(min_length=1, max_length=200)


@registry_events.register
class PermitApplied(EventPayload):
    application: PermitApplication
    applied_on: date


@registry_events.register
class PermitGranted(EventPayload):
    permit_type: PermitType
    granted_on: date
    expires_on: date


@registry_events.register
class PermitDenied(EventPayload):
    reason: str
