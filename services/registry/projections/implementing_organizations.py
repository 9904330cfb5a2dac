"""Read model of implementing organizations, written in the same transaction as their events."""

from typing import Any

import asyncpg

from services.registry.domain.implementing_organization import ImplementingOrganization
from services.registry.projections.corporate_numbers import reserve_corporate_number


def implementing_organization_document(id: str, state: ImplementingOrganization, version: int) -> dict[str, Any]:
    """What clients see: the registration, the current staff count and rating, and their histories."""
    registration = state.registration.model_dump(mode="json", exclude={"full_time_staff", "staff_as_of",
                                                                       "excellent"})
    return {
        "id": id,
        **registration,
        "full_time_staff": state.staff.full_time_staff,
        "staff_as_of": state.staff.as_of.isoformat(),
        "staff_history": [s.model_dump(mode="json") for s in state.staff_history],
        "excellent": state.rating.excellent,
        "excellent_as_of": state.rating.as_of.isoformat(),
        "rating_history": [r.model_dump(mode="json") for r in state.rating_history],
        "version": version,
    }


async def project_implementing_organization(conn: asyncpg.Connection, id: str, state: ImplementingOrganization,
                                            version: int) -> None:
    registration = state.registration
    # Of two registrations with one number committing at once, the second waits here and is refused.
    await reserve_corporate_number(conn, registration.corporate_number, id, "implementing_organization")
    await conn.execute(
        """
        INSERT INTO implementing_organizations (id, name, corporate_number, prefecture, training_type,
                                                supervising_organization_id, excellent, document, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (id) DO UPDATE SET excellent = excluded.excellent, document = excluded.document,
                                       version = excluded.version
        """,
        id, registration.name, registration.corporate_number, registration.prefecture,
        registration.training_type.value, registration.supervising_organization_id, state.rating.excellent,
        implementing_organization_document(id, state, version), version,
    )
