"""The registry service: supervising organizations and their permits (DOMAIN §1-3)."""

from pathlib import Path

from fastapi import FastAPI

from services.registry.api import routers
from services.registry.domain.events import registry_events
from shared.service import ServiceDefinition, create_service_app
from shared.settings import ServiceSettings, load_settings

REGISTRY = ServiceDefinition(
    name="registry",
    event_types=registry_events,
    migrations=Path(__file__).parent / "migrations",
    routers=routers,
    description="Supervising organizations and their permits, implementing and sending organizations.",
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(REGISTRY, settings or load_settings("registry"))
