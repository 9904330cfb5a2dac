"""The registry service: supervising organizations and their permits (DOMAIN §1-3), supervision support
organizations and their ESD permits (DOMAIN §9)."""

from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contracts.registry import (
    ImplementingOrganizationRegistered,
    PermitApplied,
    Scheme,
    SendingAgreementSigned,
    SendingOrganizationApproved,
    SupervisionSupportPermitApplied,
    registry_events,
)
from services.registry import subscriptions
from services.registry.api import routers
from services.registry.commands import (
    IMPLEMENTING_ORGANIZATION,
    SENDING_AGREEMENT,
    SENDING_ORGANIZATION,
    SUPERVISING_ORGANIZATION,
    SUPERVISION_SUPPORT_ORGANIZATION,
)
from services.registry.domain import sending_rules
from services.registry.domain.rules import (
    ALONGSIDE_ALLOWED,
    FILING_DUES,
    REVOCATION_BAR_YEARS,
    SUPERVISION_SUPPORT,
    SupervisionSupportRules,
    alongside_allowed,
)
from shared.filings import FilingDues
from shared.service import ServiceDefinition
from shared.settings import ServiceSettings, load_settings
from shared.web.app import create_service_app

DEFINITION = ServiceDefinition(
    name="registry",
    event_types=registry_events,
    migrations=Path(__file__).parent / "migrations",
    routers=routers,
    subscribes_to=["titp.inspection.v1", "titp.accreditation.v1"],
    on_event=subscriptions.on_event,
    chores=[(3600, subscriptions.record_expiries)],
    description="Supervising organizations and their permits (TITP), supervision support organizations and their"
    " permits (ESD), implementing and sending organizations.",
    aggregates={
        PermitApplied: SUPERVISING_ORGANIZATION,
        SupervisionSupportPermitApplied: SUPERVISION_SUPPORT_ORGANIZATION,
        ImplementingOrganizationRegistered: IMPLEMENTING_ORGANIZATION,
        SendingOrganizationApproved: SENDING_ORGANIZATION,
        SendingAgreementSigned: SENDING_AGREEMENT,
    },
)


class RegistrySettings(BaseSettings):
    """What only the registry reads, from `TITP_REGISTRY_*` variables."""

    model_config = SettingsConfigDict(env_prefix="TITP_REGISTRY_", extra="forbid", env_ignore_empty=True)

    # e.g. TITP_REGISTRY_MOC_COUNTRIES=VN,KH,IN: their sending organizations need approval_reference too (DOMAIN §11)
    moc_countries: Annotated[frozenset[str], NoDecode] = sending_rules.MOC_COUNTRIES
    # Art. 26: no permit for this many years after a revocation (of the corporate number's, or an officer's
    # organization's permit)
    revocation_bar_years: int = Field(REVOCATION_BAR_YEARS, ge=1, le=20)

    # Employment for Skill Development (DOMAIN §9): every number is configurable; defaults in domain/rules.py.
    esd_min_full_time_staff: int = Field(SUPERVISION_SUPPORT.min_full_time_staff, ge=1)
    esd_employers_per_staff_below: int = Field(SUPERVISION_SUPPORT.employers_per_staff_below, ge=1)
    esd_workers_per_staff_below: int = Field(SUPERVISION_SUPPORT.workers_per_staff_below, ge=1)
    esd_min_member_employers: int = Field(SUPERVISION_SUPPORT.min_member_employers, ge=0)
    esd_validity_years: int = Field(SUPERVISION_SUPPORT.validity_years, ge=1, le=20)
    esd_excellent_validity_years: int = Field(SUPERVISION_SUPPORT.excellent_validity_years, ge=1, le=20)
    esd_renewal_earliest_months: int = Field(SUPERVISION_SUPPORT.renewal_earliest_months, ge=1, le=60)
    esd_renewal_latest_months: int = Field(SUPERVISION_SUPPORT.renewal_latest_months, ge=0, le=60)
    # e.g. TITP_REGISTRY_ESD_INTERVIEW_SHARE=1/4
    esd_interview_share: Fraction = Field(SUPERVISION_SUPPORT.interview_share, ge=0, le=1)
    esd_audit_report_due_months: int = Field(SUPERVISION_SUPPORT.audit_report_due_months, ge=1, le=24)
    # Issue 20: an employer may join a supervision support organization alongside another under ESD (TITP: always)
    esd_alongside: bool = ALONGSIDE_ALLOWED[Scheme.ESD]
    # Art. 43: the business report for a fiscal year is due by this month and day of the year after (31 May)
    business_report_due_month: int = Field(FILING_DUES.business_report_due_month, ge=4, le=12)
    business_report_due_day: int = Field(FILING_DUES.business_report_due_day, ge=1, le=31)

    @field_validator("moc_countries", mode="before")
    @classmethod
    def _country_codes(cls, value: Any) -> frozenset[str]:
        return sending_rules.country_codes(value)

    @model_validator(mode="after")
    def _renewal_window(self) -> "RegistrySettings":
        if self.esd_renewal_latest_months > self.esd_renewal_earliest_months:
            raise ValueError("the ESD renewal window closes before it opens (latest months > earliest months)")
        return self

    def business_report_rules(self) -> FilingDues:
        return FilingDues(
            business_report_due_month=self.business_report_due_month,
            business_report_due_day=self.business_report_due_day,
        )

    def supervision_support_rules(self) -> SupervisionSupportRules:
        return SupervisionSupportRules(
            min_full_time_staff=self.esd_min_full_time_staff,
            employers_per_staff_below=self.esd_employers_per_staff_below,
            workers_per_staff_below=self.esd_workers_per_staff_below,
            min_member_employers=self.esd_min_member_employers,
            validity_years=self.esd_validity_years,
            excellent_validity_years=self.esd_excellent_validity_years,
            renewal_earliest_months=self.esd_renewal_earliest_months,
            renewal_latest_months=self.esd_renewal_latest_months,
            interview_share=self.esd_interview_share,
            audit_report_due_months=self.esd_audit_report_due_months,
        )


def create_app(settings: ServiceSettings | None = None, registry: RegistrySettings | None = None) -> FastAPI:
    """The service; `registry` replaces its own settings (defaults: `TITP_REGISTRY_*`, then domain/rules.py)."""
    app = create_service_app(DEFINITION, settings or load_settings("registry"))
    registry = registry or RegistrySettings()
    app.state.moc_countries = registry.moc_countries
    app.state.revocation_bar_years = registry.revocation_bar_years
    app.state.supervision_support_rules = registry.supervision_support_rules()
    app.state.alongside_allowed = alongside_allowed(registry.esd_alongside)
    app.state.business_report_rules = registry.business_report_rules()
    return app
