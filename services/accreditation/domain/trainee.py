"""A trainee's own record: the exam results the exam body reported, and the erasure of their personal data
(docs/adr/0002).

Its stream is `trainee_stream_id(trainee_id)`; its state is whether the data was erased and the results
recorded (ESD counts them: the first-year exams, transfers, the extension after a failed SSW skills test).

A trainee id names one person: its first recorded application binds it to that person's `identity`, and an
application that names the id with another identity is refused (projections/personal_data.py keeps the
binding as a keyed fingerprint beside the trainee's key).
"""

import unicodedata
from dataclasses import dataclass, replace
from datetime import date
from uuid import UUID

from contracts.accreditation import ExamGrade, ExamResult, ExamResultRecorded, TraineePersonalDataErased
from services.accreditation.domain.rules import ExamTaken
from shared.errors import DomainRuleViolation
from shared.events import EventPayload


def identity_refused() -> DomainRuleViolation:
    """The one answer to an application whose trainee id is bound to another identity, or whose trainee's data
    was erased: the same either way, so that it tells nothing of the other person, nor of an erasure."""
    return DomainRuleViolation(
        "trainee.identity",
        "this trainee_id cannot be used with this personal data: every plan of a trainee names the trainee as"
        " their first application did; a new trainee needs a new trainee_id",
    )


def identity(name: str, date_of_birth: date, nationality: str) -> bytes:
    """What identifies a trainee as a person, as the bytes to fingerprint: the name (Unicode-normalized, case and
    spacing folded, so a retyped name is the same), the date of birth and the nationality. Not the passport
    number: a renewed passport has another, and the trainee is the same person."""
    folded = " ".join(unicodedata.normalize("NFKC", name).casefold().split())
    return "\x1f".join((folded, date_of_birth.isoformat(), nationality)).encode()


@dataclass(frozen=True)
class TraineeRecord:
    trainee_id: UUID | None = None  # None while nothing is recorded (the stream id is derived from it)
    erased: bool = False
    exams: tuple[ExamTaken, ...] = ()


def evolve(state: TraineeRecord, event: EventPayload) -> TraineeRecord:
    match event:
        case TraineePersonalDataErased():
            return replace(state, trainee_id=event.trainee_id, erased=True)
        case ExamResultRecorded():
            exam = ExamTaken(event.grade, event.result, event.taken_on)
            return replace(state, trainee_id=event.trainee_id, exams=(*state.exams, exam))
    return state


def erase_personal_data(state: TraineeRecord, trainee_id: UUID, reason: str) -> list[EventPayload]:
    if state.erased:
        raise DomainRuleViolation("trainee.already_erased", "the trainee's personal data was already erased")
    return [TraineePersonalDataErased(trainee_id=trainee_id, reason=reason)]


def record_exam_result(
    state: TraineeRecord, trainee_id: UUID, grade: ExamGrade, result: ExamResult, taken_on: date
) -> list[EventPayload]:
    if result is ExamResult.NOT_TAKEN:
        raise DomainRuleViolation("exam_result.taken", "a recorded exam result is passed or failed")
    if ExamTaken(grade, result, taken_on) in state.exams:
        raise DomainRuleViolation("exam_result.already_recorded", f"this {grade} result of {taken_on} is recorded")
    return [ExamResultRecorded(trainee_id=trainee_id, grade=grade, result=result, taken_on=taken_on)]
