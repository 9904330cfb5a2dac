"""Read model of supervising organizations, written in the same transaction as their events."""

from datetime import date
from typing import Any

import asyncpg
from pydantic import TypeAdapter

from services.registry.domain.supervising_organization import Lifecycle, SupervisingOrganization, status_on
from services.registry.projections.corporate_numbers import release_corporate_number, reserve_corporate_number
from services.registry.projections.disclosure import project_disclosure

_state = TypeAdapter(SupervisingOrganization)


def load_state(raw: dict[str, Any]) -> SupervisingOrganization:
    return _state.validate_python(raw)


def supervising_organization_document(id: str, state: SupervisingOrganization, version: int,
                                      day: date) -> dict[str, Any]:
    """What clients see: the application, the permit, and its status on `day`."""
    facts = _state.dump_python(state, mode="json")
    application = facts.pop("application")
    return {"id": id, **application, **facts, "status": status_on(state, day), "status_on": day.isoformat(),
            "version": version}


async def project_supervising_organization(conn: asyncpg.Connection, id: str, state: SupervisingOrganization,
                                           version: int) -> None:
    application = state.application
    if state.lifecycle in (Lifecycle.DENIED, Lifecycle.EXPIRED):
        await release_corporate_number(conn, id)  # the organization may apply anew
    else:
        await reserve_corporate_number(conn, application.corporate_number, id, "supervising_organization")
    await conn.execute(
        """
        INSERT INTO supervising_organizations (id, name, corporate_number, prefecture, lifecycle, permit_type,
                                               expires_on, state, version)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        ON CONFLICT (id) DO UPDATE SET name = excluded.name, corporate_number = excluded.corporate_number,
            prefecture = excluded.prefecture, lifecycle = excluded.lifecycle, permit_type = excluded.permit_type,
            expires_on = excluded.expires_on, state = excluded.state, version = excluded.version
        """,
        id, application.name, application.corporate_number, application.prefecture, state.lifecycle.value,
        state.permit_type.value if state.permit_type else None, state.expires_on,
        _state.dump_python(state, mode="json"), version,
    )
    await project_disclosure(conn, id, state)
