"""The inspection service: the inspection schedule, inspections and their outcomes (DOMAIN §5)."""

from pathlib import Path

from fastapi import FastAPI

from services.inspection.domain.events import inspection_events
from shared.service import ServiceDefinition, create_service_app
from shared.settings import ServiceSettings, load_settings

INSPECTION = ServiceDefinition(
    name="inspection",
    event_types=inspection_events,
    migrations=Path(__file__).parent / "migrations",
    description="Inspections of supervising and implementing organizations.",
)


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    return create_service_app(INSPECTION, settings or load_settings("inspection"))
