"""The inspection cadence of DOMAIN §5, with its numbers in one place (*configurable*)."""

from dataclasses import dataclass
from datetime import date

from contracts.inspection import TargetType
from shared.dates import add_months

SUPERVISING_ORGANIZATION_YEARS = 1  # each supervising organization about once a year
IMPLEMENTING_ORGANIZATION_YEARS = 3  # each implementing organization about once every 3 years


@dataclass(frozen=True)
class Cadence:
    """How long after the event that starts or continues an organization's schedule its next inspection is due."""

    supervising_organization_years: int = SUPERVISING_ORGANIZATION_YEARS
    implementing_organization_years: int = IMPLEMENTING_ORGANIZATION_YEARS

    def years(self, target_type: TargetType) -> int:
        if target_type is TargetType.SUPERVISING_ORGANIZATION:
            return self.supervising_organization_years
        return self.implementing_organization_years

    def next_due(self, target_type: TargetType, since: date) -> date:
        """The day by which the next inspection is due: the anniversary of `since` the cadence's years later."""
        return add_months(since, 12 * self.years(target_type))
