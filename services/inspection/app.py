"""The inspection service: the inspection schedule, inspections and their outcomes (DOMAIN §5)."""

from dataclasses import replace
from functools import partial
from pathlib import Path

from fastapi import FastAPI
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.inspection import ConsultationRecorded, InspectionScheduled, inspection_events
from services.inspection import commands, subscriptions
from services.inspection.api import consultations, filings, inspections, statistics
from services.inspection.domain import rules
from shared import filings as filing_dues
from shared.service import ServiceDefinition
from shared.settings import ServiceSettings, load_settings
from shared.statistics import FOLD_INTERVAL_S, fold_statistics
from shared.topics import service_topic
from shared.web.app import create_service_app

DEFINITION = ServiceDefinition(
    name="inspection",
    event_types=inspection_events,
    migrations=Path(__file__).parent / "migrations",
    routers=[inspections.router, filings.router, statistics.router, consultations.router],
    chores=[(FOLD_INTERVAL_S, fold_statistics)],
    subscribes_to=[service_topic("registry"), service_topic("accreditation")],
    description="Inspections of supervising, supervision support (ESD) and implementing organizations: the schedule"
    " builds itself from permits and certified plans of both schemes; outcomes and referrals for administrative"
    " action; the quarterly audit reports owed under ESD, due and overdue.",
    aggregates={InspectionScheduled: commands.INSPECTION, ConsultationRecorded: commands.CONSULTATION},
)


class InspectionSettings(BaseSettings):
    """What only the inspection service reads, from `TITP_INSPECTION_*` variables: the cadence per scheme (an ESD
    number left unset is the TITP one) and the quarterly audit reports' period."""

    model_config = SettingsConfigDict(env_prefix="TITP_INSPECTION_", extra="forbid", env_ignore_empty=True)

    supervising_organization_years: int = Field(rules.SUPERVISING_ORGANIZATION_YEARS, ge=1, le=10)
    implementing_organization_years: int = Field(rules.IMPLEMENTING_ORGANIZATION_YEARS, ge=1, le=10)
    esd_support_organization_years: int | None = Field(rules.ESD_SUPPORT_ORGANIZATION_YEARS, ge=1, le=10)
    esd_implementing_organization_years: int | None = Field(rules.ESD_IMPLEMENTING_ORGANIZATION_YEARS, ge=1, le=10)
    quarterly_audit_report_months: int = Field(rules.QUARTERLY_AUDIT_REPORT_MONTHS, ge=1, le=12)
    # Issue 25: days to the due day of an inspection opened by an early return, a disappearance or a death
    trainee_protection_due_days: int = Field(rules.TRAINEE_PROTECTION_DUE_DAYS, ge=1, le=365)
    # The filings of the life of a plan on the worklist (issue 20; filing_dues.FilingDues).
    start_notice_days: int = Field(filing_dues.START_NOTICE_DAYS, ge=1, le=365)
    annual_report_due_month: int = Field(filing_dues.ANNUAL_REPORT_DUE_MONTH, ge=4, le=12)
    annual_report_due_day: int = Field(filing_dues.ANNUAL_REPORT_DUE_DAY, ge=1, le=31)
    business_report_due_month: int = Field(filing_dues.BUSINESS_REPORT_DUE_MONTH, ge=4, le=12)
    business_report_due_day: int = Field(filing_dues.BUSINESS_REPORT_DUE_DAY, ge=1, le=31)
    visit_record_due_months: int = Field(filing_dues.VISIT_RECORD_DUE_MONTHS, ge=0, le=12)

    def filing_dues(self) -> filing_dues.FilingDues:
        return filing_dues.FilingDues(
            start_notice_days=self.start_notice_days,
            annual_report_due_month=self.annual_report_due_month,
            annual_report_due_day=self.annual_report_due_day,
            business_report_due_month=self.business_report_due_month,
            business_report_due_day=self.business_report_due_day,
            visit_record_due_months=self.visit_record_due_months,
        )

    def cadence(self) -> rules.Cadence:
        return rules.Cadence(
            self.supervising_organization_years,
            self.implementing_organization_years,
            self.esd_support_organization_years,
            self.esd_implementing_organization_years,
            self.quarterly_audit_report_months,
            self.trainee_protection_due_days,
        )


def create_app(settings: ServiceSettings | None = None, cadence: rules.Cadence | None = None) -> FastAPI:
    """The service; `cadence` replaces the one from `TITP_INSPECTION_*` (1 and 3 years by default, for both
    schemes; quarterly audit reports every 3 months)."""
    cadence = cadence or InspectionSettings().cadence()
    definition = replace(DEFINITION, on_event=partial(subscriptions.on_event, cadence=cadence))
    app = create_service_app(definition, settings or load_settings("inspection"))
    app.state.cadence = cadence
    app.state.filing_dues = InspectionSettings().filing_dues()
    return app
