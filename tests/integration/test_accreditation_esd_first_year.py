""" "First-year exams missing" has one definition (services/accreditation/domain/training_plan.py
`first_year_exams_missing`): the read model's SQL (`first_year_exams_missing_sql`), which the plans' GET and list
routes show and filter by, answers as the domain does, against a real PostgreSQL, on the days around the end of
an ESD plan's first year, with exams stated in the application or recorded by the exam body."""

from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from contracts.accreditation import ExamGrade, ExamPassed, ExamResult, TransferReason, accreditation_events
from services.accreditation.app import DEFINITION
from services.accreditation.domain import training_plan as tp
from services.accreditation.domain.rules import ExamTaken, RuleBook
from services.accreditation.domain.trainee import TraineeRecord
from services.accreditation.projections.exam_results import passes, project_trainee
from services.accreditation.projections.training_plans import project_training_plan, training_plan, training_plans
from shared.db import create_pool, migrate
from shared.store import EventStore
from tests.unit.test_accreditation_esd_rules import facts, plan
from tests.unit.test_accreditation_training_plan import CERTIFIED as TITP_CERTIFIED
from tests.unit.test_switch_rules import sealed

START = date(2027, 4, 1)
AFTER_FIRST_YEAR = date(2028, 4, 1)
BASIC = ExamPassed(grade=ExamGrade.BASIC, passed_on=date(2028, 3, 31))
A1 = ExamPassed(grade=ExamGrade.JAPANESE_A1, passed_on=date(2027, 1, 10))


def esd_state(*, exams=(A1,), steps=("certify",)):
    terms = plan(exams_passed=exams)
    state = tp.TrainingPlan()
    for event in tp.apply_for_certification(state, sealed(terms), date(2026, 10, 1), RuleBook()):
        state = tp.evolve(state, event)
    for step in steps:
        if step == "certify":
            events = tp.certify(state, facts(personal_data=terms.trainee.personal_data()), RuleBook())
        else:
            events = tp.transfer(state, date(2028, 6, 1), uuid4(), TransferReason.OWN_WISH)
        for event in events:
            state = tp.evolve(state, event)
    return state


RECORDED_BASIC = (ExamTaken(ExamGrade.BASIC, ExamResult.PASSED, date(2028, 1, 20)),)
CASES = {
    # name: (state, results the exam body recorded)
    "A1 stated, nothing else": (esd_state(), ()),
    "A1 and the basic grade stated, the basic on the year's last day": (esd_state(exams=(A1, BASIC)), ()),
    "the basic grade recorded by the exam body": (esd_state(), RECORDED_BASIC),
    "the basic grade recorded as failed": (
        esd_state(),
        (ExamTaken(ExamGrade.BASIC, ExamResult.FAILED, date(2028, 1, 20)),),
    ),
    "the basic grade recorded after the year": (
        esd_state(),
        (ExamTaken(ExamGrade.BASIC, ExamResult.PASSED, AFTER_FIRST_YEAR),),
    ),
    "applied only": (esd_state(steps=()), ()),
    "transferred": (esd_state(steps=("certify", "transfer")), ()),
    "a TITP plan": (TITP_CERTIFIED, ()),
}
DAYS = [AFTER_FIRST_YEAR - timedelta(days=1), AFTER_FIRST_YEAR, AFTER_FIRST_YEAR + timedelta(days=1), date(2030, 1, 1)]


@pytest.fixture
async def pool(fresh_database):
    pool = await create_pool(fresh_database, max_size=2)
    await migrate(pool, DEFINITION.migrations)
    yield pool
    await pool.close()


async def test_the_read_model_shows_and_filters_the_flag_the_domain_shows(pool):
    names = {}
    async with pool.acquire() as conn, conn.transaction():
        for name, (state, recorded) in CASES.items():
            id = str(uuid4())
            names[id] = name
            await project_training_plan(conn, id, state, 1)
            trainee_id = state.application.trainee_id
            await project_trainee(conn, str(trainee_id), TraineeRecord(trainee_id, False, recorded), 1)
    store = EventStore(accreditation_events)

    async def expected(day: date) -> dict[str, bool]:
        found = {}
        async with pool.acquire() as conn:
            for name, (state, _) in CASES.items():
                application = state.application
                stated = [(e.grade, e.passed_on) for e in application.exams_passed]
                recorded = await passes(conn, application.trainee_id)
                found[name] = tp.first_year_exams_missing(
                    application.scheme, state.status, application.start_date, [*stated, *recorded], day
                )
        return found

    for day in DAYS:
        flags = await expected(day)
        listed = await training_plans(pool, today=day, limit=100)
        assert {names[d["id"]]: d["first_year_exams_missing"] for d in listed} == flags, day
        flagged = await training_plans(pool, today=day, first_year_exams_missing=True, limit=100)
        assert {names[d["id"]] for d in flagged} == {name for name, flag in flags.items() if flag}, day
        for id, name in names.items():
            assert (await training_plan(pool, store, UUID(id), today=day))["first_year_exams_missing"] is flags[name]

    # Check: the boundaries themselves, so that agreeing cannot mean agreeing on nothing.
    assert await expected(AFTER_FIRST_YEAR - timedelta(days=1)) == dict.fromkeys(CASES, False)
    assert {name for name, flag in (await expected(AFTER_FIRST_YEAR)).items() if flag} == {
        "A1 stated, nothing else",
        "the basic grade recorded as failed",
        "the basic grade recorded after the year",
    }
