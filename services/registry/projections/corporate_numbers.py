"""Corporate numbers are unique within each scheme (DOMAIN §2, §3, §9).

A supervising organization (TITP) and a supervision support organization (ESD) may share one number: the
same cooperative holds both permits during the transition, each its own record. Within a scheme a number is
held by one organization; an implementing organization (an employer of either scheme) shares its number with
no permit holder of either scheme.
"""

from typing import Literal

import asyncpg

from services.registry.domain.permit import Lifecycle
from shared.errors import DomainRuleViolation

Kind = Literal["supervising_organization", "implementing_organization", "supervision_support_organization"]
SCHEME: dict[Kind, str] = {
    "supervising_organization": "titp",
    "implementing_organization": "titp",
    "supervision_support_organization": "esd",
}
_LOCKS = 1  # the key space of these advisory locks (idempotency keys use 0)


async def reserve_corporate_number(conn: asyncpg.Connection, number: str, organization_id: str, kind: Kind) -> None:
    """Claim `number` for the organization in the caller's transaction, or refuse with 409."""
    # Claims of one number take turns: a concurrent claim waits here for the other transaction to end, and
    # its next statement then sees what that one committed.
    await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))", number, _LOCKS)
    # The check and the claim in one statement (a holder found: nothing is claimed, and the caller's transaction
    # is rolled back by the refusal anyway).
    holder = await conn.fetchval(
        """
        WITH holder AS (
            SELECT organization_id FROM corporate_numbers WHERE number = $1 AND organization_id <> $2::uuid
               AND (scheme = $4 OR kind = 'implementing_organization' OR $3 = 'implementing_organization') LIMIT 1)
        , claimed AS (
            INSERT INTO corporate_numbers (number, organization_id, kind, scheme)
            SELECT $1, $2::uuid, $3, $4 WHERE NOT EXISTS (SELECT FROM holder)
            ON CONFLICT (number, scheme) DO NOTHING)
        SELECT organization_id FROM holder""",
        number,
        organization_id,
        kind,
        SCHEME[kind],
    )
    if holder is not None:
        raise DomainRuleViolation("corporate_number.unique", f"corporate number {number} is already registered")


async def release_corporate_number(conn: asyncpg.Connection, organization_id: str) -> None:
    """Free the number of an organization that may apply anew (denied, expired, revoked)."""
    await conn.execute("DELETE FROM corporate_numbers WHERE organization_id = $1", organization_id)


async def hold_corporate_number(
    conn: asyncpg.Connection, number: str, organization_id: str, lifecycle: Lifecycle, kind: Kind
) -> None:
    """A permit holder's number, for as long as its application or permit stands: a denied, expired or revoked
    one frees it, so the organization may apply anew; after a revocation not for 5 years (Art. 26), a rule the
    application decides from the revoked permits on record (`revoked_permits`), not this table."""
    if lifecycle in (Lifecycle.DENIED, Lifecycle.EXPIRED, Lifecycle.REVOKED):
        await release_corporate_number(conn, organization_id)
    else:
        await reserve_corporate_number(conn, number, organization_id, kind)
