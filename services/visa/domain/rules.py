"""The immigration rules of DOMAIN §6, §9 and §11 with their numbers in one place; the defaults are configurable
(TITP_VISA_COE_VALIDITY_MONTHS, TITP_VISA_PERIOD_OF_STAY_MONTHS, TITP_VISA_ESD_PERIOD_OF_STAY_MONTHS,
TITP_VISA_MONTHS_ABROAD_FOR_NEW_COE, TITP_VISA_SSW_TITP_MONTHS, read by app.py)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from contracts.accreditation import DiscontinuationReason, ExamGrade, Stage
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

# Stage iii by landing on a new COE (DOMAIN §11; Immigration Control Act Art. 26 and 26-2: a trainee who left
# without a re-entry permit, or stayed abroad longer than this, has no status to come back on and needs a new
# COE; one who left with a (deemed) re-entry permit and is back within it changes status instead).
STAGE_III_BY_COE = Stage.III
MONTHS_ABROAD_FOR_NEW_COE = 3
# SSW (i) after TITP (DOMAIN §11; the SSW operating guidelines' "TITP (ii) completed in good standing"): at
# least 2 years 10 months of TITP completed, with grade 3 passed or the implementing organization's
# evaluation report (評価調書). A plan ended for one of these reasons (the employer's bankruptcy, a transfer
# for an unavoidable reason) is not held against the trainee; its months count.
SSW_TITP_MONTHS = 34
SSW_UNAVOIDABLE_DISCONTINUATIONS = frozenset({DiscontinuationReason.BANKRUPTCY, DiscontinuationReason.TRANSFER})

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
    months_abroad_for_new_coe: int = MONTHS_ABROAD_FOR_NEW_COE
    ssw_titp_months: int = SSW_TITP_MONTHS
    ssw_unavoidable_discontinuations: frozenset[DiscontinuationReason] = SSW_UNAVOIDABLE_DISCONTINUATIONS

    def abroad_longer_than_allowed(self, departed_on: date, day: date) -> bool:
        """More than `months_abroad_for_new_coe` months abroad on `day`: the period counts from the day after the
        departure (Civil Code Art. 140) and ends on `last_day` of it (Art. 143(2)); `day` is past its end."""
        return day > last_day(departed_on + timedelta(days=1), self.months_abroad_for_new_coe)

    def ssw_titp_days(self, first_day: date) -> int:
        """The days of `ssw_titp_months` of training from `first_day` (its last day by Civil Code Art. 143(2))."""
        return (last_day(first_day, self.ssw_titp_months) - first_day).days + 1

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
