"""The visa service: certificates of eligibility, visas and changes of status, TITP and ESD (DOMAIN §6, §9)."""

from pathlib import Path
from typing import Annotated

from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.accreditation import Stage
from contracts.visa import CoeApplied, EvaluationReportReceived, StatusOfResidenceChanged, VisaIssued, visa_events
from services.visa import commands, subscriptions
from services.visa.api import routers
from services.visa.domain.rules import (
    COE_VALIDITY_MONTHS,
    ESD_PERIOD_OF_STAY_MONTHS,
    MONTHS_ABROAD_FOR_NEW_COE,
    PERIOD_OF_STAY_MONTHS,
    SSW_TITP_MONTHS,
    VisaRules,
)
from shared.service import ServiceDefinition
from shared.settings import ServiceSettings, load_settings
from shared.web.app import create_service_app

DEFINITION = ServiceDefinition(
    name="visa",
    event_types=visa_events,
    migrations=Path(__file__).parent / "migrations",
    routers=routers,
    subscribes_to=subscriptions.SUBSCRIBES_TO,
    on_event=subscriptions.on_event,
    description="Certificates of eligibility, visas and changes of status.",
    aggregates={
        CoeApplied: commands.COE_APPLICATION,
        VisaIssued: commands.VISA,
        StatusOfResidenceChanged: commands.STATUS_CHANGE,
        EvaluationReportReceived: commands.EVALUATION_REPORT,
    },
)


class VisaSettings(BaseSettings):
    """What only the visa service reads, from `TITP_VISA_*` variables."""

    model_config = SettingsConfigDict(env_prefix="TITP_VISA_", extra="forbid", env_ignore_empty=True)

    coe_validity_months: int = Field(COE_VALIDITY_MONTHS, ge=1, le=24)
    # e.g. TITP_VISA_PERIOD_OF_STAY_MONTHS='{"i": 12, "ii": 24, "iii": 24}'; stages left out keep the default
    period_of_stay_months: dict[Stage, Annotated[int, Field(ge=1, le=60)]] = Field(default_factory=dict)
    # ESD (育成就労): the period of stay of every grant (entry, transfer, extension); the default is uncertain
    esd_period_of_stay_months: int = Field(ESD_PERIOD_OF_STAY_MONTHS, ge=1, le=60)
    # stage iii by a new COE: abroad longer than this many months with a re-entry permit (DOMAIN §11)
    months_abroad_for_new_coe: int = Field(MONTHS_ABROAD_FOR_NEW_COE, ge=1, le=60)
    # SSW (i) after TITP: months of TITP completed in good standing (2 years 10 months)
    ssw_titp_months: int = Field(SSW_TITP_MONTHS, ge=1, le=60)

    def rules(self) -> VisaRules:
        return VisaRules(
            coe_validity_months=self.coe_validity_months,
            period_of_stay_months={**PERIOD_OF_STAY_MONTHS, **self.period_of_stay_months},
            esd_period_of_stay_months=self.esd_period_of_stay_months,
            months_abroad_for_new_coe=self.months_abroad_for_new_coe,
            ssw_titp_months=self.ssw_titp_months,
        )


def create_app(settings: ServiceSettings | None = None, rules: VisaRules | None = None) -> FastAPI:
    """The service; `rules` replaces the immigration rules as configured (`VisaSettings`, defaults: domain/rules.py)."""
    app = create_service_app(DEFINITION, settings or load_settings("visa"))
    app.state.visa_rules = rules or VisaSettings().rules()
    return app
