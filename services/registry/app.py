"""The registry service: supervising organizations and their permits (DOMAIN §1-3)."""

from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contracts.registry import (
    ImplementingOrganizationRegistered,
    PermitApplied,
    SendingAgreementSigned,
    SendingOrganizationApproved,
    registry_events,
)
from services.registry import subscriptions
from services.registry.api import routers
from services.registry.commands import (
    IMPLEMENTING_ORGANIZATION,
    SENDING_AGREEMENT,
    SENDING_ORGANIZATION,
    SUPERVISING_ORGANIZATION,
)
from services.registry.domain import sending_rules
from shared.service import ServiceDefinition
from shared.settings import ServiceSettings, load_settings
from shared.web.app import create_service_app

DEFINITION = ServiceDefinition(
    name="registry",
    event_types=registry_events,
    migrations=Path(__file__).parent / "migrations",
    routers=routers,
    subscribes_to=["titp.inspection.v1"],
    on_event=subscriptions.on_event,
    chores=[(3600, subscriptions.record_expiries)],
    description="Supervising organizations and their permits, implementing and sending organizations.",
    aggregates={
        PermitApplied: SUPERVISING_ORGANIZATION,
        ImplementingOrganizationRegistered: IMPLEMENTING_ORGANIZATION,
        SendingOrganizationApproved: SENDING_ORGANIZATION,
        SendingAgreementSigned: SENDING_AGREEMENT,
    },
)


class RegistrySettings(BaseSettings):
    """What only the registry reads, from `TITP_REGISTRY_*` variables."""

    model_config = SettingsConfigDict(env_prefix="TITP_REGISTRY_", extra="forbid", env_ignore_empty=True)

    # e.g. TITP_REGISTRY_MOC_COUNTRIES=VN,KH,IN
    moc_countries: Annotated[frozenset[str], NoDecode] = sending_rules.MOC_COUNTRIES

    @field_validator("moc_countries", mode="before")
    @classmethod
    def _country_codes(cls, value: Any) -> frozenset[str]:
        return sending_rules.country_codes(value)


def create_app(settings: ServiceSettings | None = None, registry: RegistrySettings | None = None) -> FastAPI:
    app = create_service_app(DEFINITION, settings or load_settings("registry"))
    app.state.moc_countries = (registry or RegistrySettings()).moc_countries
    return app
