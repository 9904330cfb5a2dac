"""Exam results as the exam body reported them (DOMAIN §9, §10): recorded on the trainee's own stream."""

from fastapi import APIRouter, Response

from contracts.accreditation import ExamResult
from services.accreditation import commands
from services.accreditation.api.auth import ExamRecorder
from services.accreditation.api.schemas import RecordExamResult
from shared.web.http import Accepted, Command

router = APIRouter(prefix="/v1/exam-results", tags=["exam results"])


@router.post("", response_model=Accepted)
async def record_exam_result(body: RecordExamResult, command: Command, _: ExamRecorder) -> Response:
    """Record a passed or failed exam of a trainee with a plan (404 otherwise), as the exam body (or an officer)
    reports it: the stage ii and iii gates count only these. The answer is the trainee's record and its version."""
    return await command.execute(
        commands.record_exam_result,
        body.trainee_id,
        grade=body.grade,
        result=ExamResult(body.result),
        taken_on=body.taken_on,
    )
