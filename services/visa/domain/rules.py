"""The immigration rules of DOMAIN §6 and §9 with their numbers in one place; the defaults are configurable
(TITP_VISA_COE_VALIDITY_MONTHS, TITP_VISA_PERIOD_OF_STAY_MONTHS, TITP_VISA_ESD_PERIOD_OF_STAY_MONTHS, read
by app.py)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from contracts.accreditation import ExamGrade, Stage
from contracts.registry import Scheme
from contracts.visa import StatusOfResidence
from shared.dates import last_day

STAGES = (Stage.I, Stage.II, Stage.III)  # in the order a trainee goes through them
COE_VALIDITY_MONTHS = 3
PERIOD_OF_STAY_MONTHS = {Stage.I: 12, Stage.II: 24, Stage.III: 24}
# ESD (育成就労) period of stay per grant (c). The amended immigration ordinance's table for the new status
# was not final in the sources at hand (Sep 2025); 1 year (TITP stage i's figure) is the stated default,
# to be corrected by TITP_VISA_ESD_PERIOD_OF_STAY_MONTHS once the ordinance is published.
ESD_PERIOD_OF_STAY_MONTHS = 12
SSW_QUALIFYING_STAGE = Stage.II  # completed in good standing: Specified Skilled Worker (i) without the tests

# The status of residence each scheme grants (DOMAIN §9: the visa service issues 育成就労 for ESD plans).
STATUS_OF_RESIDENCE = {
    Scheme.TITP: StatusOfResidence.TECHNICAL_INTERN_TRAINING,
    Scheme.ESD: StatusOfResidence.EMPLOYMENT_FOR_SKILL_DEVELOPMENT,
}

# ESD -> Specified Skilled Worker (i) (DOMAIN §9): one of these skills tests AND this Japanese test.
# The TITP exemption from the tests (after stage ii) does not apply to ESD workers.
ESD_SSW_SKILLS_TESTS = frozenset({ExamGrade.GRADE_3, ExamGrade.SSW_SKILLS})
ESD_SSW_JAPANESE_TEST = ExamGrade.JAPANESE_A2


def status_of_residence(scheme: Scheme) -> StatusOfResidence:
    return STATUS_OF_RESIDENCE[scheme]


@dataclass(frozen=True)
class VisaRules:
    coe_validity_months: int = COE_VALIDITY_MONTHS
    period_of_stay_months: Mapping[Stage, int] = field(default_factory=lambda: dict(PERIOD_OF_STAY_MONTHS))
    esd_period_of_stay_months: int = ESD_PERIOD_OF_STAY_MONTHS

    def coe_expiry(self, issued_on: date) -> date:
        """The last day of a certificate's validity: the day before it is `coe_validity_months` old."""
        return last_day(issued_on, self.coe_validity_months)

    def period_of_stay(self, stage: Stage) -> int:
        """TITP: by stage."""
        return self.period_of_stay_months[stage]

    def period_of_stay_for(self, scheme: Scheme, stage: Stage | None) -> int:
        """TITP by stage; ESD one period for every grant (entry, transfer, extension)."""
        if scheme is Scheme.ESD:
            return self.esd_period_of_stay_months
        if stage is None:
            raise ValueError("a TITP status of residence names its stage")
        return self.period_of_stay(stage)


def previous_stage(stage: Stage) -> Stage | None:
    index = STAGES.index(stage)
    return STAGES[index - 1] if index else None


def latest_stage(stages: set[Stage]) -> Stage | None:
    return max(stages, key=STAGES.index, default=None)
