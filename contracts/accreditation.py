"""What the accreditation service records about technical intern training plans (DOMAIN §3, §4, §9).

These payloads are the service's public contract on `titp.accreditation.v1`: the visa and
inspection services build their read models from them. Every plan event carries the plan's
header (`PlanHeader`), so a consumer can act on any one of them without the ones before.
Change one only by adding a new version with an upcaster.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Annotated, Any, ClassVar
from uuid import UUID, uuid5

from pydantic import BaseModel, ConfigDict, Field

from contracts.registry import Scheme, TrainingType
from shared.crypto import Sealed
from shared.events import EventPayload, EventTypes

accreditation_events = EventTypes("accreditation")


class Stage(StrEnum):
    I = "i"  # noqa: E741 - the program's own numbering: (i), (ii), (iii)
    II = "ii"
    III = "iii"


class ExamGrade(StrEnum):
    BASIC = "basic"  # 基礎級: to move from stage i to ii
    GRADE_3 = "grade_3"  # 随時3級: to move from stage ii to iii
    GRADE_2 = "grade_2"  # 随時2級: at the end of stage iii
    JAPANESE_A1 = "japanese_a1"  # A1 / N5: before ESD work starts, and for a transfer under ESD
    JAPANESE_A2 = "japanese_a2"  # A2 / N4: a transfer in some ESD fields; ESD -> Specified Skilled Worker (i)
    SSW_SKILLS = "ssw_skills"  # the Specified Skilled Worker (i) skills test: instead of grade 3 for ESD -> SSW (i)


class ExamResult(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NOT_TAKEN = "not_taken"


class DiscontinuationReason(StrEnum):
    """The difficulty notice (技能実習実施困難時届出). A disappearance (失踪) or a death is recorded with the day it was
    reported and by whom (`TrainingPlanDiscontinued.reported_on`, `reported_by`); an early return home ends a plan only
    through `TrainingPlanEarlyReturnFiled` (the trainee's confirmation) or an officer's acceptance of it."""

    BANKRUPTCY = "bankruptcy"
    DISAPPEARANCE = "disappearance"
    TRANSFER = "transfer"
    OTHER = "other"
    DEATH = "death"
    EARLY_RETURN = "early_return"  # the trainee went home before the plan's end (issue 25)


class ReportingParty(StrEnum):
    """Who reported a disappearance or a death to the agency."""

    SUPERVISING_ORGANIZATION = "supervising_organization"
    IMPLEMENTING_ORGANIZATION = "implementing_organization"
    POLICE = "police"
    MEDICAL_INSTITUTION = "medical_institution"
    FAMILY = "family"
    OTHER = "other"


class ReportedBy(BaseModel):
    """Who reported it: the party, and its office and the reporter's title as the filer names them (e.g. "Sakura
    Cooperative, supervision manager"; "Toyota police station"). Not the trainee's personal data: no name of the
    trainee belongs here."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    party: ReportingParty
    office: str = Field(min_length=1, max_length=200)


class TransferReason(StrEnum):
    """Why a trainee or worker moves to another employer (転籍) on a new plan, under TITP or ESD (one mechanism).
    ESD: at the worker's own wish, after the field's period and with the exams it asks for; or for an unavoidable
    reason, without those conditions. TITP: only for an unavoidable reason (own_wish is refused)."""

    OWN_WISH = "own_wish"
    ABUSE = "abuse"
    BANKRUPTCY = "bankruptcy"
    SERIOUS_VIOLATION = "serious_violation"
    PERMIT_ENDED = "permit_ended"  # the supervising organization's permit was revoked or expired


class PlanStatus(StrEnum):
    """Where a plan stands. "In progress" is not stored: a certified plan is in progress from its start date."""

    APPLIED = "applied"
    CERTIFIED = "certified"
    REJECTED = "rejected"
    COMPLETED = "completed"
    DISCONTINUED = "discontinued"
    REVOKED = "revoked"
    TRANSFERRED = "transferred"  # TITP or ESD: moved to another employer on a new plan (TrainingPlanTransferred)


class Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PersonalData(Record):
    """What identifies the trainee as a person: recorded and published only sealed with the trainee's
    own key, which an erasure destroys (docs/adr/0002-personal-data-crypto-shredding.md)."""

    name: str = Field(min_length=1, max_length=200)
    date_of_birth: date
    passport_number: str = Field(min_length=1, max_length=20)


Nationality = Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]


class Trainee(PersonalData):
    """The trainee as an application states them."""

    nationality: Nationality

    def personal_data(self) -> PersonalData:
        return PersonalData(**self.model_dump(include=set(PersonalData.model_fields)))


class SealedTrainee(Record):
    """The trainee as recorded and published: the nationality in the clear (the program's statistics
    count by it, and the sending organization's country tells it anyway), the personal data sealed."""

    nationality: Nationality
    personal_data: Sealed | None = Field(description="null in applications recorded before v2, which kept none")


class ExamPassed(Record):
    grade: ExamGrade
    passed_on: date


class PlanHeader(Record):
    """What identifies a plan to other services; on every plan event."""

    trainee_id: UUID = Field(description="The trainee's stable id, the same across all their plans")
    scheme: Scheme = Field(
        default=Scheme.TITP, description="titp, or esd (Employment for Skill Development); events before ESD: titp"
    )
    stage: Stage | None = Field(description="TITP's stage (i, ii, iii); null for an ESD plan, which has no stages")
    training_type: TrainingType
    job_category: str = Field(min_length=1, max_length=200)
    implementing_organization_id: UUID
    supervising_organization_id: UUID | None = Field(default=None, description="Type (b) only")
    start_date: date
    end_date: date


class ReturnHome(Record):
    """A temporary return home (一時帰国) the plan states: stage iii only, within its first year (allowed since
    2019; one before stage iii is the gap between the stage-ii plan and this one)."""

    from_date: date
    until_date: date = Field(description="Its last day abroad (inclusive)")


class PlanDetails(PlanHeader):
    """Everything an application for certification states but the trainee."""

    monthly_wage: int = Field(ge=0, description="Yen per month")
    comparable_japanese_wage: int = Field(ge=0, description="Yen per month paid to a Japanese worker doing the same")
    exams_passed: tuple[ExamPassed, ...] = Field(default=(), max_length=20)
    sending_organization_id: UUID | None = Field(default=None, description="Type (b) only")
    field: str | None = Field(default=None, max_length=100, description="ESD: one of its fields (GET /v1/esd/fields)")
    transfer_from: UUID | None = Field(
        default=None,
        description="A transfer (TITP or ESD): the trainee's plan with another employer that this one continues",
    )
    transfer_reason: TransferReason | None = Field(
        default=None, description="A transfer: why the trainee moves (TITP: an unavoidable reason only)"
    )
    extension: bool = Field(
        default=False, description="ESD: the extra year after a failed Specified Skilled Worker test"
    )
    operation: str | None = Field(
        default=None,
        max_length=100,
        description="TITP: the job's operation (作業), a shared.reference code; required for stages ii and iii",
    )
    return_home: ReturnHome | None = Field(
        default=None, description="TITP stage iii: the return home taken within its first year, if not before it"
    )

    def details(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in PlanDetails.model_fields}


class PlanTerms(PlanDetails):
    """Everything an application for certification states, as stated: what the rules decide on."""

    trainee: Trainee

    def sealed(self, personal_data: str) -> "SealedPlanTerms":
        return SealedPlanTerms(
            **self.details(), trainee=SealedTrainee(nationality=self.trainee.nationality, personal_data=personal_data)
        )


class SealedPlanTerms(PlanDetails):
    """The terms as recorded: the trainee's personal data sealed."""

    trainee: SealedTrainee

    def opened(self, personal_data: PersonalData) -> PlanTerms:
        return PlanTerms(
            **self.details(),
            trainee=Trainee(
                **PersonalData.model_validate(personal_data).model_dump(), nationality=self.trainee.nationality
            ),
        )


class PlanEvent(EventPayload, PlanHeader):
    pass


# Training plans (stream: the plan's id)


@accreditation_events.register
class TrainingPlanApplied(PlanEvent, SealedPlanTerms):
    version: ClassVar[int] = 2
    applied_on: date


class TrainingPlanAppliedV1(PlanEvent, PlanTerms):
    """TrainingPlanApplied as recorded before v2: the trainee's personal data in the clear (read as v2 without it)."""

    applied_on: date


@accreditation_events.upcaster(
    "titp.accreditation.TrainingPlanApplied.v1",
    "titp.accreditation.TrainingPlanApplied.v2",
    shape=TrainingPlanAppliedV1,
)
def _trainee_sealed(data: dict[str, Any]) -> dict[str, Any]:
    """v1 kept the trainee's personal data in the clear: it is not read from such events any more."""
    return {**data, "trainee": {"nationality": data["trainee"]["nationality"], "personal_data": None}}


@accreditation_events.register
class TrainingPlanCertified(PlanEvent):
    certified_on: date
    rule_set: str = Field(description="The rule set it was decided under: titp, or esd (the plan's scheme)")


@accreditation_events.register
class TrainingPlanRejected(PlanEvent):
    reason: str


@accreditation_events.register
class TrainingPlanCompleted(PlanEvent):
    completed_on: date
    exam_result: ExamResult = Field(description="Of the stage's exam: basic (i), grade 3 (ii), grade 2 (iii)")


@accreditation_events.register
class TrainingPlanDiscontinued(PlanEvent):
    discontinued_on: date
    reason: DiscontinuationReason
    detail: str | None = None
    reported_on: date | None = Field(
        default=None,
        description="A disappearance or a death: the day it was reported (on or after discontinued_on, the day it"
        " happened); null for other reasons and in events before issue 25",
    )
    reported_by: ReportedBy | None = Field(
        default=None, description="A disappearance or a death: who reported it; null otherwise"
    )


@accreditation_events.register
class ImprovementOrderIssued(PlanEvent):
    """Art. 15: an order to improve the training by a deadline."""

    order_id: UUID
    issued_on: date
    deadline: date
    reason: str


@accreditation_events.register
class ImprovementOrderClosed(PlanEvent):
    order_id: UUID
    closed_on: date


@accreditation_events.register
class TrainingPlanTransferred(PlanEvent):
    """The trainee (TITP) or worker (ESD) moved to another employer on a new certified plan; this plan ends, and the
    stage's (TITP) or the scheme's (ESD) length counts across both."""

    transferred_on: date = Field(
        description="The day the worker moves: the new plan's start; this plan's last day is the day before"
    )
    to_plan_id: UUID
    reason: TransferReason


@accreditation_events.register
class TrainingPlanRevoked(PlanEvent):
    """Art. 16: the certification is revoked; final."""

    revoked_on: date
    reason: str
    referral_id: UUID | None = Field(default=None, description="The inspection referral that decided it, if any")
    improvement_order_id: UUID | None = Field(
        default=None,
        description="The ground, when it is the breach of an Art. 15 order: the employer's order (by its deadline"
        " not complied with)",
    )


@accreditation_events.register
class NewSupervisingOrganizationRequired(PlanEvent):
    """The supervising organization's permit was revoked while this plan was in force."""

    since: date
    reason: str


@accreditation_events.register
class TrainingPlanReassigned(PlanEvent):
    """A plan flagged `NewSupervisingOrganizationRequired` moved to a new supervising organization (DOMAIN §11):
    the flag is cleared. Its header's `supervising_organization_id` is the new organization, as on every later
    event of the plan; a consumer that reads only the header follows the plan without knowing this event."""

    previous_supervising_organization_id: UUID | None = Field(
        default=None, description="The organization whose permit was revoked or expired"
    )
    reassigned_on: date = Field(description="From this day the new supervising organization supervises the plan")


# Implementing organizations (stream: employer_stream_id(implementing_organization_id))


@accreditation_events.register
class EmployerImprovementOrderIssued(EventPayload):
    """Art. 15: an order to the implementing organization (the employer) to improve its training by a deadline;
    issued by an officer, or on an inspection referral (`referral_id`). Its breach is a ground to revoke the
    employer's plans (Art. 16(1)): `TrainingPlanRevoked.improvement_order_id`."""

    implementing_organization_id: UUID
    order_id: UUID
    issued_on: date
    deadline: date
    reason: str
    referral_id: UUID | None = Field(default=None, description="The inspection referral that asked for it, if any")


@accreditation_events.register
class EmployerImprovementOrderClosed(EventPayload):
    """The order was complied with."""

    implementing_organization_id: UUID
    order_id: UUID
    closed_on: date


# Trainees (stream: trainee_stream_id(trainee_id))


@accreditation_events.register
class ExamResultRecorded(EventPayload):
    """A result of one of the program's exams, as the exam body reported it (POST /v1/exam-results): ESD
    counts passes for the first-year exams and transfers, and a failed SSW skills test for the extension."""

    trainee_id: UUID
    grade: ExamGrade
    result: ExamResult
    taken_on: date


@accreditation_events.register
class TraineePersonalDataErased(EventPayload):
    """The trainee's key was destroyed: their personal data is unreadable in every copy of every event."""

    trainee_id: UUID
    reason: str = Field(min_length=1, max_length=2000)


TRAINEE_STREAMS = UUID("3d6f1c2a-7b9e-5a41-8c0d-2e5f4a6b7c81")
EMPLOYER_STREAMS = UUID("8a4e2b1c-5d6f-5e70-9a81-4c3b2d1e0f92")


def trainee_stream_id(trainee_id: UUID) -> str:
    """A stream id of its own (a UUID, as other services expect of subjects) that no plan id can collide with."""
    return str(uuid5(TRAINEE_STREAMS, str(trainee_id)))


def employer_stream_id(implementing_organization_id: UUID) -> str:
    """The implementing organization's own stream in this service (its Art. 15 orders): a UUID apart from the
    registry's stream of the same organization and from every plan's and trainee's."""
    return str(uuid5(EMPLOYER_STREAMS, str(implementing_organization_id)))


# Filings received from employers and supervising organizations (DOMAIN §11 "§4 after certification"; issue 20
# item 4). Stream: the filing's id. Each has the day it was filed and the day it was due: it is late by
# filed_on - due_on days when that is positive (`late_days`).

ReceiptNumber = Annotated[
    str,
    Field(
        pattern=r"^S-\d{4}-\d{6}$",
        description="The implementation-start notice's receipt number (受理番号), issued by the service, e.g."
        " S-2027-000123; the employer's later filings quote it",
    ),
]


class DifficultyCause(StrEnum):
    """Why continuing the training became difficult (技能実習実施困難時届出, Art. 19)."""

    BANKRUPTCY = "bankruptcy"
    ABUSE = "abuse"
    SERIOUS_VIOLATION = "serious_violation"
    DISAPPEARANCE = "disappearance"
    ILLNESS_OR_INJURY = "illness_or_injury"
    TRAINEE_WISH = "trainee_wish"
    OTHER = "other"


class FilingEvent(EventPayload):
    filed_on: date = Field(description="The day the agency received it")
    due_on: date = Field(description="The last day it could be filed on time")

    @property
    def late_days(self) -> int:
        return max(0, (self.filed_on - self.due_on).days)  # shared.filings.late_days (contracts import only events)


@accreditation_events.register
class ImplementationStartNoticeFiled(FilingEvent):
    """Art. 17: the implementing organization's notice that it started implementing training (実習実施者届出),
    after its first plan started; one per employer. Due START_NOTICE_DAYS (default 30) after that start."""

    implementing_organization_id: UUID
    training_plan_id: UUID = Field(description="The employer's first plan to start")
    started_on: date
    receipt_number: ReceiptNumber


@accreditation_events.register
class DifficultyNoticeFiled(FilingEvent):
    """Art. 19: the notice that continuing the training became difficult, with the measures to continue it;
    type (b) through the supervising organization. Not the end of the plan: the plan stays certified, and may
    then be transferred or discontinued. Due DIFFICULTY_NOTICE_DAYS (default 14) after `occurred_on`."""

    implementing_organization_id: UUID
    training_plan_id: UUID
    supervising_organization_id: UUID | None = Field(default=None, description="Type (b): who filed it")
    occurred_on: date
    cause: DifficultyCause
    measures: str = Field(min_length=1, max_length=4000, description="The measures to continue the training")
    receipt_number: ReceiptNumber


@accreditation_events.register
class AnnualImplementationReportFiled(FilingEvent):
    """Art. 21: the implementing organization's report on a fiscal year (April-March) of implementation; one
    per employer and year, after the year; due 31 May after it (configurable)."""

    implementing_organization_id: UUID
    fiscal_year: int = Field(ge=2000, le=2100, description="The year it starts in: 2026 = Apr 2026 - Mar 2027")
    receipt_number: ReceiptNumber
    trainees: int = Field(ge=0, description="Trainees it had in training during the year")


@accreditation_events.register
class VisitRecordFiled(FilingEvent):
    """The supervising organization's record of its monthly visit (訪問指導) to an employer with a stage-i plan
    in progress under it that month; due the last day of the next month (configurable)."""

    supervising_organization_id: UUID
    implementing_organization_id: UUID
    month: date = Field(description="The first day of the month visited")
    visited_on: date = Field(description="A day in that month")


# Plan changes (issue 20, §11 "after certification"; stream: the plan's id). Art. 11: a change of a certified plan's
# terms needs change certification (変更認定), decided by the plan's own rules; a minor change (軽微な変更) is notified.


class PlanChanges(Record):
    """New values of a certified plan's changeable terms; a term left out (null) stays as it is. The trainee, the
    scheme, the stage, the training type and the organizations are not changeable (a move to another employer is a
    transfer, to another supervising organization a reassignment)."""

    start_date: date | None = Field(default=None, description="Only before the plan has started")
    end_date: date | None = None
    monthly_wage: int | None = Field(default=None, ge=0, description="Yen per month")
    comparable_japanese_wage: int | None = Field(default=None, ge=0, description="Yen per month")
    job_category: str | None = Field(default=None, min_length=1, max_length=200)
    operation: str | None = Field(default=None, max_length=100, description="TITP: a shared.reference code")
    return_home: ReturnHome | None = Field(default=None, description="TITP stage iii: within its first year")

    def stated(self) -> dict[str, Any]:
        """The terms this change states, by name (those left out are not)."""
        return {name: getattr(self, name) for name in type(self).model_fields if getattr(self, name) is not None}


@accreditation_events.register
class TrainingPlanChangeApplied(PlanEvent):
    """An application for change certification (Art. 11) of a plan in force; pending until certified or rejected.
    The header is the plan's as it stands (the change is not in force yet)."""

    change_id: UUID
    applied_on: date
    reason: str
    changes: PlanChanges


@accreditation_events.register
class TrainingPlanChangeCertified(PlanEvent):
    """The change is certified: the plan's terms are the changed ones from now on, and its header (on this event and
    every later one) states them."""

    change_id: UUID
    certified_on: date
    terms_version: int = Field(description="The version of the plan's terms this change makes (the original: 1)")


@accreditation_events.register
class TrainingPlanChangeRejected(PlanEvent):
    change_id: UUID
    reason: str


@accreditation_events.register
class TrainingPlanMinorChangeNotified(PlanEvent):
    """A notice of minor changes (軽微な変更の届出): in force as notified, no decision. Its changes, if any, are minor
    terms only (a material one needs change certification)."""

    notice_id: UUID
    notified_on: date
    description: str
    changes: PlanChanges = PlanChanges()
    terms_version: int | None = Field(
        default=None, description="The version of the terms it makes, when it changes a term; null when it changes none"
    )


# Early returns home (issue 25 item 1; stream: the plan's id). A trainee's return home before the plan's end is
# recorded only with the trainee's own confirmation of their wish, taken in their language, with the day and who took
# it; the supervising organization files it (type (a): the employer) as its notice of difficulty for this cause. A
# return filed without it, or contested by the trainee, is flagged for the agency: it ends nothing until an officer
# decides, and the inspection service opens an extraordinary inspection of the employer.


class EarlyReturnReason(StrEnum):
    """Why the trainee went home before the plan's end, as filed."""

    OWN_WISH = "own_wish"
    ILLNESS = "illness"
    FAMILY = "family"
    END_OF_CONTRACT = "end_of_contract"
    OTHER = "other"


class EarlyReturnFlag(StrEnum):
    """Why a return is flagged for the agency instead of ending the plan."""

    UNCONFIRMED = "unconfirmed"  # filed without the trainee's confirmation
    WISH_NOT_STATED = "wish_not_stated"  # a confirmation without the trainee's own statement of their wish
    CONTESTED = "contested"  # the trainee contests the return


class EarlyReturnConfirmation(Record):
    """The trainee's confirmation of their wish to go home (帰国意思確認), taken before the return."""

    confirmed_on: date
    language: str = Field(pattern=r"^[a-z]{2}$", description="The language it was taken in: ISO 639-1 (vi, id, zh)")
    taken_by: str = Field(
        min_length=1, max_length=200, description="Who took it: an office and a title (an interpreter, an officer)"
    )
    wish_stated: bool = Field(description="The trainee stated their wish in their own words, and they were recorded")
    contested: bool = Field(description="The trainee contests the return (then it is flagged whatever else holds)")


class EarlyReturnWords(Record):
    """What the filer and the trainee said, recorded and published only sealed with the trainee's own key
    (docs/adr/0002-personal-data-crypto-shredding.md): the filer's detail, and the trainee's own words."""

    detail: str | None = Field(default=None, max_length=2000)
    statement: str | None = Field(default=None, max_length=4000)


@accreditation_events.register
class TrainingPlanEarlyReturnFiled(PlanEvent):
    """A return home before the plan's end was filed. Without `flags` (the trainee confirmed their own stated wish,
    uncontested) the plan ends with it: a `TrainingPlanDiscontinued` with reason early_return on `returned_on` follows
    in the same transaction. With flags it is flagged for the agency: the plan stays in force, its ending by the
    return is refused until an officer decides (`TrainingPlanEarlyReturnDecided`)."""

    early_return_id: UUID
    returned_on: date = Field(description="The day the trainee left Japan (the plan's last day is the day before)")
    filed_on: date
    reason: EarlyReturnReason
    confirmation: EarlyReturnConfirmation | None = None
    flags: tuple[EarlyReturnFlag, ...] = Field(default=(), description="Empty: confirmed, the plan ends")
    words: Sealed | None = Field(
        default=None, description="EarlyReturnWords sealed with the trainee's key (AES-256-GCM); null when none"
    )
    difficulty_notice_id: UUID | None = Field(
        default=None,
        description="The Art. 19 notice of difficulty about the plan this return follows, if one was filed",
    )


class EarlyReturnDecision(StrEnum):
    ACCEPTED = "accepted"  # the plan ends with the return (discontinued, reason early_return, on returned_on)
    REFUSED = "refused"  # the return does not end the plan


@accreditation_events.register
class TrainingPlanEarlyReturnDecided(PlanEvent):
    """An officer decided a flagged early return. Accepted: a `TrainingPlanDiscontinued` with reason early_return on
    the return's day follows in the same transaction. Refused: the plan stays as it is."""

    early_return_id: UUID
    decided_on: date
    decision: EarlyReturnDecision
    reason: str = Field(min_length=1, max_length=2000)


EARLY_RETURN_RATE_STREAMS = UUID("c2a7e5d1-4b3f-5a6e-9d80-1f2e3a4b5c6d")


def early_return_rate_stream_id(implementing_organization_id: UUID) -> str:
    """The employer's stream of early-return rate flags."""
    return str(uuid5(EARLY_RETURN_RATE_STREAMS, str(implementing_organization_id)))


@accreditation_events.register
class EmployerEarlyReturnRateExceeded(EventPayload):
    """The employer's unwilling or unexplained early returns (filed flagged) went above the configured share of its
    plans ended (or returned) in the window: it belongs on the inspection worklist. Stream:
    `early_return_rate_stream_id(implementing_organization_id)`; at most once per window."""

    implementing_organization_id: UUID
    on: date = Field(description="The return's day that took the employer above the rate; the window ends on it")
    window_from: date = Field(description="The window's first day")
    returns: int = Field(ge=0, description="Flagged early returns in the window")
    plans: int = Field(ge=0, description="The employer's plans that ended, or were returned from, in the window")
    rate: str = Field(description="The configured rate it is above, e.g. 1/5")
    minimum_returns: int = Field(ge=1, description="The configured least number of returns for a flag")


# Fees and debt (issue 25 item 2; stream: the plan's id). What the trainee (worker) paid before coming, as the sending
# and supervising organizations declare it: a filing of its own beside the application, so the application's sealed
# shape and every plan recorded before stay as they are. Amounts in yen (a fee paid in another currency is declared
# converted, at the rate of the day it was paid). No personal data: the trainee is the plan's pseudonymous
# trainee_id, recipients are organizations or kinds of recipient, never a person's name.


class FeeKind(StrEnum):
    """What a payment was for. `deposit` (保証金) and `penalty_contract` (違約金: a contract fixing a penalty or damages
    if the trainee leaves) are forbidden (Act Art. 47; the ordinance's standards for sending organizations): a
    declaration naming one is refused, nothing recorded."""

    SENDING_FEE = "sending_fee"  # 送出手数料: the sending organization's placement fee
    PRE_ENTRY_TRAINING = "pre_entry_training"  # 事前教育費: language and training before entry
    TRAVEL = "travel"
    DOCUMENTS = "documents"  # passport, visa, medical checks, certificates
    BROKERAGE = "brokerage"  # an intermediary's fee
    OTHER = "other"
    DEPOSIT = "deposit"  # 保証金: forbidden
    PENALTY_CONTRACT = "penalty_contract"  # 違約金: forbidden


class FeeRecipient(StrEnum):
    """Who received a payment."""

    SENDING_ORGANIZATION = "sending_organization"  # the plan's sending organization
    BROKER = "broker"  # an intermediary other than the sending organization
    LANGUAGE_SCHOOL = "language_school"
    SUPERVISING_ORGANIZATION = "supervising_organization"
    IMPLEMENTING_ORGANIZATION = "implementing_organization"
    OTHER = "other"


class FeeDeclarant(StrEnum):
    """Whose statement an item is: the sending organization's (passed on by the supervising organization) or the
    supervising organization's own."""

    SENDING_ORGANIZATION = "sending_organization"
    SUPERVISING_ORGANIZATION = "supervising_organization"


class FeeItem(Record):
    """One payment the trainee made before coming."""

    kind: FeeKind
    recipient: FeeRecipient
    recipient_name: str | None = Field(
        default=None, max_length=200, description="The receiving organization's or business's name; never a person's"
    )
    purpose: str = Field(min_length=1, max_length=500, description="What it paid for, as declared")
    amount_yen: int = Field(ge=0, le=100_000_000, description="Yen (converted at the rate of the day it was paid)")
    declared_by: FeeDeclarant


@accreditation_events.register
class TrainingPlanFeesDeclared(PlanEvent):
    """What the trainee paid before coming (to the sending organization and anyone else), as declared: a complete
    statement that replaces the plan's earlier declaration (the history stays on the stream). The ceiling it was
    judged by is recorded with it: above it, the plan's sending organization is flagged
    (`SendingOrganizationFeesFlagged`)."""

    declaration_id: UUID
    declared_on: date
    sending_organization_id: UUID | None = Field(description="The plan's sending organization (type b)")
    items: tuple[FeeItem, ...] = Field(max_length=50, description="Empty: the trainee paid nothing")
    total_yen: int = Field(ge=0, description="The items' sum: what the trainee paid in all")
    borrowed_yen: int | None = Field(
        default=None, ge=0, description="Of it, what the trainee borrowed to pay (their debt on coming), if declared"
    )
    employer_share_yen: int | None = Field(
        default=None,
        ge=0,
        description="ESD: what the employer bears of the sending organization's fees for this worker (recorded,"
        " never refused)",
    )
    employer_share_expected_yen: int | None = Field(
        default=None, description="ESD: the share the rule book expects the employer to bear (configurable)"
    )
    ceiling_yen: int = Field(description="The ceiling the total was judged by (rule book; ESD: months of the wage)")
    above_ceiling: bool


@accreditation_events.register
class SendingOrganizationFeesFlagged(PlanEvent):
    """A plan's trainee paid more than the ceiling before coming: the plan's sending organization is flagged for the
    agency (the fees worklist, GET /v1/statistics/fees?flagged=true). Once per plan, on the first declaration above
    the ceiling."""

    sending_organization_id: UUID
    declaration_id: UUID
    flagged_on: date = Field(description="The declaration's day")
    total_yen: int
    ceiling_yen: int


# Pauses (issue 25 item 3; stream: the plan's id). A plan in progress is paused without ending it while the trainee
# cannot train (pregnancy, childbirth, illness, injury), and resumed with the stage's remaining period: only days in
# training count towards the stage's length and the trainee's totals. A pause never cancels the status of residence.


class PauseReason(StrEnum):
    """Why training stopped for a while (実習の中断): the trainee's condition, not the employer's."""

    PREGNANCY = "pregnancy"
    CHILDBIRTH = "childbirth"
    ILLNESS = "illness"
    INJURY = "injury"


class PauseDetail(Record):
    """What the filer adds to a pause's reason (a due date, a diagnosis): the trainee's personal data, recorded and
    published only sealed with the trainee's own key (docs/adr/0002-personal-data-crypto-shredding.md)."""

    detail: str = Field(min_length=1, max_length=2000)


@dataclass(frozen=True, kw_only=True)
class PausePeriod:
    """The days of a pause without training, as the two events tell them: from `paused_on` to the day before
    `resumed_on`, open while not resumed. What accreditation (the plan's end, its stage and the trainee's totals) and
    visa (SSW (i)'s days of TITP, the trainee's residence view) count the days in training by."""

    paused_on: date
    resumed_on: date | None = None

    @property
    def until(self) -> date | None:
        """Its last day without training; None while not resumed."""
        return self.resumed_on - timedelta(days=1) if self.resumed_on else None

    @property
    def days(self) -> int:
        """Days without training, once resumed (0 while not resumed: the plan's end has not moved yet)."""
        return (self.resumed_on - self.paused_on).days if self.resumed_on else 0

    def covers(self, day: date) -> bool:
        return self.paused_on <= day and (self.resumed_on is None or day < self.resumed_on)

    def days_within(self, first: date, last: date) -> int:
        """The days from `first` to `last` (both included) it covers; an open pause covers every day from its first."""
        after = last + timedelta(days=1)
        return max(0, (min(self.resumed_on or after, after) - max(self.paused_on, first)).days)


@accreditation_events.register
class TrainingPlanPaused(PlanEvent):
    """A plan in progress is paused: the trainee does not train from `paused_on` until the plan resumes. The plan
    stays certified (it may still be discontinued or transferred, not completed); the status of residence is not
    affected. The header's end_date is the plan's end as it stands; it moves when the plan resumes."""

    paused_on: date = Field(description="The first day without training (on or after the plan's start)")
    reason: PauseReason
    detail: Sealed | None = Field(
        default=None, description="PauseDetail sealed with the trainee's key (AES-256-GCM); null when none was given"
    )


@accreditation_events.register
class TrainingPlanResumed(PlanEvent):
    """Training resumed with the stage's remaining period: the plan's end moves by the days paused. The header's
    end_date (on this event and every later one) is the new end: `previous_end_date` + `paused_days`."""

    resumed_on: date = Field(description="The first day of training again; the pause's last day is the day before")
    paused_on: date = Field(description="The first day of the pause this ends")
    reason: PauseReason = Field(description="The pause's reason")
    paused_days: int = Field(ge=1, description="Days without training: resumed_on - paused_on")
    previous_end_date: date = Field(description="The plan's end before this resumption")
