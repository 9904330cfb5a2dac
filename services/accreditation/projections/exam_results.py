"""The exam results the exam body reported (the trainee's stream, `ExamResultRecorded`): written in the
command's transaction; read by certification (ESD's exams, the extension after a failed SSW skills test)
and by the first-year flag (`FIRST_YEAR_EXAMS_MISSING` in training_plans.py reads the table itself)."""

from datetime import date
from uuid import UUID

import asyncpg

from contracts.accreditation import ExamGrade, ExamResult
from services.accreditation.domain.rules import ExamTaken
from services.accreditation.domain.trainee import TraineeRecord


async def project_trainee(conn: asyncpg.Connection, stream_id: str, state: TraineeRecord, version: int) -> None:
    """The trainee's recorded results (the stream id is derived from the trainee's id; the state carries it)."""
    if state.trainee_id is None or not state.exams:
        return
    await conn.executemany(
        "INSERT INTO exam_results (trainee_id, grade, result, taken_on) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        [(state.trainee_id, e.grade.value, e.result.value, e.taken_on) for e in state.exams],
    )


async def exams(conn: asyncpg.Connection, trainee_id: UUID) -> tuple[ExamTaken, ...]:
    rows = await conn.fetch(
        "SELECT grade, result, taken_on FROM exam_results WHERE trainee_id = $1 ORDER BY taken_on, grade", trainee_id
    )
    return tuple(ExamTaken(ExamGrade(r["grade"]), ExamResult(r["result"]), r["taken_on"]) for r in rows)


async def passes(conn: asyncpg.Connection, trainee_id: UUID) -> list[tuple[ExamGrade, date]]:
    return [(e.grade, e.taken_on) for e in await exams(conn, trainee_id) if e.result is ExamResult.PASSED]
