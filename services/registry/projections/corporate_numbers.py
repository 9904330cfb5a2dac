"""Corporate numbers are unique across the registry (DOMAIN §2, §3)."""

from typing import Literal

import asyncpg

from shared.errors import DomainRuleViolation

Kind = Literal["supervising_organization", "implementing_organization"]


async def reserve_corporate_number(conn: asyncpg.Connection, number: str, organization_id: str, kind: Kind) -> None:
    """Claim `number` for the organization in the caller's transaction, or refuse with 409."""
    # A concurrent claim of the same number waits here for the other transaction to end; if that one
    # committed, nothing is claimed and this statement's snapshot does not show the holder: refused too.
    holder = await conn.fetchval(
        "WITH claimed AS (INSERT INTO corporate_numbers (number, organization_id, kind) VALUES ($1, $2, $3)"
        "                 ON CONFLICT (number) DO NOTHING RETURNING organization_id)"
        " SELECT coalesce((SELECT organization_id FROM claimed),"
        "                 (SELECT organization_id FROM corporate_numbers WHERE number = $1))",
        number,
        organization_id,
        kind,
    )
    if str(holder) != organization_id:
        raise DomainRuleViolation("corporate_number.unique", f"corporate number {number} is already registered")


async def release_corporate_number(conn: asyncpg.Connection, organization_id: str) -> None:
    """Free the number of an organization that may apply anew (denied, expired)."""
    await conn.execute("DELETE FROM corporate_numbers WHERE organization_id = $1", organization_id)
