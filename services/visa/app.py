"""The visa service: certificates of eligibility, visas and changes of status (DOMAIN §6)."""

from pathlib import Path
from typing import Annotated

from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.accreditation import Stage
from services.visa import subscriptions
from services.visa.api import routers
from services.visa.domain import rules
from contracts.visa import CoeApplied, StatusOfResidenceChanged, VisaIssued, visa_events
from services.visa.projections import resources
from shared.service import ServiceDefinition
from shared.web.app import create_service_app
from shared.settings import ServiceSettings, load_settings

VISA = ServiceDefinition(
    name="visa",
    event_types=visa_events,
    migrations=Path(__file__).parent / "migrations",
    routers=routers,
    subscribes_to=subscriptions.SUBSCRIBES_TO,
    on_event=subscriptions.on_event,
    description="Certificates of eligibility, visas and changes of status.",
    aggregates={CoeApplied: resources.COE_APPLICATION, VisaIssued: resources.VISA,
                StatusOfResidenceChanged: resources.STATUS_CHANGE},
)


class VisaSettings(BaseSettings):
    """What only the visa service reads, from `TITP_VISA_*` variables."""

    model_config = SettingsConfigDict(env_prefix="TITP_VISA_", extra="forbid", env_ignore_empty=True)

    coe_validity_months: int = Field(rules.COE_VALIDITY_MONTHS, ge=1, le=24)
    # e.g. TITP_VISA_PERIOD_OF_STAY_MONTHS='{"i": 12, "ii": 24, "iii": 24}'; stages left out keep the default
    period_of_stay_months: dict[Stage, Annotated[int, Field(ge=1, le=60)]] = Field(default_factory=dict)

    def rules(self) -> rules.VisaRules:
        return rules.VisaRules(coe_validity_months=self.coe_validity_months,
                               period_of_stay_months={**rules.PERIOD_OF_STAY_MONTHS, **self.period_of_stay_months})


def create_app(settings: ServiceSettings | None = None, visa: VisaSettings | None = None) -> FastAPI:
    app = create_service_app(VISA, settings or load_settings("visa"))
    app.state.visa_rules = (visa or VisaSettings()).rules()
    return app
