"""When the filings the agency receives are due (DOMAIN §11 "§4 after certification"; docs/life-of-a-plan.md).

One definition for the services that receive a filing (accreditation: the employers' notices and reports and the
stage-i visit records; the registry: the supervising organizations' business reports) and for the worklist that
watches what is owed (inspection). The law says "without delay" (遅滞なく) for the start and difficulty notices: the
day counts are the program's working assumption, hence configurable (c); every service takes the same settings.
A fiscal year runs from 1 April to 31 March and is named by the year it starts in (`shared.dates.fiscal_year`).
"""

from dataclasses import dataclass
from datetime import date, timedelta

from shared.dates import add_months

START_NOTICE_DAYS = 30  # Art. 17: days after the employer's first certified plan starts (c)
DIFFICULTY_NOTICE_DAYS = 14  # Art. 19: days after the difficulty arose (c)
ANNUAL_REPORT_DUE_MONTH, ANNUAL_REPORT_DUE_DAY = 5, 31  # Art. 21: 31 May after the fiscal year (c)
BUSINESS_REPORT_DUE_MONTH, BUSINESS_REPORT_DUE_DAY = 5, 31  # Art. 43: 31 May after the fiscal year (c)
VISIT_RECORD_DUE_MONTHS = 1  # stage i: the last day of the month this many months after the month visited (c)


@dataclass(frozen=True)
class FilingDues:
    start_notice_days: int = START_NOTICE_DAYS
    difficulty_notice_days: int = DIFFICULTY_NOTICE_DAYS
    annual_report_due_month: int = ANNUAL_REPORT_DUE_MONTH
    annual_report_due_day: int = ANNUAL_REPORT_DUE_DAY
    business_report_due_month: int = BUSINESS_REPORT_DUE_MONTH
    business_report_due_day: int = BUSINESS_REPORT_DUE_DAY
    visit_record_due_months: int = VISIT_RECORD_DUE_MONTHS

    def __post_init__(self) -> None:
        """Refuse, at start, a due day that not every year has (31 April, 29 February)."""
        date(2001, self.annual_report_due_month, self.annual_report_due_day)
        date(2001, self.business_report_due_month, self.business_report_due_day)

    def start_notice_due(self, first_plan_start: date) -> date:
        return first_plan_start + timedelta(days=self.start_notice_days)

    def difficulty_notice_due(self, occurred_on: date) -> date:
        return occurred_on + timedelta(days=self.difficulty_notice_days)

    def annual_report_due(self, fiscal_year: int) -> date:
        return date(fiscal_year + 1, self.annual_report_due_month, self.annual_report_due_day)

    def business_report_due(self, fiscal_year: int) -> date:
        return date(fiscal_year + 1, self.business_report_due_month, self.business_report_due_day)

    def visit_record_due(self, month: date) -> date:
        """The last day of the month `visit_record_due_months` after `month`."""
        return add_months(month.replace(day=1), self.visit_record_due_months + 1) - timedelta(days=1)


def late_days(due_on: date, filed_on: date) -> int:
    """How many days after its due day a filing was filed (0: on time)."""
    return max(0, (filed_on - due_on).days)
