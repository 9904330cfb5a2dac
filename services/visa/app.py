"""The visa service: certificates of eligibility, visas and changes of status (DOMAIN §6)."""

from pathlib import Path

from fastapi import FastAPI

from shared.events import EventTypes
from shared.service import ServiceDefinition, create_service_app
from shared.settings import ServiceSettings, load_settings

visa_events = EventTypes("visa")

VISA = ServiceDefinition(
    name="visa",
    event_types=visa_events,
    migrations=Path(__file__).parent / "migrations",
    description="Certificates of eligibility, visas and changes of status.",
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(VISA, settings or load_settings("visa"))
