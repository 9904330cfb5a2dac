"""The trainees' data keys (table `trainee_keys`, outside the event log, docs/adr/0002): the personal
data is sealed with the trainee's key before it is recorded, opened for the readers allowed to see
it, and unreadable everywhere once the key is erased.

A read model of its own kind: `commands.py` writes it (a key created on first use, erased on
request) in the command's transaction, and the plans' reads open the data with it.
"""

from typing import Any
from uuid import UUID

import asyncpg

from contracts.accreditation import PersonalData, PlanTerms, SealedPlanTerms, SealedTrainee
from shared.crypto import SubjectKeys, seal_model, unseal_model
from shared.errors import DomainRuleViolation

TRAINEE_KEYS = SubjectKeys("trainee_keys")
ERASED = {"name": None, "date_of_birth": None, "passport_number": None, "personal_data_erased": True}


def _subject(trainee_id: UUID | str) -> str:
    return f"trainee/{trainee_id}"


async def sealed_terms(conn: asyncpg.Connection, terms: PlanTerms) -> SealedPlanTerms:
    """The terms to record: the personal data sealed with the trainee's key, created on first use."""
    key = await TRAINEE_KEYS.for_sealing(conn, terms.trainee_id)
    if key is None:
        raise DomainRuleViolation(
            "trainee.personal_data_erased",
            "this trainee's personal data was erased; an application for them needs a new trainee id",
        )
    return terms.sealed(seal_model(key, terms.trainee.personal_data(), _subject(terms.trainee_id)))


async def erase(conn: asyncpg.Connection, trainee_id: UUID) -> bool | None:
    """Destroy the trainee's key: True if erased now, False if erased before, None if they never had one."""
    return await TRAINEE_KEYS.erase(conn, trainee_id)


async def opened(conn: asyncpg.Connection, trainee_id: UUID, trainee: SealedTrainee) -> PersonalData | None:
    """The trainee's personal data, or None once erased."""
    key = (await TRAINEE_KEYS.for_opening(conn, [trainee_id])).get(trainee_id)
    if key is None or trainee.personal_data is None:
        return None
    return unseal_model(key, trainee.personal_data, PersonalData, _subject(trainee_id))


async def shown(conn: asyncpg.Connection, documents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Training plan documents as readers see them: the trainee's personal data opened, or marked erased."""
    keys = await TRAINEE_KEYS.for_opening(conn, [UUID(d["trainee_id"]) for d in documents])
    return [
        {**d, "trainee": _trainee(d["trainee_id"], d["trainee"], keys.get(UUID(d["trainee_id"])))} for d in documents
    ]


def _trainee(trainee_id: str, sealed: dict[str, Any], key: bytes | None) -> dict[str, Any]:
    if key is None or sealed.get("personal_data") is None:
        return {"nationality": sealed["nationality"], **ERASED}
    personal = unseal_model(key, sealed["personal_data"], PersonalData, _subject(trainee_id))
    return {"nationality": sealed["nationality"], **personal.model_dump(mode="json"), "personal_data_erased": False}
