"""Read models of sending organizations and sending agreements: written in the same transaction as their
events, and the queries behind their GET routes and the commands that look across agreements."""

from typing import Any
from uuid import UUID

import asyncpg

from services.registry.domain.sending_agreement import SendingAgreement
from services.registry.domain.sending_organization import SendingOrganization
from services.registry.projections.fee_flags import FLAGGED


def sending_organization_document(id: str, state: SendingOrganization, version: int) -> dict[str, Any]:
    """What clients see (api.schemas.SendingOrganizationDocument)."""
    assert state.approval is not None, "a sending organization never approved"
    withdrawal = state.withdrawal
    return {
        "id": id,
        **state.approval.model_dump(mode="json"),
        "status": state.status,
        "withdrawn_on": withdrawal.withdrawn_on.isoformat() if withdrawal else None,
        "withdrawal_reason": withdrawal.reason if withdrawal else None,
        "version": version,
    }


def sending_agreement_document(id: str, state: SendingAgreement, version: int) -> dict[str, Any]:
    """What clients see (api.schemas.SendingAgreementDocument)."""
    assert state.signature is not None, "a sending agreement never signed"
    end = state.end
    return {
        "id": id,
        **state.signature.model_dump(mode="json"),
        "status": state.status,
        "ended_on": end.ended_on.isoformat() if end else None,
        "end_reason": end.reason if end else None,
        "version": version,
    }


async def project_sending_organization(
    conn: asyncpg.Connection, id: str, state: SendingOrganization, version: int
) -> None:
    assert state.approval is not None, "an event before the approval"
    await conn.execute(
        """
        INSERT INTO sending_organizations (id, name, country, status, document, version)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, document = excluded.document,
                                       version = excluded.version
        """,
        id,
        state.approval.name,
        state.approval.country,
        state.status,
        sending_organization_document(id, state, version),
        version,
    )


async def project_sending_agreement(conn: asyncpg.Connection, id: str, state: SendingAgreement, version: int) -> None:
    signature = state.signature
    assert signature is not None, "an event before the signing"
    await conn.execute(
        """
        INSERT INTO sending_agreements (id, supervising_organization_id, sending_organization_id, status,
                                        signed_on, document, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, document = excluded.document,
                                       version = excluded.version
        """,
        id,
        signature.supervising_organization_id,
        signature.sending_organization_id,
        state.status,
        signature.signed_on,
        sending_agreement_document(id, state, version),
        version,
    )


async def lock_sending_organization(conn: asyncpg.Connection, id: UUID) -> None:
    """Hold the sending organization's row until the transaction ends.

    Signing an agreement and withdrawing the approval both take this lock first, so they run one
    after the other: a withdrawal then sees, and ends, every agreement signed before it, and a
    signing after it sees the withdrawal. (Under READ COMMITTED each later statement of the
    transaction sees what the other committed while we waited.)
    """
    await conn.execute("SELECT 1 FROM sending_organizations WHERE id = $1 FOR UPDATE", id)


async def lock_permit_holder(conn: asyncpg.Connection, id: UUID) -> None:
    """Hold a supervising (or supervision support) organization's advisory lock until the transaction ends.

    Signing an agreement under its permit and revoking or expiring that permit both take it first, so they run
    one after the other: the revocation or expiry then ends every agreement signed before it, and a signing
    after it sees the permit ended. (Under READ COMMITTED the later statements see what the other committed.)"""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, 2))", str(id))


async def agreements_in_force(
    conn: asyncpg.Connection,
    *,
    sending_organization_id: UUID | None = None,
    supervising_organization_id: UUID | None = None,
) -> list[UUID]:
    """The agreements in force of a sending organization, of a supervising organization, or of the two."""
    assert sending_organization_id or supervising_organization_id, "agreements of whom?"
    rows = await conn.fetch(
        "SELECT id FROM sending_agreements WHERE ($1::uuid IS NULL OR sending_organization_id = $1)"
        " AND status = 'in_force' AND ($2::uuid IS NULL OR supervising_organization_id = $2) ORDER BY id",
        sending_organization_id,
        supervising_organization_id,
    )
    return [r["id"] for r in rows]


async def list_sending_organizations(
    db: asyncpg.Pool,
    *,
    country: str | None,
    status: str | None,
    after: UUID | None,
    limit: int,
    flagged: bool | None = None,
) -> list[dict[str, Any]]:
    """Documents in id order after `after`, at most `limit`; `flagged`: with (or without) accreditation's fee flag."""
    rows = await db.fetch(
        f"""
        SELECT document FROM sending_organizations
         WHERE ($1::text IS NULL OR country = $1) AND ($2::text IS NULL OR status = $2)
           AND ($3::uuid IS NULL OR id > $3)
           AND ($5::boolean IS NULL OR {FLAGGED.format(table="sending_organizations")} = $5)
         ORDER BY id LIMIT $4
        """,
        country,
        status,
        after,
        limit,
        flagged,
    )
    return [r["document"] for r in rows]


async def list_sending_agreements(
    db: asyncpg.Pool, *, supervising_organization_id: UUID, status: str | None, after: UUID | None, limit: int
) -> list[dict[str, Any]]:
    """A supervising organization's agreements in id order after `after`, at most `limit`."""
    rows = await db.fetch(
        """
        SELECT document FROM sending_agreements
         WHERE supervising_organization_id = $1 AND ($2::text IS NULL OR status = $2)
           AND ($3::uuid IS NULL OR id > $3)
         ORDER BY id LIMIT $4
        """,
        supervising_organization_id,
        status,
        after,
        limit,
    )
    return [r["document"] for r in rows]
