"""Read model of implementing organizations: written in the same transaction as their events, and the
queries behind their GET routes."""

from typing import Any
from uuid import UUID

import asyncpg

from contracts.registry import Scheme, SupervisionChanged, TrainingType
from services.registry.domain.implementing_organization import ImplementingOrganization, Membership
from services.registry.projections.corporate_numbers import reserve_corporate_number
from services.registry.projections.prefectures import prefecture_forms


def _supervision(entry: SupervisionChanged | None) -> dict[str, Any] | None:
    if entry is None:
        return None
    return {"organization_id": str(entry.supervising_organization_id), "from": entry.effective_from.isoformat()}


def _current(state: ImplementingOrganization, scheme: Scheme) -> UUID | None:
    entry = state.supervision(scheme)
    return entry.supervising_organization_id if entry else None


def _membership(m: Membership) -> dict[str, Any]:
    return {
        "organization_id": str(m.organization_id),
        "scheme": m.scheme.value,
        "from": m.from_date.isoformat() if m.from_date else None,
        "until": m.until.isoformat() if m.until else None,
        "alongside": m.alongside,
    }


def _current_ids(state: ImplementingOrganization, scheme: Scheme) -> list[UUID]:
    return [m.organization_id for m in state.current(scheme)]


def implementing_organization_document(id: str, state: ImplementingOrganization, version: int) -> dict[str, Any]:
    """What clients see (api.schemas.ImplementingOrganizationDocument): the registration, the current staff
    count, rating and supervision per scheme, and their histories. `supervising_organization_id` is the
    current TITP supervising organization (the registration's until a `SupervisionChanged` moves it)."""
    assert state.registration is not None, "an implementing organization never registered"
    registration = state.registration.model_dump(
        mode="json", exclude={"full_time_staff", "staff_as_of", "excellent", "stability_recognised"}
    )
    titp = _current(state, Scheme.TITP)
    return {
        "id": id,
        **registration,
        "supervising_organization_id": str(titp) if titp else None,
        "supervision": {scheme.value: _supervision(state.supervision(scheme)) for scheme in Scheme},
        "supervision_history": [
            {"scheme": s.scheme.value, **(_supervision(s) or {})} for s in state.supervision_history
        ],
        "supervisions": {scheme.value: [_membership(m) for m in state.current(scheme)] for scheme in Scheme},
        "memberships": [_membership(m) for m in state.memberships],
        "full_time_staff": state.staff.full_time_staff,
        "staff_as_of": state.staff.as_of.isoformat(),
        "staff_history": [s.model_dump(mode="json") for s in state.staff_history],
        "excellent": state.rating.excellent,
        "excellent_as_of": state.rating.as_of.isoformat(),
        "rating_history": [r.model_dump(mode="json") for r in state.rating_history],
        "stability_recognised": state.stability.recognised,
        "stability_recognised_as_of": state.stability.as_of.isoformat(),
        "stability_history": [r.model_dump(mode="json") for r in state.stability_history],
        "version": version,
    }


def supervisors(document: dict[str, Any]) -> list[str]:
    """The organizations that supervise (TITP) or support (ESD) the one a document shows, now: they may see it
    (every one not ended; a document written before issue 20: the latest per scheme)."""
    latest = [s["organization_id"] for s in document["supervision"].values() if s]
    every = [m["organization_id"] for ms in (document.get("supervisions") or {}).values() for m in ms]
    return list(dict.fromkeys(latest + every))


async def project_implementing_organization(
    conn: asyncpg.Connection, id: str, state: ImplementingOrganization, version: int
) -> None:
    registration = state.registration
    assert registration is not None, "an event before the registration"
    # Of two registrations with one number committing at once, the second waits here and is refused.
    await reserve_corporate_number(conn, registration.corporate_number, id, "implementing_organization")
    await conn.execute(
        """
        INSERT INTO implementing_organizations (id, name, corporate_number, prefecture, training_type,
                                                supervising_organization_id, supervision_support_organization_id,
                                                excellent, document, version, titp_supervisor_ids,
                                                esd_supervisor_ids)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (id) DO UPDATE SET excellent = excluded.excellent, document = excluded.document,
            supervising_organization_id = excluded.supervising_organization_id,
            supervision_support_organization_id = excluded.supervision_support_organization_id,
            version = excluded.version, titp_supervisor_ids = excluded.titp_supervisor_ids,
            esd_supervisor_ids = excluded.esd_supervisor_ids
        """,
        id,
        registration.name,
        registration.corporate_number,
        registration.prefecture,
        registration.training_type.value,
        _current(state, Scheme.TITP),
        _current(state, Scheme.ESD),
        state.rating.excellent,
        implementing_organization_document(id, state, version),
        version,
        _current_ids(state, Scheme.TITP),
        _current_ids(state, Scheme.ESD),
    )


async def list_implementing_organizations(
    db: asyncpg.Pool,
    *,
    prefecture: str | None,
    supervising_organization_id: UUID | None,
    training_type: TrainingType | None,
    excellent: bool | None,
    after: UUID | None,
    only: str | None,
    limit: int,
    supervision_support_organization_id: UUID | None = None,
) -> list[dict[str, Any]]:
    """Documents in id order after `after`, at most `limit`. `only`: the one organization a caller may see
    records of: the implementing organization itself, or those under it as one of their supervising organizations
    (TITP) or supervision support organizations (ESD), not ended. The organization filters match any of them."""
    rows = await db.fetch(
        """
        SELECT document FROM implementing_organizations
         WHERE ($1::text[] IS NULL OR prefecture = ANY($1))
           AND ($2::uuid IS NULL OR titp_supervisor_ids @> ARRAY[$2::uuid])
           AND ($3::text IS NULL OR training_type = $3) AND ($4::boolean IS NULL OR excellent = $4)
           AND ($5::uuid IS NULL OR id > $5)
           AND ($6::text IS NULL OR id::text = $6 OR $6 = ANY(titp_supervisor_ids::text[])
                OR $6 = ANY(esd_supervisor_ids::text[]))
           AND ($8::uuid IS NULL OR esd_supervisor_ids @> ARRAY[$8::uuid])
         ORDER BY id LIMIT $7
        """,
        prefecture_forms(prefecture),
        supervising_organization_id,
        training_type.value if training_type else None,
        excellent,
        after,
        only,
        limit,
        supervision_support_organization_id,
    )
    return [r["document"] for r in rows]
