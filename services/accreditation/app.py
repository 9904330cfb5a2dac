"""The accreditation service: technical intern training plans (DOMAIN §3, §4, §9)."""

from dataclasses import replace
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from contracts.accreditation import (
    EmployerEarlyReturnRateExceeded,
    EmployerImprovementOrderIssued,
    ExamGrade,
    ExamResultRecorded,
    PauseReason,
    PlanChanges,
    Stage,
    TraineePersonalDataErased,
    TrainingPlanApplied,
    TransferReason,
    accreditation_events,
)
from services.accreditation.api import routers
from services.accreditation.commands import EARLY_RETURN_RATE_FLAGS, EMPLOYER, FILING, TRAINEE, TRAINING_PLAN
from services.accreditation.domain.fees import (
    ESD_EMPLOYER_SHARE_EXPECTED,
    ESD_FEE_CEILING_WAGE_MONTHS,
    FEE_CEILING_YEN,
    FeeRules,
)
from services.accreditation.domain.filings import KINDS as FILING_KINDS
from services.accreditation.domain.rules import (
    EARLY_RETURN_MINIMUM_RETURNS,
    EARLY_RETURN_RATE,
    EARLY_RETURN_WINDOW_MONTHS,
    ESD_STARTS_ON,
    FILING_EARLIEST_MONTHS,
    FILING_LATEST_MONTHS,
    METROPOLITAN_PREFECTURES,
    MINOR_CHANGE_TERMS,
    PAUSE_REASONS,
    REVOCATION_BAR_YEARS,
    STAGE_II_MAX_GAP_MONTHS,
    TITP_LAST_START,
    TITP_TRANSFER_REASONS,
    TRANSFER_FILING_LATEST_DAYS,
    TRANSFER_OTHER_SUPERVISING_STAGES,
    TRANSITION_JOB_CATEGORIES,
    UNATTENDED_FLAG_DAYS,
    EarlyReturnRules,
    EsdRules,
    QuotaRules,
    RuleBook,
    Switch,
    TitpRules,
)
from services.accreditation.subscriptions import on_event
from shared import reference
from shared.filings import (
    ANNUAL_REPORT_DUE_DAY,
    ANNUAL_REPORT_DUE_MONTH,
    DIFFICULTY_NOTICE_DAYS,
    START_NOTICE_DAYS,
    VISIT_RECORD_DUE_MONTHS,
    FilingDues,
)
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
    description="Training plans of TITP and ESD (Employment for Skill Development): application, certification,"
    " lifecycle, transfers.",
    aggregates={
        TrainingPlanApplied: TRAINING_PLAN,
        ExamResultRecorded: TRAINEE,
        TraineePersonalDataErased: TRAINEE,
        EmployerImprovementOrderIssued: EMPLOYER,
        **dict.fromkeys(FILING_KINDS, FILING),  # each filing a stream of its own (issue 20)
        EmployerEarlyReturnRateExceeded: EARLY_RETURN_RATE_FLAGS,  # issue 25
    },
    # The trainees' keys and the identities their ids are bound to (projections/personal_data.py).
    outside_the_log=frozenset({"trainee_keys", "trainee_identities"}),
)


class AccreditationSettings(BaseSettings):
    """What only accreditation reads, from `TITP_ACCREDITATION_*` variables."""

    model_config = SettingsConfigDict(env_prefix="TITP_ACCREDITATION_", extra="forbid", env_ignore_empty=True)

    # e.g. TITP_ACCREDITATION_TRANSITION_JOB_CATEGORIES="construction,food manufacturing"
    transition_job_categories: Annotated[frozenset[str], NoDecode] = TRANSITION_JOB_CATEGORIES
    # The law's corrections (DOMAIN §11). The reference data's operations decide how far a trainee goes;
    # e.g. TITP_ACCREDITATION_OPERATION_LAST_STAGE='{"other.welding.manual": "ii"}' changes one operation's.
    operation_last_stage: dict[str, Stage] = {}
    stage_ii_max_gap_months: int = STAGE_II_MAX_GAP_MONTHS
    filing_earliest_months: int = FILING_EARLIEST_MONTHS
    filing_latest_months: dict[Stage, int] = {}  # e.g. '{"i": 4, "ii": 3, "iii": 3}'
    revocation_bar_years: int = REVOCATION_BAR_YEARS
    # A flag for a new supervising organization shows on the worklist after this many days (issue 20)
    unattended_flag_days: int = Field(default=UNATTENDED_FLAG_DAYS, ge=0)
    # Filings (issue 20 item 4): when each is due. The start notice, days after the employer's first plan starts;
    # a difficulty notice, days after the difficulty; the annual report, on this month and day after its fiscal
    # year; a stage-i visit record, on the last day of the month this many months after the month visited.
    start_notice_days: int = Field(default=START_NOTICE_DAYS, ge=0)
    difficulty_notice_days: int = Field(default=DIFFICULTY_NOTICE_DAYS, ge=0)
    annual_report_due_month: int = Field(default=ANNUAL_REPORT_DUE_MONTH, ge=1, le=12)
    annual_report_due_day: int = Field(default=ANNUAL_REPORT_DUE_DAY, ge=1, le=31)
    visit_record_due_months: int = Field(default=VISIT_RECORD_DUE_MONTHS, ge=0)
    # Early returns (issue 25; defaults of this service, no law gives them): an employer whose flagged early returns
    # are more than this share (e.g. "1/5") of its plans ended or returned from in the window of this many months,
    # with at least this many returns, goes on the inspection worklist
    early_return_rate: Fraction = EARLY_RETURN_RATE
    early_return_minimum_returns: int = Field(default=EARLY_RETURN_MINIMUM_RETURNS, ge=1)
    early_return_window_months: int = Field(default=EARLY_RETURN_WINDOW_MONTHS, ge=1, le=120)
    # Plan changes (issue 20): the terms a notice of minor changes may change (the monthly wage only upwards),
    # e.g. TITP_ACCREDITATION_MINOR_CHANGE_TERMS="monthly_wage"; any other change needs change certification
    minor_change_terms: Annotated[frozenset[str], NoDecode] = MINOR_CHANGE_TERMS
    # TITP transfers (issue 20): the reasons accepted, e.g. TITP_ACCREDITATION_TRANSFER_REASONS="bankruptcy,abuse";
    # a transfer plan is filed at the latest this many days before its start; the stages at which it may also
    # change the supervising organization whatever the reason (e.g. "iii")
    transfer_reasons: Annotated[frozenset[TransferReason], NoDecode] = TITP_TRANSFER_REASONS
    transfer_filing_latest_days: int = Field(default=TRANSFER_FILING_LATEST_DAYS, ge=0)
    transfer_other_supervising_stages: Annotated[frozenset[Stage], NoDecode] = TRANSFER_OTHER_SUPERVISING_STAGES
    # Pauses (issue 25): the reasons a plan in progress may be paused for, e.g.
    # TITP_ACCREDITATION_PAUSE_REASONS="pregnancy,childbirth"; by default all four (pregnancy, childbirth, illness,
    # injury)
    pause_reasons: Annotated[frozenset[PauseReason], NoDecode] = PAUSE_REASONS

    # Fees (issue 25, domain/fees.py): a plan whose trainee paid more than this many yen before coming flags its
    # sending organization; under ESD, more than this many months of the plan's monthly wage (0: the yen ceiling, as
    # TITP); under ESD the share of the sending organization's fees the employer is expected to bear, e.g. "1/2"
    fee_ceiling_yen: int = Field(default=FEE_CEILING_YEN, ge=0)
    esd_fee_ceiling_wage_months: int = Field(default=ESD_FEE_CEILING_WAGE_MONTHS or 0, ge=0)
    esd_employer_share_expected: Fraction = ESD_EMPLOYER_SHARE_EXPECTED

    # The switch (DOMAIN §9, transitional measures)
    esd_starts_on: date = ESD_STARTS_ON
    titp_last_start: date = TITP_LAST_START
    stage_ii_years_before_iii: int = 1

    # ESD; the per-field and per-year settings change the defaults they name, e.g.
    # TITP_ACCREDITATION_ESD_NATIONAL_CAPS='{"2027": {"fishery": 3500}}', ..._ESD_TRANSFER_YEARS='{"food_service": 1}'
    esd_extension_years: int = 1
    esd_transfer_years: dict[str, int] = {}
    esd_transfer_japanese: dict[str, ExamGrade] = {}
    esd_national_caps: dict[int, dict[str, int]] = {}
    esd_quota_multiple: int = 1
    esd_quota_multiple_excellent: int = 2
    esd_transferred_share: Fraction = Fraction(1, 3)  # e.g. "1/3"
    esd_from_designated_share: Fraction = Fraction(1, 6)
    esd_metropolitan_prefectures: Annotated[frozenset[str], NoDecode] = METROPOLITAN_PREFECTURES

    @field_validator(
        "transition_job_categories",
        "esd_metropolitan_prefectures",
        "transfer_reasons",
        "transfer_other_supervising_stages",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return frozenset(c.strip() for c in value.split(",") if c.strip()) if isinstance(value, str) else value

    @field_validator("early_return_rate", mode="before")
    @classmethod
    def _early_return_rate(cls, value: Any) -> Any:
        return Fraction(value) if isinstance(value, str | int | float) else value

    @field_validator("early_return_rate", mode="after")
    @classmethod
    def _a_share(cls, value: Fraction) -> Fraction:
        if not 0 <= value < 1:
            raise ValueError("a share of the employer's plans, at least 0 and below 1 (e.g. 1/5)")
        return value

    @field_validator("pause_reasons", mode="before")
    @classmethod
    def _pause_reasons(cls, value: Any) -> Any:
        return frozenset(c.strip() for c in value.split(",") if c.strip()) if isinstance(value, str) else value

    @field_validator("minor_change_terms", mode="before")
    @classmethod
    def _minor_change_terms(cls, value: Any) -> Any:
        return frozenset(c.strip() for c in value.split(",") if c.strip()) if isinstance(value, str) else value

    @field_validator("minor_change_terms", mode="after")
    @classmethod
    def _changeable_terms(cls, value: frozenset[str]) -> frozenset[str]:
        """Each a changeable term (`PlanChanges`): a name of another would silently match nothing."""
        unknown = sorted(value - set(PlanChanges.model_fields))
        if unknown:
            raise ValueError(f"not changeable terms of a plan: {', '.join(unknown)}")
        return value

    @field_validator("esd_metropolitan_prefectures", mode="after")
    @classmethod
    def _prefectures(cls, value: frozenset[str]) -> frozenset[str]:
        """By JIS X 0401 code or name ("13", "Tokyo", "東京都"; compared as codes, `rules.designated_area`); a value
        naming no prefecture is refused at start (it would silently match nothing)."""
        unknown = sorted(v for v in value if reference.prefecture(v) is None)
        if unknown:
            raise ValueError(f"not prefectures (a JIS X 0401 code or a name): {', '.join(unknown)}")
        return value

    @field_validator("esd_transferred_share", "esd_from_designated_share", "esd_employer_share_expected", mode="before")
    @classmethod
    def _fraction(cls, value: Any) -> Any:
        return Fraction(value) if isinstance(value, str | int | float) else value

    def rule_book(self) -> RuleBook:
        defaults = EsdRules()
        fields = {
            name: replace(
                field,
                transfer_years=self.esd_transfer_years.get(name, field.transfer_years),
                transfer_japanese=self.esd_transfer_japanese.get(name, field.transfer_japanese),
            )
            for name, field in defaults.fields.items()
        }
        caps = dict(defaults.national_caps)
        for year, changed in sorted(self.esd_national_caps.items()):
            known = [y for y in caps if y <= year]
            caps[year] = {**(caps[max(known)] if known else {}), **changed}
        operations = {
            code: replace(op, last_stage=self.operation_last_stage[code].value)
            if code in self.operation_last_stage
            else op
            for code, op in reference.operations().items()
        }
        return RuleBook(
            titp=TitpRules(
                transition_job_categories=self.transition_job_categories,
                quota=QuotaRules(),
                operations=operations,
                stage_ii_max_gap_months=self.stage_ii_max_gap_months,
                filing_earliest_months=self.filing_earliest_months,
                filing_latest_months={**FILING_LATEST_MONTHS, **self.filing_latest_months},
                revocation_bar_years=self.revocation_bar_years,
                transfer_reasons=self.transfer_reasons,
                transfer_filing_latest_days=self.transfer_filing_latest_days,
                transfer_other_supervising_stages=self.transfer_other_supervising_stages,
            ),
            esd=EsdRules(
                starts_on=self.esd_starts_on,
                extension_years=self.esd_extension_years,
                fields=fields,
                national_caps=caps,
                quota_multiple=self.esd_quota_multiple,
                quota_multiple_excellent=self.esd_quota_multiple_excellent,
                transferred_share=self.esd_transferred_share,
                from_designated_share=self.esd_from_designated_share,
                metropolitan_prefectures=self.esd_metropolitan_prefectures,
                revocation_bar_years=self.revocation_bar_years,
            ),
            switch=Switch(
                titp_last_start=self.titp_last_start, stage_ii_years_before_iii=self.stage_ii_years_before_iii
            ),
            unattended_flag_days=self.unattended_flag_days,
            filings=FilingDues(
                start_notice_days=self.start_notice_days,
                difficulty_notice_days=self.difficulty_notice_days,
                annual_report_due_month=self.annual_report_due_month,
                annual_report_due_day=self.annual_report_due_day,
                visit_record_due_months=self.visit_record_due_months,
            ),
            early_returns=EarlyReturnRules(
                rate=self.early_return_rate,
                minimum_returns=self.early_return_minimum_returns,
                window_months=self.early_return_window_months,
            ),
            minor_change_terms=self.minor_change_terms,
            fees=FeeRules(
                ceiling_yen=self.fee_ceiling_yen,
                esd_ceiling_wage_months=self.esd_fee_ceiling_wage_months or None,
                esd_employer_share_expected=self.esd_employer_share_expected,
            ),
            pause_reasons=self.pause_reasons,
        )


def create_app(settings: ServiceSettings | None = None, rule_book: RuleBook | None = None) -> FastAPI:
    """The service; `rule_book` replaces the program's rules as configured (defaults: domain/rules.py)."""
    app = create_service_app(DEFINITION, settings or load_settings("accreditation"))
    app.state.rule_book = rule_book or AccreditationSettings().rule_book()
    return app
