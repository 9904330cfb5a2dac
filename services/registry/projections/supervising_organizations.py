"""The registry's read models, written in the same transaction as the events they show."""

from typing import Any

import asyncpg

from services.registry.domain.supervising_organization import SupervisingOrganization


def supervising_organization_document(id: str, state: SupervisingOrganization, version: int) -> dict[str, Any]:
    application = state.application
    assert application is not None
    return {
        "id": id,
        **application.model_dump(mode="json"),
        "applied_on": state.applied_on.isoformat() if state.applied_on else None,
        "status": state.status.value if state.status else None,
        "permit_type": state.permit_type.value if state.permit_type else None,
        "granted_on": state.granted_on.isoformat() if state.granted_on else None,
        "expires_on": state.expires_on.isoformat() if state.expires_on else None,
        "denial_reason": state.denial_reason,
        "version": version,
    }


async def project_supervising_organization(conn: asyncpg.Connection, id: str, state: SupervisingOrganization,
                                           version: int) -> None:
    doc = supervising_organization_document(id, state, version)
    await conn.execute(
        """
        INSERT INTO supervising_organizations (id, name, corporate_number, prefecture, status,
            requested_permit_type, permit_type, applied_on, granted_on, expires_on, document, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, corporate_number = excluded.corporate_number,
            prefecture = excluded.prefecture, status = excluded.status,
            requested_permit_type = excluded.requested_permit_type, permit_type = excluded.permit_type,
            applied_on = excluded.applied_on, granted_on = excluded.granted_on, expires_on = excluded.expires_on,
            document = excluded.document, version = excluded.version
        """,
        id, doc["name"], doc["corporate_number"], doc["prefecture"], doc["status"],
        doc["requested_permit_type"], doc["permit_type"], state.applied_on, state.granted_on, state.expires_on,
        doc, version,
    )
