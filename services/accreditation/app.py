"""The accreditation service: technical intern training plans (DOMAIN §3, §4, §9)."""

from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contracts.accreditation import TrainingPlanApplied, accreditation_events
from services.accreditation.api import routers
from services.accreditation.commands import TRAINING_PLAN
from services.accreditation.domain.rules import TRANSITION_JOB_CATEGORIES, RuleBook, TitpRules
from services.accreditation.subscriptions import on_event
from shared.service import ServiceDefinition
from shared.settings import ServiceSettings, load_settings
from shared.statistics import FOLD_INTERVAL_S, fold_statistics
from shared.topics import service_topic
from shared.web.app import create_service_app

DEFINITION = ServiceDefinition(
    name="accreditation",
    event_types=accreditation_events,
    migrations=Path(__file__).parent / "migrations",
    routers=routers,
    subscribes_to=[service_topic("registry"), service_topic("inspection")],
    on_event=on_event,
    chores=[(FOLD_INTERVAL_S, fold_statistics)],
    description="Technical intern training plans: application, certification, lifecycle.",
    aggregates={TrainingPlanApplied: TRAINING_PLAN},
    outside_the_log=frozenset({"trainee_keys"}),  # the trainees' keys (projections/personal_data.py)
)


class AccreditationSettings(BaseSettings):
    """What only accreditation reads, from `TITP_ACCREDITATION_*` variables."""

    model_config = SettingsConfigDict(env_prefix="TITP_ACCREDITATION_", extra="forbid", env_ignore_empty=True)

    # e.g. TITP_ACCREDITATION_TRANSITION_JOB_CATEGORIES="construction,food manufacturing"
    transition_job_categories: Annotated[frozenset[str], NoDecode] = TRANSITION_JOB_CATEGORIES

    @field_validator("transition_job_categories", mode="before")
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return frozenset(c.strip() for c in value.split(",") if c.strip()) if isinstance(value, str) else value

    def rule_book(self) -> RuleBook:
        return RuleBook(titp=TitpRules(transition_job_categories=self.transition_job_categories))


def create_app(settings: ServiceSettings | None = None, rule_book: RuleBook | None = None) -> FastAPI:
    """The service; `rule_book` replaces the program's rules as configured (defaults: domain/rules.py)."""
    app = create_service_app(DEFINITION, settings or load_settings("accreditation"))
    app.state.rule_book = rule_book or AccreditationSettings().rule_book()
    return app
