"""`titp seed`: a realistic national dataset, built by driving the real services over REST (DOMAIN §8).

Every fact is a command the services decide, so every fact is an event: permits applied for,
granted and renewed; sending organizations and agreements; implementing organizations; training
plans applied for, certified, completed or discontinued; inspections completed with findings;
administrative actions (improvement orders, suspensions, downgrades, and revocations through
inspection referrals).

Two steps:

1. `build_blueprint(scale, seed, as_of)` decides everything, deterministically: the same seed,
   scale and date give the same organizations, trainees, plans, dates and actions. Nothing in it
   depends on the services' answers.
2. `Seeder.run()` sends the commands, phase by phase, a few at a time. Each command carries an
   `Idempotency-Key` derived from the seed and its step, and each answer is appended to a
   checkpoint file: an interrupted run started again skips what the checkpoint holds and re-sends
   the rest, and a command that was sent but not recorded is answered as the first time, never
   done twice. The only choices made from the services' answers are the inspections (the
   services schedule them); those are decided per inspection from the seed and its due date.

At scale 1: about 3,750 supervising organizations (half general), 63,000 implementing
organizations and 400,000 plans, with DOMAIN §8's mix of nationalities and job groups.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any
from uuid import NAMESPACE_URL, UUID, uuid5

import httpx
import orjson
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

from contracts.accreditation import ExamGrade, PlanStatus, Stage, TransferReason
from contracts.registry import PermitType, Scheme
from services.accreditation.domain.rules import STAGE_EXAM, OtherPlan, RuleBook, designated_area
from services.registry.domain import rules as permit_rules
from services.registry.domain.sending_rules import MOC_COUNTRIES
from shared import reference
from shared.dates import add_months, fiscal_year, fiscal_year_start, last_day
from shared.errors import one_line
from shared.settings import DEFAULT_HTTP_PORTS

log = logging.getLogger(__name__)

# The national figures of DOMAIN §8 (scale 1).
NATIONAL_SUPERVISING_ORGANIZATIONS = 3_750
NATIONAL_IMPLEMENTING_ORGANIZATIONS = 63_000
NATIONAL_PLANS = 400_000
NATIONAL_SENDING_ORGANIZATIONS = 1_500

# Nationalities of trainees: Vietnam ~53%, then China, Indonesia, the Philippines, Myanmar (DOMAIN §8);
# the smaller shares follow the published figures roughly.
NATIONALITIES = {
    "VN": 53.0,
    "ID": 17.0,
    "PH": 9.0,
    "CN": 8.0,
    "MM": 7.0,
    "KH": 2.0,
    "TH": 1.5,
    "NP": 0.8,
    "MN": 0.5,
    "LK": 0.5,
    "UZ": 0.4,
    "BD": 0.3,
}
# The seeder approves sending organizations in the countries with a Memorandum of Cooperation only (the registry's
# default list, MOC_COUNTRIES), each with its government's approval and a public body's recommendation (DOMAIN §11;
# a non-MoC country's would need the recommendation only). China has none here, so its trainees go to type (a)
# (enterprise-sponsored) implementing organizations, which need no sending organization: type (a) carries about 9%
# of the plans instead of DOMAIN §1's 2%.
# Job groups (DOMAIN §8) and the job categories the seeder uses for each; all may go past stage i (every one is
# in accreditation's TRANSITION_JOB_CATEGORIES: tests/unit/test_seed_blueprint.py checks it).
JOB_GROUPS = {"construction": 22, "food": 20, "machinery_metal": 15, "agriculture": 9, "textiles": 6, "other": 28}
JOB_CATEGORIES = {
    "construction": ("construction",),
    "food": ("food manufacturing",),
    "machinery_metal": ("machinery and metal",),
    "agriculture": ("agriculture",),
    "textiles": ("textiles and clothing",),
    "other": (
        "nursing care",
        "building cleaning",
        "plastic molding",
        "painting",
        "welding",
        "industrial packaging",
        "automobile maintenance",
        "printing",
    ),
}
# The operations (作業) of each job category the seeder uses, in the reference data's order: an implementing
# organization trains in one to three of its category's, a trainee in one of those at every stage (DOMAIN §11).
OPERATIONS = {
    category: [code for code, op in reference.operations().items() if op.job_category == category]
    for categories in JOB_CATEGORIES.values()
    for category in categories
}


def reaches(operation: str, stage: str) -> bool:
    """May a trainee of `operation` go on to `stage` (some operations stop at stage ii)?"""
    op = reference.operation(operation)
    return op is not None and op.reaches(stage)


# Where trainees work, roughly by the published shares per prefecture (by name here; the dataset uses the JIS X
# 0401 codes of shared.reference, as the registry stores them).
PREFECTURE_SHARES = {
    "Aichi": 9,
    "Osaka": 5,
    "Saitama": 5,
    "Chiba": 5,
    "Ibaraki": 5,
    "Tokyo": 4,
    "Hiroshima": 4,
    "Gifu": 4,
    "Shizuoka": 4,
    "Fukuoka": 4,
    "Hyogo": 4,
    "Kanagawa": 3,
    "Gunma": 3,
    "Tochigi": 3,
    "Okayama": 3,
    "Mie": 3,
    "Hokkaido": 3,
    "Kumamoto": 2,
    "Nagano": 2,
    "Niigata": 2,
    "Kagawa": 2,
    "Ehime": 2,
    "Kagoshima": 2,
    "Miyagi": 2,
    "Shiga": 1.5,
    "Toyama": 1.5,
    "Kyoto": 1.5,
    "Ishikawa": 1.5,
    "Fukushima": 1.2,
    "Nara": 1,
    "Fukui": 1,
    "Yamaguchi": 1,
    "Tokushima": 1,
    "Nagasaki": 1,
    "Oita": 1,
    "Miyazaki": 1,
    "Saga": 0.8,
    "Iwate": 0.8,
    "Yamagata": 0.8,
    "Kochi": 0.7,
    "Aomori": 0.7,
    "Yamanashi": 0.7,
    "Wakayama": 0.6,
    "Okinawa": 0.5,
    "Akita": 0.5,
    "Tottori": 0.5,
    "Shimane": 0.5,
}
PREFECTURE_CODES = {p.name: p.code for p in reference.prefectures().values()}
PREFECTURES = {PREFECTURE_CODES[name]: share for name, share in PREFECTURE_SHARES.items()}

GENERAL_SHARE = 0.5  # of supervising organizations (DOMAIN §8)
TYPE_A_SHARE = 0.02  # of implementing organizations
EXCELLENT_SHARE = 0.2  # of implementing organizations
SAME_PREFECTURE_SHARE = 0.8  # implementing organizations in their supervising organization's prefecture
TO_STAGE_II, TO_STAGE_III = 0.85, 0.3
EXAM_PASSED = 0.95
DISCONTINUED = 0.02
# Administrative actions a year, nationally (DOMAIN §8: FY2020, 13 supervising organizations and 77
# implementing organizations revoked); at least one of each kind at any scale, so every path is exercised.
YEARLY_ACTIONS = {"revocation": 13, "plan_revocation": 77, "suspension": 5, "improvement_order": 20, "downgrade": 10}
ACTION_YEARS = 2.5  # the actions fall in the 30 months before the seed's date
# Inspections: most are done by their due date, some late, a few left overdue.
LEFT_OVERDUE, LATE = 0.05, 0.1
DISAPPEARED = "disappearance"  # a plan discontinued so opens an extraordinary inspection of the employer (issue 25)
OUTCOMES = (("no_finding", 0.5), ("guidance", 0.3), ("recommendation", 0.2))
REPORT_OUTCOMES = frozenset({"guidance", "recommendation"})  # the outcomes that ask for an improvement report
# Suspensions are ordered on one of Art. 37(1)'s grounds 1, 3, 4 or 5 (Art. 37(3)): the seeder's is ground 4.
SUSPENSION_GROUND = "law_breached"

# The program's numbers are the services' own rules (their domain/rules modules), never copies: the TITP and ESD
# rule sets and quotas accreditation certifies plans under, the switch between them, and the permits' terms of the
# registry.
RULES = RuleBook()
TITP, ESD, SWITCH = RULES.titp, RULES.esd, RULES.switch
SUPPORT = permit_rules.SupervisionSupportRules()
QUOTA = TITP.quota
FILINGS = RULES.filings  # when the filings the agency receives are due (an annual report: 31 May after its year)
STAGE_MONTHS = {stage.value: 12 * years for stage, years in TITP.stage_years.items()}
NEXT_STAGE = {before.value: after.value for before, after in zip(Stage, list(Stage)[1:], strict=False)}
MIN_STAFF = 3  # the smallest implementing organization the seeder makes
FIRST_FILING_MONTHS = 7  # permits granted (and type (b) organizations registered) this long before the first start

# The timeline: plans start in the 40 months before the seed's date and up to 2 months after it (ESD plans applied
# for 2 months, TITP plans 4 or 5 months (below), and all certified 1 month, before they start).
PLAN_MONTHS_BACK, PLAN_MONTHS_AHEAD = 40, 2
APPLIED_MONTHS_BEFORE, CERTIFIED_MONTHS_BEFORE = 2, 1
# TITP plans are filed from 6 months before their start, stage i at least 4 months before and stages ii and iii at
# least 3 (accreditation's filing window, DOMAIN §11): a month inside it.
TITP_APPLIED_MONTHS_BEFORE = {
    stage.value: min(TITP.filing_earliest_months, TITP.filing_latest_months[stage] + 1) for stage in Stage
}

# Across the switch to Employment for Skill Development (DOMAIN §9): TITP stage-i plans are applied for until the day
# before ESD starts (and start by the transitional measures' last day), trainees in TITP then move on as the switch
# allows, and every other new worker comes under ESD.
ESD_STARTS_ON = ESD.starts_on
LATE_TITP_SHARE = 0.5  # of the trainees starting between ESD's start and the last TITP start: applied for under TITP
ESD_SUPPORT_SHARE = 0.6  # of the TITP supervising organizations (not revoked): also a supervision support permit
ESD_EMPLOYER_SHARE = 0.8  # of their type (b) implementing organizations: supported under ESD from ESD's start
ESD_TRANSFERRED = 0.05  # of the ESD workers past their field's transfer period: move at their own wish
LATE_AUDIT_REPORT = 0.05  # of the quarterly audit reports: filed after they are due
# The ESD fields each job group's employers work in (every field in one group at least).
GROUP_FIELDS = {
    "construction": ("construction",),
    "food": ("food_and_beverage_manufacturing", "food_service"),
    "machinery_metal": (
        "industrial_products_manufacturing",
        "shipbuilding_and_marine_industry",
        "automobile_repair_and_maintenance",
    ),
    "agriculture": ("agriculture", "fishery", "forestry", "wood_industry"),
    "textiles": ("industrial_products_manufacturing",),
    "other": (
        "nursing_care",
        "building_cleaning",
        "linen_supply",
        "accommodation",
        "railway",
        "logistics_warehousing",
        "resource_recycling",
    ),
}

FAMILY_NAMES = {
    "VN": ("Nguyen", "Tran", "Le", "Pham", "Hoang", "Vu", "Dang", "Bui"),
    "ID": ("Saputra", "Wijaya", "Hidayat", "Pratama", "Siregar", "Nugroho"),
    "PH": ("Santos", "Reyes", "Cruz", "Bautista", "Garcia", "Mendoza"),
    "CN": ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang"),
    "MM": ("Aung", "Kyaw", "Htun", "Win", "Myint", "Soe"),
}
GIVEN_NAMES = ("An", "Binh", "Chi", "Dung", "Hoa", "Lan", "Minh", "Nam", "Rina", "Sari", "Joy", "Mark", "Wei", "Mei")
JAPANESE_FAMILY = (
    "Sato",
    "Suzuki",
    "Takahashi",
    "Tanaka",
    "Watanabe",
    "Ito",
    "Yamamoto",
    "Nakamura",
    "Kobayashi",
    "Kato",
    "Yoshida",
    "Yamada",
)
JAPANESE_GIVEN = ("Taro", "Hanako", "Ichiro", "Yuki", "Kenji", "Akiko", "Hiroshi", "Naoko", "Takeshi", "Emi")
SECTORS = ("Industrial", "Business", "Commerce", "Manufacturing", "Agricultural", "Construction", "Trade")
REVOCATION_GROUNDS = (
    ("law_breached", 6),
    ("standards_not_met", 2),
    ("wrongful_act", 1),
    ("condition_breached", 1),
    ("disqualified", 1),
)

# ("completed", day, exam result) | ("discontinued", day, reason) | ("revoked", day, None)
# | ("transferred", day, None): an ESD plan another one continues from `day` (the transfer's certification ends it)
Ending = tuple[str, date, str | None]


@dataclass
class SupervisingOrganization:
    key: str
    name: str
    corporate_number: str
    prefecture: str
    permit_type: str
    applied_on: date
    granted_on: date
    renewal: tuple[date, date] | None = None  # applied for, renewed on
    partners: dict[str, int] = field(default_factory=dict)  # nationality -> sending organization index
    signed_on: date | None = None
    revocation: tuple[date, str] | None = None  # revoked on, ground (through an inspection's referral)
    suspension: tuple[date, date] | None = None
    downgraded_on: date | None = None
    improvement_orders: list[tuple[date, date]] = field(default_factory=list)  # issued on, deadline
    business_reports: list[tuple[int, date]] = field(default_factory=list)  # fiscal year, filed on

    def certifies(self, day: date, stage: str) -> bool:
        """Could a plan under this organization's permit be certified on `day`?"""
        if self.revocation and day >= self.revocation[0]:
            return False
        if self.suspension and self.suspension[0] <= day <= self.suspension[1]:
            return False
        return stage != "iii" or (
            self.permit_type == "general" and not (self.downgraded_on and day >= self.downgraded_on)
        )


@dataclass
class SendingOrganization:
    key: str
    name: str
    country: str
    approval_reference: str
    approved_on: date
    recommendation_reference: str = ""  # the recommendation of a public body of its country (DOMAIN §11)


@dataclass
class ImplementingOrganization:
    key: str
    name: str
    corporate_number: str
    prefecture: str
    job_category: str
    job_group: str
    training_type: str
    supervising: int | None
    excellent: bool
    registered_on: date
    full_time_staff: int = 0
    plans_revoked_on: date | None = None  # through an inspection's referral (Art. 16)
    esd_support: int | None = None  # the supervision support organization supporting it under ESD ...
    esd_from: date | None = None  # ... from this day
    esd_field: str | None = None  # the ESD field its workers work in
    operations: tuple[str, ...] = ()  # the operations (shared.reference codes) of its job category it trains in
    start_notice: tuple[str, date] | None = None  # the plan (its key) whose start it notifies, filed on
    annual_reports: list[tuple[int, date, int]] = field(default_factory=list)  # fiscal year, filed on, trainees
    visit_records: list[tuple[date, date, date]] = field(default_factory=list)  # month, visited on, filed on
    # After its supervising organization's permit was revoked: the new one (index), joined on, plans moved on.
    new_supervising: tuple[int, date, date] | None = None


@dataclass
class SupportOrganization:
    """A cooperative's supervision support organization (ESD): a record of its own beside its TITP one, with the same
    corporate number."""

    key: str
    cooperative: int  # its TITP supervising organization
    name: str
    corporate_number: str
    prefecture: str
    applied_on: date
    granted_on: date
    renewal: tuple[date, date] | None = None  # applied for, renewed on
    member_employers: int = 0
    workers: int = 0
    full_time_staff: int = 0
    partners: dict[str, int] = field(default_factory=dict)  # nationality -> sending organization index
    signed_on: date | None = None
    audit_reports: list[tuple[int, date, date, int]] = field(default_factory=list)  # employer, quarter, filed, workers

    def certifies(self, day: date) -> bool:
        """Is its permit in force on `day` (granted, renewed once when due)?"""
        expires_on = permit_rules.permit_expiry(self.granted_on, SUPPORT.validity(False))
        if self.renewal:
            expires_on = permit_rules.permit_expiry(
                permit_rules.renewal_valid_from(expires_on), SUPPORT.validity(False)
            )
        return self.granted_on <= day <= expires_on


@dataclass
class Plan:
    key: str
    trainee_id: UUID
    trainee: dict[str, Any]
    stage: str | None  # None: an ESD plan
    job_category: str
    job_group: str
    implementing: int
    supervising: int | None
    sending: int | None
    start_date: date
    end_date: date
    applied_on: date
    certified_on: date
    exams_passed: list[dict[str, str]]
    ending: Ending | None = None
    scheme: str = Scheme.TITP.value
    esd_field: str | None = None  # ESD: its field
    support: int | None = None  # ESD, type (b): the supervision support organization
    transfer_from: str | None = None  # ESD: the key of the plan it continues, at the worker's own wish
    exam_results: list[tuple[str, date]] = field(default_factory=list)  # ESD: passes the exam body reports
    operation: str | None = None  # TITP: the operation (a shared.reference code), the same at every stage
    transfer_reason: str | None = None  # TITP: the unavoidable reason of a transfer (ESD's are at the worker's wish)
    difficulty: Difficulty | None = None  # the employer's notice of difficulty about it
    change: PlanChange | None = None  # a change certification, or a minor change, of its terms

    @property
    def nationality(self) -> str:
        return self.trainee["nationality"]


@dataclass
class Blueprint:
    seed: int
    scale: float
    as_of: date
    supervising: list[SupervisingOrganization]
    sending: list[SendingOrganization]
    implementing: list[ImplementingOrganization]
    plans: list[Plan]
    support: list[SupportOrganization] = field(default_factory=list)  # ESD, when the dataset reaches its start
    consultations: list[Consultation] = field(default_factory=list)

    def prefecture_of(self, plan: Plan) -> str:
        return self.implementing[plan.implementing].prefecture

    def training_type_of(self, plan: Plan) -> str:
        return self.implementing[plan.implementing].training_type


class SeedError(Exception):
    pass


def titp_exam_results(blueprint: Blueprint, stage: str) -> list[tuple[Plan, str, date]]:
    """The exam results the exam body records before the `stage` plans are certified: each one's trainee passed the
    stage before's exam (basic grade before stage ii, grade 3 before stage iii) on the day its plan states."""
    return [
        (plan, plan.exams_passed[-1]["grade"], date.fromisoformat(plan.exams_passed[-1]["passed_on"]))
        for plan in blueprint.plans
        if plan.stage == stage and plan.exams_passed and plan.transfer_from is None  # a transfer's are its source's
    ]


# The blueprint: every decision, from the seed alone.


def _count(national: int, scale: float) -> int:
    return max(1, round(national * scale))


def _pick(rng: random.Random, weights: Mapping[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _day_between(rng: random.Random, first: date, last: date) -> date:
    return first + timedelta(days=rng.randrange((last - first).days + 1))


def _allocate(rng: random.Random, weights: Mapping[str, float], n: int) -> list[str]:
    """`n` values in the proportions of `weights` (largest remainders), shuffled."""
    total = sum(weights.values())
    counts = {k: int(n * w / total) for k, w in weights.items()}
    for k in sorted(weights, key=lambda k: n * weights[k] / total - counts[k], reverse=True)[
        : n - sum(counts.values())
    ]:
        counts[k] += 1
    values = [k for k, count in counts.items() for _ in range(count)]
    rng.shuffle(values)
    return values


def corporate_number(base: int) -> str:
    """A 13-digit corporate number with its check digit (the first digit), from a 12-digit base number."""
    digits = f"{base % 10**12:012d}"
    return reference.corporate_number_check_digit(digits) + digits


def _person(rng: random.Random) -> str:
    return f"{rng.choice(JAPANESE_FAMILY)} {rng.choice(JAPANESE_GIVEN)}"


def _name(prefecture: str) -> str:
    """A prefecture's English name, from its JIS code."""
    return reference.prefectures()[prefecture].name


OFFICER_POSITIONS = ("Director", "Director", "Auditor")


def _officers(rng: random.Random, representative: str, prefecture: str) -> list[dict[str, str]]:
    """A permit application's officers (役員) with their addresses (DOMAIN §11): the representative first."""
    names = [representative, *(_person(rng) for _ in range(rng.randint(1, len(OFFICER_POSITIONS))))]
    positions = ["Representative director", *OFFICER_POSITIONS]
    return [
        {
            "name": name,
            "address": f"{rng.randint(1, 9)}-{rng.randint(1, 30)} Sakae-machi, {_name(prefecture)}",
            "position": position,
        }
        for name, position in zip(names, positions, strict=False)
    ]


def plan_window(as_of: date) -> tuple[date, date]:
    """The first and last day a plan of the dataset may start on."""
    return add_months(as_of, -PLAN_MONTHS_BACK), add_months(as_of, PLAN_MONTHS_AHEAD)


def applied_on(start: date, stage: str | None = None) -> date:
    """When a plan starting on `start` is applied for: a TITP plan (`stage` given) within its filing window."""
    return add_months(start, -(TITP_APPLIED_MONTHS_BEFORE[stage] if stage else APPLIED_MONTHS_BEFORE))


def certified_on(start: date) -> date:
    return add_months(start, -CERTIFIED_MONTHS_BEFORE)


def titp_stage_i_allowed(start: date) -> bool:
    """May a new TITP trainee start on `start`? Applied for before ESD starts, starting by the last TITP start."""
    return applied_on(start, "i") < ESD_STARTS_ON and start <= SWITCH.titp_last_start


def titp_continuation_allowed(chain: list[Plan], stage: str, start: date) -> bool:
    """May a TITP trainee whose plans so far are `chain` move on to `stage` on `start`? As the switch rules
    (accreditation's `Switch`) decide: an application under the TITP as it was, or a trainee in TITP on ESD's
    start (and for stage iii, with the year of stage ii done by then)."""
    if applied_on(start, stage) < ESD_STARTS_ON and start <= SWITCH.titp_last_start:
        return True
    plans = [
        OtherPlan(
            Stage(p.stage) if p.stage else None,
            p.job_category,
            p.start_date,
            p.end_date,
            PlanStatus.CERTIFIED,
            scheme=Scheme.TITP,
            applied_on=p.applied_on,
        )
        for p in chain
    ]
    if not SWITCH.in_titp_on(ESD_STARTS_ON, plans):
        return False
    return stage != Stage.III or SWITCH.year_of_stage_ii(ESD_STARTS_ON, plans)


def field_weights(fields: Iterable[str], day: date) -> dict[str, float]:
    """The ESD fields, weighted by their national caps in the fiscal year of `day` (1 where none is set)."""
    return {name: float(ESD.cap(name, fiscal_year(day)) or 1) for name in fields}


def build_blueprint(scale: float, seed: int, as_of: date) -> Blueprint:
    """Everything the dataset holds, decided from `scale`, `seed` and `as_of` alone."""
    rng = random.Random(f"titp-seed:{seed}:{scale}:{as_of.isoformat()}")
    first_start, last_start = plan_window(as_of)
    numbers = rng.randrange(10**12)  # corporate numbers: this + index * a prime coprime to 10, unique per index
    # The operations draw on their own generator: the rest of the dataset is what it was before they were added.
    ops_rng = random.Random(f"titp-seed-operations:{seed}:{scale}:{as_of.isoformat()}")

    supervising = []
    for i in range(_count(NATIONAL_SUPERVISING_ORGANIZATIONS, scale)):
        prefecture = _pick(rng, PREFECTURES)
        permit_type = "general" if rng.random() < GENERAL_SHARE else "specified"
        # Granted early enough to cover the first plans, late enough to be in force 2 months past as_of
        # (a general permit lasts 5 years; a specified one, 3, is renewed once, applied for a month before the
        # last day a renewal may be).
        general_months = 12 * permit_rules.new_permit_years(PermitType.GENERAL)
        granted_on = _day_between(
            rng, add_months(as_of, PLAN_MONTHS_AHEAD - general_months), add_months(first_start, -FIRST_FILING_MONTHS)
        )
        renewal = None
        if permit_type == PermitType.SPECIFIED:
            expires_on = permit_rules.permit_expiry(granted_on, permit_rules.new_permit_years(PermitType.SPECIFIED))
            renewal = (
                add_months(expires_on, -(permit_rules.RENEWAL_LEAD_MONTHS + 1)),
                permit_rules.latest_renewal_application(expires_on),
            )
        supervising.append(
            SupervisingOrganization(
                key=f"so-{i}",
                name=f"{reference.prefectures()[prefecture].name} {rng.choice(SECTORS)} Cooperative {i + 1}",
                corporate_number=corporate_number(numbers + i * 7_919_987),
                prefecture=prefecture,
                permit_type=permit_type,
                applied_on=granted_on - timedelta(days=rng.randint(30, 90)),
                granted_on=granted_on,
                renewal=renewal,
                signed_on=granted_on + timedelta(days=rng.randint(1, 28)),
            )
        )

    moc = {c: w for c, w in NATIONALITIES.items() if c in MOC_COUNTRIES}
    sending: list[SendingOrganization] = []
    sending_by_country: dict[str, list[int]] = defaultdict(list)
    for country, weight in moc.items():
        for n in range(_count(round(NATIONAL_SENDING_ORGANIZATIONS * weight / sum(moc.values())), scale)):
            sending_by_country[country].append(len(sending))
            sending.append(
                SendingOrganization(
                    key=f"sending-{country}-{n}",
                    name=f"{country} Manpower {n + 1}",
                    country=country,
                    approval_reference=f"{country}-MOC-{seed}-{n + 1:05d}",
                    recommendation_reference=f"{country}-REC-{seed}-{n + 1:05d}",
                    approved_on=add_months(as_of, -60),
                )
            )

    implementing = []
    offset = len(supervising)
    n_implementing = _count(NATIONAL_IMPLEMENTING_ORGANIZATIONS, scale)
    n_type_a = max(1, round(n_implementing * TYPE_A_SHARE))
    groups = _allocate(rng, JOB_GROUPS, n_implementing)
    for j, group in enumerate(groups):
        category = rng.choice(JOB_CATEGORIES[group])
        operations = OPERATIONS[category]
        trained = tuple(sorted(ops_rng.sample(operations, ops_rng.randint(1, min(3, len(operations))))))
        type_a = j < n_type_a
        so = None if type_a else rng.randrange(len(supervising))
        prefecture = (
            supervising[so].prefecture
            if so is not None and rng.random() < SAME_PREFECTURE_SHARE
            else _pick(rng, PREFECTURES)
        )
        registered_on = (
            add_months(first_start, -(FIRST_FILING_MONTHS + 1))
            if so is None
            else supervising[so].granted_on + timedelta(days=rng.randint(1, 28))
        )
        implementing.append(
            ImplementingOrganization(
                key=f"io-{j}",
                name=f"{rng.choice(JAPANESE_FAMILY)} {category.split()[0].title()} Co., Ltd. {j + 1}",
                corporate_number=corporate_number(numbers + (offset + j) * 7_919_987),
                prefecture=prefecture,
                job_category=category,
                job_group=group,
                training_type="a" if type_a else "b",
                supervising=so,
                excellent=rng.random() < EXCELLENT_SHARE,
                registered_on=registered_on,
                operations=trained,
            )
        )

    _decide_actions(rng, scale, as_of, supervising, implementing)
    # ESD's decisions draw on their own generator: a dataset that ends before ESD starts is the one it always was.
    esd_rng = random.Random(f"titp-seed-esd:{seed}:{scale}:{as_of.isoformat()}")
    support = _support(esd_rng, supervising, implementing) if last_start >= ESD_STARTS_ON else []
    plans = _plans(rng, ops_rng, scale, seed, as_of, supervising, implementing, sending_by_country, support)
    if support:
        _transfers(esd_rng, as_of, implementing, plans, support)
    _staff(rng, implementing, plans)
    if support:
        _support_numbers(esd_rng, as_of, implementing, plans, support)
    life_rng = random.Random(f"titp-seed-life:{seed}:{scale}:{as_of.isoformat()}")
    _titp_transfers(life_rng, as_of, supervising, implementing, plans)
    consultations = _life(life_rng, as_of, supervising, implementing, plans)
    return Blueprint(seed, scale, as_of, supervising, sending, implementing, plans, support, consultations)


def _support(
    rng: random.Random, supervising: list[SupervisingOrganization], implementing: list[ImplementingOrganization]
) -> list[SupportOrganization]:
    """The cooperatives that also become supervision support organizations (permits applied for and granted in
    the year before ESD starts), and the employers they support under ESD from its first day."""
    members: dict[int, list[ImplementingOrganization]] = defaultdict(list)
    for io in implementing:
        if io.supervising is not None:
            members[io.supervising].append(io)
    cooperatives = [i for i, so in enumerate(supervising) if not so.revocation]
    chosen = sorted(rng.sample(cooperatives, max(1, round(len(cooperatives) * ESD_SUPPORT_SHARE))))
    support = []
    for k, i in enumerate(chosen):
        so = supervising[i]
        granted_on = _day_between(rng, add_months(ESD_STARTS_ON, -9), add_months(ESD_STARTS_ON, -4))
        support.append(
            SupportOrganization(
                key=f"sso-{k}",
                cooperative=i,
                name=so.name.replace("Cooperative", "Skills Cooperative"),
                corporate_number=so.corporate_number,  # the same cooperative: one corporate number, both schemes
                prefecture=so.prefecture,
                applied_on=granted_on - timedelta(days=rng.randint(30, 90)),
                granted_on=granted_on,
                signed_on=granted_on + timedelta(days=rng.randint(1, 28)),
            )
        )
        for io in members[i]:
            if io.plans_revoked_on is None and rng.random() < ESD_EMPLOYER_SHARE:
                io.esd_support, io.esd_from = k, ESD_STARTS_ON
                io.esd_field = _pick(rng, field_weights(GROUP_FIELDS[io.job_group], ESD_STARTS_ON))
    return support


def _decide_actions(
    rng: random.Random,
    scale: float,
    as_of: date,
    supervising: list[SupervisingOrganization],
    implementing: list[ImplementingOrganization],
) -> None:
    """Which organizations are acted on, and when. A revoked organization gets no other action, so
    every action happens while its permit is in force."""

    def how_many(kind: str, available: int) -> int:
        return min(available, max(1, round(YEARLY_ACTIONS[kind] * scale * ACTION_YEARS)))

    first, last = add_months(as_of, -30), as_of - timedelta(days=30)
    order = rng.sample(range(len(supervising)), len(supervising))
    revoked = order[: how_many("revocation", max(0, len(order) - 1))]
    others = order[len(revoked) :]
    for i in revoked:
        supervising[i].revocation = (_day_between(rng, first, last), _pick(rng, dict(REVOCATION_GROUNDS)))
    for i in rng.sample(others, how_many("suspension", len(others))):
        start = _day_between(rng, first, last)
        supervising[i].suspension = (start, add_months(start, rng.randint(1, 3)) - timedelta(days=1))
    for i in rng.sample(others, how_many("improvement_order", len(others))):
        issued = _day_between(rng, first, last)
        supervising[i].improvement_orders.append((issued, add_months(issued, 3)))
    general = [i for i in others if supervising[i].permit_type == "general"]
    for i in rng.sample(general, how_many("downgrade", len(general))):
        supervising[i].downgraded_on = _day_between(rng, first, last)
    type_b = [j for j, io in enumerate(implementing) if io.training_type == "b"]
    for j in rng.sample(type_b, how_many("plan_revocation", len(type_b))):
        implementing[j].plans_revoked_on = _day_between(rng, first, last)


def _plans(
    rng: random.Random,
    ops_rng: random.Random,
    scale: float,
    seed: int,
    as_of: date,
    supervising: list[SupervisingOrganization],
    implementing: list[ImplementingOrganization],
    sending_by_country: dict[str, list[int]],
    support: list[SupportOrganization],
) -> list[Plan]:
    first_start, last_start = plan_window(as_of)
    type_a = [j for j, io in enumerate(implementing) if io.training_type == "a"]
    type_b: dict[str, list[int]] = defaultdict(list)
    for j, io in enumerate(implementing):
        if io.training_type == "b":
            type_b[io.job_group].append(j)
    target = _count(NATIONAL_PLANS, scale)
    plans: list[Plan] = []
    trainee = 0

    def certifiable(io: ImplementingOrganization, day: date, stage: str) -> bool:
        if io.plans_revoked_on and day >= io.plans_revoked_on:
            return False
        return io.supervising is None or supervising[io.supervising].certifies(day, stage)

    esd_employers: dict[str, list[int]] = defaultdict(list)
    for j, io in enumerate(implementing):
        if io.esd_field is not None:
            esd_employers[io.esd_field].append(j)
    moc = {c: w for c, w in NATIONALITIES.items() if c in sending_by_country}

    def esd_worker(start: date, nationality: str) -> None:
        """A new worker under ESD: a field by the national caps, an employer supported in it, A1 passed before."""
        if nationality not in moc:  # a type (b) employer's workers come through a sending organization
            nationality = _pick(rng, moc)
        # A field by the national caps; where no employer of the dataset works in it (a small scale), any employer.
        candidates = esd_employers[_pick(rng, field_weights(ESD.fields, start))] or [
            j for js in esd_employers.values() for j in js
        ]
        choice = next(
            (
                j
                for j in (rng.choice(candidates) for _ in range(20 if candidates else 0))
                if esd_certifiable(implementing[j], start)
            ),
            None,
        )
        if choice is None:
            return
        io = implementing[choice]
        assert io.esd_support is not None and io.esd_field is not None  # an employer supported under ESD
        field_name = io.esd_field
        sso = support[io.esd_support]
        family = FAMILY_NAMES.get(nationality, FAMILY_NAMES["VN"])
        person = {
            "name": f"{rng.choice(family)} {rng.choice(GIVEN_NAMES)}",
            "date_of_birth": (start - timedelta(days=rng.randint((ESD.minimum_age + 1) * 366, 35 * 365))).isoformat(),
            "nationality": nationality,
            "passport_number": f"{nationality}{seed % 100:02d}{trainee:07d}",
        }
        plan = Plan(
            key=f"plan-{len(plans)}",
            trainee_id=uuid5(NAMESPACE_URL, f"https://titp.example/seed/{seed}/{scale}/trainee/{trainee}"),
            trainee=person,
            stage=None,
            job_category=ESD.fields[field_name].name,
            job_group=io.job_group,
            implementing=choice,
            supervising=None,
            sending=sso.partners.setdefault(nationality, rng.choice(sending_by_country[nationality])),
            start_date=start,
            end_date=last_day(start, 12 * ESD.training_years),
            applied_on=applied_on(start),
            certified_on=certified_on(start),
            exams_passed=[
                {
                    "grade": ExamGrade.JAPANESE_A1.value,
                    "passed_on": (start - timedelta(days=rng.randint(30, 240))).isoformat(),
                }
            ],
            scheme=Scheme.ESD.value,
            esd_field=field_name,
            support=io.esd_support,
        )
        plans.append(plan)
        plan.ending, _ = _ending(rng, plan, io, as_of)
        # The first year's basic-grade test (and the field's Japanese level, for a transfer), as the exam body
        # reports them.
        passed_on = start + timedelta(days=rng.randint(240, 330))
        if passed_on <= as_of and (plan.ending is None or passed_on < plan.ending[1]):
            plan.exam_results.append((ExamGrade.BASIC.value, passed_on))
            japanese = ESD.fields[field_name].transfer_japanese
            if japanese is not ExamGrade.JAPANESE_A1:
                plan.exam_results.append((japanese.value, passed_on))

    def esd_certifiable(io: ImplementingOrganization, start: date) -> bool:
        if io.plans_revoked_on and certified_on(start) >= io.plans_revoked_on:
            return False
        return (
            io.esd_support is not None
            and io.esd_from is not None
            and io.esd_from <= start
            and support[io.esd_support].certifies(certified_on(start))
        )

    while len(plans) < target:
        trainee += 1
        nationality, group = _pick(rng, NATIONALITIES), _pick(rng, JOB_GROUPS)
        start = _day_between(rng, first_start, last_start)
        if start >= ESD_STARTS_ON and not (titp_stage_i_allowed(start) and rng.random() < LATE_TITP_SHARE):
            esd_worker(start, nationality)
            continue
        pool = type_a if nationality == "CN" else type_b[group] or [j for js in type_b.values() for j in js]
        choice = next(
            (
                j
                for j in (rng.choice(pool) for _ in range(20))
                if certifiable(implementing[j], certified_on(start), "i")
            ),
            None,
        )
        if choice is None:
            continue
        io = implementing[choice]
        so = supervising[io.supervising] if io.supervising is not None else None
        sending = None
        if so is not None:
            sending = so.partners.setdefault(nationality, rng.choice(sending_by_country[nationality]))
        family = FAMILY_NAMES.get(nationality, FAMILY_NAMES["VN"])
        person = {
            "name": f"{rng.choice(family)} {rng.choice(GIVEN_NAMES)}",
            "date_of_birth": (start - timedelta(days=rng.randint((TITP.minimum_age + 1) * 366, 35 * 365))).isoformat(),
            "nationality": nationality,
            "passport_number": f"{nationality}{seed % 100:02d}{trainee:07d}",
        }
        trainee_id = uuid5(NAMESPACE_URL, f"https://titp.example/seed/{seed}/{scale}/trainee/{trainee}")
        operation = ops_rng.choice(io.operations)
        chain_start, days_used, stage = start, 0, "i"
        exams: list[dict[str, str]] = []
        chain: list[Plan] = []
        while len(plans) < target:
            end = last_day(start, STAGE_MONTHS[stage])
            if stage == "iii":  # all of a trainee's plans within 5 years of the first (DOMAIN §4)
                total_days = (add_months(chain_start, 12 * TITP.total_years) - chain_start).days
                end = min(end, start + timedelta(days=total_days - days_used - 1))
                if (end - start).days < 180:
                    break
            plan = Plan(
                key=f"plan-{len(plans)}",
                trainee_id=trainee_id,
                trainee=person,
                stage=stage,
                job_category=io.job_category,
                job_group=io.job_group,
                implementing=choice,
                supervising=io.supervising,
                sending=sending,
                start_date=start,
                end_date=end,
                applied_on=applied_on(start, stage),
                certified_on=certified_on(start),
                exams_passed=exams,
                operation=operation,
            )
            plans.append(plan)
            chain.append(plan)
            days_used += (end - start).days + 1
            plan.ending, goes_on = _ending(rng, plan, io, as_of)
            # The next stage: this stage's exam passed by as_of, a start in the window, a certification allowed.
            exam_on, next_stage = end - timedelta(days=30), NEXT_STAGE.get(stage)
            if not goes_on or next_stage is None or exam_on > as_of:
                break
            if next_stage == "ii":
                if rng.random() >= TO_STAGE_II:
                    break
                start = end + timedelta(days=1)
            else:
                if not (io.excellent and rng.random() < TO_STAGE_III and reaches(operation, next_stage)):
                    break
                # home for 1 or 2 whole months first, counted as accreditation counts them (29 Jan + 1 month: to
                # 28 Feb, so stage iii starts on 1 Mar)
                home = last_day(end + timedelta(days=1), TITP.return_home_min_months + rng.choice((0, 1)))
                start = home + timedelta(days=1)
            if start > last_start or not certifiable(io, certified_on(start), next_stage):
                break
            if not titp_continuation_allowed(chain, next_stage, start):
                break
            exams = [*exams, {"grade": STAGE_EXAM[Stage(stage)].value, "passed_on": exam_on.isoformat()}]
            stage = next_stage
    return plans


def _ending(rng: random.Random, plan: Plan, io: ImplementingOrganization, as_of: date) -> tuple[Ending | None, bool]:
    """How the plan ends as of `as_of` (None: in progress or not started), and whether the trainee goes on."""
    ending: Ending | None = None
    goes_on = True
    if plan.start_date < as_of and rng.random() < DISCONTINUED:
        day = _day_between(rng, plan.start_date, min(plan.end_date, as_of - timedelta(days=1)))
        ending, goes_on = ("discontinued", day, rng.choice(("disappearance", "bankruptcy", "transfer"))), False
    elif plan.end_date < as_of:
        passed = rng.random() < EXAM_PASSED
        ending, goes_on = ("completed", plan.end_date, "passed" if passed else "failed"), passed
    revoked_on = io.plans_revoked_on
    if revoked_on and (ending is None or ending[1] >= revoked_on):
        ending, goes_on = ("revoked", revoked_on, None), False
    return ending, goes_on


def _in_force(plan: Plan, first: date, last: date) -> bool:
    """Is the plan in force on some day from `first` to `last`?"""
    ends = plan.ending[1] - timedelta(days=1) if plan.ending else plan.end_date
    return plan.start_date <= last and first <= min(ends, plan.end_date)


def _transfers(
    rng: random.Random,
    as_of: date,
    implementing: list[ImplementingOrganization],
    plans: list[Plan],
    support: list[SupportOrganization],
) -> None:
    """A few ESD workers past their field's transfer period move, at their own wish, to another employer of the
    field: with the basic grade and the field's Japanese level passed, to an employer with at least two other
    ESD workers then (its cap on transferred workers), not from a designated area into the metropolitan ones (the
    cap on those), the three years counted across both plans."""
    last_start = plan_window(as_of)[1]
    received: set[int] = set()
    esd_workers: dict[int, list[Plan]] = defaultdict(list)
    for plan in plans:
        if plan.esd_field is not None:
            esd_workers[plan.implementing].append(plan)
    for plan in list(plans):
        if plan.esd_field is None or plan.ending is not None or plan.transfer_from is not None:
            continue
        field_rules = ESD.fields[plan.esd_field]
        day = add_months(plan.start_date, 12 * field_rules.transfer_years) + timedelta(days=rng.randint(0, 60))
        if day > min(last_start, plan.end_date) or rng.random() >= ESD_TRANSFERRED:
            continue
        passed = {grade for grade, on in plan.exam_results if on < day}
        if ExamGrade.BASIC.value not in passed:
            continue
        source = implementing[plan.implementing]
        assert plan.sending is not None  # an ESD worker of a type (b) employer came through a sending organization
        receivers = [
            j
            for j, io in enumerate(implementing)
            if io.esd_field == plan.esd_field
            and j != plan.implementing
            and j not in received
            and io.esd_support is not None
            and io.esd_from is not None
            and io.esd_from <= day
            and io.plans_revoked_on is None
            and support[io.esd_support].certifies(certified_on(day))
            and not (
                designated_area(source.prefecture, ESD.metropolitan_prefectures)
                and not designated_area(io.prefecture, ESD.metropolitan_prefectures)
            )
            and sum(1 for p in esd_workers[j] if p.transfer_from is None and _in_force(p, day, day)) >= 2
        ]
        if not receivers:
            continue
        j = rng.choice(receivers)
        received.add(j)
        io = implementing[j]
        assert io.esd_support is not None  # a receiver is supported under ESD
        sso = support[io.esd_support]
        moved = Plan(
            key=f"plan-{len(plans)}",
            trainee_id=plan.trainee_id,
            trainee=plan.trainee,
            stage=None,
            job_category=plan.job_category,
            job_group=io.job_group,
            implementing=j,
            supervising=None,
            sending=sso.partners.setdefault(plan.nationality, plan.sending),
            start_date=day,
            end_date=plan.end_date,  # the three years count across both plans
            applied_on=applied_on(day),
            certified_on=certified_on(day),
            exams_passed=plan.exams_passed,
            scheme=Scheme.ESD.value,
            esd_field=plan.esd_field,
            support=io.esd_support,
            transfer_from=plan.key,
        )
        plan.ending = ("transferred", day, None)
        plans.append(moved)
        moved.ending, _ = _ending(rng, moved, io, as_of)


# After certification (issue 20): transfers, new supervising organizations, plan changes, the filings the agency
# receives and trainees' consultations. They draw on their own generator, after everything else is decided: the
# rest of the dataset is what it was before they were added (tests/unit/test_seed_blueprint.py checks it).
TITP_TRANSFERRED = 0.01  # of the TITP plans: the trainee moves to another employer for an unavoidable reason ...
TRANSFER_REASONS = {"bankruptcy": 6, "abuse": 2, "serious_violation": 2}  # ... mostly a bankruptcy
REASSIGNED = 0.8  # of the employers of a revoked supervising organization: join another one, their plans moved to it
CHANGE_CERTIFIED, MINOR_CHANGE = 0.03, 0.10  # of the TITP plans: a change certification applied for; a minor change
CHANGE_REJECTED = 0.1  # of the change certifications: rejected
DIFFICULTY = 0.02  # of the TITP plans: a notice of difficulty (every transfer has one, half the disappearances too)
DIFFICULTY_CAUSES = {"illness_or_injury": 4, "trainee_wish": 3, "other": 2}  # those that do not end the plan
START_NOTICE_LATE = 0.04
ANNUAL_REPORT_LATE, ANNUAL_REPORT_MISSING = 0.05, 0.02
BUSINESS_REPORT_LATE, BUSINESS_REPORT_MISSING = 0.05, 0.02
VISIT_MONTHS = 3  # stage-i visit records: a sample, the last months before the dataset's date (a duty every month)
VISIT_LATE, VISIT_MISSING = 0.05, 0.03
LATE_FILING = 0.05  # of the notices of difficulty: filed after they are due
# Consultations with OTIT: about 3 a year per 100 trainees, by subject; in the trainee's language.
CONSULTATIONS_PER_TRAINEE_YEAR = 0.03
CONSULTATION_SUBJECTS = {
    "wages": 20,
    "working_hours": 14,
    "abuse_or_harassment": 10,
    "passport_or_deposit": 3,
    "early_return_pressure": 5,
    "pregnancy": 2,
    "health": 10,
    "transfer_wish": 13,
    "living_conditions": 13,
    "other": 10,
}
CONSULTATION_CHANNELS = {"phone": 50, "email": 20, "visit": 8, "letter": 4, "other": 18}
ANONYMOUS = 0.25  # of the consultations: the trainee gives no name (the employer is named)
HANDLED, CLOSED = 0.9, 0.85  # of the consultations by the dataset's date: handled; of those, closed
ESCALATED = 0.15  # of those about abuse, a passport kept or wages: an extraordinary inspection of the employer
ESCALATED_SUBJECTS = frozenset({"abuse_or_harassment", "passport_or_deposit", "wages"})
ESCALATION_DAYS = 75  # the most from a consultation to its inspection's completion
LANGUAGES = {
    "VN": "vi",
    "ID": "id",
    "PH": "tl",
    "CN": "zh",
    "MM": "my",
    "KH": "km",
    "TH": "th",
    "NP": "ne",
    "MN": "mn",
    "LK": "si",
    "UZ": "uz",
    "BD": "bn",
}
# A consultation's summary, in the trainee's language where the seeder has one (no names in it).
SUMMARIES = {
    "vi": "Thực tập sinh xin tư vấn về vấn đề: {subject}.",
    "id": "Peserta magang berkonsultasi tentang masalah: {subject}.",
    "tl": "Kumonsulta ang trainee tungkol sa: {subject}.",
    "zh": "实习生咨询的问题：{subject}。",
    "my": "သင်တန်းသား၏ တိုင်ပင်ချက်: {subject}",
    "th": "ผู้ฝึกงานขอคำปรึกษาเรื่อง: {subject}",
}
FALLBACK_SUMMARY = "The trainee asked for advice about: {subject}."


@dataclass
class Difficulty:
    """A notice of difficulty in continuing training (Art. 19) about a plan."""

    occurred_on: date
    filed_on: date
    cause: str
    measures: str


@dataclass
class PlanChange:
    """A change certification applied for (and decided on `decided_on`), or a minor change notified."""

    minor: bool
    on: date  # applied for, or notified
    decided_on: date | None = None  # certified or rejected (a change certification)
    rejected: bool = False
    wage_raise: int = 0  # the new monthly wage: the certified one raised by this ...
    raises_wage: bool = True  # ... unless a minor change changes no term (another instructor, say)


@dataclass
class Consultation:
    key: str
    received_on: date
    language: str
    channel: str
    subject: str
    plan: str  # the key of the trainee's plan: its employer (and supervising organization) are named
    anonymous: bool  # the trainee and the plan are not named
    handled: tuple[date, bool] | None = None  # handled on, closed
    escalated: tuple[date, date] | None = None  # an extraordinary inspection of the employer: opened on, due by ...
    inspected: tuple[date, str] | None = None  # ... done on, with this outcome


def _certifiable(
    supervising: list[SupervisingOrganization], io: ImplementingOrganization, day: date, stage: str
) -> bool:
    """Could the employer's plan of `stage` be decided on `day` (its plans not revoked, its supervisor's permit)?"""
    if io.plans_revoked_on and day >= io.plans_revoked_on:
        return False
    return io.supervising is None or supervising[io.supervising].certifies(day, stage)


def _in_progress_until(plan: Plan) -> date:
    """The plan's last day in force."""
    return plan.ending[1] - timedelta(days=1) if plan.ending else plan.end_date


def _titp_transfers(
    rng: random.Random,
    as_of: date,
    supervising: list[SupervisingOrganization],
    implementing: list[ImplementingOrganization],
    plans: list[Plan],
) -> None:
    """A few TITP trainees in training move, for an unavoidable reason, to another employer of the same supervising
    organization training in their operation, on a new plan for the rest of the stage (its length counted across
    both): the employer's notice of difficulty first, the new plan applied for in the filing window. The receiving
    employer has room in its quota (the staff numbers are left as they were decided)."""
    titp = [p for p in plans if p.scheme == Scheme.TITP]
    last: dict[UUID, Plan] = {}
    for plan in titp:
        last[plan.trainee_id] = plan  # a trainee's plans come in order
    by_stage: dict[tuple[int, str], list[Plan]] = defaultdict(list)
    by_employer: dict[int, list[Plan]] = defaultdict(list)
    for plan in titp:
        by_stage[(plan.implementing, plan.stage or "")].append(plan)
        by_employer[plan.implementing].append(plan)
    peers: dict[tuple[int | None, str], list[int]] = defaultdict(list)
    for j, io in enumerate(implementing):
        if io.plans_revoked_on is None and by_employer[j]:
            peers[(io.supervising, io.job_category)].append(j)

    def fits(j: int, moved: Plan) -> bool:
        io = implementing[j]
        assert moved.stage is not None  # a TITP plan
        stage = Stage(moved.stage)
        excellent = io.excellent and (io.supervising is None or supervising[io.supervising].permit_type == "general")
        limit, _ = QUOTA.limit(stage, io.full_time_staff, excellent, io.training_type == "a")
        same = [*by_stage[(j, moved.stage or "")], moved]
        for plan in same:
            if sum(1 for o in same if o.start_date <= plan.end_date and plan.start_date <= o.end_date) > limit:
                return False
        op = reference.operation(moved.operation or "")
        if op is not None and op.field_limit:
            share = QUOTA.field_limit_share[op.field_limit]
            every = [*by_employer[j], moved]
            for plan in every:
                overlap = sum(1 for o in every if o.start_date <= plan.end_date and plan.start_date <= o.end_date)
                if overlap > share * io.full_time_staff:
                    return False
        return True

    wanted = max(1, round(TITP_TRANSFERRED * len(titp)))
    sources = [
        p
        for p in titp
        if last[p.trainee_id] is p
        and p.ending is None
        and p.operation is not None
        and (p.supervising is None or not supervising[p.supervising].revocation)
    ]
    done = 0
    for source in rng.sample(sources, len(sources)):
        if done >= wanted:
            break
        assert source.stage is not None  # a TITP plan
        first = add_months(source.start_date, TITP_APPLIED_MONTHS_BEFORE[source.stage]) + timedelta(days=21)
        latest = min(source.end_date - timedelta(days=30), as_of)
        if first > latest:
            continue
        day = _day_between(rng, first, latest)
        if not (applied_on(day, source.stage) < ESD_STARTS_ON and day <= SWITCH.titp_last_start):
            continue
        moved = Plan(
            key=f"plan-{len(plans)}",
            trainee_id=source.trainee_id,
            trainee=source.trainee,
            stage=source.stage,
            job_category=source.job_category,
            job_group=source.job_group,
            implementing=source.implementing,
            supervising=source.supervising,
            sending=source.sending,
            start_date=day,
            end_date=source.end_date,  # the rest of the stage
            applied_on=applied_on(day, source.stage),
            certified_on=certified_on(day),
            exams_passed=source.exams_passed,
            operation=source.operation,
            transfer_from=source.key,
            transfer_reason=_pick(rng, TRANSFER_REASONS),
        )
        receivers = [
            j
            for j in peers[(source.supervising, source.job_category)]
            if j != source.implementing
            and source.operation in implementing[j].operations
            and (source.stage != "iii" or implementing[j].excellent)
            and any(p.transfer_from is None and p.start_date < day for p in by_employer[j])
            and _certifiable(supervising, implementing[j], moved.applied_on, source.stage)
            and _certifiable(supervising, implementing[j], moved.certified_on, source.stage)
            and fits(j, moved)
        ]
        if not receivers:
            continue
        j = rng.choice(receivers)
        moved.implementing, moved.job_group = j, implementing[j].job_group
        source.ending = ("transferred", day, None)
        occurred_on = _day_between(
            rng, max(source.start_date, moved.applied_on - timedelta(days=30)), moved.applied_on - timedelta(days=1)
        )
        source.difficulty = Difficulty(
            occurred_on,
            _difficulty_filed(rng, occurred_on),
            moved.transfer_reason or "other",
            "the trainee moves to another implementing organization of the supervising organization",
        )
        plans.append(moved)
        by_stage[(j, moved.stage or "")].append(moved)
        by_employer[j].append(moved)
        moved.ending, _ = _ending(rng, moved, implementing[j], as_of)
        done += 1


def _difficulty_filed(rng: random.Random, occurred_on: date) -> date:
    if rng.random() < LATE_FILING:
        return FILINGS.difficulty_notice_due(occurred_on) + timedelta(days=rng.randint(1, 20))
    return occurred_on + timedelta(days=rng.randint(1, FILINGS.difficulty_notice_days))


def _life(
    rng: random.Random,
    as_of: date,
    supervising: list[SupervisingOrganization],
    implementing: list[ImplementingOrganization],
    plans: list[Plan],
) -> list[Consultation]:
    """What happens to certified plans, and what the agency receives, up to `as_of`."""
    _reassignments(rng, as_of, supervising, implementing, plans)
    _changes(rng, as_of, supervising, implementing, plans)
    _filings(rng, as_of, supervising, implementing, plans)
    _difficulties(rng, as_of, implementing, plans)
    return _consultations(rng, as_of, plans)


def _reassignments(
    rng: random.Random,
    as_of: date,
    supervising: list[SupervisingOrganization],
    implementing: list[ImplementingOrganization],
    plans: list[Plan],
) -> None:
    """Most employers of a supervising organization whose permit was revoked join another one (the registry records
    the change) some weeks later, and their plans flagged by the revocation are moved to it; the others wait."""
    flagged: dict[int, list[Plan]] = defaultdict(list)
    for plan in plans:
        if plan.scheme == Scheme.TITP and plan.supervising is not None and plan.ending is None:
            flagged[plan.implementing].append(plan)
    for j, io in enumerate(implementing):
        if io.supervising is None or io.plans_revoked_on or not flagged[j]:
            continue
        so = supervising[io.supervising]
        if not so.revocation or rng.random() >= REASSIGNED:
            continue
        joined_on = so.revocation[0] + timedelta(days=rng.randint(7, 42))
        reassigned_on = joined_on + timedelta(days=rng.randint(0, 14))
        if reassigned_on > as_of:
            continue
        stage = "iii" if any(p.stage == "iii" for p in flagged[j]) else "i"
        options = [
            k
            for k, other in enumerate(supervising)
            if other is not so
            and other.granted_on <= joined_on
            and other.certifies(joined_on, stage)
            and other.certifies(reassigned_on, stage)
        ]
        if options:
            nearby = [k for k in options if supervising[k].prefecture == io.prefecture] or options
            io.new_supervising = (rng.choice(nearby), joined_on, reassigned_on)


def _changes(
    rng: random.Random,
    as_of: date,
    supervising: list[SupervisingOrganization],
    implementing: list[ImplementingOrganization],
    plans: list[Plan],
) -> None:
    """Change certifications (a new version of the terms, decided by the plan's rules) and minor-change notices of
    plans in force, on other plans than those that move."""
    titp = [p for p in plans if p.scheme == Scheme.TITP]
    moving = {p.transfer_from for p in titp if p.transfer_from}
    candidates = [p for p in titp if p.transfer_from is None and p.key not in moving]
    order = rng.sample(candidates, len(candidates))
    wanted = {False: max(1, round(CHANGE_CERTIFIED * len(titp))), True: max(1, round(MINOR_CHANGE * len(titp)))}
    done = {False: 0, True: 0}
    for plan in order:
        minor = done[False] >= wanted[False]
        if minor and done[True] >= wanted[True]:
            break
        first = max(plan.start_date, plan.certified_on) + timedelta(days=30)
        latest = min(_in_progress_until(plan), as_of) - timedelta(days=30)
        if first > latest:
            continue
        on = _day_between(rng, first, latest)
        change = PlanChange(minor=minor, on=on, wage_raise=rng.randrange(3_000, 20_001, 1_000))
        change.raises_wage = not minor or rng.random() < 0.5
        if not minor:
            change.decided_on = on + timedelta(days=rng.randint(14, 30))
            change.rejected = done[False] > 0 and rng.random() < CHANGE_REJECTED  # the first one is certified
            io = implementing[plan.implementing]
            if change.decided_on > latest or not _certifiable(supervising, io, change.decided_on, plan.stage or "i"):
                continue
            if plan.supervising is not None and supervising[plan.supervising].revocation:
                continue  # a plan flagged by a revocation: not while it waits for a new supervising organization
        plan.change = change
        done[minor] += 1


def _fiscal_years(as_of: date) -> range:
    """The fiscal years of the dataset's plans that ended before `as_of`."""
    return range(fiscal_year(plan_window(as_of)[0]), fiscal_year(as_of))


def _report_filed(rng: random.Random, year: int, late: float, missing: float) -> date | None:
    """When a report on fiscal year `year` (due 31 May after it) is filed: None, never."""
    due = FILINGS.annual_report_due(year)
    draw = rng.random()
    if draw < missing:
        return None
    if draw < missing + late:
        return due + timedelta(days=rng.randint(1, 60))
    return fiscal_year_start(year + 1) + timedelta(days=rng.randint(0, (due - fiscal_year_start(year + 1)).days))


def _filings(
    rng: random.Random,
    as_of: date,
    supervising: list[SupervisingOrganization],
    implementing: list[ImplementingOrganization],
    plans: list[Plan],
) -> None:
    """The implementation-start notices, annual implementation reports, business reports and stage-i visit records
    filed by `as_of`: most on time, a few late, a few missing."""
    by_employer: dict[int, list[Plan]] = defaultdict(list)
    for plan in plans:
        if plan.scheme == Scheme.TITP:
            by_employer[plan.implementing].append(plan)
    for j, io in enumerate(implementing):
        started = [p for p in by_employer[j] if p.start_date <= as_of]
        if not started:
            continue
        first = min(started, key=lambda p: (p.start_date, int(p.key.split("-")[1])))
        due = FILINGS.start_notice_due(first.start_date)
        if rng.random() < START_NOTICE_LATE:
            filed_on = due + timedelta(days=rng.randint(1, 60))
        else:
            filed_on = first.start_date + timedelta(days=rng.randint(0, FILINGS.start_notice_days))
        if filed_on > as_of:
            continue
        io.start_notice = (first.key, filed_on)
        for year in _fiscal_years(as_of):
            in_force = [p for p in by_employer[j] if _in_force(p, fiscal_year_start(year), date(year + 1, 3, 31))]
            if not in_force:
                continue
            report_filed = _report_filed(rng, year, ANNUAL_REPORT_LATE, ANNUAL_REPORT_MISSING)
            if report_filed is None or report_filed > as_of or report_filed < filed_on:
                continue
            io.annual_reports.append((year, report_filed, len({p.trainee_id for p in in_force})))
    for so in supervising:
        for year in _fiscal_years(as_of):
            if so.granted_on > date(year + 1, 3, 31):
                continue
            report_filed = _report_filed(rng, year, BUSINESS_REPORT_LATE, BUSINESS_REPORT_MISSING)
            if report_filed is None or report_filed > as_of or (so.revocation and so.revocation[0] <= report_filed):
                continue
            so.business_reports.append((year, report_filed))
    # Visit records: a supervising organization visits each member employer with a stage-i trainee in training
    # every month; the seeder files the last few months' (the duty is the same every month).
    months = [add_months(as_of.replace(day=1), -n) for n in range(VISIT_MONTHS, 0, -1)]
    for j, io in enumerate(implementing):
        if io.supervising is None or supervising[io.supervising].revocation:
            continue
        for month in months:
            month_end = add_months(month, 1) - timedelta(days=1)
            spans = [
                (max(month, p.start_date), min(month_end, _in_progress_until(p)))
                for p in by_employer[j]
                if p.stage == "i" and p.supervising == io.supervising
            ]
            spans = [(a, b) for a, b in spans if a <= b]
            if not spans:
                continue
            visited_on = _day_between(rng, *rng.choice(spans))
            due = FILINGS.visit_record_due(month)
            draw = rng.random()
            if draw < VISIT_MISSING:
                continue
            if draw < VISIT_MISSING + VISIT_LATE:
                filed_on = due + timedelta(days=rng.randint(1, 30))
            else:
                filed_on = min(due, visited_on + timedelta(days=rng.randint(1, 20)))
            if filed_on <= as_of:
                io.visit_records.append((month, visited_on, filed_on))


def _difficulties(
    rng: random.Random, as_of: date, implementing: list[ImplementingOrganization], plans: list[Plan]
) -> None:
    """Notices of difficulty: every transfer's (decided with it), half the disappearances' and bankruptcies', and
    others about plans that go on; only from an employer whose start notice (its receipt number) came first."""

    def receipt_before(plan: Plan, day: date) -> bool:
        notice = implementing[plan.implementing].start_notice
        return notice is not None and notice[1] <= day

    titp = [p for p in plans if p.scheme == Scheme.TITP]
    for plan in titp:
        if plan.difficulty and (not receipt_before(plan, plan.difficulty.filed_on) or plan.difficulty.filed_on > as_of):
            plan.difficulty = None
    for plan in titp:
        if not plan.ending or plan.ending[0] != "discontinued" or plan.ending[2] not in ("disappearance", "bankruptcy"):
            continue
        if rng.random() >= 0.5:
            continue
        occurred_on = max(plan.start_date, plan.ending[1] - timedelta(days=rng.randint(0, 10)))
        filed_on = _difficulty_filed(rng, occurred_on)
        if filed_on <= as_of and receipt_before(plan, filed_on):
            measures = (
                "searching with the police; the plan is discontinued"
                if plan.ending[2] == "disappearance"
                else "no employer could take the trainee on; the plan is discontinued"
            )
            plan.difficulty = Difficulty(occurred_on, filed_on, plan.ending[2], measures)
    wanted = max(1, round(DIFFICULTY * len(titp)) - sum(1 for p in titp if p.difficulty))
    going_on = [p for p in titp if p.ending is None and p.difficulty is None and p.change is None]
    for plan in rng.sample(going_on, len(going_on)):
        if wanted <= 0:
            break
        first, latest = plan.start_date + timedelta(days=30), min(plan.end_date, as_of) - timedelta(days=40)
        if first > latest:
            continue
        occurred_on = _day_between(rng, first, latest)
        filed_on = _difficulty_filed(rng, occurred_on)
        if filed_on > as_of or not receipt_before(plan, filed_on):
            continue
        cause = _pick(rng, DIFFICULTY_CAUSES)
        plan.difficulty = Difficulty(
            occurred_on, filed_on, cause, "training goes on with the supervising organization's support"
        )
        wanted -= 1


def _consultations(rng: random.Random, as_of: date, plans: list[Plan]) -> list[Consultation]:
    """Trainees' consultations with OTIT, in proportion to the time trainees spend in training up to `as_of`."""
    first_start = plan_window(as_of)[0]
    spans = [
        (plan, max(plan.start_date, first_start), min(_in_progress_until(plan), as_of - timedelta(days=1)))
        for plan in plans
    ]
    spans = [(plan, a, b) for plan, a, b in spans if a <= b]
    if not spans:
        return []
    weights = [(b - a).days + 1 for _, a, b in spans]
    latest_escalated = as_of - timedelta(days=ESCALATION_DAYS)  # its inspection done by the dataset's date
    wanted = max(3, round(CONSULTATIONS_PER_TRAINEE_YEAR * sum(weights) / 365))
    consultations = []
    for n, (plan, first, latest) in enumerate(rng.choices(spans, weights=weights, k=wanted)):
        received_on = _day_between(rng, first, latest)
        subject = _pick(rng, CONSULTATION_SUBJECTS)
        consultation = Consultation(
            key=f"consultation-{n}",
            received_on=received_on,
            language=LANGUAGES.get(plan.nationality, "en"),
            channel=_pick(rng, CONSULTATION_CHANNELS),
            subject=subject,
            plan=plan.key,
            anonymous=rng.random() < ANONYMOUS,
        )
        handled_on = received_on + timedelta(days=rng.randint(1, 30))
        if handled_on <= as_of and rng.random() < HANDLED:
            consultation.handled = (handled_on, rng.random() < CLOSED)
        if subject in ESCALATED_SUBJECTS and received_on <= latest_escalated and rng.random() < ESCALATED:
            _escalate(rng, consultation)
        consultations.append(consultation)
    if not any(c.escalated for c in consultations):  # at least one, at any scale, so every path is exercised
        for consultation in consultations:
            if consultation.subject in ESCALATED_SUBJECTS and consultation.received_on <= latest_escalated:
                _escalate(rng, consultation)
                break
    consultations.sort(key=lambda c: (c.received_on, c.key))
    return consultations


def _escalate(rng: random.Random, consultation: Consultation) -> None:
    """An extraordinary inspection of the employer, opened from the consultation within 2 weeks, due in 1-2 months
    and done by then."""
    escalated_on = consultation.received_on + timedelta(days=rng.randint(1, 14))
    due_by = escalated_on + timedelta(days=rng.randint(30, 60))
    consultation.escalated = (escalated_on, due_by)
    consultation.inspected = (_day_between(rng, escalated_on + timedelta(days=7), due_by), _pick(rng, dict(OUTCOMES)))
    if consultation.handled:
        consultation.handled = (consultation.handled[0], False)


def _quarter_ends(first: date, last: date) -> list[date]:
    """The last days of the quarters that end from `first` to `last`."""
    ends, day = [], date(first.year, 1, 1)
    while day <= last:
        end = last_day(day, 3)
        if first <= end <= last:
            ends.append(end)
        day = add_months(day, 3)
    return ends


def _support_numbers(
    rng: random.Random,
    as_of: date,
    implementing: list[ImplementingOrganization],
    plans: list[Plan],
    support: list[SupportOrganization],
) -> None:
    """What each supervision support organization's application states (enough full-time staff for its employers
    and workers, by the registry's standards), its renewal when due, and its quarterly audit reports up to `as_of`."""
    last_start = plan_window(as_of)[1]
    employers: dict[int, list[int]] = defaultdict(list)
    for j, io in enumerate(implementing):
        if io.esd_support is not None:
            employers[io.esd_support].append(j)
    workers: dict[int, list[Plan]] = defaultdict(list)
    for plan in plans:
        if plan.esd_field is not None:
            workers[plan.implementing].append(plan)
    for k, sso in enumerate(support):
        members = employers[k]
        sso.member_employers = max(len(members), SUPPORT.min_member_employers)
        sso.workers = sum(len(workers[j]) for j in members)
        staff = SUPPORT.min_full_time_staff
        while SUPPORT.max_employers(staff) < sso.member_employers or SUPPORT.max_workers(staff) < sso.workers:
            staff += 1
        sso.full_time_staff = staff + rng.randint(0, 2)
        expires_on = permit_rules.permit_expiry(sso.granted_on, SUPPORT.validity(False))
        if expires_on <= add_months(last_start, 1):
            renewal_applied = add_months(expires_on, -(SUPPORT.renewal_latest_months + 1))
            sso.renewal = (renewal_applied, renewal_applied + timedelta(days=rng.randint(7, 28)))
        for quarter_ending in _quarter_ends(ESD_STARTS_ON, as_of):
            quarter_start = add_months(quarter_ending + timedelta(days=1), -3)
            for j in members:
                audited = sum(1 for p in workers[j] if _in_force(p, quarter_start, quarter_ending))
                if not audited:
                    continue
                due_by = SUPPORT.audit_report_due_by(quarter_ending)
                if rng.random() < LATE_AUDIT_REPORT:
                    filed_on = due_by + timedelta(days=rng.randint(1, 30))
                else:
                    filed_on = quarter_ending + timedelta(days=rng.randint(5, (due_by - quarter_ending).days))
                if filed_on <= as_of:
                    sso.audit_reports.append((j, quarter_ending, filed_on, audited))


def _staff(rng: random.Random, implementing: list[ImplementingOrganization], plans: list[Plan]) -> None:
    """Full-time staff enough for every organization's quota (DOMAIN §3), whatever order plans are certified in:
    for each plan, the plans of its stage whose periods overlap it must fit."""
    by_organization: dict[tuple[int, str], list[Plan]] = defaultdict(list)
    for plan in plans:
        by_organization[(plan.implementing, plan.stage or plan.scheme)].append(plan)
    needed: defaultdict[int, int] = defaultdict(int)  # basic quota
    least_staff: defaultdict[int, int] = defaultdict(int)
    for (j, stage_name), same in by_organization.items():
        overlap = max(sum(1 for o in same if o.start_date <= p.end_date and p.start_date <= o.end_date) for p in same)
        if stage_name == Scheme.ESD:  # ESD: a multiple of the same basic quota, no cap per staff member
            esd_multiple = ESD.quota_multiple_excellent if implementing[j].excellent else ESD.quota_multiple
            needed[j] = max(needed[j], math.ceil(overlap / esd_multiple))
            continue
        stage = Stage(stage_name)
        # Stages i and ii at the normal multiple of the basic quota; stage iii exists only at excellent organizations.
        multiple = QUOTA.normal[stage] or QUOTA.excellent[stage]
        needed[j] = max(needed[j], math.ceil(overlap / multiple))
        least_staff[j] = max(least_staff[j], math.ceil(overlap / QUOTA.hard_cap_per_staff[stage]))
        if implementing[j].training_type == "a":  # type (a), not recognised as stable: a share of the staff (§11)
            share = (QUOTA.type_a_excellent_share if implementing[j].excellent else QUOTA.type_a_share)[stage]
            if share:
                least_staff[j] = max(least_staff[j], math.ceil(overlap / share))
    # The field limits (DOMAIN §11): a nursing care or construction organization's TITP trainees of all stages at
    # most a share of its full-time staff.
    titp_plans: dict[int, list[Plan]] = defaultdict(list)
    for plan in plans:
        if plan.operation is not None:
            titp_plans[plan.implementing].append(plan)
    for j, same in titp_plans.items():
        limits = {op.field_limit for p in same if (op := reference.operation(p.operation or "")) and op.field_limit}
        for limit in limits:
            share = QUOTA.field_limit_share[limit]
            overlap = max(
                sum(1 for o in same if o.start_date <= p.end_date and p.start_date <= o.end_date) for p in same
            )
            least_staff[j] = max(least_staff[j], math.ceil(overlap / share))
    # The staff brackets of the basic quota table: (fewest staff, most staff, basic quota).
    lows = (MIN_STAFF, *(most + 1 for most, _ in QUOTA.basic_table[:-1]))
    table = tuple((low, most, quota) for low, (most, quota) in zip(lows, QUOTA.basic_table, strict=True))
    per_trainee = QUOTA.staff_per_trainee_above_table
    for j, io in enumerate(implementing):
        basic = needed[j]
        bracket = next(((low, high) for low, high, quota in table if quota >= basic), None)
        staff = rng.randint(*bracket) if bracket else basic * per_trainee + rng.randint(0, per_trainee - 1)
        io.full_time_staff = max(staff, least_staff[j])  # the hard caps: stage i <= staff, ii <= 2x, iii <= 3x


# Running it: the commands, phase by phase, over the services' REST APIs.

# Rules a service refuses with while it has not yet heard, over Kafka, of what another service recorded.
CATCHING_UP = frozenset(
    {
        "implementing_organization.registered",
        "implementing_organization.supervised_by",
        "implementing_organization.training_type",
        "supervising_organization.permit_active",
        "sending_organization.approved",
        "sending_organization.agreement",
        "inspection.target_unknown",
        "implementing_organization.supported_by",
        "esd.supervision_support_permit",
        "reassign.not_supervising_the_employer",  # accreditation has not yet heard of the new supervision
    }
)
SERVICES_USED = ("registry", "accreditation", "inspection")


class Checkpoint:
    """What a run has done: a JSON line per step, appended as each is done, read back to resume."""

    def __init__(self, path: Path, identity: dict[str, Any]) -> None:
        self.path, self.identity = path, identity
        self.done: dict[str, Any] = {}
        if path.exists():
            lines = path.read_bytes().splitlines()
            recorded = orjson.loads(lines[0]) if lines else {}
            if recorded.get("identity") != identity:
                raise SeedError(
                    f"{path} records another dataset ({recorded.get('identity')}); start afresh to replace it"
                )
            for line in lines[1:]:
                try:
                    entry = orjson.loads(line)
                except orjson.JSONDecodeError:
                    continue  # the last line, cut short by an interruption: its step is sent again
                self.done[entry["step"]] = entry["answer"]
            self._file = path.open("ab")
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("wb")
            self._file.write(orjson.dumps({"identity": identity}) + b"\n")
            self._file.flush()

    def __contains__(self, step: str) -> bool:
        return step in self.done

    def __getitem__(self, step: str) -> Any:
        return self.done[step]

    def record(self, step: str, answer: Any) -> None:
        self.done[step] = answer
        self._file.write(orjson.dumps({"step": step, "answer": answer}) + b"\n")
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def inspections(self) -> list[dict[str, Any]]:
        """Every inspection the run completed or left open, as recorded."""
        return [answer for step, answer in self.done.items() if step.startswith("inspection:")]


def checkpoint_identity(blueprint: Blueprint) -> dict[str, Any]:
    return {"seed": blueprint.seed, "scale": blueprint.scale, "as_of": blueprint.as_of.isoformat()}


@dataclass
class SeedReport:
    blueprint: Blueprint
    inspections: list[dict[str, Any]]  # target_type, target (key), scheduled_on, due_by, inspected_on, findings
    requests: int
    seconds: float


class Seeder:
    """Sends the blueprint's commands to the services: `clients` maps registry, accreditation and inspection
    to an httpx client of each (real HTTP in the CLI, the apps themselves in tests)."""

    def __init__(
        self,
        blueprint: Blueprint,
        clients: Mapping[str, httpx.AsyncClient],
        headers: Mapping[str, str],
        checkpoint: Checkpoint,
        *,
        concurrency: int = 8,
        show_progress: bool = True,
        catch_up_timeout: float = 120.0,
    ) -> None:
        missing = set(SERVICES_USED) - set(clients)
        if missing:
            raise SeedError(f"no client for {', '.join(sorted(missing))}")
        self.blueprint, self.clients, self.headers, self.checkpoint = blueprint, clients, dict(headers), checkpoint
        self.concurrency, self.catch_up_timeout = concurrency, catch_up_timeout
        self.progress = Progress(
            TextColumn("{task.description:<38}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=Console(stderr=True),  # stdout is for what the command reports
            disable=not show_progress,
        )
        self.requests = 0
        self._key_prefix = f"titp-seed/{blueprint.seed}/{blueprint.scale}/{blueprint.as_of.isoformat()}/"
        self._plans = {plan.key: plan for plan in blueprint.plans}
        self._plans_of: dict[str, list[Plan]] = defaultdict(list)  # each employer's, by its key
        for plan in blueprint.plans:
            self._plans_of[blueprint.implementing[plan.implementing].key].append(plan)

    # Talking to the services.

    async def _request(
        self,
        service: str,
        method: str,
        path: str,
        *,
        body: Any = None,
        params: Mapping[str, Any] | None = None,
        step: str | None = None,
    ) -> dict[str, Any]:
        headers = dict(self.headers)
        if step is not None:
            headers["idempotency-key"] = self._key_prefix + step
        failures, catching_up_since = 0, None
        while True:
            try:
                response = await self.clients[service].request(method, path, json=body, params=params, headers=headers)
            except httpx.TransportError as error:
                failures += 1
                if failures > 8:
                    raise SeedError(f"{service} does not answer {method} {path}: {error!r}") from None
                await asyncio.sleep(min(0.2 * 2**failures, 10))
                continue
            self.requests += 1
            if response.status_code < 300:
                return response.json()
            if response.status_code == 429:  # the service's write rate limit: wait as it says
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                continue
            if response.status_code >= 500 and failures < 8:
                failures += 1
                await asyncio.sleep(min(0.2 * 2**failures, 10))
                continue
            rule = response.json().get("rule") if response.status_code == 409 else None
            if rule in CATCHING_UP:
                catching_up_since = catching_up_since or time.monotonic()
                if time.monotonic() - catching_up_since < self.catch_up_timeout:
                    await asyncio.sleep(0.25)
                    continue
            raise SeedError(f"{service} refused {method} {path} ({step}): {response.status_code} {response.text}")

    async def send(self, service: str, path: str, body: dict[str, Any], step: str, *, remember: Any = True) -> Any:
        """POST a command once: skipped if the checkpoint has it; a creation remembers the new id."""
        if step in self.checkpoint:
            return self.checkpoint[step]
        answer = await self._request(service, "POST", path, body=body, step=step)
        value = answer["id"] if remember is None else remember
        self.checkpoint.record(step, value)
        return value

    async def create(self, service: str, path: str, body: dict[str, Any], step: str) -> str:
        return await self.send(service, path, body, step, remember=None)

    async def get(self, service: str, path: str, **params: Any) -> dict[str, Any]:
        return await self._request(service, "GET", path, params=params)

    async def eventually(self, check: Callable[[], Awaitable[Any]], what: str) -> Any:
        deadline = time.monotonic() + self.catch_up_timeout
        while not (found := await check()):
            if time.monotonic() > deadline:
                raise SeedError(f"after {self.catch_up_timeout:.0f}s: {what}")
            await asyncio.sleep(0.25)
        return found

    def id(self, key: str) -> str:
        return self.checkpoint[f"{key}:create"]

    # The phases.

    async def run(self) -> SeedReport:
        started = time.monotonic()
        bp = self.blueprint
        with self.progress:
            await self._check_resumable()
            await self.phase("sending organizations", bp.sending, self.approve_sending_organization)
            await self.phase("supervising organizations", bp.supervising, self.permit)
            await self.phase(
                "sending agreements",
                [(so, partner) for so in bp.supervising for partner in sorted(set(so.partners.values()))],
                self.agreement,
            )
            await self.phase("implementing organizations", bp.implementing, self.register)
            await self.phase("supervision support organizations (ESD)", bp.support, self.support_permit)
            await self.phase(
                "ESD sending agreements",
                [(sso, partner) for sso in bp.support for partner in sorted(set(sso.partners.values()))],
                self.support_agreement,
            )
            await self.phase(
                "employers supported under ESD",
                [io for io in bp.implementing if io.esd_support is not None],
                self.support,
            )
            # An organization's first certified TITP plan starts its inspection schedule (DOMAIN §5), so it goes
            # first, and the rest only once the inspection service has heard of it: the schedule then
            # follows the dates, not the order in which Kafka's partitions happen to deliver.
            first: dict[int, Plan] = {}
            for plan in bp.plans:
                if plan.scheme != Scheme.TITP or plan.transfer_from is not None:
                    continue
                if plan.implementing not in first or plan.certified_on < first[plan.implementing].certified_on:
                    first[plan.implementing] = plan
            await self.phase("plans: each organization's first", first.values(), self.certify)
            await self.phase("inspection schedules started", first, self.wait_for_schedule)
            for stage in ("i", "ii", "iii"):
                if stage != "i":  # the stage before's exam, as the exam body records it (DOMAIN §11)
                    await self.phase(
                        f"exam results before stage {stage}", titp_exam_results(bp, stage), self.exam_result
                    )
                await self.phase(
                    f"plans: stage {stage}",
                    [
                        p
                        for p in bp.plans
                        if p.stage == stage and p.transfer_from is None and first[p.implementing] is not p
                    ],
                    self.certify,
                )
            esd = [p for p in bp.plans if p.scheme == Scheme.ESD]
            await self.phase("plans: ESD", [p for p in esd if p.transfer_from is None], self.certify)
            await self.phase("ESD exam results", [(p, *e) for p in esd for e in p.exam_results], self.exam_result)
            await self.phase("plans: ESD transfers", [p for p in esd if p.transfer_from is not None], self.certify)
            # After certification (issue 20): the start notices first (later filings quote their receipt numbers),
            # then the notices of difficulty, the TITP transfers they lead to, and changes of plans in force.
            await self.phase(
                "implementation-start notices", [io for io in bp.implementing if io.start_notice], self.start_notice
            )
            await self.phase("notices of difficulty", [p for p in bp.plans if p.difficulty], self.difficulty)
            await self.phase(
                "plans: TITP transfers",
                [p for p in bp.plans if p.scheme == Scheme.TITP and p.transfer_from is not None],
                self.certify,
            )
            await self.phase("plan changes", [p for p in bp.plans if p.change], self.change)
            await self.phase(
                "plans completed or discontinued",
                [p for p in bp.plans if p.ending and p.ending[0] in ("completed", "discontinued")],
                self.end,
            )
            await self.phase(
                "annual implementation reports", [io for io in bp.implementing if io.annual_reports], self.annual
            )
            await self.phase("business reports", [so for so in bp.supervising if so.business_reports], self.business)
            await self.phase("visit records (stage i)", [io for io in bp.implementing if io.visit_records], self.visits)
            # A support organization's reports are events on its one stream: filed one after another.
            await self.phase("quarterly audit reports (ESD)", [s for s in bp.support if s.audit_reports], self.audit)
            await self.phase("improvement orders, suspensions, downgrades", self._actions(), self.act)
            targets = [
                ("supervising_organization", so.key, so.revocation[0] if so.revocation else bp.as_of)
                for so in bp.supervising
            ]
            targets += [("implementing_organization", bp.implementing[j].key, bp.as_of) for j in sorted(first)]
            # Issue 25: a disappearance opens an extraordinary inspection of the employer; the seeder completes it.
            disappeared = [
                p for p in bp.plans if p.ending and p.ending[0] == "discontinued" and p.ending[2] == DISAPPEARED
            ]
            await self.phase("inspections after a disappearance", disappeared, self.inspect_disappearance)
            await self.phase("inspections", targets, self.inspect)
            referrals: list[tuple[str, str, date, str | None]] = [
                ("supervising_organization", so.key, *so.revocation) for so in bp.supervising if so.revocation
            ]
            referrals += [
                ("implementing_organization", io.key, io.plans_revoked_on, None)
                for io in bp.implementing
                if io.plans_revoked_on
            ]
            await self.phase("referrals: revocations", referrals, self.refer)
            # The registry and accreditation apply the referrals from Kafka: the dataset is whole once they have.
            applied = [
                ("registry", f"/v1/supervising-organizations/{self.id(so.key)}", "lifecycle")
                for so in bp.supervising
                if so.revocation
            ]
            applied += [
                ("accreditation", f"/v1/training-plans/{self.id(p.key)}", "status")
                for p in bp.plans
                if p.ending and p.ending[0] == "revoked"
            ]
            await self.phase("referrals applied", applied, self.wait_for_revocation)
            await self.phase(
                "new supervising organizations", [io for io in bp.implementing if io.new_supervising], self.reassign
            )
            await self.phase("consultations", bp.consultations, self.consult)
        return SeedReport(bp, self.checkpoint.inspections(), self.requests, time.monotonic() - started)

    async def phase(self, name: str, items: Iterable[Any], work: Callable[[Any], Awaitable[Any]]) -> None:
        items = list(items)
        task = self.progress.add_task(name, total=len(items))
        pending = iter(items)

        async def worker() -> None:
            for item in pending:
                await work(item)
                self.progress.advance(task)

        started = time.monotonic()
        try:
            async with asyncio.TaskGroup() as group:
                for _ in range(min(self.concurrency, len(items))):
                    group.create_task(worker())
        except* SeedError as failed:  # the first refusal, as itself (the CLI reports it and how to resume)
            raise failed.exceptions[0] from None
        log.info("seeded %s: %d in %.1fs", name, len(items), time.monotonic() - started)

    async def _check_resumable(self) -> None:
        """A checkpoint made against other databases (say, a stack started afresh) cannot be resumed."""
        step = f"{self.blueprint.supervising[0].key}:create"
        if step in self.checkpoint:
            response = await self.clients["registry"].get(
                f"/v1/supervising-organizations/{self.checkpoint[step]}", headers=self.headers
            )
            if response.status_code == 404:
                raise SeedError(f"{self.checkpoint.path} was recorded against other databases: start afresh")

    def _filler(self, key: str) -> random.Random:
        """Details nobody counts (addresses, names, wages), still the same for the same seed."""
        return random.Random(f"titp-seed:{self.blueprint.seed}:{key}")

    async def approve_sending_organization(self, sending: SendingOrganization) -> None:
        await self.create(
            "registry",
            "/v1/sending-organizations",
            {
                "name": sending.name,
                "country": sending.country,
                "approval_reference": sending.approval_reference,
                "recommendation_reference": sending.recommendation_reference,
                "approved_on": sending.approved_on.isoformat(),
            },
            f"{sending.key}:create",
        )

    async def permit(self, so: SupervisingOrganization) -> None:
        filler = self._filler(so.key)
        address = (
            f"{filler.randint(1, 9)}-{filler.randint(1, 30)}-{filler.randint(1, 20)} Honmachi, {_name(so.prefecture)}"
        )
        representative = _person(filler)
        categories = sorted(
            {
                io.job_category
                for io in self.blueprint.implementing
                if io.supervising is not None and self.blueprint.supervising[io.supervising] is so
            }
        )
        id = await self.create(
            "registry",
            "/v1/supervising-organizations",
            {
                "name": so.name,
                "corporate_number": so.corporate_number,
                "address": address,
                "prefecture": so.prefecture,
                "representative": representative,
                "officers": _officers(filler, representative, so.prefecture),
                "supervising_offices": [
                    {"name": "Head office", "address": address, "supervision_manager": _person(filler)}
                ],
                "job_categories": categories or ["construction"],
                "requested_permit_type": so.permit_type,
                "external_auditor": f"{filler.choice(JAPANESE_FAMILY)} Audit Office",
                "applied_on": so.applied_on.isoformat(),
            },
            f"{so.key}:create",
        )
        base = f"/v1/supervising-organizations/{id}"
        await self.send(
            "registry",
            f"{base}/grant",
            {
                "permit_type": so.permit_type,
                "granted_on": so.granted_on.isoformat(),
                # a general permit only with the excellence standard met (DOMAIN §11)
                "meets_excellence_standard": so.permit_type == PermitType.GENERAL,
            },
            f"{so.key}:grant",
        )
        if so.renewal:
            applied_on, renewed_on = so.renewal
            await self.send(
                "registry",
                f"{base}/renew",
                {"renewed_on": renewed_on.isoformat(), "applied_on": applied_on.isoformat(), "excellent_record": False},
                f"{so.key}:renew",
            )

    async def agreement(self, pair: tuple[SupervisingOrganization, int]) -> None:
        so, partner = pair
        sending = self.blueprint.sending[partner]
        assert so.signed_on is not None  # every supervising organization of a blueprint signs
        await self.create(
            "registry",
            f"/v1/supervising-organizations/{self.id(so.key)}/sending-agreements",
            {"sending_organization_id": self.id(sending.key), "signed_on": so.signed_on.isoformat()},
            f"{so.key}:agreement:{sending.key}:create",
        )

    async def register(self, io: ImplementingOrganization) -> None:
        filler = self._filler(io.key)
        supervising = self.blueprint.supervising[io.supervising] if io.supervising is not None else None
        await self.create(
            "registry",
            "/v1/implementing-organizations",
            {
                "name": io.name,
                "corporate_number": io.corporate_number,
                "address": f"{filler.randint(1, 9)}-{filler.randint(1, 30)} Kogyo-cho, {_name(io.prefecture)}",
                "prefecture": io.prefecture,
                "industry": io.job_category,
                "training_type": io.training_type,
                "supervising_organization_id": self.id(supervising.key) if supervising else None,
                "full_time_staff": io.full_time_staff,
                "staff_as_of": io.registered_on.isoformat(),
                "excellent": io.excellent,
                "registered_on": io.registered_on.isoformat(),
            },
            f"{io.key}:create",
        )

    async def support_permit(self, sso: SupportOrganization) -> None:
        """The cooperative applies again under ESD: a record with an id of its own, the same corporate number."""
        bp, filler = self.blueprint, self._filler(sso.key)
        address = (
            f"{filler.randint(1, 9)}-{filler.randint(1, 30)}-{filler.randint(1, 20)} Honmachi, {_name(sso.prefecture)}"
        )
        k = bp.support.index(sso)
        fields = sorted({io.esd_field for io in bp.implementing if io.esd_field and io.esd_support == k})
        id = await self.create(
            "registry",
            "/v1/supervision-support-organizations",
            {
                "name": sso.name,
                "corporate_number": sso.corporate_number,
                "address": address,
                "prefecture": sso.prefecture,
                "representative": _person(filler),
                "offices": [{"name": "Head office", "address": address, "supervision_manager": _person(filler)}],
                "job_categories": [ESD.fields[name].name for name in fields] or ["construction"],
                "non_profit": True,
                "external_auditor": f"{filler.choice(JAPANESE_FAMILY)} Audit Office",
                "full_time_staff": sso.full_time_staff,
                "member_employers": sso.member_employers,
                "workers": sso.workers,
                "applied_on": sso.applied_on.isoformat(),
            },
            f"{sso.key}:create",
        )
        base = f"/v1/supervision-support-organizations/{id}"
        await self.send(
            "registry",
            f"{base}/grant",
            {"granted_on": sso.granted_on.isoformat(), "excellent": False},
            f"{sso.key}:grant",
        )
        if sso.renewal:
            renewal_applied, renewed_on = sso.renewal
            await self.send(
                "registry",
                f"{base}/renew",
                {"renewed_on": renewed_on.isoformat(), "applied_on": renewal_applied.isoformat(), "excellent": False},
                f"{sso.key}:renew",
            )

    async def support_agreement(self, pair: tuple[SupportOrganization, int]) -> None:
        sso, partner = pair
        sending = self.blueprint.sending[partner]
        assert sso.signed_on is not None  # every supervision support organization of a blueprint signs
        await self.create(
            "registry",
            f"/v1/supervision-support-organizations/{self.id(sso.key)}/sending-agreements",
            {"sending_organization_id": self.id(sending.key), "signed_on": sso.signed_on.isoformat()},
            f"{sso.key}:agreement:{sending.key}:create",
        )

    async def support(self, io: ImplementingOrganization) -> None:
        """From ESD's start the employer is supported by its cooperative's supervision support organization."""
        assert io.esd_support is not None and io.esd_from is not None  # only employers that move are sent
        await self.send(
            "registry",
            f"/v1/implementing-organizations/{self.id(io.key)}/supervision",
            {
                "supervising_organization_id": self.id(self.blueprint.support[io.esd_support].key),
                "scheme": Scheme.ESD.value,
                "from": io.esd_from.isoformat(),
            },
            f"{io.key}:supervision:esd",
        )

    async def exam_result(self, result: tuple[Plan, str, date]) -> None:
        plan, grade, taken_on = result
        await self.send(
            "accreditation",
            "/v1/exam-results",
            {"trainee_id": str(plan.trainee_id), "grade": grade, "result": "passed", "taken_on": taken_on.isoformat()},
            f"{plan.key}:exam:{grade}",
        )

    async def audit(self, sso: SupportOrganization) -> None:
        """The organization's quarterly audit reports, in the order they were filed."""
        for employer, quarter_ending, filed_on, workers in sorted(sso.audit_reports, key=lambda r: (r[2], r[0])):
            io = self.blueprint.implementing[employer]
            step = f"{sso.key}:audit:{io.key}:{quarter_ending.isoformat()}"
            interviewed = min(workers, SUPPORT.min_interviews(workers) + self._filler(step).randint(0, 1))
            await self.send(
                "registry",
                f"/v1/supervision-support-organizations/{self.id(sso.key)}/audit-reports",
                {
                    "implementing_organization_id": self.id(io.key),
                    "quarter_ending": quarter_ending.isoformat(),
                    "filed_on": filed_on.isoformat(),
                    "workers": workers,
                    "workers_interviewed": interviewed,
                },
                step,
            )

    async def certify(self, plan: Plan) -> None:
        bp = self.blueprint
        io = bp.implementing[plan.implementing]
        monthly_wage, comparable = self._wages(plan)
        supervisor = (
            bp.supervising[plan.supervising].key
            if plan.supervising is not None
            else bp.support[plan.support].key
            if plan.support is not None
            else None
        )
        terms: dict[str, Any] = {
            "trainee_id": str(plan.trainee_id),
            "trainee": plan.trainee,
            "stage": plan.stage,
            "training_type": io.training_type,
            "job_category": plan.job_category,
            "implementing_organization_id": self.id(io.key),
            "supervising_organization_id": self.id(supervisor) if supervisor else None,
            "sending_organization_id": self.id(bp.sending[plan.sending].key) if plan.sending is not None else None,
            "start_date": plan.start_date.isoformat(),
            "end_date": plan.end_date.isoformat(),
            "monthly_wage": monthly_wage,
            "comparable_japanese_wage": comparable,
            "exams_passed": plan.exams_passed,
            "applied_on": plan.applied_on.isoformat(),
        }
        if plan.operation is not None:
            terms["operation"] = plan.operation
        if plan.scheme == Scheme.ESD:
            terms |= {"scheme": plan.scheme, "field": plan.esd_field}
        if plan.transfer_from is not None:
            terms |= {
                "transfer_from": self.id(plan.transfer_from),
                "transfer_reason": plan.transfer_reason or TransferReason.OWN_WISH.value,
            }
        id = await self.create("accreditation", "/v1/training-plans", terms, f"{plan.key}:create")
        await self.send(
            "accreditation",
            f"/v1/training-plans/{id}/certify",
            {"certified_on": plan.certified_on.isoformat()},
            f"{plan.key}:certify",
        )

    def _wages(self, plan: Plan) -> tuple[int, int]:
        """The plan's certified monthly wage and the comparable Japanese worker's (details nobody counts)."""
        filler = self._filler(plan.key)
        comparable = filler.randrange(180_000, 230_000, 1_000)
        return comparable + filler.randrange(0, 15_000, 500), comparable

    async def wait_for_schedule(self, implementing: int) -> None:
        id = self.id(self.blueprint.implementing[implementing].key)
        await self._first_inspection(id)

    async def _first_inspection(self, target_id: str) -> None:
        async def scheduled() -> bool:
            return bool((await self.get("inspection", "/v1/inspections", target_id=target_id, limit=1))["items"])

        await self.eventually(scheduled, f"the inspection service never scheduled an inspection of {target_id}")

    async def end(self, plan: Plan) -> None:
        assert plan.ending is not None  # only plans that end are ended
        kind, day, detail = plan.ending
        path = f"/v1/training-plans/{self.id(plan.key)}"
        if kind == "completed":
            await self.send(
                "accreditation",
                f"{path}/complete",
                {"completed_on": day.isoformat(), "exam_result": detail},
                f"{plan.key}:complete",
            )
        else:
            body: dict[str, Any] = {"on": day.isoformat(), "reason": detail}
            if detail == DISAPPEARED:  # issue 25: recorded with the day reported and by whom (the day itself)
                party = "supervising_organization" if plan.supervising is not None else "implementing_organization"
                body |= {"reported_on": day.isoformat(), "reported_by": {"party": party, "office": "staff in charge"}}
            await self.send("accreditation", f"{path}/discontinue", body, f"{plan.key}:discontinue")

    async def inspect_disappearance(self, plan: Plan) -> None:
        """The inspection service opened an extraordinary inspection of the employer on the day the disappearance was
        reported (issue 25; due 30 days after by default): completed within it, by the dataset's date at the latest,
        with an outcome as for regular inspections, and recorded like the others so the statistics still match."""
        assert plan.ending is not None
        key = self.blueprint.implementing[plan.implementing].key
        step = f"inspection:{key}:disappearance:{plan.key}"
        if step in self.checkpoint:
            return
        employer, plan_id = self.id(key), self.id(plan.key)

        async def opened() -> dict[str, Any] | None:
            listed = await self.get("inspection", "/v1/inspections", target_id=employer, reason=DISAPPEARED, limit=500)
            return next((i for i in listed["items"] if plan_id in (i["detail"] or "")), None)

        inspection = await self.eventually(opened, f"no inspection of {employer} after the disappearance {plan_id}")
        rng = self._filler(step)
        scheduled_on, due_by = date.fromisoformat(inspection["scheduled_on"]), date.fromisoformat(inspection["due_by"])
        day = min(
            scheduled_on + timedelta(days=rng.randint(7, max(7, (due_by - scheduled_on).days))), self.blueprint.as_of
        )
        body = _completion(rng, max(day, scheduled_on), _pick(rng, dict(OUTCOMES)))
        record = {
            "target_type": "implementing_organization",
            "target": key,
            "scheduled_on": inspection["scheduled_on"],
            "due_by": inspection["due_by"],
            "inspected_on": body["inspected_on"],
            "findings": bool(body.get("findings")),
        }
        await self.send("inspection", f"/v1/inspections/{inspection['id']}/complete", body, step, remember=record)

    def _actions(self) -> list[tuple[str, str, dict[str, Any]]]:
        actions = []
        for so in self.blueprint.supervising:
            for n, (issued, deadline) in enumerate(so.improvement_orders):
                actions.append(
                    (
                        so.key,
                        f"improvement-orders:{n}",
                        {
                            "issued_on": issued.isoformat(),
                            "deadline": deadline.isoformat(),
                            "reason": "supervision visits not made as the plan requires",
                        },
                    )
                )
            if so.suspension:
                actions.append(
                    (
                        so.key,
                        "suspend",
                        {
                            "from_date": so.suspension[0].isoformat(),
                            "until_date": so.suspension[1].isoformat(),
                            "scope": "all",
                            "reason": "false records submitted to OTIT",
                            "ground": SUSPENSION_GROUND,
                        },
                    )
                )
            if so.downgraded_on:
                actions.append((so.key, "downgrade", {"effective_on": so.downgraded_on.isoformat()}))
        return actions

    async def act(self, action: tuple[str, str, dict[str, Any]]) -> None:
        key, command, body = action
        path = f"/v1/supervising-organizations/{self.id(key)}/{command.split(':')[0]}"
        await self.send("registry", path, body, f"{key}:{command}")

    async def inspect(self, target: tuple[str, str, date]) -> None:
        """Complete the organization's regular inspections due by `until`, in due order, as the seed decides
        for each, until one is left open. One completed by an interrupted run is recorded as decided."""
        target_type, key, until = target
        id = self.id(key)
        await self._first_inspection(id)
        while True:
            listed = (await self.get("inspection", "/v1/inspections", target_id=id, limit=500))["items"]
            due = [
                i
                for i in listed
                if i["kind"] == "regular" and i["status"] != "cancelled" and date.fromisoformat(i["due_by"]) <= until
            ]
            for inspection in due:
                step = f"inspection:{key}:{inspection['due_by']}"
                if step in self.checkpoint:
                    if self.checkpoint[step]["inspected_on"] is None:
                        return  # left open
                    continue
                record, body = self._decide(target_type, key, inspection, until, step)
                if body is None:
                    self.checkpoint.record(step, record)
                    return
                if inspection["status"] == "scheduled":
                    await self.send(
                        "inspection", f"/v1/inspections/{inspection['id']}/complete", body, step, remember=record
                    )
                else:
                    self.checkpoint.record(step, record)
                received_on = date.fromisoformat(body["inspected_on"]) + timedelta(days=20)
                if body["outcome"] in REPORT_OUTCOMES and received_on <= until:
                    await self.send(
                        "inspection",
                        f"/v1/inspections/{inspection['id']}/improvement-report",
                        {"received_on": received_on.isoformat()},
                        f"improvement-report:{key}:{inspection['due_by']}",
                    )
                break  # completing it put the next one on the schedule: list again
            else:
                return

    def _decide(
        self, target_type: str, key: str, inspection: dict[str, Any], until: date, step: str
    ) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """The inspection's record and the completion to send, or None to leave it open: from the seed alone."""
        rng = self._filler(step)
        scheduled_on, due_by = date.fromisoformat(inspection["scheduled_on"]), date.fromisoformat(inspection["due_by"])
        record = {
            "target_type": target_type,
            "target": key,
            "scheduled_on": inspection["scheduled_on"],
            "due_by": inspection["due_by"],
            "inspected_on": None,
            "findings": False,
        }
        if rng.random() < LATE:
            day = due_by + timedelta(days=rng.randint(1, 60))
        else:
            day = max(scheduled_on, due_by - timedelta(days=rng.randint(0, 90)))
        if rng.random() < LEFT_OVERDUE or day > until:
            return record, None
        body = _completion(rng, day, _pick(rng, dict(OUTCOMES)))
        return {**record, "inspected_on": day.isoformat(), "findings": bool(body.get("findings"))}, body

    async def refer(self, referral: tuple[str, str, date, str | None]) -> None:
        """An extraordinary inspection after a complaint, referring the organization for revocation: of its
        permit (the registry revokes it) or of its plans' certification (accreditation revokes those in force)."""
        target_type, key, decided_on, ground = referral
        scheduled_on, due_by = decided_on - timedelta(days=14), decided_on + timedelta(days=30)
        id = await self.create(
            "inspection",
            "/v1/inspections",
            {
                "target_type": target_type,
                "target_id": self.id(key),
                "reason": "complaint",
                "scheduled_on": scheduled_on.isoformat(),
                "due_by": due_by.isoformat(),
                "detail": "a trainee's consultation with OTIT",
            },
            f"referral:{key}:create",
        )
        action = {"action": "permit_revocation", "ground": ground} if ground else {"action": "plan_revocation"}
        step = f"inspection:{key}:referral"
        await self.send(
            "inspection",
            f"/v1/inspections/{id}/complete",
            {
                "inspected_on": decided_on.isoformat(),
                "inspector": _person(self._filler(step)),
                "outcome": "referral",
                "findings": [
                    {
                        "code": "passport_or_residence_card_kept",
                        "legal_breach": True,
                        "description": "the trainees' passports are kept by the employer",
                    }
                ],
                "referral": {**action, "reason": "trainees' passports kept; the breach was repeated"},
            },
            step,
            remember={
                "target_type": target_type,
                "target": key,
                "scheduled_on": scheduled_on.isoformat(),
                "due_by": due_by.isoformat(),
                "inspected_on": decided_on.isoformat(),
                "findings": True,
            },
        )

    async def wait_for_revocation(self, resource: tuple[str, str, str]) -> None:
        service, path, field = resource

        async def revoked() -> bool:
            return (await self.get(service, path))[field] == "revoked"

        await self.eventually(revoked, f"{path} was never revoked by the referral")

    # After certification (issue 20).

    async def start_notice(self, io: ImplementingOrganization) -> None:
        """The implementation-start notice (Art. 17) of the employer's first plan; its receipt number is kept."""
        assert io.start_notice is not None  # only employers that file are sent
        key, filed_on = io.start_notice
        plan = self._plans[key]
        step = f"{io.key}:start-notice"
        if step in self.checkpoint:
            return
        answer = await self._request(
            "accreditation",
            "POST",
            f"/v1/implementing-organizations/{self.id(io.key)}/start-notices",
            body={
                "training_plan_id": self.id(plan.key),
                "started_on": plan.start_date.isoformat(),
                "filed_on": filed_on.isoformat(),
            },
            step=step,
        )
        self.checkpoint.record(step, {"id": answer["id"], "receipt_number": answer["receipt_number"]})

    def receipt_number(self, io: ImplementingOrganization) -> str:
        return str(self.checkpoint[f"{io.key}:start-notice"]["receipt_number"])

    async def difficulty(self, plan: Plan) -> None:
        """The notice of difficulty in continuing the plan's training (Art. 19), quoting the start notice."""
        assert plan.difficulty is not None  # only plans with one are sent
        io, notice = self.blueprint.implementing[plan.implementing], plan.difficulty
        await self.send(
            "accreditation",
            f"/v1/implementing-organizations/{self.id(io.key)}/difficulty-notices",
            {
                "training_plan_id": self.id(plan.key),
                "occurred_on": notice.occurred_on.isoformat(),
                "filed_on": notice.filed_on.isoformat(),
                "cause": notice.cause,
                "measures": notice.measures,
                "receipt_number": self.receipt_number(io),
            },
            f"{plan.key}:difficulty",
        )

    async def change(self, plan: Plan) -> None:
        """A change certification (the wage table changed: the trainee's wage and the comparable Japanese worker's
        raised alike), certified or rejected; or a notice of a minor change (a raise, or no term changed)."""
        assert plan.change is not None  # only plans with one are sent
        change, path = plan.change, f"/v1/training-plans/{self.id(plan.key)}"
        monthly_wage, comparable = self._wages(plan)
        if change.minor:
            raised = change.raises_wage
            await self.create(
                "accreditation",
                f"{path}/minor-changes",
                {
                    "notified_on": change.on.isoformat(),
                    "description": "monthly wage raised" if raised else "training instructor replaced",
                    "changes": {"monthly_wage": monthly_wage + change.wage_raise} if raised else {},
                },
                f"{plan.key}:minor-change:create",
            )
            return
        assert change.decided_on is not None  # a change certification is decided
        change_id = await self.create(
            "accreditation",
            f"{path}/changes",
            {
                "applied_on": change.on.isoformat(),
                "reason": "a new wage table: the comparable Japanese worker's wage raised",
                "changes": {
                    "monthly_wage": monthly_wage + change.wage_raise,
                    "comparable_japanese_wage": comparable + change.wage_raise,
                },
            },
            f"{plan.key}:change:create",
        )
        if change.rejected:
            await self.send(
                "accreditation",
                f"{path}/changes/{change_id}/reject",
                {"reason": "the wage table submitted is not the one in force"},
                f"{plan.key}:change:reject",
            )
        else:
            await self.send(
                "accreditation",
                f"{path}/changes/{change_id}/certify",
                {"certified_on": change.decided_on.isoformat()},
                f"{plan.key}:change:certify",
            )

    async def annual(self, io: ImplementingOrganization) -> None:
        """The employer's annual implementation reports (Art. 21), one a fiscal year, in order."""
        for year, filed_on, trainees in io.annual_reports:
            await self.send(
                "accreditation",
                f"/v1/implementing-organizations/{self.id(io.key)}/annual-reports",
                {
                    "fiscal_year": year,
                    "filed_on": filed_on.isoformat(),
                    "receipt_number": self.receipt_number(io),
                    "trainees": trainees,
                },
                f"{io.key}:annual-report:{year}",
            )

    async def business(self, so: SupervisingOrganization) -> None:
        """The supervising organization's business reports, one a fiscal year, in order (its one stream)."""
        for year, filed_on in so.business_reports:
            await self.send(
                "registry",
                f"/v1/supervising-organizations/{self.id(so.key)}/business-reports",
                {"fiscal_year": year, "filed_on": filed_on.isoformat()},
                f"{so.key}:business-report:{year}",
            )

    async def visits(self, io: ImplementingOrganization) -> None:
        """The supervising organization's monthly visits to the employer in stage i, as recorded."""
        assert io.supervising is not None  # only supervised employers are visited
        supervisor = self.id(self.blueprint.supervising[io.supervising].key)
        for month, visited_on, filed_on in io.visit_records:
            await self.send(
                "accreditation",
                f"/v1/implementing-organizations/{self.id(io.key)}/visit-records",
                {
                    "month": month.isoformat(),
                    "visited_on": visited_on.isoformat(),
                    "filed_on": filed_on.isoformat(),
                    "supervising_organization_id": supervisor,
                },
                f"{io.key}:visit:{month.isoformat()}",
            )

    async def reassign(self, io: ImplementingOrganization) -> None:
        """After its supervising organization's permit was revoked, the employer joins another one (the registry
        records it), and each of its plans the revocation flagged is moved to it, once accreditation flagged it."""
        assert io.new_supervising is not None and io.supervising is not None  # only those that move are sent
        bp = self.blueprint
        k, joined_on, reassigned_on = io.new_supervising
        new = self.id(bp.supervising[k].key)
        await self.send(
            "registry",
            f"/v1/implementing-organizations/{self.id(io.key)}/supervision",
            {"supervising_organization_id": new, "scheme": Scheme.TITP.value, "from": joined_on.isoformat()},
            f"{io.key}:supervision:titp",
        )
        flagged = [
            p
            for p in self._plans_of[io.key]
            if p.scheme == Scheme.TITP and p.supervising == io.supervising and p.ending is None
        ]
        for plan in flagged:
            step, path = f"{plan.key}:reassign", f"/v1/training-plans/{self.id(plan.key)}"
            if step in self.checkpoint:
                continue

            async def waiting(path: str = path) -> bool:
                document = await self.get("accreditation", path)
                return bool(document["new_supervising_organization_required"] or document.get("reassignments"))

            await self.eventually(waiting, f"{path} was never flagged for a new supervising organization")
            await self.send(
                "accreditation",
                f"{path}/reassign",
                {"supervising_organization_id": new, "reassigned_on": reassigned_on.isoformat()},
                step,
            )

    async def consult(self, consultation: Consultation) -> None:
        """A trainee's consultation with OTIT, its handling, and the extraordinary inspection it may lead to."""
        bp = self.blueprint
        plan = self._plans[consultation.plan]
        io = bp.implementing[plan.implementing]
        supervisor = (
            bp.supervising[plan.supervising].key
            if plan.supervising is not None
            else bp.support[plan.support].key
            if plan.support is not None
            else None
        )
        subject = consultation.subject.replace("_", " ")
        body: dict[str, Any] = {
            "received_on": consultation.received_on.isoformat(),
            "language": consultation.language,
            "channel": consultation.channel,
            "subject": consultation.subject,
            "summary": SUMMARIES.get(consultation.language, FALLBACK_SUMMARY).format(subject=subject),
            "implementing_organization_id": self.id(io.key),
            "supervising_organization_id": self.id(supervisor) if supervisor else None,
        }
        if not consultation.anonymous:
            body |= {"trainee_id": str(plan.trainee_id), "training_plan_id": self.id(plan.key)}
        id = await self.create("inspection", "/v1/consultations", body, f"{consultation.key}:create")
        if consultation.handled:
            handled_on, closed = consultation.handled
            await self.send(
                "inspection",
                f"/v1/consultations/{id}/handling",
                {
                    "handled_on": handled_on.isoformat(),
                    "handling": "advised the trainee; the supervising organization was asked to follow up",
                    "closed": closed,
                },
                f"{consultation.key}:handling",
            )
        if consultation.escalated:
            escalated_on, due_by = consultation.escalated
            await self.send(
                "inspection",
                f"/v1/consultations/{id}/inspection",
                {
                    "due_by": due_by.isoformat(),
                    "target_type": "implementing_organization",
                    "escalated_on": escalated_on.isoformat(),
                },
                f"{consultation.key}:escalation",
            )
            assert consultation.inspected is not None  # an escalation's inspection is done
            inspected_on, outcome = consultation.inspected
            step = f"inspection:{io.key}:consultation:{consultation.key}"
            if step in self.checkpoint:
                return
            document = await self.get("inspection", f"/v1/consultations/{id}")
            inspection_id = document["escalation"]["inspection_id"]
            body = _completion(self._filler(step), inspected_on, outcome)
            record = {
                "target_type": "implementing_organization",
                "target": io.key,
                "scheduled_on": escalated_on.isoformat(),
                "due_by": due_by.isoformat(),
                "inspected_on": inspected_on.isoformat(),
                "findings": bool(body.get("findings")),
            }
            await self.send("inspection", f"/v1/inspections/{inspection_id}/complete", body, step, remember=record)


def _completion(rng: random.Random, day: date, outcome: str) -> dict[str, Any]:
    """An inspection's completion with `outcome`: its findings, and the improvement report it asks for."""
    body: dict[str, Any] = {"inspected_on": day.isoformat(), "inspector": _person(rng), "outcome": outcome}
    if outcome == "guidance":
        body["findings"] = [
            {
                "code": rng.choice(("records_not_kept", "accommodation", "other")),
                "legal_breach": False,
                "description": "falls short of the guidelines",
            }
        ]
    elif outcome == "recommendation":
        body["findings"] = [
            {
                "code": rng.choice(("wages_below_plan", "working_hours", "safety_and_health")),
                "legal_breach": True,
                "description": "breach of the Act or of labour law",
            }
        ]
    if outcome in REPORT_OUTCOMES:  # guidance and a recommendation both ask for a report by a day (DOMAIN §11)
        body["improvement_report_due"] = (day + timedelta(days=30)).isoformat()
    return body


# The command line: `titp seed`.


def _default_url(service: str) -> str:
    return f"http://127.0.0.1:{DEFAULT_HTTP_PORTS[service]}"


async def seed_over_http(
    blueprint: Blueprint,
    urls: Mapping[str, str],
    headers: Mapping[str, str],
    checkpoint: Checkpoint,
    *,
    concurrency: int,
) -> SeedReport:
    async with _clients(urls) as clients:
        return await Seeder(blueprint, clients, headers, checkpoint, concurrency=concurrency).run()


@asynccontextmanager
async def _clients(urls: Mapping[str, str]) -> AsyncIterator[dict[str, httpx.AsyncClient]]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    clients = {name: httpx.AsyncClient(base_url=url, timeout=60, limits=limits) for name, url in urls.items()}
    try:
        yield clients
    finally:
        for client in clients.values():
            await client.aclose()


def command(
    scale: Annotated[
        float,
        typer.Option(
            min=0.0001,
            max=10,
            help="1 is national: 3,750 supervising and 63,000 implementing organizations, 400,000 plans.",
        ),
    ] = 0.01,
    seed: Annotated[int, typer.Option(help="The same seed (and date) builds the same dataset.")] = 42,
    as_of: Annotated[
        datetime | None,
        typer.Option(
            formats=["%Y-%m-%d"], help="The dataset's today (default: the checkpoint's, else today in Japan)."
        ),
    ] = None,
    registry_url: Annotated[str, typer.Option(envvar="TITP_SEED_REGISTRY_URL")] = _default_url("registry"),
    accreditation_url: Annotated[str, typer.Option(envvar="TITP_SEED_ACCREDITATION_URL")] = _default_url(
        "accreditation"
    ),
    inspection_url: Annotated[str, typer.Option(envvar="TITP_SEED_INSPECTION_URL")] = _default_url("inspection"),
    concurrency: Annotated[int, typer.Option(min=1, max=64, help="Commands in flight at once.")] = 8,
    checkpoint_dir: Annotated[Path | None, typer.Option(help="Default: $TITP_DATA_DIR/seed.")] = None,
    fresh: Annotated[bool, typer.Option("--fresh", help="Forget the checkpoint and start over.")] = False,
    keys_dir: Annotated[
        Path | None, typer.Option(help="The dev issuer's keys (default: $TITP_DATA_DIR/dev-keys).")
    ] = None,
) -> None:
    """Build a realistic dataset through the services' REST APIs (DOMAIN §8): deterministic for a seed,
    resumable after an interruption (run the same command again)."""
    from shared.web import auth  # the CLI's own import: tests give the seeder their tokens
    from shared.web.http import today

    folder = checkpoint_dir or auth.default_dev_keys_dir().parent / "seed"
    path = folder / f"seed-{seed}-scale-{scale}.jsonl"
    if fresh:
        path.unlink(missing_ok=True)
    day = as_of.date() if as_of else _checkpoint_as_of(path) or today()
    if day < today() - timedelta(days=30):
        raise typer.BadParameter(
            "the services expire permits by today's date: an as-of more than a month ago"
            " would expire them while seeding",
            param_hint="--as-of",
        )
    try:
        blueprint = build_blueprint(scale, seed, day)
        checkpoint = Checkpoint(path, checkpoint_identity(blueprint))
    except SeedError as error:
        raise typer.BadParameter(str(error)) from None
    token = auth.mint_token(["otit"], subject="titp-seed", ttl=7 * 24 * 3600, keys_dir=keys_dir)
    urls = {"registry": registry_url, "accreditation": accreditation_url, "inspection": inspection_url}
    _answering(urls)
    typer.echo(
        f"seed {seed} at scale {scale} as of {day}: {len(blueprint.supervising)} supervising and"
        f" {len(blueprint.implementing)} implementing organizations, {len(blueprint.support)} supervision support"
        f" organizations (ESD), {len(blueprint.plans)} plans"
        f" ({sum(1 for p in blueprint.plans if p.transfer_reason)} TITP transfers,"
        f" {sum(1 for p in blueprint.plans if p.change)} changes), {len(blueprint.consultations)} consultations;"
        f" checkpoint {path}"
    )
    try:
        report = asyncio.run(
            seed_over_http(blueprint, urls, {"authorization": f"Bearer {token}"}, checkpoint, concurrency=concurrency)
        )
    except SeedError as error:
        typer.echo(f"seeding stopped: {error}\nrun the same command again to resume", err=True)
        raise typer.Exit(1) from None
    finally:
        checkpoint.close()
    done = sum(1 for i in report.inspections if i["inspected_on"])
    typer.echo(f"done in {report.seconds:.0f}s: {report.requests} requests, {done} inspections completed")


def _answering(urls: Mapping[str, str]) -> None:
    """Each service answers its liveness probe, or the command ends at once with one line naming it (exit 2)
    rather than after a minute of retries."""
    for service, url in urls.items():
        try:
            httpx.get(f"{url.rstrip('/')}/healthz", timeout=5).raise_for_status()
        except httpx.HTTPError as error:
            typer.echo(
                f"could not run: {service} at {url} (--{service}-url, or TITP_SEED_{service.upper()}_URL):"
                f" {one_line(error)}",
                err=True,
            )
            raise typer.Exit(2) from None


def _checkpoint_as_of(path: Path) -> date | None:
    if not path.exists():
        return None
    with path.open("rb") as file:
        return date.fromisoformat(orjson.loads(file.readline())["identity"]["as_of"])
