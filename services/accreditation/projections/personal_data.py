"""The trainees' data keys (table `trainee_keys`, outside the event log, docs/adr/0002): the personal
data is sealed with the trainee's key before it is recorded, opened for the readers allowed to see
it, and unreadable everywhere once the key is erased.

A read model of its own kind: `commands.py` writes it (a key created on first use, erased on
request) in the command's transaction, and the plans' reads open the data with it.

Beside each key, table `trainee_identities` binds the trainee id to the person of its first recorded
application: a fingerprint of their identity (`trainee.identity`), HMAC-SHA256 under a key derived from the
trainee's data key, so it says nothing without that key and nothing at all once the key is erased (the row
goes with it). An application naming another identity, or a trainee whose key was erased, gets one refusal
(`trainee.identity_refused`): it tells no one whether the id belongs to someone else or was erased.
"""

import hmac
from datetime import date
from typing import Any, TypeVar
from uuid import UUID

import asyncpg
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from pydantic import BaseModel

from contracts.accreditation import PauseDetail, PersonalData, PlanTerms, SealedPlanTerms, SealedTrainee
from services.accreditation.domain import trainee
from shared.crypto import SubjectKeys, seal_model, unseal_model
from shared.errors import DomainRuleViolation

TRAINEE_KEYS = SubjectKeys("trainee_keys")
M = TypeVar("M", bound=BaseModel)
ERASED = {"name": None, "date_of_birth": None, "passport_number": None, "personal_data_erased": True}


def _subject(trainee_id: UUID | str) -> str:
    return f"trainee/{trainee_id}"


async def sealed_terms(conn: asyncpg.Connection, terms: PlanTerms) -> SealedPlanTerms:
    """The terms to record: the personal data sealed with the trainee's key, created on first use, if the
    trainee is the person the id is bound to (bound now, on first use)."""
    key = await TRAINEE_KEYS.for_sealing(conn, terms.trainee_id)
    stated = terms.trainee
    if key is None or not hmac.compare_digest(
        await _bound_identity(conn, terms.trainee_id, key, stated.name, stated.date_of_birth, stated.nationality),
        _fingerprint(key, stated.name, stated.date_of_birth, stated.nationality),
    ):
        raise trainee.identity_refused()
    return terms.sealed(seal_model(key, stated.personal_data(), _subject(terms.trainee_id)))


async def _bound_identity(
    conn: asyncpg.Connection, trainee_id: UUID, key: bytes, name: str, date_of_birth: date, nationality: str
) -> bytes:
    """The fingerprint the trainee id is bound to; bound to the one stated on its first use. A trainee recorded
    before the binding existed is bound to the personal data of their first application, opened now. Two first
    applications at once: the second waits for the first's insert, and is compared with it."""
    bound: bytes | None = await conn.fetchval(
        "SELECT fingerprint FROM trainee_identities WHERE trainee_id = $1", trainee_id
    )
    if bound is not None:
        return bound
    first = await conn.fetchrow(
        "SELECT document->'trainee' AS trainee FROM training_plans"
        " WHERE trainee_id = $1 AND document->'trainee'->>'personal_data' IS NOT NULL"
        " ORDER BY applied_on, id LIMIT 1",
        trainee_id,
    )
    if first is not None:
        recorded = unseal_model(key, first["trainee"]["personal_data"], PersonalData, _subject(trainee_id))
        name, date_of_birth = recorded.name, recorded.date_of_birth
        nationality = first["trainee"]["nationality"]
    await conn.execute(
        "INSERT INTO trainee_identities (trainee_id, fingerprint) VALUES ($1, $2) ON CONFLICT (trainee_id) DO NOTHING",
        trainee_id,
        _fingerprint(key, name, date_of_birth, nationality),
    )
    bound = await conn.fetchval("SELECT fingerprint FROM trainee_identities WHERE trainee_id = $1", trainee_id)
    assert bound is not None, "inserted, or inserted by a transaction that committed first"
    return bound


def _fingerprint(key: bytes, name: str, date_of_birth: date, nationality: str) -> bytes:
    identity_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"titp trainee identity").derive(key)
    return hmac.digest(identity_key, trainee.identity(name, date_of_birth, nationality), "sha256")


async def erase(conn: asyncpg.Connection, trainee_id: UUID) -> bool | None:
    """Destroy the trainee's key, and the fingerprint of their identity with it: True if erased now, False if
    erased before, None if they never had one."""
    erased = await TRAINEE_KEYS.erase(conn, trainee_id)
    await conn.execute("DELETE FROM trainee_identities WHERE trainee_id = $1", trainee_id)
    return erased


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
        {
            **d,
            "trainee": _trainee(d["trainee_id"], d["trainee"], keys.get(UUID(d["trainee_id"]))),
            **_pauses(d, keys.get(UUID(d["trainee_id"]))),
        }
        for d in documents
    ]


def _trainee(trainee_id: str, sealed: dict[str, Any], key: bytes | None) -> dict[str, Any]:
    if key is None or sealed.get("personal_data") is None:
        return {"nationality": sealed["nationality"], **ERASED}
    personal = unseal_model(key, sealed["personal_data"], PersonalData, _subject(trainee_id))
    return {"nationality": sealed["nationality"], **personal.model_dump(mode="json"), "personal_data_erased": False}


# Issue 25: what a pause's or an early return's filer adds, and the trainee's own words, are the trainee's personal
# data too (a due date, a diagnosis, why they go home): sealed with the trainee's key like the plan's terms.


async def sealed_for_trainee(conn: asyncpg.Connection, trainee_id: UUID, words: BaseModel, what: str) -> str:
    """`words` sealed with the trainee's key; refused once the key was erased (as a certification is)."""
    key = await TRAINEE_KEYS.for_sealing(conn, trainee_id)
    if key is None:
        raise DomainRuleViolation(
            "trainee.personal_data_erased", f"the trainee's personal data was erased: {what} cannot be kept"
        )
    return seal_model(key, words, _subject(trainee_id))


def opened_for_trainee(key: bytes, sealed: str, model: type[M], trainee_id: UUID | str) -> M:
    """What `sealed_for_trainee` sealed, opened with the trainee's key."""
    return unseal_model(key, sealed, model, _subject(trainee_id))


def _pauses(document: dict[str, Any], key: bytes | None) -> dict[str, Any]:
    """The plan's pauses with their detail opened (null once the trainee's key is erased); documents recorded before
    pauses existed have none."""
    pauses = document.get("pauses")
    if pauses is None:
        return {}
    return {
        "pauses": [
            {
                **p,
                "detail": opened_for_trainee(key, p["detail"], PauseDetail, document["trainee_id"]).detail
                if key is not None and p.get("detail")
                else None,
            }
            for p in pauses
        ]
    }
