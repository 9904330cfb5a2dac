"""The immigration rules of DOMAIN §6 with their numbers in one place; the defaults are configurable
(TITP_VISA_COE_VALIDITY_MONTHS, TITP_VISA_PERIOD_OF_STAY_MONTHS, read by app.py)."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from contracts.accreditation import Stage
from shared.dates import last_day

STAGES = (Stage.I, Stage.II, Stage.III)  # in the order a trainee goes through them
COE_VALIDITY_MONTHS = 3
PERIOD_OF_STAY_MONTHS = {Stage.I: 12, Stage.II: 24, Stage.III: 24}
SSW_QUALIFYING_STAGE = Stage.II  # completed in good standing: Specified Skilled Worker (i) without the tests


@dataclass(frozen=True)
class VisaRules:
    coe_validity_months: int = COE_VALIDITY_MONTHS
    period_of_stay_months: Mapping[Stage, int] = field(default_factory=lambda: dict(PERIOD_OF_STAY_MONTHS))

    def coe_expiry(self, issued_on: date) -> date:
        """The last day of a certificate's validity: the day before it is `coe_validity_months` old."""
        return last_day(issued_on, self.coe_validity_months)

    def period_of_stay(self, stage: Stage) -> int:
        return self.period_of_stay_months[stage]


def previous_stage(stage: Stage) -> Stage | None:
    index = STAGES.index(stage)
    return STAGES[index - 1] if index else None


def latest_stage(stages: set[Stage]) -> Stage | None:
    return max(stages, key=STAGES.index, default=None)
