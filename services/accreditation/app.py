"""The accreditation service: technical intern training plans (DOMAIN §3, §4, §9)."""

from pathlib import Path

from fastapi import FastAPI

from shared.events import EventTypes
from shared.service import ServiceDefinition, create_service_app
from shared.settings import ServiceSettings, load_settings

accreditation_events = EventTypes("accreditation")

ACCREDITATION = ServiceDefinition(
    name="accreditation",
    event_types=accreditation_events,
    migrations=Path(__file__).parent / "migrations",
    description="Technical intern training plans: application, certification, lifecycle.",
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(ACCREDITATION, settings or load_settings("accreditation"))
