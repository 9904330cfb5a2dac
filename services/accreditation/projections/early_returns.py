"""Early returns home (issue 25 item 1): one row per return filed, written in the plan's transaction
(`project_plan_early_returns`, called for every plan event); read by the plan's early returns, the agency's worklist
of flagged returns, the early-return statistics, and the employer's rate of flagged returns (decided in the command's
transaction, `employer_rate`). The trainee's words stay sealed in the row; readers allowed to see them get them
opened (`shown`)."""

from datetime import date
from typing import Any
from uuid import UUID

import asyncpg

from contracts.accreditation import (
    EarlyReturnWords,
    TrainingPlanEarlyReturnDecided,
    TrainingPlanEarlyReturnFiled,
)
from services.accreditation.domain import training_plan as tp
from services.accreditation.projections.personal_data import TRAINEE_KEYS, opened_for_trainee, sealed_for_trainee

CONFIRMED, FLAGGED = "confirmed", "flagged"
ENDED = ("completed", "discontinued", "revoked", "transferred")


def early_return_documents(id: str, state: tp.AppliedPlan) -> list[dict[str, Any]]:
    """The plan's early returns as stored (the words sealed), oldest first, each with its status and decision."""
    decisions = {e.early_return_id: e for e in state.early_returns if isinstance(e, TrainingPlanEarlyReturnDecided)}
    documents = []
    for filed in state.early_returns:
        if not isinstance(filed, TrainingPlanEarlyReturnFiled):
            continue
        decided = decisions.get(filed.early_return_id)
        status = decided.decision.value if decided else FLAGGED if filed.flags else CONFIRMED
        documents.append(
            {
                "id": str(filed.early_return_id),
                "training_plan_id": id,
                "trainee_id": str(filed.trainee_id),
                "implementing_organization_id": str(filed.implementing_organization_id),
                "supervising_organization_id": str(filed.supervising_organization_id)
                if filed.supervising_organization_id
                else None,
                "scheme": filed.scheme.value,
                "returned_on": filed.returned_on.isoformat(),
                "filed_on": filed.filed_on.isoformat(),
                "reason": filed.reason.value,
                "confirmation": filed.confirmation.model_dump(mode="json") if filed.confirmation else None,
                "flags": [f.value for f in filed.flags],
                "status": status,
                "difficulty_notice_id": str(filed.difficulty_notice_id) if filed.difficulty_notice_id else None,
                "decision": decided.model_dump(mode="json", include={"decided_on", "decision", "reason"})
                if decided
                else None,
                "words": filed.words,
            }
        )
    return documents


async def project_plan_early_returns(conn: asyncpg.Connection, id: str, state: tp.TrainingPlan) -> None:
    if not isinstance(state, tp.AppliedPlan) or not state.early_returns:
        return
    for document in early_return_documents(id, state):
        await conn.execute(
            """
            INSERT INTO early_returns (id, training_plan_id, trainee_id, implementing_organization_id,
                supervising_organization_id, scheme, reason, returned_on, filed_on, status, flags, document)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
            ON CONFLICT (id) DO UPDATE SET status = excluded.status, document = excluded.document,
                supervising_organization_id = excluded.supervising_organization_id
            """,
            UUID(document["id"]),
            UUID(id),
            UUID(document["trainee_id"]),
            UUID(document["implementing_organization_id"]),
            UUID(document["supervising_organization_id"]) if document["supervising_organization_id"] else None,
            document["scheme"],
            document["reason"],
            date.fromisoformat(document["returned_on"]),
            date.fromisoformat(document["filed_on"]),
            document["status"],
            document["flags"],
            document,
        )


# The trainee's words (ADR 0002)


async def sealed_words(conn: asyncpg.Connection, trainee_id: UUID, words: EarlyReturnWords) -> str | None:
    """The filer's detail and the trainee's own words sealed with the trainee's key; None when there are none."""
    if words.detail is None and words.statement is None:
        return None
    return await sealed_for_trainee(conn, trainee_id, words, "their words")


async def shown(conn: asyncpg.Connection, documents: list[dict[str, Any]], *, open_words: bool) -> list[dict[str, Any]]:
    """Documents as a reader sees them: the words opened for the agency (`open_words`), else left out; null once the
    trainee's key is erased (`words_erased`)."""
    keys = await TRAINEE_KEYS.for_opening(conn, [UUID(d["trainee_id"]) for d in documents]) if open_words else {}
    found = []
    for d in documents:
        sealed, key = d.get("words"), keys.get(UUID(d["trainee_id"]))
        words = opened_for_trainee(key, sealed, EarlyReturnWords, d["trainee_id"]) if sealed and key else None
        found.append(
            {
                **{k: v for k, v in d.items() if k != "words"},
                "words_recorded": sealed is not None,
                "detail": words.detail if words else None,
                "statement": words.statement if words else None,
            }
        )
    return found


# What the command and the routes read


async def difficulty_notice_plan(conn: asyncpg.Connection, notice_id: UUID) -> UUID | None:
    """The plan a notice of difficulty is about; None when there is no such notice."""
    plan: UUID | None = await conn.fetchval(
        "SELECT training_plan_id FROM employer_filings WHERE id = $1 AND kind = 'difficulty_notice'", notice_id
    )
    return plan


async def employer_rate(
    conn: asyncpg.Connection, implementing_organization_id: UUID, first: date, last: date
) -> tuple[int, int]:
    """From `first` to `last`: the employer's flagged early returns (by the day of the return), and its plans that
    ended in those days or were returned from in them."""
    returns: int = await conn.fetchval(
        "SELECT count(*) FROM early_returns WHERE implementing_organization_id = $1 AND cardinality(flags) > 0"
        " AND returned_on BETWEEN $2 AND $3",
        implementing_organization_id,
        first,
        last,
    )
    plans: int = await conn.fetchval(
        """
        SELECT count(*) FROM training_plans p
         WHERE p.implementing_organization_id = $1
           AND ((p.status = ANY($4::text[]) AND p.ended_on BETWEEN $2 AND $3)
                OR EXISTS (SELECT 1 FROM early_returns r WHERE r.training_plan_id = p.id
                                                          AND r.returned_on BETWEEN $2 AND $3))
        """,
        implementing_organization_id,
        first,
        last,
        list(ENDED),
    )
    return returns, plans


async def of_plan(conn: asyncpg.Connection, plan_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT document FROM early_returns WHERE training_plan_id = $1 ORDER BY filed_on, id", plan_id
    )
    return [r["document"] for r in rows]


async def worklist(
    conn: asyncpg.Connection,
    *,
    status: str | None,
    implementing_organization_id: UUID | None,
    supervising_organization_id: UUID | None,
    after: tuple[date, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Early returns by the day filed, then id, after `after`; filtered."""
    after_day, after_id = after or (None, None)
    rows = await conn.fetch(
        """
        SELECT document FROM early_returns
         WHERE ($1::text IS NULL OR status = $1) AND ($2::uuid IS NULL OR implementing_organization_id = $2)
           AND ($3::uuid IS NULL OR supervising_organization_id = $3)
           AND ($4::date IS NULL OR (filed_on, id) > ($4, $5))
         ORDER BY filed_on, id LIMIT $6
        """,
        status,
        implementing_organization_id,
        supervising_organization_id,
        after_day,
        after_id,
        limit,
    )
    return [r["document"] for r in rows]


async def counts(
    pool: asyncpg.Pool, *, per: str, first: date, last: date, scheme: str | None, reason: str | None
) -> list[asyncpg.Record]:
    """Per organization (`per`: the employer's or the supervising organization's column) and reason: the early
    returns from `first` to `last` (by the day of the return), the flagged ones among them, and the confirmed ones."""
    column = {
        "implementing_organization": "implementing_organization_id",
        "supervising_organization": "supervising_organization_id",
    }[per]
    async with pool.acquire() as conn:
        return await conn.fetch(
            f"""
            SELECT {column} AS organization, reason, count(*) AS returns,
                   count(*) FILTER (WHERE cardinality(flags) > 0) AS flagged,
                   count(*) FILTER (WHERE status = 'confirmed') AS confirmed
              FROM early_returns
             WHERE returned_on BETWEEN $1 AND $2 AND ($3::text IS NULL OR scheme = $3)
               AND ($4::text IS NULL OR reason = $4)
             GROUP BY 1, 2 ORDER BY 1, 2
            """,
            first,
            last,
            scheme,
            reason,
        )
